"""Derivation: populations, groups, times, events and the patient flow."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.config import DefinitionsSettings
from analysis.derive import Definitions, derive
from analysis.dictionary import load_dictionary
from analysis.load import to_typed
from tests.conftest_data import base_table


def test_flow_accounts_for_every_input_row(results):
    flow = results.derived.flow
    n_input = len(results.derived.adsl)
    assert flow.n("relapsed") == n_input
    assert flow.n("salvage") + int(flow.exclusions["n"].sum()) == n_input
    assert flow.n("no_salvage") == int(flow.exclusions["n"].sum())
    classes = flow.steps[flow.steps["step"].str.startswith("class_")]
    assert int(classes["n"].sum()) == flow.n("salvage")
    crs = flow.steps[flow.steps["step"].str.startswith("cr_") & (flow.steps["step"] != "cr")]
    assert int(crs["n"].sum()) == flow.n("cr")
    assert flow.exclusions["reason"].notna().all()


def test_adtte_consistent_with_adsl(results):
    adsl, adtte = results.derived.adsl, results.derived.adtte
    os_ = adtte[adtte["PARAMCD"] == "OS"]
    rfs = adtte[adtte["PARAMCD"] == "RFS"]
    assert len(os_) == len(adsl) and os_["USUBJID"].is_unique
    assert set(rfs["USUBJID"]) == set(adsl.loc[adsl["CRFL"] == "Y", "USUBJID"])
    assert (adtte["AVAL"] >= 0).all()
    assert set(adtte["CNSR"]) <= {0, 1}
    merged = os_.merge(adsl, on="USUBJID")
    assert ((merged["CNSR"] == 0) == (merged["DTHFL"] == "Y")).all()
    # months = days / 30.4375
    days = (os_["ADT"] - os_["STARTDT"]).dt.days
    assert (abs(os_["AVAL"] - days / 30.4375) < 1e-12).all()
    # event rows carry EVNTDESC, censored rows CNSDTDSC
    assert (adtte["EVNTDESC"].notna() == (adtte["CNSR"] == 0)).all()
    assert (adtte["CNSDTDSC"].notna() == (adtte["CNSR"] == 1)).all()


def test_tte_columns_are_those_of_the_whole_frame(results):
    """tte(columns=...) is the whole joined frame restricted to those columns (same rows, values and dtypes),
    whichever of ADTTE, ADSL and EVENT they come from; a column of neither is an error, not a silent gap."""
    der = results.derived
    for paramcd, population in (("OS", "salvage"), ("OS", "all"), ("RFS", "all")):
        whole = der.tte(paramcd, population=population)
        for columns in (["USUBJID", "AVAL", "EVENT"], ["EVENT", "SALVGRP", "CNSR", "AGE"], ["AVAL"]):
            part = der.tte(paramcd, population=population, columns=columns)
            assert list(part.columns) == [c for c in whole.columns if c in columns]
            pd.testing.assert_frame_equal(part, whole[list(part.columns)])
    with pytest.raises(KeyError, match="NOSUCH"):
        der.tte("OS", population="all", columns=["AVAL", "NOSUCH"])


def test_salvage_set_columns_are_those_of_the_whole_set(results):
    """salvage_set(columns) is the salvage set (SALVFL == "Y") restricted to those of the columns ADSL has, in
    ADSL's order (same rows, values and dtypes); a column ADSL lacks is left out, so that the analysis reading
    it fails as it would on the whole set."""
    der = results.derived
    whole = der.salvage
    assert (whole["SALVFL"] == "Y").all() and len(whole) == int((der.adsl["SALVFL"] == "Y").sum())
    pd.testing.assert_frame_equal(der.salvage_set(), whole)
    for columns in (["SALVGRP", "AGE", "CRFL"], ["CRFL", "SALVGRP", "NOSUCH"], []):
        part = der.salvage_set(columns)
        assert list(part.columns) == [c for c in whole.columns if c in columns]
        pd.testing.assert_frame_equal(part, whole[list(part.columns)])


def test_no_source_pseudonym_in_adam(results):
    adsl = results.derived.adsl
    raw_ids = set(pd.concat([pd.read_csv(p) for p in sorted((results.config.sources[0].path.parent).glob("*.csv"))])
                  ["patient_id"])
    text = adsl.astype(str).to_csv() + results.derived.adtte.astype(str).to_csv()
    assert not any(pid in text for pid in raw_ids)


def _typed(raw: pd.DataFrame) -> pd.DataFrame:
    return to_typed(raw.replace("", None), load_dictionary())


def test_rfs_event_is_first_of_relapse_or_death():
    """RFS: from CR/CRi to relapse or death, whichever first; censored at last contact."""
    typed = _typed(base_table())
    der = derive(typed, study_id="T", definitions=Definitions.from_settings(DefinitionsSettings()))
    rfs = der.tte("RFS", population="all")
    adsl = der.adsl.set_index("USUBJID")
    for _, r in rfs.iterrows():
        a = adsl.loc[r["USUBJID"]]
        ends = [d for d in (a["REL2DT"], a["DTHDT"]) if pd.notna(d)]
        if ends:
            assert r["CNSR"] == 0 and r["ADT"] == min(ends)
        else:
            assert r["CNSR"] == 1 and r["ADT"] == a["LSTALVDT"]


def test_groups_follow_definitions():
    d = Definitions(days_per_month=30.4375, adult_age_years=18, high_marrow_burden_pct=50)
    assert d.age_groups == ("<18", ">=18")
    assert d.burden_groups == ("<50%", ">=50%")


def test_subject_ids_are_the_documented_keyed_hash():
    """Reference: the documented formula (first 8 characters of the base-32 HMAC-SHA-256 of
    site and pseudonym joined by U+001F), written out with the standard library here."""
    import base64
    import hashlib
    import hmac

    from analysis.derive import subject_ids

    key = bytes(range(32))
    site = pd.Series(["SITE-A", "SITE-A", "SITE-B", "SITE-C"])
    pseudonym = pd.Series(["P-001", "P-002", "P-001", "Müller 7"])
    expected = [base64.b32encode(hmac.new(key, f"{s}\x1f{p}".encode(), hashlib.sha256).digest()).decode()[:8]
                for s, p in zip(site, pseudonym)]
    assert subject_ids(site, pseudonym, key).tolist() == expected
