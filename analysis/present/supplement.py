"""The order of the supplementary tables and figures, in one place.

supplement.qmd numbers its floats itself (Table S1, Figure S1 ... through
Quarto's custom cross-reference types), and the manuscript, a separate
document, cannot cross-reference into it. So the manuscript cites supplementary
items by the names made here, and a test checks that supplement.qmd defines
its ``#supptbl-…``/``#suppfig-…`` floats in exactly this order.
"""

from __future__ import annotations

SUPPLEMENTARY_TABLES = (
    "dictionary",      # data dictionary
    "flow",            # patient flow as a table
    "baseline-smd",    # Table 1 with standardized mean differences
    "conventions",     # every factor-wise CR comparison under every test convention
    "medians",         # median survival by the three CI methods, SPSS mean
    "landmarks",       # survival at 6 and 12 months
    "cox",             # full Cox output
    "zph",             # proportional-hazards check
    "transplant",      # consolidative transplant summary and listing
    "rfs-hsct",        # sensitivity: RFS with and without censoring at consolidative HSCT
    "td-cox",          # sensitivity: OS Cox model with HSCT as a time-dependent covariate
    "landmark-response",  # sensitivity: landmark analysis of OS by CR/CRi
    "cif",             # sensitivity: cumulative incidence of relapse and non-relapse mortality
    "missing",         # sensitivity: complete case vs missing as a category
    "versions",        # software versions
    "define",          # ADaM variable metadata (define-style)
    "strobe",          # STROBE checklist (last table)
)
SUPPLEMENTARY_FIGURES = (
    "zph",             # scaled Schoenfeld residuals
    "simon-makuch",    # sensitivity: Simon-Makuch OS by time-dependent HSCT status
    "cif",             # sensitivity: cumulative incidence curves
)


def supplementary_names() -> dict[str, str]:
    """Registry texts: key ``tbl_s_<name>`` -> 'Table S<n>', ``fig_s_<name>`` -> 'Figure S<n>'."""
    out = {f"tbl_s_{n.replace('-', '_')}": f"Table S{i}" for i, n in enumerate(SUPPLEMENTARY_TABLES, 1)}
    out.update({f"fig_s_{n.replace('-', '_')}": f"Figure S{i}" for i, n in enumerate(SUPPLEMENTARY_FIGURES, 1)})
    return out
