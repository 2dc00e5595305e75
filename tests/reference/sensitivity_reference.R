# Reference values for tests/compute/test_sensitivity.py (analysis/compute/sensitivity.py),
# computed with R's survival and cmprsk packages.
#
#   Rscript tests/reference/sensitivity_reference.R     (from anywhere; paths are relative to this file)
#
# Made with R 4.2.2 Patched (2022-11-10 r83330), survival 3.5-3 and cmprsk 2.2-11
# (apt-get install r-cran-cmprsk); the versions are also written to the JSON.
#
# Step 1 (export, Python): writes the ADaM frames the tests read, so that the tests
# never touch the live synthetic cohort (whose survival times are being recalibrated):
#   sensitivity_adsl.csv            ADSL columns used by the sensitivity analyses, and
#   sensitivity_adtte.csv           ADTTE (OS and RFS), both from analysis.results.run_analysis();
#   sensitivity_handmade_adtte.csv  ADTTE derived (analysis.derive.derive_adtte) from
#   sensitivity_handmade_adsl.csv   a small hand-made ADSL (16 patients, all relapsed on
#                                   2020-01-01), written once by hand; see below.
# Set SENSITIVITY_EXPORT=0 to skip step 1 and recompute the references from the CSVs as they are.
#
# Step 2 (R): independent derivations from the CSV dates (months = days / 30.4375) and
# the reference statistics, written to sensitivity_reference.json ("%.17g"; NA -> null).
#
# Hand-made cohort (day numbers from relapse):
#   H01 CR d30, HSCT d90, alive d400             H09 no CR, HSCT d60 (without CR), dies d100
#   H02 CR d40, HSCT d100, relapse d200, dies    H10 CR d60, relapse d140 (RFS 80 d, ties H06)
#   H03 CR d35, HSCT and death d120 (HSCT on     H11 no CR, dies d100 (ties H09; H02 enters
#       the day of death)                            the HSCT state at d100)
#   H04 CR d50, relapse d110, dies d180          H12 CR d200 (after the landmarks), alive
#   H05 CR d25, alive                            H13 no salvage, dies d20
#   H06 CR d45, death without relapse d125       H14 CR d20, relapse d50, dies d90
#   H07 no CR, dies d70                          H15 CR d30, HSCT d80, death w/o relapse d160
#   H08 no CR, alive d150                        H16 no CR, dies d40
# CD19NEG is missing for H04 and H08. "handmade_nohsct" is the same cohort with every
# HSCT removed (HSCTFL = "N", HSCTDT missing), done identically in the tests.

suppressPackageStartupMessages({
  library(survival)
  library(cmprsk)
})

args <- commandArgs(trailingOnly = FALSE)
file_arg <- sub("^--file=", "", args[grep("^--file=", args)])
here <- if (length(file_arg)) dirname(normalizePath(file_arg)) else getwd()
root <- normalizePath(file.path(here, "..", ".."))

# ---- step 1: export ------------------------------------------------------------
export_py <- '
import sys
from pathlib import Path

import pandas as pd

from analysis.derive import Definitions, derive_adtte
from analysis.results import run_analysis

here = Path(sys.argv[1])
cols = ["STUDYID", "USUBJID", "SALVFL", "SALVGRP", "AGEGR1", "BMBURDEN", "PRIORSCT", "CD19NEG",
        "CYTORISK", "RELDT", "CRFL", "CRDT", "HSCTFL", "HSCTDT", "REL2FL", "REL2DT", "DTHFL",
        "DTHDT", "DTHCAUS", "LSTALVDT"]
d = run_analysis().derived
assert d.definitions.days_per_month == 30.4375
d.adsl[cols].to_csv(here / "sensitivity_adsl.csv", index=False, date_format="%Y-%m-%d")
d.adtte.to_csv(here / "sensitivity_adtte.csv", index=False, date_format="%Y-%m-%d")
hand = pd.read_csv(here / "sensitivity_handmade_adsl.csv", keep_default_na=False, na_values=[""], dtype=str)
for c in hand.columns:
    hand[c] = pd.to_datetime(hand[c]) if c.endswith("DT") else hand[c].astype("string")
adtte = derive_adtte(hand, definitions=Definitions())
adtte.to_csv(here / "sensitivity_handmade_adtte.csv", index=False, date_format="%Y-%m-%d")
'
if (Sys.getenv("SENSITIVITY_EXPORT", "1") != "0") {
  py <- file.path(root, ".venv", "bin", "python")
  old <- setwd(root)
  status <- system2(py, c("-c", shQuote(export_py), shQuote(here)), env = paste0("PYTHONPATH=", shQuote(root)))
  setwd(old)
  if (status != 0) stop("export failed")
}

# ---- JSON writer (jsonlite is not installed) -------------------------------------
num <- function(x) ifelse(is.na(x), "null",
                          ifelse(is.infinite(x), ifelse(x > 0, "Infinity", "-Infinity"),
                                 sprintf("%.17g", x)))
to_json <- function(x) {
  if (is.null(x)) return("null")
  if (is.list(x)) {
    if (!is.null(names(x))) {
      body <- paste0('"', names(x), '": ', vapply(x, to_json, ""), collapse = ", ")
      return(paste0("{", body, "}"))
    }
    return(paste0("[", paste(vapply(x, to_json, ""), collapse = ", "), "]"))
  }
  if (is.character(x) || is.factor(x)) {
    x <- as.character(x)
    v <- ifelse(is.na(x), "null", paste0('"', gsub('"', '\\\\"', x), '"'))
  } else if (is.logical(x)) {
    v <- ifelse(is.na(x), "null", ifelse(x, "true", "false"))
  } else {
    v <- num(as.numeric(x))
  }
  paste0("[", paste(v, collapse = ", "), "]")   # vectors are always arrays
}
scalar <- function(x) unname(x)[1]

# ---- reading ---------------------------------------------------------------------
dpm <- 30.4375
months <- function(end, start) as.numeric(as.Date(end) - as.Date(start)) / dpm

read_cohort <- function(adsl_file, adtte_file) {
  adsl <- read.csv(file.path(here, adsl_file), na.strings = "", colClasses = "character")
  adtte <- read.csv(file.path(here, adtte_file), na.strings = "", colClasses = "character")
  adtte$AVAL <- as.numeric(adtte$AVAL)
  adtte$CNSR <- as.integer(adtte$CNSR)
  # times from the dates (so that equal days give equal times); must agree with AVAL
  adtte$MONTHS <- months(adtte$ADT, adtte$STARTDT)
  stopifnot(max(abs(adtte$MONTHS - adtte$AVAL)) < 1e-12)
  list(adsl = adsl, adtte = adtte)
}
tte <- function(co, paramcd, salvage_only) {
  x <- merge(co$adtte[co$adtte$PARAMCD == paramcd, ], co$adsl, by = c("STUDYID", "USUBJID"))
  if (salvage_only) x <- x[x$SALVFL == "Y", ]
  x$EVENT <- 1L - x$CNSR
  x$time <- x$MONTHS
  x[order(x$USUBJID), ]
}

# ---- pieces ----------------------------------------------------------------------
median_of <- function(fit) {
  q <- quantile(fit, 0.5)
  list(median = unname(q$quantile), lower = unname(q$lower), upper = unname(q$upper))
}

rfs_values <- function(co) {
  rfs <- tte(co, "RFS", FALSE)
  cens <- rfs
  hs <- cens$HSCTFL %in% "Y" & !is.na(cens$HSCTDT) & as.Date(cens$HSCTDT) < as.Date(cens$ADT)
  cdate <- pmax(as.Date(cens$HSCTDT[hs]), as.Date(cens$STARTDT[hs]))
  cens$time[hs] <- months(cdate, cens$STARTDT[hs])
  cens$EVENT[hs] <- 0L
  one_rfs <- function(x) {
    out <- list(USUBJID = x$USUBJID, time = x$time, event = x$EVENT, n = nrow(x), events = sum(x$EVENT))
    for (ct in c("log", "log-log")) {
      out[[paste0("median_", ct)]] <- median_of(survfit(Surv(time, EVENT) ~ 1, data = x, conf.type = ct))
    }
    out
  }
  list(primary = one_rfs(rfs), censored_hsct = c(one_rfs(cens), list(n_censored_hsct = sum(hs))))
}

split_os <- function(co, covariates) {
  os <- tte(co, "OS", TRUE)
  os$htime <- ifelse(os$HSCTFL %in% "Y", months(os$HSCTDT, os$RELDT), NA)
  base <- tmerge(os[, c("USUBJID", covariates), drop = FALSE], os, id = USUBJID,
                 death = event(time, EVENT))
  if (all(is.na(os$htime))) {
    sp <- base            # tmerge() rejects a tdc() without any time
    sp$hsct <- 0L
  } else {
    sp <- tmerge(base, os, id = USUBJID, hsct = tdc(htime))
    sp$hsct[is.na(sp$hsct)] <- 0L   # tdc(): NA before the first (here: without a) transplant
  }
  sp[order(sp$USUBJID, sp$tstart), ]
}

chi <- function(stat, df) c(unname(stat), df, pchisq(unname(stat), df, lower.tail = FALSE))
cox_values <- function(fit) {
  s <- summary(fit)
  cf <- s$coefficients
  ci <- s$conf.int
  list(terms = rownames(cf), coef = cf[, "coef"], hr = cf[, "exp(coef)"], se = cf[, "se(coef)"],
       z = cf[, "z"], p = cf[, "Pr(>|z|)"], lower = ci[, "lower .95"], upper = ci[, "upper .95"],
       loglik = fit$loglik, n = fit$n, nevent = fit$nevent,
       # summary()'s printed tests round the statistic; take them unrounded from the fit
       lr = chi(2 * diff(fit$loglik), length(cf[, 1])),
       wald = chi(fit$wald.test, length(cf[, 1])), score = chi(fit$score, length(cf[, 1])))
}

km_table <- function(fit, ct) {
  s <- summary(fit, censored = TRUE)
  strata <- if (is.null(s$strata)) rep("all", length(s$time)) else as.character(s$strata)
  list(strata = strata, time = s$time, n_risk = s$n.risk, n_event = s$n.event, n_censor = s$n.censor,
       surv = s$surv, std_err = s$std.err, lower = s$lower, upper = s$upper)
}

simon_makuch_values <- function(sp) {
  out <- list()
  for (ct in c("log", "log-log")) {
    fit <- survfit(Surv(tstart, tstop, death) ~ hsct, data = sp, conf.type = ct)
    out[[ct]] <- km_table(fit, ct)
  }
  out
}

landmark_values <- function(co, L) {
  os <- tte(co, "OS", TRUE)
  crm <- ifelse(os$CRFL %in% "Y", months(os$CRDT, os$RELDT), NA)
  lm <- os[os$time > L, ]
  crm <- crm[os$time > L]
  lm$group <- factor(ifelse(!is.na(crm) & crm <= L, "CR/CRi", "No CR/CRi"), levels = c("CR/CRi", "No CR/CRi"))
  lm$ltime <- lm$time - L
  out <- list(landmark = L, n_excluded = nrow(os) - nrow(lm), USUBJID = lm$USUBJID,
              group = as.character(lm$group), n = as.vector(table(lm$group)),
              events = as.vector(tapply(lm$EVENT, lm$group, function(e) sum(e))))
  out$events[is.na(out$events)] <- 0
  present <- droplevels(lm$group)
  fit <- survfit(Surv(ltime, EVENT) ~ group, data = transform(lm, group = present))
  out$km <- km_table(fit, "log")
  if (nlevels(present) == 2) {
    sd <- survdiff(Surv(ltime, EVENT) ~ group, data = lm)
    out$survdiff <- list(chisq = sd$chisq, p = pchisq(sd$chisq, 1, lower.tail = FALSE),
                         obs = sd$obs, exp = sd$exp)
    q <- quantile(fit, 0.5)
    out$median <- list(median = unname(q$quantile), lower = unname(q$lower), upper = unname(q$upper))
  }
  out
}

cif_values <- function(co, times) {
  rfs <- tte(co, "RFS", FALSE)
  rfs$status <- ifelse(rfs$EVENT == 0, 0L, ifelse(rfs$EVNTDESC == "Relapse", 1L, 2L))
  rfs$fstatus <- factor(rfs$status, 0:2, c("censored", "Relapse", "Death without relapse"))
  groups <- c("All", sort(unique(rfs$SALVGRP)))
  out <- list(times = times, groups = groups)
  for (g in groups) {
    x <- if (g == "All") rfs else rfs[rfs$SALVGRP == g, ]
    res <- list()
    for (ct in c("log", "log-log")) {
      fit <- survfit(Surv(time, fstatus) ~ 1, data = x, conf.type = ct)
      s <- summary(fit, times = times, extend = TRUE)
      for (k in 2:3) {
        ev <- fit$states[k]
        res[[ct]][[ev]] <- list(cif = s$pstate[, k], se = s$std.err[, k], lower = s$lower[, k],
                                upper = s$upper[, k], n_risk = s$n.risk[, 1])
        res[[ct]][[paste0("curve_", ev)]] <- list(time = fit$time, cif = fit$pstate[, k],
                                                  se = fit$std.err[, k], lower = fit$lower[, k],
                                                  upper = fit$upper[, k], n_risk = fit$n.risk[, 1])
      }
    }
    if (all(x$status %in% 1:2 == FALSE)) {
      res$cuminc <- NULL   # cuminc() fails without events; the CIFs are 0 (checked against survfit)
    } else {
      ci <- cuminc(x$time, x$status, cencode = 0)
      tp <- timepoints(ci, times)
      est <- tp$est[match(c("1 1", "1 2"), rownames(tp$est)), , drop = FALSE]  # absent cause -> NA row
      res$cuminc <- list(Relapse = unname(est[1, ]), `Death without relapse` = unname(est[2, ]))
    }
    out[[g]] <- res
  }
  gt <- cuminc(rfs$time, rfs$status, rfs$SALVGRP, cencode = 0)$Tests
  out$gray <- list(statistic = unname(gt[, "stat"]), p = unname(gt[, "pv"]), df = unname(gt[, "df"]),
                   cause = rownames(gt))
  out
}

missing_values <- function(co, covariates, extra, refs) {
  os <- tte(co, "OS", TRUE)
  mk <- function(x, fill) {
    for (v in c(covariates, extra)) {
      if (fill && v %in% extra) x[[v]][is.na(x[[v]])] <- "Missing"
      x[[v]] <- relevel(factor(x[[v]]), ref = refs[[v]])
    }
    x
  }
  f <- as.formula(paste("Surv(time, EVENT) ~", paste(c(covariates, extra), collapse = " + ")))
  list(complete_case = cox_values(coxph(f, data = mk(os, FALSE), ties = "efron")),
       missing_category = cox_values(coxph(f, data = mk(os, TRUE), ties = "efron")))
}

cox_td <- function(sp, covariates, refs) {
  for (v in covariates) sp[[v]] <- relevel(factor(sp[[v]]), ref = refs[[v]])
  f <- as.formula(paste("Surv(tstart, tstop, death) ~", paste(c("hsct", covariates), collapse = " + ")))
  fit <- coxph(f, data = sp, ties = "efron")
  c(cox_values(fit), list(call = gsub("\\s+", " ", paste(deparse(f), collapse = " "))))
}

dataset <- function(co, covariates, refs, landmarks, times, extra, missing_covs, with_hsct = TRUE) {
  sp <- split_os(co, covariates)
  out <- list(rfs = rfs_values(co),
              split = list(USUBJID = sp$USUBJID, tstart = sp$tstart, tstop = sp$tstop,
                           event = sp$death, hsct = sp$hsct),
              simon_makuch = simon_makuch_values(sp),
              os_km = km_table(survfit(Surv(time, EVENT) ~ 1, data = tte(co, "OS", TRUE)), "log"),
              landmark = lapply(landmarks, function(L) landmark_values(co, L)),
              cif = cif_values(co, times))
  if (with_hsct) out$cox_td <- cox_td(sp, covariates, refs)
  if (!is.null(extra)) out$missing <- missing_values(co, missing_covs, extra, refs)
  out
}

# ---- the data sets ----------------------------------------------------------------
cohort <- read_cohort("sensitivity_adsl.csv", "sensitivity_adtte.csv")
hand <- read_cohort("sensitivity_handmade_adsl.csv", "sensitivity_handmade_adtte.csv")
nohsct <- hand
nohsct$adsl$HSCTFL[nohsct$adsl$SALVFL == "Y"] <- "N"
nohsct$adsl$HSCTDT <- NA

main_covs <- c("SALVGRP", "AGEGR1", "BMBURDEN", "PRIORSCT")
main_refs <- list(SALVGRP = "Targeted", AGEGR1 = "<18", BMBURDEN = "<50%", PRIORSCT = "N",
                  CD19NEG = "N", CYTORISK = "Standard")
hand_refs <- list(SALVGRP = "Targeted", CD19NEG = "N")

ref <- list(
  R_version = R.version.string,
  survival_version = as.character(packageVersion("survival")),
  cmprsk_version = as.character(packageVersion("cmprsk")),
  days_per_month = dpm,
  cohort = dataset(cohort, main_covs, main_refs, landmarks = c(3, 6), times = c(3, 6, 12, 24),
                   extra = c("CD19NEG", "CYTORISK"), missing_covs = c("SALVGRP", "AGEGR1")),
  handmade = dataset(hand, "SALVGRP", hand_refs, landmarks = c(3, 0.5), times = c(0.5, 1, 2, 3, 6),
                     extra = "CD19NEG", missing_covs = "SALVGRP"),
  handmade_nohsct = dataset(nohsct, "SALVGRP", hand_refs, landmarks = numeric(0), times = c(1, 3),
                            extra = NULL, missing_covs = NULL, with_hsct = FALSE)
)
writeLines(to_json(ref), file.path(here, "sensitivity_reference.json"))
cat("wrote", file.path(here, "sensitivity_reference.json"), "\n")
