"""The order of the supplementary tables and figures, in one place.

supplement.qmd numbers its floats itself (Table S1, Figure S1 ... through
Quarto's custom cross-reference types), and the manuscript, a separate
document, cannot cross-reference into it. So the manuscript cites supplementary
items by the names made here, and a test checks that supplement.qmd defines
its ``#supptbl-…``/``#suppfig-…`` floats in exactly this order.
"""

from __future__ import annotations

SUPPLEMENTARY_TABLES = (
    # in the order the manuscript first cites them (Methods, then Results), as journals number them;
    # tests/test_documents.py checks that order on the executed manuscript
    "dictionary",      # data dictionary (Methods: design)
    "flow",            # patient flow as a table (Methods: design)
    "strobe",          # STROBE checklist (Methods: design)
    "versions",        # software versions (Methods: statistical analysis)
    "define",          # ADaM variable metadata, define-style (Methods: statistical analysis)
    "td-cox",          # sensitivity: OS Cox model with HSCT as a time-dependent covariate (Methods)
    "landmark-response",  # sensitivity: landmark analysis of OS by CR/CRi
    "rfs-hsct",        # sensitivity: RFS with and without censoring at consolidative HSCT
    "cif",             # sensitivity: cumulative incidence of relapse and non-relapse mortality
    "missing",         # sensitivity: complete case vs missing as a category
    "baseline-smd",    # Table 1 with standardized mean differences (Results: patients)
    "conventions",     # every factor-wise CR comparison under every test convention (Results: response)
    "landmarks",       # survival at the landmark times (Results: survival)
    "medians",         # median survival by the three CI methods, SPSS mean
    "cox",             # full Cox output (Results: multivariable analysis)
    "zph",             # proportional-hazards check
    "transplant",      # consolidative transplant summary and listing (Results: transplantation)
)
SUPPLEMENTARY_FIGURES = (
    "simon-makuch",    # sensitivity: Simon-Makuch OS by time-dependent HSCT status (Methods)
    "cif",             # sensitivity: cumulative incidence curves (Methods)
    "zph",             # scaled Schoenfeld residuals (Results: multivariable analysis)
)

def supplementary_names() -> dict[str, str]:
    """Registry texts: key ``tbl_s_<name>`` -> 'Table S<n>', ``fig_s_<name>`` -> 'Figure S<n>'."""
    out = {f"tbl_s_{n.replace('-', '_')}": f"Table S{i}" for i, n in enumerate(SUPPLEMENTARY_TABLES, 1)}
    out.update({f"fig_s_{n.replace('-', '_')}": f"Figure S{i}" for i, n in enumerate(SUPPLEMENTARY_FIGURES, 1)})
    return out
