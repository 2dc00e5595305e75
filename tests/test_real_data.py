"""The user's path: real-shaped site exports (CSV with the site's own names and
a mapping, .xlsx with a read-me sheet, .sav with value labels and a mapping; no
``synthetic`` or ``site`` column; an optional column empty at one site) go
through validation, the whole analysis, every chunk of both documents and the
export, and nothing says "synthetic" (tests/realistic_sites.py builds them
from the synthetic cohort's patients, so no real patient is involved)."""

from __future__ import annotations

import pandas as pd
import pyreadstat
import pytest
import yaml

from analysis.config import DEFAULT_CONFIG, PROJECT_ROOT, load_config
from analysis.pipeline import data_hash, load_cohort
from analysis.present.numbers import build_registry
from analysis.results import run_analysis
from tests.realistic_sites import write_sites
from tests.test_cli import run


@pytest.fixture(scope="module")
def sites(tmp_path_factory):
    return write_sites(tmp_path_factory.mktemp("sites"))


@pytest.fixture(scope="module")
def config_path(tmp_path_factory):
    """The shipped configuration, with the subject-identifier key kept in a
    temporary folder instead of data/private/."""
    settings = yaml.safe_load(DEFAULT_CONFIG.read_text(encoding="utf-8"))
    folder = tmp_path_factory.mktemp("config")
    settings["data"] = {"sources": [], "id_key": str(folder / "private" / "usubjid.key")}
    path = folder / "analysis.yml"
    path.write_text(yaml.safe_dump(settings, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def results(sites, config_path):
    return run_analysis(load_config(config_path, data=sites))


def test_validate_passes_through_the_command_line(sites):
    proc = run("validate", str(sites))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "74 patients from 3 files" in proc.stdout
    assert "Traceback" not in proc.stderr


def test_every_number_equals_the_same_patients_in_the_shipped_files(results):
    """The sites hold the synthetic cohort's patients in other shapes: every
    number of the manuscript must come out the same, only the synthetic-data
    notice goes (a regression check of the loading paths, not of a statistic)."""
    def texts(registry) -> dict:
        return {f"{s}.{k}": n.text for s, k, n in registry.items()}

    shipped = texts(build_registry(run_analysis(load_config(DEFAULT_CONFIG))))
    real = texts(build_registry(results))
    assert shipped.pop("text.synthetic_notice").startswith("SYNTHETIC")
    assert real.pop("text.synthetic_notice") == ""
    assert real == shipped


def test_no_synthetic_flag_and_sites_from_sources(results):
    assert not results.synthetic
    assert set(results.derived.adsl["SYNTHFL"]) == {"N"}
    assert sorted(results.derived.adsl["SITEID"].unique()) == ["SITE-A", "SITE-B", "SITE-C"]


def test_subject_ids_do_not_carry_pseudonyms_and_survive_a_new_freeze(sites, config_path, tmp_path):
    first = load_cohort(load_config(config_path, data=sites)).derived.adsl
    assert not first["USUBJID"].str.contains("SYN-").any()
    # the next freeze: site C's rows reversed and its first patient removed
    folder = sites.parent
    import pyreadstat

    frame, meta = pyreadstat.read_sav(folder / "site_c.sav")
    frame = frame.iloc[::-1].iloc[1:].reset_index(drop=True)
    pyreadstat.write_sav(frame, tmp_path / "site_c.sav", variable_value_labels=meta.variable_value_labels)
    spec = yaml.safe_load(sites.read_text(encoding="utf-8"))
    for entry in spec["sources"]:
        source = folder / entry["path"]
        entry["path"] = str(tmp_path / "site_c.sav") if source.name == "site_c.sav" else str(source)
        if entry.get("mapping"):
            entry["mapping"] = str(folder / entry["mapping"])
    (tmp_path / "sources.yml").write_text(yaml.safe_dump(spec), encoding="utf-8")
    second = load_cohort(load_config(config_path, data=tmp_path / "sources.yml")).derived.adsl
    assert len(second) == len(first) - 1
    kept = first.set_index("USUBJID").loc[second["USUBJID"]]
    pd.testing.assert_series_equal(kept["RELDT"].reset_index(drop=True), second["RELDT"], check_names=False)


def test_accented_site_names_reach_the_adam_files_as_ascii_codes(tmp_path, config_path, monkeypatch):
    """Sites named with accents and spaces, in sources.yml and in a Latin-1 CSV's site column:
    validation passes, and ``adam`` writes SAS transport files whose SITEID and USUBJID are
    ASCII (accents dropped, spaces as '-'), without the sites' pseudonyms."""
    from analysis.__main__ import main
    from tests.conftest_data import base_table, write_csv

    sources = write_sites(tmp_path / "sites")
    spec = yaml.safe_load(sources.read_text(encoding="utf-8"))
    spec["sources"][0]["site"] = "Hôpital Saint-Louis"
    write_csv(base_table().assign(site="Université Paris", patient_id=lambda t: "UP-" + t["patient_id"]),
              sources.parent / "site_d.csv", encoding="latin-1")
    spec["sources"].append({"path": "site_d.csv"})
    sources.write_text(yaml.safe_dump(spec, allow_unicode=True, sort_keys=False), encoding="utf-8")
    proc = run("validate", str(sources))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    monkeypatch.setenv("CART_DATA", str(sources))
    assert main(["--config", str(config_path), "adam", "--out", str(tmp_path / "adam")]) == 0
    adsl, _ = pyreadstat.read_xport(tmp_path / "adam" / "adsl.xpt")
    assert set(adsl["SITEID"]) == {"Hopital-Saint-Louis", "SITE-B", "SITE-C", "Universite-Paris"}
    assert adsl["USUBJID"].str.fullmatch(r"CART-RELAPSE-(Hopital-Saint-Louis|SITE-B|SITE-C|Universite-Paris)-"
                                         r"[A-Z2-7]{8}").all()
    text = (tmp_path / "adam" / "adsl.csv").read_text(encoding="utf-8")
    assert "SYN-" not in text and "UP-T-" not in text


def test_data_hash_covers_how_a_file_is_read(sites, config_path):
    cfg = load_config(config_path, data=sites)
    moved = cfg.__class__(path=cfg.path, dictionary_path=cfg.dictionary_path, settings=cfg.settings,
                          sources=tuple(s.__class__(path=s.path, site=s.site + "X" if s.site else None,
                                                    sheet=s.sheet, mapping=s.mapping) for s in cfg.sources))
    assert data_hash(moved) != data_hash(cfg)


def test_documents_and_export_without_synthetic_notice(sites, config_path, tmp_path, monkeypatch):
    """Every chunk of both documents runs on the site files (HTML, as
    `quarto render` would with CART_DATA set), and the export is complete."""
    from analysis.__main__ import main
    from analysis.present.document import prepare
    from tests.qmd.harness import execute_qmd

    variables_file = tmp_path / "_variables.yml"
    monkeypatch.setenv("CART_DATA", str(sites))
    monkeypatch.setenv("CART_CONFIG", str(config_path))
    monkeypatch.setenv("CART_VARIABLES", str(variables_file))
    prepare(variables=variables_file, root=tmp_path)
    assert "SYNTHETIC" not in (tmp_path / "_generated" / "banner.html").read_text(encoding="utf-8")
    variables = yaml.safe_load(variables_file.read_text(encoding="utf-8"))
    assert variables["stamp"]["synthetic"] == "no"
    for doc in ("report.qmd", "supplement.qmd"):
        run_ = execute_qmd(PROJECT_ROOT / doc, target_format="html", variables=variables)
        assert run_.findings.ok, "\n".join(run_.findings.problems())
        text = "".join("".join(m) for c in run_.chunks for mime in ("text/markdown", "text/html")
                       for m in c.mime(mime))
        text += "".join(i.result for i in run_.inlines)
        assert "simulated cohort" not in text and "## Synthetic data" not in text and "SYNTHETIC" not in text, doc
        assert "SYN-" not in text, doc
    out = tmp_path / "out"
    assert main(["--config", str(config_path), "export", "--out", str(out)]) == 0
    assert (out / "numbers.json").exists() and (out / "adam" / "adsl.csv").exists()
    assert any((out / "figures").glob("*.pdf"))
    assert "SYN-" not in (out / "adam" / "adsl.csv").read_text(encoding="utf-8")
