"""Export the shipped synthetic cohort's analysis data for R (run from the
project root before tests/reference/cohort_reference.R):

    .venv/bin/python tests/reference/export_cohort.py && Rscript tests/reference/cohort_reference.R
"""

from pathlib import Path

from analysis.results import run_analysis

HERE = Path(__file__).resolve().parent
COLUMNS = ["USUBJID", "AVAL", "EVENT", "SALVGRP", "EMDGRP", "AGEGR1", "BMBURDEN", "PRIORSCT"]


def frames():
    r = run_analysis()
    return r.os.data[COLUMNS], r.rfs.data[["USUBJID", "AVAL", "EVENT"]]


if __name__ == "__main__":
    os_, rfs = frames()
    os_.to_csv(HERE / "cohort_os.csv", index=False, float_format="%.17g", lineterminator="\n")
    rfs.to_csv(HERE / "cohort_rfs.csv", index=False, float_format="%.17g", lineterminator="\n")
    print("wrote cohort_os.csv and cohort_rfs.csv")
