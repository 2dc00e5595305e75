"""Clinical consistency rules of the data dictionary (``rules:`` in
data/dictionary.yml, issue 13 class 4): each one broken by changing a few cells
of the valid base table; the rule fires with its level and its message names
the values it read. The reference is the clinical logic written in the rule's
own text in the dictionary."""

from __future__ import annotations

import pytest

from analysis.config import Source
from analysis.load import load_sources
from analysis.validate import validate
from tests.conftest_data import base_table, change, dictionary, write_csv


@pytest.fixture(scope="module")
def dic():
    return dictionary()


def _problems(table, tmp_path, dic, name="site_t.csv"):
    return validate(load_sources([Source(write_csv(table, tmp_path / name))], dic), dic).problems


CASES = [
    # (rule, level, patient, changes, words in the message)
    ("second_hsct_without_prior", "error", "T-005", dict(prior_transplant="none"),
     ["hsct_after_salvage (Consolidative allo-HSCT after salvage) is second", "prior_transplant (Allogeneic transplant before relapse) is none", "needs an earlier one"]),
    ("first_hsct_after_prior", "error", "T-001", dict(prior_transplant="before_cart"),
     ["hsct_after_salvage (Consolidative allo-HSCT after salvage) is first", "(Allogeneic transplant before relapse) is before_cart"]),
    ("first_hsct_after_prior", "error", "T-001", dict(prior_transplant="after_cart"),
     ["(Allogeneic transplant before relapse) is after_cart"]),
    ("transplant_death_without_transplant", "error", "T-003", dict(death_cause="transplant_related"),
     ["death_cause (Cause of death) is transplant_related", "(Allogeneic transplant before relapse) is none",
      "hsct_after_salvage (Consolidative allo-HSCT after salvage) is none",
      "no allogeneic transplant is recorded"]),
    ("hsct_without_remission", "warning", "T-001", dict(best_response="NR", cr_date="", post_salvage_relapse="",
                                                         post_salvage_relapse_date=""),
     ["hsct_after_salvage (Consolidative allo-HSCT after salvage) is first", "best_response", "is NR",
      "not CR/CRi"]),
    ("early_death_alive", "error", "T-004", dict(death_date="", death_cause="", last_contact_date="2020-09-01"),
     ["no_salvage_reason (Reason for no salvage therapy) is early_death", "death_date (Date of death) is missing",
      "no date of death"]),
    ("early_death_months_later", "warning", "T-004", dict(death_date="2020-09-01", last_contact_date="2020-09-01"),
     ["relapse_date 2020-01-12 to death_date 2020-09-01 is 233 days", "more than 90 days"]),
    ("age_before_diagnosis", "error", "T-004", dict(diagnosis_date="2005-01-10"),
     ["diagnosis_date 2005-01-10 to relapse_date 2020-01-12", "age_at_relapse (Age at relapse) is 8", "precede birth"]),
]


@pytest.mark.parametrize("rule,level,patient,changes,words", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_clinical_rule_breaks_with_its_message(tmp_path, dic, rule, level, patient, changes, words):
    table = change(base_table(), patient, **changes)
    if rule == "transplant_death_without_transplant":
        table = change(table, patient, prior_transplant="none")
    found = [p for p in _problems(table, tmp_path, dic) if p.rule == rule]
    assert len(found) == 1, found
    (problem,) = found
    assert problem.level == level and problem.patient == patient
    missing = [w for w in words if w not in problem.message]
    assert not missing, (missing, problem.message)


def test_valid_base_table_breaks_no_rule(tmp_path, dic):
    assert not _problems(base_table(), tmp_path, dic)


def test_age_rule_allows_a_year_of_slack(tmp_path, dic):
    # T-004: 8 years at relapse 2020-01-12; diagnosis 8.5 years earlier is possible (age in completed years)
    table = change(base_table(), "T-004", diagnosis_date="2011-07-12")
    assert not _problems(table, tmp_path, dic)


def test_transplant_death_with_a_transplant_after_salvage_is_fine(tmp_path, dic):
    # T-001: first allo-HSCT after salvage, no prior transplant; died of transplant-related causes
    table = change(base_table(), "T-001", death_date="2021-06-30", death_cause="transplant_related")
    assert not _problems(table, tmp_path, dic)


def test_same_patient_under_two_pseudonyms_at_two_sites_is_a_warning_naming_both(tmp_path, dic):
    site_t = base_table().iloc[:3]
    site_u = base_table().iloc[[1]].assign(patient_id="U-077", site="U", cart_product="Kymriah")
    loaded = load_sources([Source(write_csv(site_t, tmp_path / "site_t.csv")),
                           Source(write_csv(site_u, tmp_path / "site_u.csv"))], dic)
    report = validate(loaded, dic)
    found = [p for p in report.problems if p.rule == "same_patient_two_pseudonyms"]
    (problem,) = found  # once, naming both rows
    assert problem.patient == "T-002" and problem.level == "warning"
    assert "(site T) is the same as " in problem.message
    assert "site_u.csv row 2 (site U, patient U-077)" in problem.message
    assert report.ok  # a warning: the data manager decides


def test_same_patient_with_dates_written_in_another_format_is_found(tmp_path, dic, ):
    site_u = base_table().iloc[[1]].assign(patient_id="U-077", site="U")
    for column in ("diagnosis_date", "cart_date", "relapse_date", "salvage_date", "cr_date",
                   "post_salvage_relapse_date", "death_date", "last_contact_date"):
        site_u[column] = site_u[column].map(lambda v: ".".join(reversed(v.split("-"))) if v else v)
    mapping = tmp_path / "u.yml"
    mapping.write_text("date_format: DD.MM.YYYY\n")
    loaded = load_sources([Source(write_csv(base_table(), tmp_path / "site_t.csv")),
                           Source(write_csv(site_u, tmp_path / "site_u.csv"), mapping=mapping)], dic)
    (problem,) = [p for p in validate(loaded, dic).problems if p.rule == "same_patient_two_pseudonyms"]
    assert problem.patient == "T-002" and "patient U-077" in problem.message


def test_rows_differing_in_one_code_are_not_the_same_patient(tmp_path, dic):
    site_u = base_table().iloc[[1]].assign(patient_id="U-077", site="U", sex="male")
    loaded = load_sources([Source(write_csv(base_table(), tmp_path / "site_t.csv")),
                           Source(write_csv(site_u, tmp_path / "site_u.csv"))], dic)
    assert not validate(loaded, dic).problems


def test_every_rule_states_its_level_and_why(dic):
    assert len(dic.rules) >= 7
    for rule in dic.rules:
        assert rule.level in ("error", "warning") and rule.why and rule.message
