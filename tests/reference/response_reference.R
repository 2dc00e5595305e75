# Reference values for tests/compute/test_response.py and tests/compute/test_baseline.py.
#
# Run from the repository root:
#   Rscript tests/reference/response_reference.R
# Writes tests/reference/response_reference.csv (case,quantity,value; values
# printed with sprintf("%.17g")).  Reads tests/reference/baseline_data.csv
# (written by tests/compute/test_baseline.py::make_baseline_data, see there).
# Only base R (stats) is used; produced with R 4.2.2 (survival 3.5.3 installed,
# not needed here).

out <- character(0)
emit <- function(case, quantity, value) {
  out <<- c(out, sprintf("%s,%s,%.17g", case, quantity, value))
}

## ---- Clopper-Pearson exact intervals: binom.test()$conf.int ---------------
cp <- list(c(28, 46), c(4, 21), c(8, 8), c(1, 6), c(0, 5), c(0, 1), c(1, 1), c(32, 67))
for (xn in cp) {
  ci <- binom.test(xn[1], xn[2])$conf.int
  case <- sprintf("binom_%d_%d", xn[1], xn[2])
  emit(case, "lower", ci[1]); emit(case, "upper", ci[2])
}
ci <- binom.test(28, 46, conf.level = 0.90)$conf.int
emit("binom_28_46_conf90", "lower", ci[1]); emit("binom_28_46_conf90", "upper", ci[2])

## ---- 2x2 and r x c tables: fisher.test, chisq.test ----------------------
## matrices are given row by row (rows = groups, columns = response yes/no)
tables <- list(
  targeted_vs_chemo = matrix(c(28, 18, 4, 17), 2, byrow = TRUE),
  cns_vs_noncns     = matrix(c(8, 0, 1, 5), 2, byrow = TRUE),
  disagree_2x2      = matrix(c(9, 6, 3, 10), 2, byrow = TRUE),
  rxc_3x2           = matrix(c(5, 2, 3, 6, 1, 7), 3, byrow = TRUE),
  rxc_3x3           = matrix(c(3, 1, 4, 2, 6, 1, 0, 3, 5), 3, byrow = TRUE),
  rxc_2x4           = matrix(c(4, 9, 2, 6, 7, 1, 5, 3), 2, byrow = TRUE)
)
for (nm in names(tables)) {
  m <- tables[[nm]]
  emit(nm, "fisher_p", fisher.test(m)$p.value)
  cy <- suppressWarnings(chisq.test(m, correct = TRUE))
  cu <- suppressWarnings(chisq.test(m, correct = FALSE))
  emit(nm, "chisq_yates_p", cy$p.value); emit(nm, "chisq_yates_stat", cy$statistic)
  emit(nm, "chisq_p", cu$p.value); emit(nm, "chisq_stat", cu$statistic)
  emit(nm, "min_expected", min(cu$expected))
}

## a registry-sized 3 x 2 table (12,000 patients): exact, with a larger FEXACT workspace
## than the default (which is too small for it); the Monte-Carlo value is tested against it
m <- matrix(c(2030, 2000, 1950, 2100, 2010, 1910), 3, byrow = TRUE)
emit("rxc_3x2_registry", "fisher_p", fisher.test(m, workspace = 2e8)$p.value)

## ---- logistic regression: glm(binomial), confint.default -----------------
## glm's default convergence (epsilon = 1e-8) leaves the Wald p of the 3+ vs 1
## contrast ~1.5e-6 (relative) away from the exact MLE (closed form for this
## saturated model: log OR, SE = sqrt(1/a + 1/b + 1/c + 1/d)); fit to
## convergence so that the reference is the MLE itself.
ctl <- glm.control(epsilon = 1e-14, maxit = 100)
glm_emit <- function(case, fit, term) {
  s <- coef(summary(fit))
  ci <- confint.default(fit)   # Wald
  emit(case, "coef", s[term, "Estimate"]); emit(case, "se", s[term, "Std. Error"])
  emit(case, "wald_p", s[term, "Pr(>|z|)"])
  emit(case, "or", exp(s[term, "Estimate"]))
  emit(case, "or_lower", exp(ci[term, 1])); emit(case, "or_upper", exp(ci[term, 2]))
}
# targeted (28/46) vs chemotherapy (4/21), reference = chemotherapy
d1 <- data.frame(
  arm = factor(rep(c("targeted", "chemo"), c(46, 21)), levels = c("chemo", "targeted")),
  cr  = c(rep(1, 28), rep(0, 18), rep(1, 4), rep(0, 17)))
glm_emit("glm_targeted_vs_chemo", glm(cr ~ arm, family = binomial, data = d1, control = ctl), "armtargeted")

# three-level factor with missing values (see test_response.py::three_level_data):
# lines "1": 10/20, "2": 12/15, "3+": 3/12 responders, plus 3 patients with
# missing factor and 2 with missing response (dropped by glm's na.omit).
d3 <- data.frame(
  lines = c(rep("1", 20), rep("2", 15), rep("3+", 12), NA, NA, NA, "1", "2"),
  cr    = c(rep(1, 10), rep(0, 10), rep(1, 12), rep(0, 3), rep(1, 3), rep(0, 9),
            1, 0, 1, NA, NA))
d3$lines <- factor(d3$lines, levels = c("1", "2", "3+"))
fit3 <- glm(cr ~ lines, family = binomial, data = d3, control = ctl)
glm_emit("glm_lines_2_vs_1", fit3, "lines2")
glm_emit("glm_lines_3_vs_1", fit3, "lines3+")
tab3 <- table(d3$lines, factor(d3$cr, levels = c(1, 0)))
emit("lines_global", "fisher_p", fisher.test(tab3)$p.value)
emit("lines_global", "chisq_p", suppressWarnings(chisq.test(tab3))$p.value)
for (lv in c("2", "3+")) {
  sub <- tab3[c("1", lv), ]
  case <- sprintf("lines_%s_vs_1", sub("\\+", "plus", lv))
  emit(case, "fisher_p", fisher.test(sub)$p.value)
  emit(case, "chisq_yates_p", suppressWarnings(chisq.test(sub, correct = TRUE))$p.value)
  emit(case, "chisq_p", suppressWarnings(chisq.test(sub, correct = FALSE))$p.value)
}

## ---- baseline table data ---------------------------------------------------
b <- read.csv("tests/reference/baseline_data.csv", na.strings = "", stringsAsFactors = FALSE)
for (v in c("sex", "site", "prior_hsct")) {
  m <- table(b$arm, b[[v]])            # NA rows dropped by table()
  case <- sprintf("baseline_%s", v)
  emit(case, "fisher_p", fisher.test(m)$p.value)
  emit(case, "chisq_yates_p", suppressWarnings(chisq.test(m, correct = TRUE))$p.value)
  emit(case, "chisq_p", suppressWarnings(chisq.test(m, correct = FALSE))$p.value)
}
for (v in c("age", "blasts")) {
  case <- sprintf("baseline_%s", v)
  f <- as.formula(sprintf("%s ~ factor(arm)", v))
  emit(case, "kruskal_p", kruskal.test(f, data = b)$p.value)
  emit(case, "wilcox_p", wilcox.test(f, data = b, exact = FALSE, correct = FALSE)$p.value)
  # R's default continuity correction (correct = TRUE), as gtsummary's add_p() and Table 1 use it
  emit(case, "wilcox_cc_p", wilcox.test(f, data = b, exact = FALSE)$p.value)
}

writeLines(c("case,quantity,value", out), "tests/reference/response_reference.csv")
cat(sprintf("R %s\n", getRversion()))
