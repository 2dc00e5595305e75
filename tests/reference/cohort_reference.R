# Reference values for the shipped synthetic cohort, computed with R's survival
# package. Run from the project root after exporting the data:
#   .venv/bin/python tests/reference/export_cohort.py && Rscript tests/reference/cohort_reference.R
# Writes tests/reference/cohort_reference.json (values printed with %.17g).
suppressPackageStartupMessages(library(survival))
here <- "tests/reference"
os <- read.csv(file.path(here, "cohort_os.csv"), stringsAsFactors = FALSE)
rfs <- read.csv(file.path(here, "cohort_rfs.csv"), stringsAsFactors = FALSE)

num <- function(x) ifelse(is.na(x), "null", sprintf("%.17g", x))
vec <- function(x) paste0("[", paste(num(x), collapse = ", "), "]")
out <- c()
add <- function(key, value) out <<- c(out, sprintf('  "%s": %s', key, value))

add("r_version", sprintf('"%s"', R.version$version.string))
add("survival_version", sprintf('"%s"', as.character(packageVersion("survival"))))

for (nm in c("os", "rfs")) {
  d <- get(nm)
  for (ct in c("log", "log-log")) {
    fit <- survfit(Surv(AVAL, EVENT) ~ 1, data = d, conf.type = ct)
    q <- quantile(fit, 0.5)
    tag <- paste0(nm, "_", gsub("-", "", ct))
    add(paste0(tag, "_median"), vec(c(q$quantile, q$lower, q$upper)))
    s <- summary(fit, censored = FALSE)
    add(paste0(tag, "_time"), vec(s$time))
    add(paste0(tag, "_surv"), vec(s$surv))
    add(paste0(tag, "_se"), vec(s$std.err))
    add(paste0(tag, "_lower"), vec(s$lower))
    add(paste0(tag, "_upper"), vec(s$upper))
  }
}
fu <- survfit(Surv(AVAL, 1 - EVENT) ~ 1, data = os)
add("followup_median", vec(quantile(fu, 0.5)$quantile))

sd1 <- survdiff(Surv(AVAL, EVENT) ~ SALVGRP, data = os)
add("logrank_salvgrp", vec(c(sd1$chisq, pchisq(sd1$chisq, length(sd1$n) - 1, lower.tail = FALSE))))
emd <- os[os$EMDGRP != "" & !is.na(os$EMDGRP), ]
sd2 <- survdiff(Surv(AVAL, EVENT) ~ EMDGRP, data = emd)
add("logrank_emdgrp", vec(c(sd2$chisq, pchisq(sd2$chisq, length(sd2$n) - 1, lower.tail = FALSE))))

os$SALVGRP <- relevel(factor(os$SALVGRP), ref = "Targeted")
os$AGEGR1 <- relevel(factor(os$AGEGR1), ref = "<18")
os$BMBURDEN <- relevel(factor(os$BMBURDEN), ref = "<50%")
os$PRIORSCT <- relevel(factor(os$PRIORSCT), ref = "N")
cox <- coxph(Surv(AVAL, EVENT) ~ SALVGRP + AGEGR1 + BMBURDEN + PRIORSCT, data = os, ties = "efron")
sm <- summary(cox)
add("cox_terms", paste0("[", paste(sprintf('"%s"', rownames(sm$coefficients)), collapse = ", "), "]"))
add("cox_coef", vec(sm$coefficients[, "coef"]))
add("cox_se", vec(sm$coefficients[, "se(coef)"]))
add("cox_p", vec(sm$coefficients[, "Pr(>|z|)"]))
add("cox_lower", vec(sm$conf.int[, "lower .95"]))
add("cox_upper", vec(sm$conf.int[, "upper .95"]))
add("cox_loglik", vec(cox$loglik))
for (v in c("SALVGRP", "AGEGR1", "BMBURDEN", "PRIORSCT")) {
  uni <- summary(coxph(as.formula(paste("Surv(AVAL, EVENT) ~", v)), data = os, ties = "efron"))
  add(paste0("uni_", v), vec(c(uni$coefficients[1, c("coef", "se(coef)", "Pr(>|z|)")],
                               uni$conf.int[1, c("lower .95", "upper .95")])))
}
zph <- cox.zph(cox, transform = "km")
add("zph_terms", paste0("[", paste(sprintf('"%s"', rownames(zph$table)), collapse = ", "), "]"))
add("zph_chisq", vec(zph$table[, "chisq"]))
add("zph_p", vec(zph$table[, "p"]))

writeLines(c("{", paste(out, collapse = ",\n"), "}"), file.path(here, "cohort_reference.json"))
cat("wrote", file.path(here, "cohort_reference.json"), "\n")
