# Reference values for tests/compute/test_cox.py, computed with R survival.
#
# Run from the repository root:   Rscript tests/reference/cox_reference.R
# Made with R 4.2.2 and survival 3.5-3 (versions are also written to the JSON).
#
# Inputs
#   tests/reference/rossi.csv          lifelines.datasets.load_rossi(), written
#                                      with DataFrame.to_csv(index=False)
#                                      (Rossi et al. 1980; Fox's recidivism data)
#   tests/reference/cox_synthetic.csv  made below (seeded), then read back so
#                                      R and Python use the same file
# Output
#   tests/reference/cox_reference.json  all numbers with sprintf("%.17g")
#
# jsonlite is not installed, so JSON is written by hand (to_json below).

suppressPackageStartupMessages(library(survival))
here <- "tests/reference"

# ---- synthetic cohort shaped like the study (74 patients, months) ----------
set.seed(20240601)
n <- 74
salvage <- sample(c("blinatumomab", "chemotherapy", "inotuzumab"), n,
                  replace = TRUE, prob = c(0.3, 0.4, 0.3))
age <- round(runif(n, 2, 70))
sex <- sample(c("female", "male"), n, replace = TRUE)
blasts <- round(runif(n, 5, 95))
lin <- 0.02 * age + c(blinatumomab = -0.4, chemotherapy = 0.5, inotuzumab = 0)[salvage] +
  0.01 * blasts
t_event <- rexp(n, rate = 0.03 * exp(lin - mean(lin)))
t_cens <- runif(n, 6, 48)
time <- pmax(0.5, round(2 * pmin(t_event, t_cens)) / 2)   # half-month grid: ties
event <- as.integer(t_event <= t_cens)
blasts[sample(n, 8)] <- NA                                # 8 missing
# 'cns': a 3-level covariate whose level "cns3" occurs only in censored
# patients (monotone likelihood)
cns <- sample(c("cns1", "cns2"), n, replace = TRUE)
cns[sample(which(event == 0), 5)] <- "cns3"
synth <- data.frame(time = time, event = event, age = age, salvage = salvage,
                    sex = sex, blasts = blasts, cns = cns)
write.csv(synth, file.path(here, "cox_synthetic.csv"), row.names = FALSE, na = "")

# ---- read back exactly what Python reads -----------------------------------
rossi <- read.csv(file.path(here, "rossi.csv"))
synth <- read.csv(file.path(here, "cox_synthetic.csv"))
synth$salvage <- relevel(factor(synth$salvage), ref = "inotuzumab")  # non-default
synth$sex <- factor(synth$sex)                                         # ref "female"
synth$cns <- factor(synth$cns)                                         # ref "cns1"

# ---- JSON writer ------------------------------------------------------------
num <- function(x) ifelse(is.na(x), "null",
                          ifelse(is.infinite(x), ifelse(x > 0, "Infinity", "-Infinity"),
                                 sprintf("%.17g", x)))
# (Infinity is not strict JSON, but Python's json module reads it)
to_json <- function(x) {
  if (is.list(x)) {
    if (!is.null(names(x))) {
      body <- paste0('"', names(x), '": ', vapply(x, to_json, ""), collapse = ", ")
      return(paste0("{", body, "}"))
    }
    return(paste0("[", paste(vapply(x, to_json, ""), collapse = ", "), "]"))
  }
  if (is.character(x)) {
    v <- paste0('"', gsub('"', '\\\\"', x), '"')
  } else {
    v <- num(as.numeric(x))
  }
  if (!is.null(names(x))) return(paste0("{", paste0('"', names(x), '": ', v, collapse = ", "), "}"))
  if (length(x) == 1) return(v)
  paste0("[", paste(v, collapse = ", "), "]")
}
# one column of a coefficient matrix, named by term even when it has one row
col <- function(m, j) setNames(m[, j], rownames(m))
arr <- function(x) as.list(unname(x))   # force a JSON array, even of length 1

# ---- one model ----------------------------------------------------------------
fit_values <- function(formula, data) {
  warn <- character(0)
  fit <- withCallingHandlers(coxph(formula, data = data, x = TRUE, y = TRUE),
                             warning = function(w) {
                               warn <<- c(warn, conditionMessage(w))
                               invokeRestart("muffleWarning")
                             })
  s <- summary(fit, conf.int = 0.95)
  cf <- s$coefficients
  ci <- s$conf.int
  list(
    call = paste(deparse(formula), collapse = " "),
    n = fit$n, nevent = fit$nevent,
    n_excluded = length(fit$na.action),
    coef = col(cf, "coef"), hr = col(cf, "exp(coef)"), se = col(cf, "se(coef)"),
    z = col(cf, "z"), p = col(cf, "Pr(>|z|)"),
    lower = col(ci, "lower .95"), upper = col(ci, "upper .95"),
    loglik = arr(fit$loglik),
    lr = list(stat = s$logtest[["test"]], df = s$logtest[["df"]], p = s$logtest[["pvalue"]]),
    # summary() rounds the Wald statistic to 2 decimals; take the unrounded one
    wald = list(stat = fit$wald.test, df = length(coef(fit)),
                p = pchisq(fit$wald.test, length(coef(fit)), lower.tail = FALSE)),
    score = list(stat = s$sctest[["test"]], df = s$sctest[["df"]], p = s$sctest[["pvalue"]]),
    concordance = unname(fit$concordance["concordance"]),
    warnings = arr(warn),
    fit = fit
  )
}

zph_values <- function(fit, transform) {
  z <- cox.zph(fit, transform = transform)
  y <- lapply(seq_len(ncol(z$y)), function(j) arr(z$y[, j]))
  names(y) <- colnames(z$y)
  list(chisq = z$table[, "chisq"], df = z$table[, "df"], p = z$table[, "p"],
       x = arr(z$x), time = arr(z$time), y = y)
}

strip <- function(v) { v$fit <- NULL; v }

out <- list(
  R_version = R.version.string,
  survival_version = as.character(packageVersion("survival"))
)

# rossi: 7 numeric covariates, many tied times
ro <- fit_values(Surv(week, arrest) ~ fin + age + race + wexp + mar + paro + prio, rossi)
ro$zph <- lapply(c(km = "km", rank = "rank", identity = "identity", log = "log"),
                 function(tr) zph_values(ro$fit, tr))
out$rossi <- strip(ro)

# synthetic: 3-level factor with a non-default reference, plus age and sex
sm <- fit_values(Surv(time, event) ~ age + salvage + sex, synth)
sm$zph <- list(km = zph_values(sm$fit, "km"))
out$synth_multi <- strip(sm)

# synthetic with a covariate missing in 8 patients (complete case, na.omit)
ms <- fit_values(Surv(time, event) ~ age + blasts + salvage, synth)
ms$zph <- list(km = zph_values(ms$fit, "km"))
out$synth_missing <- strip(ms)

# univariable models
for (v in c("age", "salvage", "sex", "blasts")) {
  u <- fit_values(as.formula(paste("Surv(time, event) ~", v)), synth)
  out[[paste0("uni_", v)]] <- strip(u)
}

# monotone likelihood: level cns3 has no events (R warns, does not fail)
mo <- fit_values(Surv(time, event) ~ age + cns, synth)
out$synth_monotone <- strip(mo)

writeLines(to_json(out), file.path(here, "cox_reference.json"))
cat("events in synth:", sum(synth$event), "\n")
print(table(synth$salvage, synth$event))
print(table(synth$cns, synth$event))
print(mo$warnings)
