"""ADaM exports: SAS transport version 5, labels within its limits, define metadata,
sort keys, and the core ADSL/ADTTE rules.

No free CDISC rules checker runs offline: cdisc-rules-engine (PyPI) installs
only the engine; its rules cache comes from its GitHub repository and its
controlled terminology needs a CDISC Library API key. So the rules below are
the core ADaM rules these two datasets must meet, stated here and checked on
the files as written.
"""

from __future__ import annotations

import pandas as pd
import pyreadstat
import pytest

from analysis.adam import write_adam
from analysis.adam_define import DATASET_LABELS, REQUIRED, SORT_KEYS, check_v5_names, define_frame


@pytest.fixture(scope="module")
def exported(results, tmp_path_factory):
    out = tmp_path_factory.mktemp("adam")
    write_adam(results.derived, out)
    return out


@pytest.mark.parametrize("name", ["adsl", "adtte"])
def test_xpt_is_transport_version_5(exported, name):
    head = (exported / f"{name}.xpt").read_bytes()[:80 * 3]
    assert head.startswith(b"HEADER RECORD*******LIBRARY HEADER RECORD!!!!!!!")
    assert b"LIBV8" not in head
    # the member header of version 5 (version 8 writes MEMBV8)
    assert b"MEMBV8" not in (exported / f"{name}.xpt").read_bytes()


@pytest.mark.parametrize("name", ["adsl", "adtte"])
def test_xpt_reads_back_with_pyreadstat_and_pandas(exported, name):
    csv = pd.read_csv(exported / f"{name}.csv", dtype=str, keep_default_na=False)
    frame, meta = pyreadstat.read_xport(exported / f"{name}.xpt")
    assert meta.table_name == name.upper()
    assert meta.file_label == DATASET_LABELS[name.upper()]
    define = pd.read_csv(exported / "define.csv", keep_default_na=False)
    labels = define[define["Dataset"] == name.upper()].set_index("Variable")["Label"].to_dict()
    assert meta.column_names_to_labels == labels
    assert list(frame.columns) == list(csv.columns)
    assert len(frame) == len(csv)
    assert all(len(c) <= 8 for c in frame.columns)
    assert all(len(v) <= 40 for v in meta.column_names_to_labels.values())
    sas = pd.read_sas(exported / f"{name}.xpt", format="xport", encoding="ascii")
    assert list(sas.columns) == list(csv.columns) and len(sas) == len(csv)
    # same keys in the same order in every reader
    assert list(sas["USUBJID"]) == list(frame["USUBJID"]) == list(csv["USUBJID"])
    # dates: SAS dates (DATE9.) read back as the CSV's ISO dates
    for var in define.loc[(define["Dataset"] == name.upper()) & (define["Format"] == "DATE9."), "Variable"]:
        back = pd.to_datetime(frame[var]).dt.strftime("%Y-%m-%d").fillna("")
        assert list(back) == list(csv[var]), var


def test_define_metadata_covers_every_variable(results, exported):
    define = pd.read_csv(exported / "define.csv", keep_default_na=False)
    assert list(define.columns[:9]) == ["Dataset", "Dataset label", "Sort keys", "Variable", "Label", "Type",
                                        "Format", "Codelist", "Derivation"]
    for name, frame in (("ADSL", results.derived.adsl), ("ADTTE", results.derived.adtte)):
        rows = define[define["Dataset"] == name]
        assert list(rows["Variable"]) == list(frame.columns)
    assert (define["Derivation"] != "").all() and (define["Label"] != "").all()
    # every value of a coded variable is one of its codelist's terms
    csvs = {n: pd.read_csv(exported / f"{n.lower()}.csv", dtype=str, keep_default_na=False) for n in ("ADSL", "ADTTE")}
    for rec in define[(define["Codelist"] != "") & ~define["Codelist"].str.contains(r"\(")].to_dict("records"):
        terms = set(rec["Codelist"].split("; "))
        values = set(csvs[rec["Dataset"]][rec["Variable"]]) - {""}
        assert values <= terms, (rec["Variable"], values - terms)


def test_v5_limits_are_enforced():
    bad = pd.DataFrame([{"Dataset": "ADSL", "Variable": "TOOLONGNAME", "Label": "x" * 41}])
    with pytest.raises(ValueError, match="TOOLONGNAME"):
        check_v5_names(bad)


def test_non_ascii_value_refused_before_anything_is_written(results, tmp_path):
    from dataclasses import replace

    adsl = results.derived.adsl.copy()
    adsl.loc[0, "DTHCAUS"] = "Leukämie"
    with pytest.raises(ValueError, match="DTHCAUS"):
        write_adam(replace(results.derived, adsl=adsl), tmp_path)
    assert not list(tmp_path.glob("*.csv")) and not list(tmp_path.glob("*.xpt"))


@pytest.mark.parametrize("name", ["ADSL", "ADTTE"])
def test_sorted_by_keys_and_unique(exported, name):
    frame = pd.read_csv(exported / f"{name.lower()}.csv", dtype=str, keep_default_na=False)
    keys = list(SORT_KEYS[name])
    assert not frame.duplicated(keys).any()
    assert frame[keys].equals(frame[keys].sort_values(keys).reset_index(drop=True))


def test_core_adsl_rules(exported):
    adsl = pd.read_csv(exported / "adsl.csv", dtype=str, keep_default_na=False)
    assert set(REQUIRED["ADSL"]) <= set(adsl.columns)
    assert adsl["USUBJID"].is_unique                                   # one row per subject
    assert (adsl[list(REQUIRED["ADSL"])] != "").all().all()           # required values present
    assert adsl["STUDYID"].nunique() == 1
    assert (adsl["USUBJID"] == adsl["STUDYID"] + "-" + adsl["SITEID"] + "-" + adsl["SUBJID"]).all()
    for flag in [c for c in adsl.columns if c.endswith("FL")]:
        assert set(adsl[flag]) <= {"Y", "N", ""}, flag


def test_core_adtte_rules(results, exported):
    adsl = pd.read_csv(exported / "adsl.csv", dtype=str, keep_default_na=False)
    adtte = pd.read_csv(exported / "adtte.csv", keep_default_na=False, dtype={"USUBJID": str})
    assert set(REQUIRED["ADTTE"]) <= set(adtte.columns)
    assert set(adtte["USUBJID"]) <= set(adsl["USUBJID"])               # no subject outside ADSL
    assert not adtte.duplicated(["USUBJID", "PARAMCD"]).any()          # one row per subject and parameter
    assert set(adtte["CNSR"]) <= {0, 1}
    assert (adtte["AVAL"] >= 0).all()
    assert adtte.groupby("PARAMCD")["PARAM"].nunique().eq(1).all()     # PARAM one-to-one with PARAMCD
    assert adtte.groupby("PARAM")["PARAMCD"].nunique().eq(1).all()
    start, adt = pd.to_datetime(adtte["STARTDT"]), pd.to_datetime(adtte["ADT"])
    assert (adt >= start).all()
    months = (adt - start).dt.days / results.derived.definitions.days_per_month
    assert ((months - adtte["AVAL"]).abs() <= 1e-9 * months).all()   # AVAL = ADT - STARTDT in months (CSV: 10 digits)
    assert ((adtte["CNSR"] == 0) == (adtte["EVNTDESC"] != "")).all()
    assert ((adtte["CNSR"] == 1) == (adtte["CNSDTDSC"] != "")).all()
    # ADT/STARTDT agree with ADSL's dates
    merged = adtte.merge(adsl, on="USUBJID", suffixes=("", "_SL"))
    os_ = merged[merged["PARAMCD"] == "OS"]
    assert (os_["STARTDT"] == os_["RELDT"]).all()
    assert (os_["ADT"] == os_["DTHDT"].where(os_["DTHFL"] == "Y", os_["LSTALVDT"])).all()
    rfs = merged[merged["PARAMCD"] == "RFS"]
    assert (rfs["STARTDT"] == rfs["CRDT"]).all() and (rfs["CRFL"] == "Y").all()


def test_define_frame_is_the_csv(results, exported):
    frame = define_frame(results.derived)
    back = pd.read_csv(exported / "define.csv", keep_default_na=False, dtype=str)
    pd.testing.assert_frame_equal(frame.astype(str), back)


def test_supplementary_define_table_shows_the_metadata(results):
    from analysis.present.adam_metadata import define_table

    table = define_table(results)
    define = define_frame(results.derived)
    assert list(table.frame["Variable"]) == list(define["Variable"])
    assert list(table.frame["Label"]) == list(define["Label"])
    markdown = table.to_markdown()
    assert "ADSL (Subject-Level Analysis Dataset; sorted by STUDYID, USUBJID)" in markdown
    assert "ADTTE (Time-to-Event Analysis Dataset; sorted by STUDYID, USUBJID, PARAMCD)" in markdown
