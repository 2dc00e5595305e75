"""Reviewer revisions (analysis/revisions/): the complete ledger, the letter-ready change table,
the data-freeze log.

References: (a) the executed documents (tests/qmd/harness.py runs every chunk and inline
expression as Quarto's Jupyter engine does): every number they print must have a ledger entry;
(b) the figures' own text artists, read directly from matplotlib; (c) ADSL of two data freezes
compared directly with pandas (which patient and which fields differ); (d) the scenario's own
edits (a copied configuration: median CI method log, 2×2 test Fisher, PRIORSCT -> CD19NEG in the
Cox model; one patient's death date moved six months) and hand-written expectations of how
settings are described.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
import yaml

from analysis import ledger as L
from analysis.config import PROJECT_ROOT
from analysis.revisions import changes, freeze
from analysis.revisions.displays import NUMBER_RE, call_display
from tests.test_ledger import MOVED_DAYS, MOVED_PATIENT, _analyse, _move_death, _write_cohort

PLACE_START = re.compile(r"^(Abstract|Introduction|Methods|Results|Discussion|Supplement|Table S?\d+|Figure S?\d+)\b")


@pytest.fixture(scope="module")
def scenario(tmp_path_factory) -> Iterator[SimpleNamespace]:
    """Ledgers of the synthetic cohort (base), of the same cohort with one death moved six months
    later (data), and of the base cohort under a copied configuration (revision)."""
    from analysis import code_version
    from analysis.simulate import simulate_cohort

    tmp = tmp_path_factory.mktemp("revisions")
    mp = pytest.MonkeyPatch()
    mp.setenv("CART_LEDGER_KEY", str(tmp / "ledger.key"))
    frame = simulate_cohort()
    dir_a = _write_cohort(frame, tmp / "a")
    dir_b = _write_cohort(_move_death(frame, MOVED_PATIENT, MOVED_DAYS), tmp / "b")
    settings = yaml.safe_load((PROJECT_ROOT / "analysis.yml").read_text(encoding="utf-8"))
    settings["data"]["dictionary"] = str(PROJECT_ROOT / "data" / "dictionary.yml")
    settings["survival"]["median_ci"] = "log"
    settings["tests"]["two_by_two"] = "fisher"
    settings["cox"]["covariates"] = [c if c["column"] != "PRIORSCT" else {"column": "CD19NEG", "reference": "N"}
                                     for c in settings["cox"]["covariates"]]
    # CD19NEG is now in the model, so its missing-covariate sensitivity analysis goes (the
    # configuration refuses a covariate in both lists)
    settings["sensitivity"]["missing_covariates"] = []
    cfg = tmp / "revision1.yml"
    cfg.write_text(yaml.safe_dump(settings, sort_keys=False), encoding="utf-8")
    version = code_version()
    base = _analyse(dir_a, code_version=version)
    data = _analyse(dir_b, code_version=version)
    revision = _analyse(dir_a, cfg, code_version=version)
    paths = {n: L.write_ledger(tmp / f"{n}.json", r.ledger) for n, r in
             (("base", base), ("data", data), ("revision", revision))}
    yield SimpleNamespace(base=base, data=data, revision=revision, paths=paths, tmp=tmp)
    mp.undo()


def _keys_partition(report: changes.ChangeReport, old: dict, new: dict) -> None:
    """Every changed, added or removed display entry is in exactly one row (generated sentences,
    matched by content rather than by their numbered keys, in at most one)."""
    od, nd = old["displays"], new["displays"]
    changed = {k for k in set(od) | set(nd) if (od.get(k) or {}).get("text") != (nd.get(k) or {}).get("text")}
    sentences = {k for k in changed if (nd.get(k) or od.get(k))["kind"] == "text"}
    in_rows = [k for r in report.rows for k in r.keys if k in changed]
    assert len(in_rows) == len(set(in_rows))
    assert set(in_rows) - sentences == changed - sentences


def _human(report: changes.ChangeReport) -> None:
    for r in report.rows:
        for place in r.where:
            assert PLACE_START.match(place), place
            assert not re.search(r"\b(tbl|fig|supptbl|suppfig)-|\.qmd|survival\.|response\.|text\.", place), place


# --------------------------------------------------------------------------- the data update


def test_data_update_freeze_log_names_the_patient_and_fields_against_adsl(scenario, capsys):
    """Reference: the two ADSL frames compared directly — the rows and fields that differ."""
    a = scenario.base.results.derived.adsl.set_index("USUBJID")
    b = scenario.data.results.derived.adsl.set_index("USUBJID")
    assert list(a.index) == list(b.index)
    differs = {(u, f) for u in a.index for f in a.columns
               if not (pd.isna(a.at[u, f]) and pd.isna(b.at[u, f])) and str(a.at[u, f]) != str(b.at[u, f])}
    (uid,) = {u for u, _ in differs}
    assert {f for _, f in differs} == {"DTHDT", "LSTALVDT"}   # death and last contact moved together
    log = freeze.freeze_log(scenario.base.ledger["patients"], scenario.data.ledger["patients"])
    assert log.comparable and not log.added and not log.removed
    assert log.changed == ((uid, a.at[uid, "SITEID"], ("DTHDT", "LSTALVDT")),)
    text = freeze.summary(log)
    assert text == "1 patient with changed data: Date of Death (1), Date Last Known Alive (1)."
    assert L.main_diff(scenario.paths["base"], scenario.paths["data"]) == 1
    out = capsys.readouterr().out
    assert uid in out and text in out and "Date of Death; Date Last Known Alive" in out


def test_ledger_holds_no_patient_value_or_pseudonym(scenario):
    """Keyed hashes only: no source pseudonym, no date and no raw field value of ADSL in the ledger."""
    text = scenario.paths["data"].read_text(encoding="utf-8")
    assert "SYN-" not in text and MOVED_PATIENT not in text
    patients = scenario.data.ledger["patients"]["patients"]
    adsl = scenario.data.results.derived.adsl
    for rec in adsl.head(5).to_dict("records"):
        fields = patients[rec["USUBJID"]]["fields"]
        assert set(fields) >= {"SEX", "DTHDT", "AGE"}
        assert all(re.fullmatch(r"[a-z2-7]{16}", h) for h in fields.values())
    # another key: the fingerprints cannot be compared (and say so)
    other = freeze.fingerprint(adsl, key=b"another key")
    log = freeze.freeze_log(scenario.data.ledger["patients"], other)
    assert not log.comparable and "different keys" in freeze.summary(log)


def test_freeze_log_added_and_removed_patients_by_site_regression_values():
    """Regression values: a hand-made ADSL with one patient removed, one added, one changed."""
    adsl = pd.DataFrame({"USUBJID": ["S-A-001", "S-A-002", "S-B-001"], "SITEID": ["SITE-A", "SITE-A", "SITE-B"],
                         "BESTRESP": ["CR", "NR", "CRi"]})
    new = pd.DataFrame({"USUBJID": ["S-A-001", "S-B-001", "S-B-002"], "SITEID": ["SITE-A", "SITE-B", "SITE-B"],
                        "BESTRESP": ["CR", "NR", "CR"]})
    log = freeze.freeze_log(freeze.fingerprint(adsl, key=b"k"), freeze.fingerprint(new, key=b"k"))
    assert log.added == (("S-B-002", "SITE-B"),) and log.removed == (("S-A-002", "SITE-A"),)
    assert log.changed == (("S-B-001", "SITE-B", ("BESTRESP",)),)
    assert freeze.summary(log) == ("1 patient added (1 at SITE-B); 1 patient removed (1 at SITE-A); "
                                   "1 patient with changed data: Best Response to Salvage (1).")


def test_data_update_change_table_one_row_per_change_in_reader_places(scenario):
    report = changes.change_report(scenario.base.ledger, scenario.data.ledger)
    assert report.inputs_changed == ("data",) and report.settings == ()
    _keys_partition(report, scenario.base.ledger, scenario.data.ledger)
    _human(report)
    # the OS median phrase and the figure annotation and table cell that show the same CI: one row
    rows_with = lambda key: [r for r in report.rows if key in r.keys]  # noqa: E731
    if "text.os_median" in {k for r in report.rows for k in r.keys}:
        (row,) = rows_with("text.os_median")
        assert row.where[0] == "Abstract \u203a Results"
        assert any(p.startswith("Figure 2") for p in row.where)
    # rows follow the manuscript: abstract first, the supplement after the manuscript
    firsts = [r.where[0] for r in report.rows]
    assert firsts[0].startswith("Abstract")
    supp = [i for i, p in enumerate(firsts) if re.match(r"(Table|Figure) S\d", p)]
    main = [i for i, p in enumerate(firsts) if re.match(r"(Table|Figure) \d", p)]
    assert not supp or not main or max(main) < min(supp)
    # the issue's list: Table 3's other covariates, the Schoenfeld test (S16 since the supplement is
    # numbered in order of first citation; S8 before), the landmark analysis by response (S7; S12
    # before), the numbers at risk
    places = " ; ".join(p for r in report.rows for p in r.where)
    for expected in ("Table 3, row Age group", "Table S16", "Table S7", "Figure 2, panel A"):
        assert expected in places, expected


# --------------------------------------------------------------------------- the revision


def test_revision_settings_described_in_words_hand_written_expectations(scenario):
    report = changes.change_report(scenario.base.ledger, scenario.revision.ledger)
    assert report.inputs_changed == ("configuration",)
    assert set(report.settings) == {
        "Median CI method: SPSS \u00b1 1.96 SE \u2192 Brookmeyer\u2013Crowley (log)",
        "Test for 2\u00d72 tables: Fisher's exact if an expected count < 5, else \u03c7\u00b2 with Yates "
        "\u2192 Fisher's exact",
        "Cox model covariates: removed PRIORSCT (reference N); added CD19NEG (reference N)",
        # the configuration refuses a covariate in both the model and the missing-covariate analysis,
        # so the scenario empties the latter when CD19NEG enters the model
        "Sensitivity analysis: covariates with missing values: removed CD19NEG (reference N)",
    }
    assert report.freeze.comparable and not report.freeze.any


def test_revision_lists_the_new_covariate_as_added_and_the_old_as_removed_against_table3(scenario):
    """Reference: Table 3 of each run (its row labels), read from the table object."""
    from analysis.present import tables

    report = changes.change_report(scenario.base.ledger, scenario.revision.ledger)
    _keys_partition(report, scenario.base.ledger, scenario.revision.ledger)
    _human(report)
    new_rows = set(tables.table3(scenario.revision.results).frame.iloc[:, 0]) - set(
        tables.table3(scenario.base.results).frame.iloc[:, 0])
    assert new_rows  # CD19NEG's levels
    added = [r for r in report.rows if r.kind == "added"]
    removed = [r for r in report.rows if r.kind == "removed"]
    assert any(any(p.startswith("Table 3, row CD19") for p in r.where) for r in added)
    assert any(any(p.startswith("Table 3, row Allo-HSCT") for p in r.where) for r in removed)
    # the new HR is also named in the forest plot, in the same row
    hr_row = next(r for r in added if any(p.startswith("Table 3, row CD19") and "Yes" in p for p in r.where))
    assert any(p.startswith("Figure 5, row CD19") for p in hr_row.where)
    # the 2×2 P value in the abstract changed with the test (Fisher), one row with its table cells
    p_row = next(r for r in report.rows if "text.p_cr_group" in r.keys)
    assert p_row.where[0] == "Abstract \u203a Results" and any(p.startswith("Table 2") for p in p_row.where)


def test_change_table_markdown_and_word_hold_the_same_rows(scenario, tmp_path, capsys):
    import docx

    out_md, out_docx = tmp_path / "changes.md", tmp_path / "changes.docx"
    assert L.main_diff(scenario.paths["base"], scenario.paths["revision"], out=out_md) == 1
    assert L.main_diff(scenario.paths["base"], scenario.paths["revision"], out=out_docx) == 1
    capsys.readouterr()
    report = changes.change_report(scenario.base.ledger, scenario.revision.ledger)
    md = out_md.read_text(encoding="utf-8")
    assert "| # | Where | Before | After |" in md
    assert sum(1 for ln in md.splitlines() if re.match(r"^\| \d+ \|", ln)) == len(report.rows)
    document = docx.Document(str(out_docx))
    table = document.tables[0]
    assert [c.text for c in table.rows[0].cells] == ["#", "Where", "Before", "After"]
    assert len(table.rows) == len(report.rows) + 1
    assert [c.text for c in table.rows[1].cells][1:] == [report.rows[0].where_text, report.rows[0].before,
                                                         report.rows[0].after]
    assert any("Median CI method" in p.text for p in document.paragraphs)


# --------------------------------------------------------------------------- completeness


@pytest.fixture(scope="module")
def executed():
    """Both documents executed as Quarto's Jupyter engine does (Word: tables as Markdown)."""
    from analysis.present.document import prepare
    from tests.qmd.harness import execute_qmd

    prepare()
    variables = yaml.safe_load((PROJECT_ROOT / "_variables.yml").read_text(encoding="utf-8"))
    return {doc: execute_qmd(PROJECT_ROOT / doc, target_format="docx", variables=variables)
            for doc in ("report.qmd", "supplement.qmd")}


@pytest.fixture(scope="module")
def full_ledger(tmp_path_factory):
    from analysis.present.document import stamp
    from analysis.present.numbers import build_registry
    from analysis.results import run_analysis

    mp = pytest.MonkeyPatch()
    mp.setenv("CART_LEDGER_KEY", str(tmp_path_factory.mktemp("key") / "ledger.key"))
    results = run_analysis()
    registry = build_registry(results, stamp=stamp(results))
    yield SimpleNamespace(results=results, ledger=L.build_ledger(registry, PROJECT_ROOT, results=results))
    mp.undo()


def _tokens(text: str) -> set[str]:
    return set(NUMBER_RE.findall(text.replace("\\", "")))


def test_every_number_in_executed_tables_and_text_has_a_ledger_entry(executed, full_ledger):
    """Reference: the executed chunks' Markdown outputs (tables, generated paragraphs). Every number
    printed there is the text of a ledger entry of that display, or part of the place that names
    the entry (a row or column label such as "At 12 months")."""
    displays = full_ledger.ledger["displays"]
    missing = []
    for doc, run in executed.items():
        for chunk in run.chunks:
            calls = L._display_calls(chunk.chunk.source)
            outputs = chunk.mime("text/markdown")
            if not calls or not outputs:
                continue
            entries = [e for e in displays.values() if e["display"] in calls]
            known = set().union(*(_tokens(e["text"]) | _tokens(e["place"]) for e in entries)) if entries else set()
            for md in outputs:
                md = re.sub(r"\^[a-z]\^", "", md)          # footnote marks
                for token in _tokens(md) - known:
                    missing.append(f"{doc} {calls}: {token}")
    assert not missing, "\n".join(missing[:60])


def test_every_number_on_every_figure_has_a_ledger_entry_against_matplotlib_texts(executed, full_ledger):
    """Reference: every visible text artist of each figure the documents show, read from matplotlib
    (tick labels, the axes' scale, excepted)."""
    from matplotlib.text import Text

    displays = full_ledger.ledger["displays"]
    missing = []
    for doc, run in executed.items():
        for chunk in run.chunks:
            for call in L._display_calls(chunk.chunk.source):
                if not chunk.mime("image/png"):
                    continue
                fig = call_display(call, full_ledger.results)
                ticks = {id(lab) for ax in fig.axes for axis in (ax.xaxis, ax.yaxis)
                         for t in axis.get_major_ticks() + axis.get_minor_ticks() for lab in (t.label1, t.label2)}
                shown = [" ".join(t.get_text().split()) for t in fig.findobj(Text)
                         if t.get_visible() and id(t) not in ticks and re.search(r"\d", t.get_text())
                         and not (t.get_gid() or "").startswith("panel-")]
                texts = {e["text"] for e in displays.values() if e["display"] == call}
                missing += [f"{call}: {s}" for s in shown if s not in texts]
    assert not missing, "\n".join(missing[:60])


def test_every_inline_number_is_a_ledger_number_with_its_place(executed, full_ledger):
    """Reference: the executed inline expressions (`{python} t.key`): each prints the text of the
    ledger number ``key``, and the ledger names a place for it as the reader sees it."""
    by_bare = {k.split(".", 1)[1]: e for k, e in full_ledger.ledger["numbers"].items()}
    bad = []
    for doc, run in executed.items():
        for inline in run.inlines:
            m = re.fullmatch(r"\s*t\.(\w+)\s*", inline.expression)
            if not m or not _tokens(inline.result or ""):
                continue
            e = by_bare.get(m.group(1))
            if e is None or e["text"].replace("\\", "") != (inline.result or "").replace("\\", "") \
                    or not e["places"] or not all(PLACE_START.match(p) for p in e["places"]):
                bad.append((doc, inline.expression, inline.result, None if e is None else e["places"]))
    assert not bad, bad[:20]


def test_abstract_places_name_the_paragraph():
    """Reference: report.qmd's front matter as written (bold paragraph leads of the abstract)."""
    uses = L.find_uses(PROJECT_ROOT)
    from analysis.revisions.places import human_place

    front = uses[(uses["kind"] == "var") & (uses["where"] == "report.qmd: Abstract")]
    assert len(front)
    lines = (PROJECT_ROOT / "report.qmd").read_text(encoding="utf-8").split("\n")
    for u in front.itertuples(index=False):
        above = lines[:int(u.line)]
        start = max(i for i, ln in enumerate(above) if ln.startswith("abstract:"))
        leads = [m.group(1) for ln in above[start:] if (m := re.match(r"\s*\*\*(\w+)\.\*\*", ln))]
        want = f"Abstract \u203a {leads[-1]}" if leads else "Abstract"   # the notice above the first lead
        assert human_place(u.where, document=u.document, file=u.file, line=int(u.line), root=PROJECT_ROOT) == want


# --------------------------------------------------------------------------- the marked-up manuscript


def _executed_markdown(run, source: Path) -> str:
    """What Quarto hands to Pandoc, assembled from a harness run: the front matter as written, the
    body with inline results, each chunk replaced by its Markdown output (a labelled float in a
    ``{#label}`` div) or, for a figure, an image placeholder."""
    lines = source.read_text(encoding="utf-8").split("\n")
    end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
    body = run.markdown
    for c in run.chunks:
        if c.chunk.injected or not c.chunk.raw or c.chunk.raw not in body:
            continue
        outs = c.mime("text/markdown")
        text = "\n\n".join(outs) if outs else ("*(figure)*" if c.mime("image/png") else "")
        if c.label and c.label.startswith(("tbl-", "fig-")):
            text = f"::: {{#{c.label}}}\n{text}\n:::"
        body = body.replace(c.chunk.raw, text, 1)
    if body.lstrip().startswith("---"):
        return body
    return "\n".join(lines[:end + 1]) + "\n\n" + body


def _render_documents(scenario, name: str, env: dict[str, str]) -> dict[str, str]:
    """Report and supplement executed as `quarto render` does with CART_DATA / CART_CONFIG set."""
    from analysis.present.document import prepare
    from tests.qmd.harness import execute_qmd

    mp = pytest.MonkeyPatch()
    variables_file = scenario.tmp / f"variables_{name}.yml"
    for k, v in {**env, "CART_VARIABLES": str(variables_file)}.items():
        mp.setenv(k, v)
    try:
        prepare(variables=variables_file)
        variables = yaml.safe_load(variables_file.read_text(encoding="utf-8"))
        runs = {doc: execute_qmd(PROJECT_ROOT / doc, target_format="docx", variables=variables)
                for doc in ("report.qmd", "supplement.qmd")}
    finally:
        mp.undo()
    return {doc: _executed_markdown(run, PROJECT_ROOT / doc) for doc, run in runs.items()}


@pytest.fixture(scope="module")
def data_update_documents(scenario):
    return _render_documents(scenario, "data", {"CART_DATA": str(scenario.tmp / "b")})


@pytest.fixture(scope="module")
def revision_documents(scenario):
    return _render_documents(scenario, "revision", {"CART_DATA": str(scenario.tmp / "a"),
                                                    "CART_CONFIG": str(scenario.tmp / "revision1.yml")})


def test_marked_up_revision_marks_changes_and_inserts_the_new_covariate_against_ledgers(
        scenario, revision_documents, tmp_path):
    """Reference: the two ledgers — every changed prose number and table cell is marked, the new
    covariate's Table 3 cells are insertions, the removed covariate's are listed as removed."""
    from analysis.revisions import markup

    old, new = scenario.base.ledger, scenario.revision.ledger
    md, done = markup.markup_markdown(revision_documents["report.qmd"], old, new, document="report.qmd",
                                      root=PROJECT_ROOT)
    assert not done.unplaced, done.unplaced
    expected = {(e["place"], od["text"], e["text"]) for k, e in new["displays"].items()
                if (od := old["displays"].get(k)) and od["text"] != e["text"] and e["kind"] != "figure text"
                and markup._in_document(e["place"], "report.qmd")}
    expected |= {(p, on["text"], e["text"]) for k, e in new["numbers"].items()
                 if (on := old["numbers"].get(k)) and on["text"] != e["text"]
                 for p in e["places"] if markup._in_document(p, "report.qmd")}
    assert set(done.marked) == expected
    assert any(w.startswith("Table 3, row CD19") for w, _ in done.added)
    assert any(w.startswith("Table 3, row Allo-HSCT") for w, _ in done.removed)
    assert "Median CI method: SPSS" in md.split(":::")[1]
    # the marked grid tables are still tables for Pandoc (a widened cell keeps the grid aligned)
    import json

    import pypandoc

    def n_tables(text: str) -> int:
        return json.dumps(json.loads(pypandoc.convert_text(text, "json", format="markdown"))).count('"t": "Table"')
    assert n_tables(md) == n_tables(revision_documents["report.qmd"]) > 0


def test_marked_up_manuscript_marks_exactly_the_changed_numbers_against_change_report(
        scenario, data_update_documents, tmp_path):
    """Reference: the change report's entries (every prose number and table cell whose printed
    text changed in that document) — each is marked once, nothing else is; Word carries them as
    tracked changes, HTML as deletion/insertion spans."""
    import zipfile

    from analysis.revisions import markup

    old, new = scenario.base.ledger, scenario.data.ledger
    total_marked = 0
    for doc, md in data_update_documents.items():
        src = tmp_path / f"{Path(doc).stem}.md"
        src.write_text(md, encoding="utf-8")
        paths, done = markup.write_markup(src, old, new, out_dir=tmp_path / "out", document=doc, root=PROJECT_ROOT)
        assert not done.unplaced, done.unplaced
        expected = {(e["place"], od["text"], e["text"]) for k, e in new["displays"].items()
                    if (od := old["displays"].get(k)) and od["text"] != e["text"] and e["kind"] != "figure text"
                    and markup._in_document(e["place"], doc)}
        expected |= {(p, on["text"], e["text"]) for k, e in new["numbers"].items()
                     if (on := old["numbers"].get(k)) and on["text"] != e["text"]
                     for p in e["places"] if markup._in_document(p, doc)}
        assert set(done.marked) == expected
        page = (tmp_path / "out" / f"{src.stem}-marked.html").read_text(encoding="utf-8")
        n_del = page.count('class="deletion"')
        # one deletion per changed number (numbers marked one by one where only numbers changed),
        # in the text and tables and in the summary's list of figure changes
        assert n_del == sum(markup._marked(o, n, "").count("{.deletion") for _, o, n in done.marked + done.figures)
        assert n_del >= len(done.marked) + len(done.figures)
        xml = zipfile.ZipFile(tmp_path / "out" / f"{src.stem}-marked.docx").read("word/document.xml").decode()
        assert xml.count("<w:del ") == n_del and xml.count("<w:ins ") == n_del
        total_marked += len(done.marked)
    assert total_marked > 0


def test_old_ledger_from_a_git_revision(scenario, tmp_path, capsys):
    """``REV:PATH`` reads the ledger committed at a git revision (a throw-away repository)."""
    import shutil
    import subprocess

    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    repo = tmp_path / "repo"
    repo.mkdir()
    shutil.copy(scenario.paths["base"], repo / "submitted.json")
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.org", "PATH": __import__("os").environ["PATH"]}
    for cmd in (["git", "init", "-q"], ["git", "add", "submitted.json"], ["git", "commit", "-qm", "submitted"],
                ["git", "tag", "submitted"]):
        subprocess.run(cmd, cwd=repo, check=True, env=env)
    (repo / "submitted.json").unlink()
    mp = pytest.MonkeyPatch()
    mp.chdir(repo)
    try:
        assert L.main_diff("submitted:submitted.json", scenario.paths["data"]) == 1
        assert "Date of Death" in capsys.readouterr().out
        assert L.main_diff("nosuchtag:submitted.json", scenario.paths["data"]) == 2
        assert "git cannot show it" in capsys.readouterr().err
    finally:
        mp.undo()


def test_marking_grid_table_cells_keeps_a_pandoc_table_hand_written_grid():
    """Reference: Pandoc's own reading (pypandoc) of a hand-written grid table after marking one cell
    by row and column and one by text (the path notes and column headers take) — still one Table,
    both cells carry the deletion/insertion spans, though both marked texts are wider than their
    columns."""
    import json

    import pypandoc

    from analysis.revisions import markup

    # column widths 12, 10, 5; a two-line header cell; a section row spanning every column
    grid = ["+------------+----------+-----+",
            "|            | All (n = |     |",
            "|            | 9)       | *P* |",
            "+:===========+:========:+:===:+",
            "| **Sex**                     |",
            "+------------+----------+-----+",
            "| Male       | 3 (33%)  | .5  |",
            "+------------+----------+-----+"]
    lines = ["::: {#tbl-x}", "", *grid, "", ":::"]
    assert markup._mark_cell(lines, 0, "Sex \u203a Male", "P", ".4", ".5", "")
    assert markup._replace_first(lines, range(len(lines)), "3 (30%)", "3 (33%)", "", {})
    doc = json.loads(pypandoc.convert_text("\n".join(lines), "json", format="markdown"))
    table = doc["blocks"][0]["c"][1][0]
    assert table["t"] == "Table"
    spans = json.dumps(table)
    assert spans.count('"deletion"') == 2 and spans.count('"insertion"') == 2


def test_before_text_keeps_the_old_column_header_when_the_header_changed():
    """A changed confidence level renames the columns ("HR (95% CI)" -> "HR (90% CI)"): the Before
    text must show the old values under the old headers, the After text under the new ones
    (hand-written ledgers)."""
    from analysis.revisions.changes import change_report

    def ledger(level, uni, multi):
        base = "Table 3, row Age ≥ 18 years"
        return {"numbers": {}, "displays": {
            "t3.age.uni": {"place": f"{base}, column Univariable HR ({level}% CI)", "text": uni,
                           "kind": "cell", "order": [3, 1, 1]},
            "t3.age.multi": {"place": f"{base}, column Multivariable HR ({level}% CI)", "text": multi,
                             "kind": "cell", "order": [3, 1, 2]},
        }}

    report = change_report(ledger(95, "0.93 (0.45–1.91)", "1.10 (0.50–2.42)"),
                           ledger(90, "0.93 (0.51–1.70)", "1.10 (0.56–2.16)"))
    (row,) = report.rows
    assert row.before == "Univariable HR (95% CI): 0.93 (0.45–1.91); Multivariable HR (95% CI): 1.10 (0.50–2.42)"
    assert row.after == "Univariable HR (90% CI): 0.93 (0.51–1.70); Multivariable HR (90% CI): 1.10 (0.56–2.16)"


# --------------------------------------------------------------------------- the marked-up manuscript in the render


def _config_with_submitted(value: str | None):
    import dataclasses

    from analysis.config import load_config

    cfg = load_config()
    revisions = cfg.settings.revisions.model_copy(update={"submitted_ledger": value})
    return dataclasses.replace(cfg, settings=cfg.settings.model_copy(update={"revisions": revisions}))


def test_quarto_keeps_the_executed_markdown_of_the_word_format():
    """The post-render step reads report.docx.md: Quarto writes it only with keep-md."""
    cfg = yaml.safe_load((PROJECT_ROOT / "_quarto.yml").read_text(encoding="utf-8"))
    assert cfg["format"]["docx"]["keep-md"] is True
    assert "/*.docx.md" in (PROJECT_ROOT / ".gitignore").read_text(encoding="utf-8").split("\n")
    assert "analysis.revisions.render" in (PROJECT_ROOT / "tools" / "post_render.py").read_text(encoding="utf-8")


def test_rendered_documents_from_quarto_output_files():
    from analysis.revisions.render import rendered_documents

    assert rendered_documents({}) == ["report", "supplement"]
    assert rendered_documents({"QUARTO_PROJECT_OUTPUT_FILES": "_output/report.html\n_output/report.docx\n"}) == [
        "report"]
    assert rendered_documents({"QUARTO_PROJECT_OUTPUT_FILES": "_output/supplement.pdf\n_output/report.pdf"}) == [
        "report", "supplement"]


def test_render_writes_marked_up_copies_when_the_submitted_ledger_is_set(scenario, data_update_documents, tmp_path,
                                                                         capsys):
    """The post-render step with revisions.submitted_ledger = the submitted (base) ledger, this
    render's numbers.json = the data update's, and the executed Markdown Quarto keeps
    (report.docx.md, here assembled by the harness): <doc>-marked-up.html/.docx with every changed
    number marked (the same marks as `analysis diff --markup`), and the change table.
    Before: the render wrote no marked-up copy whatever was configured."""
    import zipfile

    from analysis.revisions import markup
    from analysis.revisions.render import mark_up_render

    kept = tmp_path / "kept"
    kept.mkdir()
    for doc, md in data_update_documents.items():
        (kept / f"{Path(doc).stem}.docx.md").write_text(md, encoding="utf-8")
    out = tmp_path / "_output"
    L.write_ledger(out / "numbers.json", scenario.data.ledger)
    config = _config_with_submitted(str(scenario.paths["base"]))
    written = mark_up_render(config, out, markdown_dirs=[kept])
    log = capsys.readouterr().err
    assert "report: " in log and "supplement: " in log and "not found in the text" not in log, log
    assert {p.name for p in written} == {"report-marked-up.html", "report-marked-up.docx",
                                         "supplement-marked-up.html", "supplement-marked-up.docx",
                                         "changes.md", "changes.docx"}
    old, new = L.load_ledger(scenario.paths["base"]), scenario.data.ledger
    for doc, md in data_update_documents.items():
        stem = Path(doc).stem
        _, done = markup.markup_markdown(md, old, new, document=doc, root=PROJECT_ROOT)
        n_del = sum(markup._marked(o, n, "").count("{.deletion") for _, o, n in done.marked + done.figures)
        page = (out / f"{stem}-marked-up.html").read_text(encoding="utf-8")
        assert page.count('class="deletion"') == n_del
        xml = zipfile.ZipFile(out / f"{stem}-marked-up.docx").read("word/document.xml").decode()
        assert xml.count("<w:del ") == n_del
    assert (out / "changes.md").read_text(encoding="utf-8") == changes.to_markdown(changes.change_report(old, new))
    assert not (out / "report-marked-up.md").exists()


def test_render_without_the_setting_or_without_kept_markdown(scenario, tmp_path, capsys):
    from analysis.revisions.render import mark_up_render

    out = tmp_path / "_output"
    L.write_ledger(out / "numbers.json", scenario.data.ledger)
    assert mark_up_render(_config_with_submitted(None), out) == []
    assert sorted(p.name for p in out.iterdir()) == ["numbers.json"]
    written = mark_up_render(_config_with_submitted(str(scenario.paths["base"])), out,
                             markdown_dirs=[tmp_path / "empty"], documents=["report"])
    assert {p.name for p in written} == {"changes.md", "changes.docx"}
    assert "report: no executed Markdown (report.docx.md" in capsys.readouterr().err


def test_render_markup_step_exit_2_names_the_setting_for_a_missing_ledger(tmp_path, capsys):
    """A submitted ledger that cannot be read is a configuration problem: exit 2, one line naming
    the configuration file and the setting, no traceback."""
    from analysis.revisions.render import main

    settings = yaml.safe_load((PROJECT_ROOT / "analysis.yml").read_text(encoding="utf-8"))
    settings["data"]["sources"] = [{**s, "path": str(PROJECT_ROOT / s["path"])} for s in settings["data"]["sources"]]
    settings["data"]["dictionary"] = str(PROJECT_ROOT / "data" / "dictionary.yml")
    settings["revisions"] = {"submitted_ledger": "submitted/numbers.json"}
    cfg = tmp_path / "revision1.yml"
    cfg.write_text(yaml.safe_dump(settings, sort_keys=False), encoding="utf-8")
    assert main(["--out", str(tmp_path / "out"), "--config", str(cfg)]) == 2
    err = capsys.readouterr().err
    # found when the configuration is read (it was found only here, after the whole render)
    assert "revision1.yml line " in err
    assert "revisions.submitted_ledger: cannot read the submitted ledger submitted/numbers.json" in err
    assert "Traceback" not in err


def test_marked_up_copies_carry_the_figures_of_the_executed_markdown(scenario, tmp_path):
    """Quarto's executed Markdown names its figures as files beside it (report_files/…): the
    marked-up HTML embeds them (one file, no external src) and the Word copy holds them.
    Before: the HTML referred to report_files/… relative to the output folder, where they are not."""
    import base64
    import zipfile

    from analysis.revisions import markup
    from tests.qmd.selfcontained import assert_no_external_src

    kept = tmp_path / "project"
    (kept / "report_files" / "figure-docx").mkdir(parents=True)
    png = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==")
    (kept / "report_files" / "figure-docx" / "fig-km.png").write_bytes(png)
    src = kept / "report.docx.md"
    src.write_text("# Results\n\n![Kaplan-Meier curve](report_files/figure-docx/fig-km.png)\n", encoding="utf-8")
    paths, _ = markup.write_markup(src, scenario.base.ledger, scenario.base.ledger, out_dir=tmp_path / "out",
                                   document="report.qmd", root=PROJECT_ROOT, stem="report-marked-up",
                                   keep_markdown=False)
    page = (tmp_path / "out" / "report-marked-up.html").read_text(encoding="utf-8")
    assert 'src="data:image/png;base64,' in page
    assert_no_external_src(page)
    assert "report_files/" not in page
    with zipfile.ZipFile(tmp_path / "out" / "report-marked-up.docx") as z:
        assert any(n.startswith("word/media/") for n in z.namelist())


# --------------------------------------------------------------------------- every changed number is shown


def _every_changed_number_is_shown(report: changes.ChangeReport, old: dict, new: dict) -> None:
    """Every number that changed in a ledger entry (display entry, or registry number printed in
    the documents) is printed in the Before (old number) or After (new number) text of the row
    that holds the entry's key."""
    from analysis.revisions.displays import numbers_in

    entries = [("displays", k) for k in set(old["displays"]) | set(new["displays"])]
    entries += [("numbers", k) for k in set(old["numbers"]) | set(new["numbers"])
                if k not in report.not_shown]
    row_of = {k: r for r in report.rows for k in r.keys}
    missing = []
    # generated sentences by content: each one only in the old (new) version is a row's Before (After)
    texts = [{e["text"] for e in d["displays"].values() if e["kind"] == "text"} for d in (old, new)]
    befores, afters = {r.before for r in report.rows}, {r.after for r in report.rows}
    missing += [("sentence", t) for t in texts[0] - texts[1] if t not in befores]
    missing += [("sentence", t) for t in texts[1] - texts[0] if t not in afters]
    for part, key in entries:
        o, n = old[part].get(key), new[part].get(key)
        if part == "displays" and (n or o)["kind"] == "text":
            continue
        ot, nt = (None if e is None else str(e.get("text")) for e in (o, n))
        if ot == nt:
            continue
        if part == "numbers" and not any((e or {}).get("places") for e in (o, n)):
            continue   # shown only through its display entries, checked above
        row = row_of.get(key)
        gone = set(numbers_in(ot or "")) - set(numbers_in(nt or ""))
        came = set(numbers_in(nt or "")) - set(numbers_in(ot or ""))
        if row is None or not gone <= set(numbers_in(row.before)) or not came <= set(numbers_in(row.after)):
            missing.append((key, ot, nt, row and (row.before, row.after)))
    assert not missing, missing[:5]


@pytest.mark.parametrize("name", ["data", "revision"])
def test_every_changed_number_of_the_ledger_appears_in_the_change_table(scenario, name):
    """Realistic pairs: a data freeze with one death moved, and a revised configuration."""
    old, new = scenario.base.ledger, getattr(scenario, name).ledger
    _every_changed_number_is_shown(changes.change_report(old, new), old, new)


def _cell(place: str, text: str, order: int) -> dict:
    return {"text": text, "place": place, "float": place.split(",")[0], "kind": "table", "order": [60, order, 0]}


def test_rows_of_a_display_sharing_a_value_stay_apart_hand_written_table_s14():
    """Table S14's median rows share the estimate (8.6 -> 5.6) but not the CI: one row each, and
    each CI is shown (hand-written ledgers after the audit's example)."""
    head = "Table S14, row Overall survival from relapse › Median, "
    cells = {"SPSS": ("4.1–13.1", "1.8–9.4"), "Brookmeyer–Crowley (log)": ("4.7–NR", "4.3–NR"),
             "Brookmeyer–Crowley (log–log)": ("4.3–NR", "4.0–NR")}
    old, new = {"numbers": {}, "displays": {}}, {"numbers": {}, "displays": {}}
    for i, (method, (before, after)) in enumerate(cells.items()):
        for j, (col, o, n) in enumerate((("Estimate, months", "8.6", "5.6"), ("95% CI", before, after))):
            place = f"{head}{method}, column {col}"
            old["displays"][place] = _cell(place, o, 2 * i + j)
            new["displays"][place] = _cell(place, n, 2 * i + j)
    report = changes.change_report(old, new)
    assert [(r.before, r.after) for r in report.rows] == [
        ("Estimate, months: 8.6; 95% CI: 4.1–13.1", "Estimate, months: 5.6; 95% CI: 1.8–9.4"),
        ("Estimate, months: 8.6; 95% CI: 4.7–NR", "Estimate, months: 5.6; 95% CI: 4.3–NR"),
        ("Estimate, months: 8.6; 95% CI: 4.3–NR", "Estimate, months: 5.6; 95% CI: 4.0–NR"),
    ]
    _every_changed_number_is_shown(report, old, new)
    # rows whose cells are all equal are still one row (one change shown in two tables)
    for led, val in ((old, "2.1 (1.2–3.4)"), (new, "2.0 (1.1–3.3)")):
        for t, o in (("Table 3", 10), ("Table S7", 11)):
            place = f"{t}, row Age › ≥18, column HR (95% CI)"
            led["displays"][place] = _cell(place, val, o)
    rows = [r for r in changes.change_report(old, new).rows if "2.1" in r.before]
    assert len(rows) == 1 and [p.split(",")[0] for p in rows[0].where] == ["Table 3", "Table S7"]


# --------------------------------------------------------------------------- generated sentences


def _sentences(texts: list[str]) -> dict:
    para = "Methods › Statistical analysis, text.statistical_methods"
    return {"numbers": {}, "displays": {
        f"{para}, sentence {i}": {"text": t, "place": "Methods › Statistical analysis", "kind": "text",
                                  "display": "text.statistical_methods", "order": [27, i, 0]}
        for i, t in enumerate(texts, 1)}}


def test_a_removed_sentence_is_removed_and_the_later_ones_unchanged_hand_written():
    """The audit's case: with median_ci: log the truncation sentence goes; the sentences after it
    move up one place but are not changed."""
    common = [f"Sentence {i} cites 1{i} patients [@ref{i}]." for i in range(1, 9)]
    km = "Survival was estimated by the Kaplan–Meier method [@kaplan1958]; the 95% CI of the median was "
    old = _sentences([km + "the median ± 1.96 SE [@collett2015].", "A lower limit below 0 was truncated at 0.",
                      *common])
    new = _sentences([km + "obtained by the Brookmeyer–Crowley method [@brookmeyer1982].", *common])
    report = changes.change_report(old, new)
    assert [(r.kind, r.before, r.after) for r in report.rows] == [
        ("changed", km + "the median ± 1.96 SE [@collett2015].",
         km + "obtained by the Brookmeyer–Crowley method [@brookmeyer1982]."),
        ("removed", "A lower limit below 0 was truncated at 0.", changes.MISSING),
    ]
    assert changes.summary_lines(report)[-1] == "2 changes to reported numbers (1 changed, 1 removed)."
    # an added sentence in the middle: added, nothing else
    report = changes.change_report(new, _sentences([new["displays"][k]["text"] for k in list(new["displays"])[:3]]
                                                   + ["Models with 10 events are flagged."]
                                                   + [new["displays"][k]["text"] for k in list(new["displays"])[3:]]))
    assert [(r.kind, r.after) for r in report.rows] == [("added", "Models with 10 events are flagged.")]


def test_revision_methods_sentences_matched_by_content(scenario):
    """median_ci: log removes the truncation sentence: it is the only removed sentence and no row pairs
    two different Methods sentences that both exist in the other version."""
    old, new = scenario.base.ledger, scenario.revision.ledger
    report = changes.change_report(old, new)
    texts = lambda d: {e["text"] for e in d["displays"].values() if e["kind"] == "text"}  # noqa: E731
    ot, nt = texts(old), texts(new)
    for r in report.rows:
        if r.where == ("Methods › Statistical analysis",):
            assert not (r.before in nt or r.after in ot), r
    removed = [r.before for r in report.rows if r.kind == "removed" and r.where[0].startswith("Methods")]
    truncation = [t for t in ot - nt if "truncated at 0" in t]
    assert len(truncation) == 1 and truncation[0] in removed
    assert not set(removed) & nt


def test_change_table_cells_show_no_citation_keys_in_word_markdown_and_html(tmp_path):
    """Cells show the text a reader sees: no Pandoc citation syntax."""
    import docx

    old = _sentences(["Survival by Kaplan–Meier [@kaplan1958] with 95% CIs [@yates1934; @fisher1922]."])
    new = _sentences(["Survival by Kaplan–Meier [@kaplan1958] with 90% CIs [@yates1934; @fisher1922]."])
    report = changes.change_report(old, new)
    changes.write_docx(report, tmp_path / "c.docx")
    cells = [c.text for row in docx.Document(str(tmp_path / "c.docx")).tables[0].rows for c in row.cells]
    assert "Survival by Kaplan–Meier with 95% CIs." in cells and "Survival by Kaplan–Meier with 90% CIs." in cells
    for text in ("\n".join(cells), changes.to_markdown(report), changes.to_html(report)):
        assert "@" not in text and "90% CIs." in text
