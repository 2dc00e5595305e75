# Reference values for analysis/compute/survival.py, computed with R's survival package.
#
#   Rscript tests/reference/survival_reference.R      (from anywhere; paths are relative to this file)
#
# Made with R 4.2.2 Patched (2022-11-10 r83330) and survival 3.5-3; writes
# survival_reference.json beside this script (numbers at full precision, "%.17g";
# R's NA -> null, NaN -> NaN, Inf -> Infinity, which Python's json module reads).
#
# Each data set is a CSV beside this script with columns time, status (1 = event,
# 0 = censored) and group (a single level means "no grouping"). To add a data set
# (e.g. the synthetic cohort), put its CSV here and add one line to `datasets` below,
# then re-run this script: tests/compute/test_survival.py takes its cases from the JSON.
#
# Provenance of the CSVs (written once with Python 3.11 / lifelines 0.30.3; the test
# module checks that they still equal the lifelines data sets):
#   km_waltons.csv   lifelines.datasets.load_waltons():  time=T, status=E, group=group
#   km_leukemia.csv  lifelines.datasets.load_leukemia(): time=t, status=status, group="Rx"+Rx
#   km_larynx.csv    lifelines.datasets.load_larynx():   time=time, status=death,
#                    group = stage I/II/III/IV from the Stage_II/Stage_III/Stage_IV dummies
#   km_spss.csv      the data of spss_km_reference.yml (groups sex_1, sex_2)
#   km_edge_*.csv    small hand-made edge cases (see the test module)
#
# For every data set and every curve ("overall" = all rows pooled, and each group
# level when there are two or more) the JSON holds:
#   km:       summary(fit, censored = TRUE): time, n.risk, n.event, n.censor, surv,
#             std.err (of S), lower/upper for conf.type "log", "log-log" and "plain",
#             and for "log" with conf.int = 0.90
#   median:   quantile(fit, 0.5) and summary(fit)$table (median, 0.95LCL, 0.95UCL)
#             for conf.type "log" and "log-log"
#   rmean:    summary(fit, rmean = "individual")$table: rmean, se(rmean)
#   at:       summary(fit, times = times, extend = TRUE): time, n.risk, surv, std.err,
#             lower/upper ("log" and "log-log"), cumsum(n.event), cumsum(n.censor)
#   followup: quantile(survfit(Surv(time, 1 - status) ~ 1), 0.5) for "log" and "log-log"
# and, with two or more groups, survdiff(Surv(time, status) ~ group) (rho = 0).

suppressPackageStartupMessages(library(survival))

args <- commandArgs(trailingOnly = FALSE)
file_arg <- sub("^--file=", "", args[grep("^--file=", args)])
here <- if (length(file_arg)) dirname(normalizePath(file_arg)) else getwd()

# name, CSV file, extra times for summary(fit, times = ...) besides 0, 6, 12 and max(time) + 1
datasets <- list(
  list(name = "waltons", file = "km_waltons.csv", times = c(30, 60)),
  list(name = "leukemia", file = "km_leukemia.csv", times = c(23)),
  list(name = "larynx", file = "km_larynx.csv", times = c(1, 5)),
  list(name = "spss", file = "km_spss.csv", times = c(100, 353)),
  list(name = "edge_half_interval", file = "km_edge_half_interval.csv", times = c(5.5)),
  list(name = "edge_half_end", file = "km_edge_half_end.csv", times = c(3)),
  list(name = "edge_all_censored", file = "km_edge_all_censored.csv", times = c(3)),
  list(name = "edge_no_censoring", file = "km_edge_no_censoring.csv", times = c(4)),
  list(name = "edge_single_event", file = "km_edge_single_event.csv", times = c(3)),
  list(name = "edge_not_reached", file = "km_edge_not_reached.csv", times = c(7)),
  list(name = "edge_055", file = "km_edge_055.csv", times = c(9))
)

# ---- a minimal JSON writer (jsonlite is not installed) -------------------------------
sc <- function(x) structure(x, json_scalar = TRUE)  # write as a scalar, not an array
num <- function(x) {
  s <- sprintf("%.17g", x)
  s[is.na(x) & !is.nan(x)] <- "null"
  s[is.nan(x)] <- "NaN"
  s[is.infinite(x) & x > 0] <- "Infinity"
  s[is.infinite(x) & x < 0] <- "-Infinity"
  s
}
str_json <- function(x) paste0("\"", gsub("\"", "\\\\\"", gsub("\\\\", "\\\\\\\\", x)), "\"")
to_json <- function(x, indent = "") {
  inner <- paste0(indent, "  ")
  if (is.list(x)) {
    parts <- vapply(x, to_json, "", indent = inner)
    if (!is.null(names(x))) parts <- paste0(str_json(names(x)), ": ", parts)
    open <- if (is.null(names(x))) "[" else "{"
    close <- if (is.null(names(x))) "]" else "}"
    if (!length(parts)) return(paste0(open, close))
    return(paste0(open, "\n", inner, paste(parts, collapse = paste0(",\n", inner)), "\n", indent, close))
  }
  vals <- if (is.character(x)) str_json(x) else if (is.logical(x)) ifelse(x, "true", "false") else num(as.numeric(x))
  if (isTRUE(attr(x, "json_scalar"))) {
    stopifnot(length(vals) == 1)
    return(vals)
  }
  paste0("[", paste(vals, collapse = ", "), "]")
}

# ---- the reference values -------------------------------------------------------------
median_of <- function(fit) {
  q <- quantile(fit, probs = 0.5)
  tab <- summary(fit)$table
  list(
    quantile = c(unname(q$quantile), unname(q$lower), unname(q$upper)),
    table = unname(tab[c("median", "0.95LCL", "0.95UCL")])
  )
}

curve <- function(d, times) {
  fit_log <- survfit(Surv(time, status) ~ 1, data = d, conf.type = "log")
  fit_ll <- survfit(Surv(time, status) ~ 1, data = d, conf.type = "log-log")
  fit_pl <- survfit(Surv(time, status) ~ 1, data = d, conf.type = "plain")
  s <- summary(fit_log, censored = TRUE)
  s_ll <- summary(fit_ll, censored = TRUE)
  s_pl <- summary(fit_pl, censored = TRUE)
  s_90 <- summary(survfit(Surv(time, status) ~ 1, data = d, conf.type = "log", conf.int = 0.90), censored = TRUE)
  a <- summary(fit_log, times = times, extend = TRUE)
  a_ll <- summary(fit_ll, times = times, extend = TRUE)
  rm <- summary(fit_log, rmean = "individual")$table
  rev_log <- quantile(survfit(Surv(time, 1 - status) ~ 1, data = d, conf.type = "log"), probs = 0.5)
  rev_ll <- quantile(survfit(Surv(time, 1 - status) ~ 1, data = d, conf.type = "log-log"), probs = 0.5)
  list(
    n = sc(nrow(d)),
    events = sc(sum(d$status)),
    km = list(
      time = s$time, n_risk = s$n.risk, n_event = s$n.event, n_censor = s$n.censor,
      surv = s$surv, std_err = s$std.err,
      lower_log = s$lower, upper_log = s$upper,
      lower_loglog = s_ll$lower, upper_loglog = s_ll$upper,
      lower_plain = s_pl$lower, upper_plain = s_pl$upper,
      lower_log90 = s_90$lower, upper_log90 = s_90$upper
    ),
    median = list(log = median_of(fit_log), `log-log` = median_of(fit_ll)),
    rmean = unname(rm[c("rmean", "se(rmean)")]),
    at = list(
      time = a$time, n_risk = a$n.risk, surv = a$surv, std_err = a$std.err,
      lower_log = a$lower, upper_log = a$upper,
      lower_loglog = a_ll$lower, upper_loglog = a_ll$upper,
      n_event_cum = cumsum(a$n.event), n_censor_cum = cumsum(a$n.censor)
    ),
    followup = list(
      log = c(unname(rev_log$quantile), unname(rev_log$lower), unname(rev_log$upper)),
      `log-log` = c(unname(rev_ll$quantile), unname(rev_ll$lower), unname(rev_ll$upper))
    )
  )
}

one_dataset <- function(spec) {
  d <- read.csv(file.path(here, spec$file), colClasses = c("numeric", "numeric", "character"))
  times <- sort(unique(c(0, 6, 12, spec$times, max(d$time) + 1)))
  levels_ <- sort(unique(d$group))
  curves <- list(overall = curve(d, times))
  out <- list(file = sc(spec$file), times = times, groups = levels_)
  if (length(levels_) > 1) {
    for (g in levels_) curves[[g]] <- curve(d[d$group == g, ], times)
    d$group <- factor(d$group, levels = levels_)
    sd <- survdiff(Surv(time, status) ~ group, data = d, rho = 0)
    df <- sum(sd$exp > 0) - 1  # as print.survdiff
    out$survdiff <- list(
      n = as.numeric(sd$n), observed = as.numeric(sd$obs), expected = as.numeric(sd$exp),
      chisq = sc(sd$chisq), df = sc(df),
      p = sc(pchisq(sd$chisq, df, lower.tail = FALSE))
    )
  }
  out$curves <- curves
  out
}

result <- list(
  r_version = sc(R.version.string),
  survival_version = sc(as.character(packageVersion("survival"))),
  datasets = setNames(lapply(datasets, one_dataset), vapply(datasets, `[[`, "", "name"))
)
writeLines(to_json(result), file.path(here, "survival_reference.json"))
