"""The number ledger (analysis/ledger.py): where each number appears, and diffs between versions.

No R here: the references are (a) a direct, independent comparison of two
numbers registries computed from two synthetic cohorts that differ in one
patient's death date (and from two configurations), (b) the test harness's
parse of the documents (tests/qmd/harness.py), which reads them as Quarto
does, (c) hand-written expectations for a small fixture project, and (d) the
tables and figures themselves, whose visible text must show every value
DISPLAYS says they show. Float tolerance of the diff: relative 1e-12 (the
module's documented rule), tested at its edges.
"""

from __future__ import annotations

import html.parser
import json
import re
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
import yaml

from analysis import ledger as L
from analysis.config import PROJECT_ROOT, load_config

MOVED_PATIENT = "SYN-A001"  # salvage, no response, died of disease 1.6 months after relapse
MOVED_DAYS = 150            # -> dies 6.5 months after relapse: crosses the 6-month landmark


# --------------------------------------------------------------------------- fixtures


def _write_cohort(frame: pd.DataFrame, folder: Path) -> Path:
    from analysis.simulate import SITES, to_csv_bytes

    folder.mkdir(parents=True, exist_ok=True)
    for site in SITES:
        (folder / f"site_{site[-1].lower()}.csv").write_bytes(to_csv_bytes(frame[frame["site"] == site]))
    return folder


def _move_death(frame: pd.DataFrame, patient: str, days: int) -> pd.DataFrame:
    out = frame.copy()
    i = out.index[out["patient_id"] == patient]
    assert len(i) == 1
    for col in ("death_date", "last_contact_date"):
        out.loc[i[0], col] = (pd.Timestamp(out.loc[i[0], col]) + pd.Timedelta(days=days)).date().isoformat()
    return out


def _analyse(data: Path, config: Path | None = None, *, code_version: str) -> SimpleNamespace:
    from analysis.present.document import stamp
    from analysis.present.numbers import build_registry
    from analysis.results import run_analysis

    results = run_analysis(load_config(config, data=str(data)))
    # one code version for all runs: an edit to the package while the tests run is not a code change here
    registry = build_registry(results, stamp={**stamp(results), "code_version": code_version})
    return SimpleNamespace(results=results, registry=registry,
                           ledger=L.build_ledger(registry, PROJECT_ROOT, results=results))


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Iterator[SimpleNamespace]:
    """Ledgers of the synthetic cohort (a), of the same cohort with one death moved (b), and of
    cohort (a) under another configuration (c: median CI by the log method instead of SPSS)."""
    from analysis.simulate import simulate_cohort

    tmp = tmp_path_factory.mktemp("ledger")
    mp = pytest.MonkeyPatch()
    mp.setenv("CART_LEDGER_KEY", str(tmp / "ledger.key"))  # the fingerprint key, outside the project
    base = simulate_cohort()
    dir_a = _write_cohort(base, tmp / "a")
    dir_b = _write_cohort(_move_death(base, MOVED_PATIENT, MOVED_DAYS), tmp / "b")
    settings = yaml.safe_load((PROJECT_ROOT / "analysis.yml").read_text(encoding="utf-8"))
    settings["data"]["dictionary"] = str(PROJECT_ROOT / "data" / "dictionary.yml")
    settings["survival"]["median_ci"] = "log"
    cfg_c = tmp / "analysis_log.yml"
    cfg_c.write_text(yaml.safe_dump(settings), encoding="utf-8")
    from analysis import code_version

    version = code_version()
    a, b, c = (_analyse(dir_a, code_version=version), _analyse(dir_b, code_version=version),
               _analyse(dir_a, cfg_c, code_version=version))
    paths = {}
    for name, run in (("a", a), ("b", b), ("c", c)):
        paths[name] = L.write_ledger(tmp / f"numbers_{name}.json", run.ledger)
    yield SimpleNamespace(a=a, b=b, c=c, paths=paths, tmp=tmp)
    mp.undo()


def _direct_changes(reg_old, reg_new) -> set[str]:
    """Reference: keys whose printed text differs or whose raw value differs (exact JSON equality)."""
    old = {f"{s}.{k}": e for s, k, e in reg_old.items()}
    new = {f"{s}.{k}": e for s, k, e in reg_new.items()}
    assert set(old) == set(new)
    dump = lambda x: json.dumps(x, default=float, sort_keys=True)  # noqa: E731
    return {k for k in new if old[k].text != new[k].text or dump(old[k].raw) != dump(new[k].raw)}


# --------------------------------------------------------------------------- the diff of two cohorts


def test_diff_lists_exactly_the_changed_numbers_against_direct_registry_comparison(runs):
    """Reference: the two registries compared key by key, independently of the ledger code.
    Moving one death date changes survival numbers only, never a count of patients."""
    diff = L.diff_ledgers(runs.a.ledger, runs.b.ledger)
    expected = _direct_changes(runs.a.registry, runs.b.registry)
    assert {c.key for c in diff.changed} == expected
    assert diff.added == () and diff.removed == ()
    assert diff.n_unchanged == len(runs.a.ledger["numbers"]) - len(expected)
    assert expected, "moving a death date must change some number"
    assert all(k.split(".")[0] in ("survival", "text") for k in expected), expected
    # the moved death (1.6 -> 6.5 months) now survives the 6-month landmark: OS at 6 months rises
    change = {c.key: c for c in diff.changed}
    assert change["survival.os_6mo"].new_raw > change["survival.os_6mo"].old_raw
    assert diff.inputs_changed == ("data",)
    assert diff.data_changed and not diff.config_changed and not diff.code_changed


def test_changed_numbers_carry_where_they_appear_against_documents(runs):
    """Reference: report.qmd / sections/results.qmd / supplement.qmd as written (abstract var
    shortcodes, inline t.<key> in the Survival section, the KM figure and the landmark table)."""
    change = {c.key: c for c in L.diff_ledgers(runs.a.ledger, runs.b.ledger).changed}
    assert change["survival.os_6mo"].where == ("supptbl-landmarks",)
    assert change["text.os_landmarks"].where == ("sections/results.qmd: Results \u203a Survival",
                                                 "supptbl-landmarks")
    assert change["survival.median_followup_months"].where == (
        "report.qmd: Abstract", "sections/results.qmd: Results \u203a Survival")
    if "text.os_median" in change:
        assert change["text.os_median"].where[:2] == ("report.qmd: Abstract",
                                                      "sections/results.qmd: Results \u203a Survival")
        assert "fig-km-overall" in change["text.os_median"].where
    for c in change.values():
        assert c.where == tuple(runs.b.ledger["numbers"][c.key]["where"])


def test_main_diff_exit_1_and_reports_against_direct_registry_comparison(runs, capsys, tmp_path):
    """Exit status 1 when numbers changed; with --detail the text report names every changed key;
    the written report is the letter-ready change report."""
    from analysis.revisions import changes

    out = tmp_path / "changes.md"
    assert L.main_diff(runs.paths["a"], runs.paths["b"], out=out, detail=True) == 1
    text = capsys.readouterr().out
    assert "data changed; configuration unchanged; code unchanged" in text
    for key in _direct_changes(runs.a.registry, runs.b.registry):
        assert key in text
    assert out.read_text(encoding="utf-8") == changes.to_markdown(changes.change_report(runs.a.ledger,
                                                                                        runs.b.ledger))


def test_identical_ledgers_exit_0(runs, capsys, tmp_path):
    """A ledger against itself, and against a second render of the same data: nothing changed."""
    assert L.main_diff(runs.paths["a"], runs.paths["a"]) == 0
    assert "No reported number changed" in capsys.readouterr().out
    again = L.write_ledger(tmp_path / "again.json", json.loads(runs.paths["a"].read_text(encoding="utf-8")))
    assert L.main_diff(runs.paths["a"], again) == 0
    diff = L.diff_ledgers(runs.a.ledger, runs.a.ledger)
    assert not diff.numbers_changed and diff.inputs_changed == ()
    assert "No reported number changed" in L.format_markdown(diff)


def test_changed_configuration_is_reported_against_stamps(runs, capsys):
    """Same data, median CI by the log method (R survfit default) instead of SPSS's: the stamps say
    the configuration changed (and not the data), and the CI-method numbers change."""
    diff = L.diff_ledgers(runs.a.ledger, runs.c.ledger)
    assert diff.inputs_changed == ("configuration",)
    keys = {c.key for c in diff.changed}
    assert keys == _direct_changes(runs.a.registry, runs.c.registry)
    assert {"survival.median_ci_method", "text.median_ci_method_text"} <= keys
    assert L.main_diff(runs.paths["a"], runs.paths["c"]) == 1
    text = capsys.readouterr().out
    assert "configuration changed" in text and "data unchanged" in text
    assert "configuration changed" in L.format_markdown(diff)


# --------------------------------------------------------------------------- report formats


def _split_row(line: str) -> list[str]:
    """Cells of a pipe-table row, honouring backslash-escaped pipes."""
    assert line.startswith("|") and line.endswith("|"), line
    cells, cur, i = [], "", 1
    body = line[1:-1]
    while i - 1 < len(body):
        ch = body[i - 1]
        if ch == "\\" and i < len(body):
            cur += body[i - 1:i + 1]
            i += 2
            continue
        if ch == "|":
            cells.append(cur.strip())
            cur = ""
        else:
            cur += ch
        i += 1
    cells.append(cur.strip())
    return cells


def _pipe_table(markdown: str) -> list[list[str]]:
    lines = [ln for ln in markdown.splitlines() if ln.startswith("|")]
    block_start = markdown.splitlines().index(lines[0])
    block = markdown.splitlines()[block_start:block_start + len(lines)]
    assert block == lines, "the table's rows must be contiguous"
    assert markdown.splitlines()[block_start - 1] == "", "a blank line must precede a pipe table"
    header, sep, *rows = [_split_row(ln) for ln in lines]
    assert header == ["Number", "Where", "Before", "After"]
    assert all(re.fullmatch(r":?-{3,}:?", c) for c in sep) and len(sep) == 4
    assert all(len(r) == 4 for r in rows)
    assert all(all(c for c in r) for r in rows), "no empty cell"
    return rows


def test_markdown_is_a_valid_pipe_table_against_gfm_rules(runs):
    """GitHub-Flavored Markdown / Pandoc pipe_tables: header, delimiter row, same cell count in every
    row, a blank line before the table; one row per number whose printed text changed."""
    diff = L.diff_ledgers(runs.a.ledger, runs.b.ledger)
    rows = _pipe_table(L.format_markdown(diff))
    assert len(rows) == len(diff.printed_changes)
    by_key = {re.search(r"`([^`]+)`", r[0]).group(1): r for r in rows}
    # the OS median is quoted in the abstract and in the results; which printed
    # numbers move depends on the cohort, so take one that did (and say which)
    changed = {c.key: c for c in diff.changed if c.text_changed}
    quoted = [k for k in ("survival.os_median_months", "text.os_median", "survival.os_6mo", "text.os_landmarks",
                          "survival.median_followup_months") if k in changed]
    assert quoted, sorted(changed)
    key = quoted[0]
    row, c = by_key[key], changed[key]
    assert row[1] == "; ".join(c.where)
    assert (row[2], row[3]) == (c.old_text, c.new_text)


def _diff_with(old_numbers: dict, new_numbers: dict, old_stamp=None, new_stamp=None) -> L.LedgerDiff:
    return L.diff_ledgers({"stamp": old_stamp or {}, "numbers": old_numbers},
                          {"stamp": new_stamp or {}, "numbers": new_numbers})


def _n(raw, text, where=(), label=""):
    return {"raw": raw, "text": text, "label": label, "where": list(where)}


def test_markdown_escapes_pipes_and_lists_added_removed_and_raw_only_changes_regression_values():
    """Regression values (hand-made ledgers): a '|' inside a cell is escaped, additions and
    removals show '—', a change beyond the printed precision is listed under the table."""
    diff = _diff_with(
        {"text.a": _n("x|y", "x|y", ["report.qmd: Abstract"], "a | b"), "survival.p": _n(0.0123, ".012"),
         "cohort.gone": _n(3, "3", ["tbl-baseline"])},
        {"text.a": _n("x|z", "x|z", ["report.qmd: Abstract"], "a | b"), "survival.p": _n(0.0123 * (1 + 1e-9), ".012"),
         "cohort.new": _n(4, "4")})
    md = L.format_markdown(diff)
    rows = _pipe_table(md)
    assert rows == [
        ["a \\| b (`text.a`)", "report.qmd: Abstract", "x\\|y", "x\\|z"],
        ["`cohort.new`", "\u2014", "\u2014", "4"],
        ["`cohort.gone`", "tbl-baseline", "3", "\u2014"],
    ]
    assert "Changed beyond the printed precision only: `survival.p`." in md
    assert [c.key for c in diff.raw_only_changes] == ["survival.p"]
    text = L.format_text(diff)
    assert "survival.p: .012 (unchanged as printed)" in text and "(not shown in the documents)" in text


class _Cells(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.rows: list[list[str]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append("".join(self._cell))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def test_html_table_matches_markdown_rows_regression_values(runs, tmp_path, capsys):
    """The HTML report (written by main_diff for a .html path) holds the same rows as the Markdown one."""
    out = tmp_path / "changes.html"
    assert L.main_diff(runs.paths["a"], runs.paths["b"], out=out) == 1
    capsys.readouterr()
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and '<meta charset="utf-8">' in page
    parser = _Cells()
    parser.feed(page)
    from analysis.revisions import changes

    md = changes.to_markdown(changes.change_report(runs.a.ledger, runs.b.ledger))
    md_rows = [_split_row(ln) for ln in md.splitlines() if ln.startswith("| ") and not ln.startswith("| USUBJID")]
    assert parser.rows[0] == ["#", "Where", "Before", "After"]
    unescape = lambda c: c.replace("\\|", "|").replace("\\\\", "\\")  # noqa: E731
    assert [r for r in parser.rows[1:] if len(r) == 4 and r[0].isdigit()] == [
        [unescape(c) for c in r] for r in md_rows[1:] if r[0].isdigit()]


# --------------------------------------------------------------------------- unreadable input


@pytest.mark.parametrize("content", [
    None,
    b"{not json",
    b"\xff\xfe\x00garbage",
    b"[1, 2, 3]",
    b'{"stamp": {}}',
    b'{"numbers": {"cohort.n": {"raw": 1}}}',
], ids=["missing", "invalid-json", "not-utf8", "not-an-object", "no-numbers", "number-without-text"])
def test_unreadable_input_exit_2_without_traceback(runs, tmp_path, capsys, content):
    """Exit status 2 and a one-line message naming the file, for either argument position."""
    bad = tmp_path / "bad.json"
    if content is not None:
        bad.write_bytes(content)
    for args in ((bad, runs.paths["a"]), (runs.paths["a"], bad)):
        assert L.main_diff(*args) == 2
        err = capsys.readouterr()
        assert "cannot read ledger" in err.err and str(bad) in err.err
        assert "Traceback" not in err.err + err.out


def test_unknown_report_suffix_exit_2(runs, tmp_path, capsys):
    assert L.main_diff(runs.paths["a"], runs.paths["b"], out=tmp_path / "report.pdf") == 2
    assert ".md, .html or .docx" in capsys.readouterr().err
    assert not (tmp_path / "report.pdf").exists()


def test_code_change_alone_is_reported_but_exit_0_regression_values(tmp_path, capsys):
    """Regression values: a new code version that reproduces every number is 'code changed' with
    exit status 0 (nothing changed in the numbers)."""
    numbers = {"cohort.n": _n(3, "3", ["tbl-baseline"])}
    old = {"stamp": {"data_hash": "d", "config_hash": "c", "code_version": "0.1.0+aaa"}, "numbers": numbers}
    new = {"stamp": {"data_hash": "d", "config_hash": "c", "code_version": "0.1.0+bbb"}, "numbers": numbers}
    diff = L.diff_ledgers(old, new)
    assert diff.inputs_changed == ("code",) and not diff.numbers_changed
    paths = [L.write_ledger(tmp_path / f"{name}.json", led) for name, led in (("old", old), ("new", new))]
    assert L.main_diff(*paths, detail=True) == 0
    text = capsys.readouterr().out
    assert "data unchanged; configuration unchanged; code changed" in text
    assert "code: 0.1.0+aaa -> 0.1.0+bbb" in text and "No number changed" in text


def test_diff_ledgers_rejects_non_ledgers():
    with pytest.raises(ValueError, match="no 'numbers' object"):
        L.diff_ledgers({"stamp": {}}, {"numbers": {}})


# --------------------------------------------------------------------------- raw comparison rule


@pytest.mark.parametrize("a,b,same", [
    (3, 3, True),
    (3, 4, False),
    (3, 3.0, True),
    (1.0, 1.0 + 1e-13, True),
    (1.0, 1.0 + 2e-12, False),
    (0.0, 1e-300, False),
    (float("nan"), float("nan"), True),
    (None, None, True),
    (None, 0, False),
    (True, 1, False),
    ("NR", "NR", True),
    ("NR", "NE", False),
    ([1.0, None], [1.0 + 1e-13, None], True),
    ([1.0, None], [1.0, 2.0], False),
    ({"log": [1.0, None]}, {"log": [1.0, None]}, True),
    ({"log": [1.0]}, {"log-log": [1.0]}, False),
], ids=["int-equal", "int-differ", "int-float", "float-within-1e-12", "float-beyond-1e-12", "zero-vs-tiny",
        "nan", "none", "none-vs-zero", "bool-vs-int", "str-equal", "str-differ", "list-within", "list-differ",
        "dict-equal", "dict-keys-differ"])
def test_same_raw_rule_exact_ints_relative_1e12_floats(a, b, same):
    """Reference: the documented rule (exact for int/str/bool/None, math.isclose(rel_tol=1e-12) for floats)."""
    assert L.same_raw(a, b) is same


# --------------------------------------------------------------------------- the ledger file


def test_write_ledger_round_trips_and_is_atomic(runs, tmp_path):
    """Regression value: the file read back equals the in-memory ledger; no temporary file is left."""
    path = L.write_ledger(tmp_path / "out" / "numbers.json", runs.a.ledger)
    assert L.load_ledger(path) == runs.a.ledger
    assert [p.name for p in path.parent.iterdir()] == ["numbers.json"]
    assert not L.diff_ledgers(L.load_ledger(path), runs.a.ledger).numbers_changed


def test_ledger_extends_registry_ledger_with_where(runs):
    """Reference: Registry.ledger() (analysis/present/numbers.py) - same keys, texts and labels."""
    base = runs.a.registry.ledger()
    led = runs.a.ledger
    assert list(led["numbers"]) == list(base["numbers"])
    assert led["stamp"] == base["stamp"]
    for key, e in base["numbers"].items():
        mine = led["numbers"][key]
        assert (mine["text"], mine["label"]) == (e["text"], e["label"])
        assert L.same_raw(mine["raw"], json.loads(json.dumps(e["raw"], default=float)))
        assert isinstance(mine["where"], list)


def test_published_keys_all_appear_somewhere(runs, published):
    """Reference: data/published_targets.yml - every published number is shown in the manuscript."""
    numbers = runs.a.ledger["numbers"]
    for section in ("cohort", "response", "survival", "transplant"):
        for key in published[section]:
            assert numbers[f"{section}.{key}"]["where"], f"{section}.{key} appears nowhere"


# --------------------------------------------------------------------------- scanning, against the harness


def _harness_docs():
    from tests.qmd.harness import parse_qmd

    return [parse_qmd(PROJECT_ROOT / name, variables={}) for name in L.DOCUMENTS]


def test_where_used_finds_every_inline_and_var_use_against_qmd_harness():
    """Reference: tests/qmd/harness.py parse_qmd (includes expanded as Quarto does): every
    `{python} t.KEY` in prose and every {{< var section.KEY >}} is found, in the same file."""
    uses = L.find_uses(PROJECT_ROOT)
    found = {(k, f) for k, f, kind in zip(uses["key"], uses["file"], uses["kind"]) if kind != "display"}
    expected = set()
    for doc in _harness_docs():
        for e in doc.inlines:
            if e.context == "prose":
                for key in re.findall(r"(?<![\w.])t\.([A-Za-z_]\w*)", e.expression):
                    expected.add((key, e.location.file.relative_to(PROJECT_ROOT).as_posix()))
        for v in doc.var_uses:
            section, _, key = v.key.partition(".")
            if section != "stamp":
                expected.add((key, v.location.file.relative_to(PROJECT_ROOT).as_posix()))
    assert expected and found == expected


def test_float_labels_against_qmd_harness():
    """Reference: the harness's chunk labels (tbl-/fig-) and div ids (supptbl-/suppfig-) whose
    chunk calls a table or figure function (those that show no registry number too: their cells
    are display entries of the ledger)."""
    uses = L.find_uses(PROJECT_ROOT)
    assert uses["key"].notna().all(), f"functions missing from DISPLAYS: {set(uses.loc[uses['key'].isna(), 'display'])}"
    floats = set(uses.loc[uses["kind"] == "display", "where"]) - {w for w in uses["where"] if ".qmd" in w}
    expected = set()
    prefixes = ("tbl-", "fig-", "supptbl-", "suppfig-")
    for doc in _harness_docs():
        labels = [c.label for c in doc.chunks if c.label and c.label.startswith(prefixes)]
        labels += [d.label for d in doc.label_definitions if d.kind == "attribute" and d.label.startswith(prefixes)]
        expected |= set(labels)
    assert floats == expected


def test_every_displays_entry_resolves_to_registry_keys(runs):
    """Reference: the registry of the synthetic cohort - no entry of DISPLAYS is a typo."""
    keys = [k for _, k, _ in runs.a.registry.items()]
    for name, patterns in L.DISPLAYS.items():
        for p in patterns:
            assert any(re.fullmatch(_glob(p), k) for k in keys), f"{name}: {p} matches no registry key"


def _glob(pattern: str) -> str:
    import fnmatch

    return fnmatch.translate(pattern)


# --------------------------------------------------------------------------- DISPLAYS against the displays


def _display_text(results, name: str) -> str:
    from matplotlib.figure import Figure
    from matplotlib.text import Text

    from analysis.present import figures, sensitivity, strobe, tables, text
    from analysis.present.tables import DisplayTable

    module, _, rest = name.partition(".")
    func, _, arg = rest.partition(":")
    modules = {"tables": tables, "figures": figures, "text": text, "sensitivity": sensitivity, "strobe": strobe}
    obj = getattr(modules[module], func)(results, *([arg] if arg else []))
    if isinstance(obj, DisplayTable):
        parts = [str(x) for x in obj.frame[list(obj.columns)].to_numpy().ravel()]
        # a footnote's text and the cells it marks ("Method reported in the manuscript" moves with the method)
        parts += [str(x) for x in obj.labels.values()] + [f"{f.text} {f.column} {f.rows}" for f in obj.footnotes]
        return "\n".join(parts)
    if isinstance(obj, Figure):
        return "\n".join(t.get_text() for t in obj.findobj(Text))
    return str(obj.data)


def _visible(raw, text: str) -> bool:
    def token(s: str) -> bool:
        return re.search(r"(?<![\d])" + re.escape(s) + r"(?![\d])", text) is not None

    if isinstance(raw, bool) or isinstance(raw, (str, list, dict)):
        return True  # phrases, lists and model specifications: not checked by value
    if raw is None:
        return "NR" in text or "NE" in text
    if isinstance(raw, int):
        return token(str(raw))
    cands = set()
    for x in (raw, 100 * raw):
        for d in range(4):
            s = f"{x:.{d}f}"
            cands |= {s, s[1:] if s.startswith("0.") else s}
    return any(token(c) for c in cands)


def test_displays_show_the_values_they_are_mapped_to_against_rendered_tables_and_figures(runs):
    """Reference: the visible text of each table (cells, headers, notes), figure (every text
    artist) and generated paragraph: each numeric value DISPLAYS maps to it is printed there (at
    0-3 decimals, as a percentage or with the leading zero of a P value dropped; NR/NE for a
    missing value). Phrases, lists and model specifications are not checked by value. The
    transplant listing is checked by tallying its rows instead."""
    results = runs.a.results
    raw = {k: e.raw for _, k, e in runs.a.registry.items()}
    for name, patterns in L.DISPLAYS.items():
        keys = [k for k in raw if any(re.fullmatch(_glob(p), k) for p in patterns)]
        if not keys or name == "tables.transplant_listing_table":
            continue
        shown = _display_text(results, name)
        hidden = [k for k in keys if not _visible(raw[k], shown)]
        assert not hidden, f"{name} does not show {hidden}"
    from analysis.present.tables import transplant_listing_frame

    listing = transplant_listing_frame(results)
    tallies = {
        "n_hsct_after_salvage": len(listing),
        "n_hsct_first": int((listing["sequence"] == "First").sum()),
        "n_hsct_second": int((listing["sequence"] == "Second").sum()),
        "n_hsct_transplant_related_death": int((listing["outcome"] == "Transplant-related death").sum()),
        "n_hsct_relapsed": int((listing["outcome"] == "Relapse").sum()),
        "n_hsct_in_cr_at_last_followup": int((listing["outcome"] == "In CR at last follow-up").sum()),
        "n_hsct_other_death": int((listing["outcome"] == "Other death without relapse").sum()),
        "n_hsct_without_cr": int((listing["outcome"] == "Not in CR/CRi before transplant").sum()),
    }
    assert set(tallies) == set(L.DISPLAYS["tables.transplant_listing_table"])
    assert tallies == {k: raw[k] for k in tallies}


def test_displays_change_when_their_mapped_numbers_change_against_rendered_tables_and_figures(runs):
    """Reference: the tables, figures and methods paragraph rendered from runs a, b (one death
    moved) and c (other CI method): wherever DISPLAYS says a display shows a number whose
    printed text changed, the display's visible text changed too, and shows the new value."""
    checked = 0
    for other in (runs.b, runs.c):
        old = {k: e for _, k, e in runs.a.registry.items()}
        new = {k: e for _, k, e in other.registry.items()}
        moved = {k for k in new if old[k].text != new[k].text}
        for name, patterns in L.DISPLAYS.items():
            keys = [k for k in moved if any(re.fullmatch(_glob(p), k) for p in patterns)]
            if not keys:
                continue
            before, after = _display_text(runs.a.results, name), _display_text(other.results, name)
            assert before != after, f"{name}: {keys} changed but the display did not"
            hidden = [k for k in keys if not _visible(new[k].raw, after)]
            assert not hidden, f"{name} does not show the new value of {hidden}"
            checked += 1
    assert checked >= 6


# --------------------------------------------------------------------------- scanning, fixture project


FIXTURE = {
    "_quarto.yml": """
project:
  render:
    - main.qmd
crossref:
  custom:
    - kind: float
      key: supptbl
      reference-prefix: Table S
""",
    "main.qmd": """---
title: "Trial of {{< var cohort.n_salvage >}} patients"
abstract: |
  We saw {{< var text.cr_overall >}} and {{< var stamp.data_hash >}}.
---

Before any heading: `{python} t.n_sites`.

{{< include sections/a.qmd >}}

# Second part {#sec-second .unnumbered}

<!-- commented out: `{python} t.hidden_key`
still a comment `{python} t.hidden_too` -->

```
not code that runs: `{python} t.in_code_block`
```

::: {#supptbl-thing}
```{python}
tables.table2(results)
```

Caption reading `{python} t.caption_key`.
:::

```{python}
#| label: fig-km-group
#| fig-cap: "A figure"
figures.km_group_figure(results, "salvage_group")
```

```{python}
#| label: statistical-methods
text.statistical_methods(results)
```

```{python}
#| label: tbl-new
tables.not_in_displays(results)
```
""",
    "sections/a.qmd": """# Results

## Response {#sec-response}

Rate `{python} t.pct_cr_targeted` and `{python} f"{t.n_cr_targeted} of {t.n_targeted}"`.

{{< include sections/b.qmd >}}
""",
    "sections/b.qmd": """### Deeper

Again `{python} t.n_cr_targeted`, and {{< var survival.os_n >}} in prose.
""",
}


@pytest.fixture()
def project(tmp_path) -> Path:
    for name, text in FIXTURE.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text.lstrip("\n"), encoding="utf-8")
    return tmp_path


def test_where_used_fixture_project_hand_written_expectations(project):
    """Reference: hand-written expectations for a small project (front-matter fields, heading
    paths across nested includes, a float div, a labelled figure chunk, a non-float chunk,
    comments and plain code blocks ignored)."""
    where = L.where_used(project)
    S = " \u203a "
    assert where["n_salvage"] == ["main.qmd: Title", "supptbl-thing"]
    assert where["cr_overall"] == ["main.qmd: Abstract", "supptbl-thing"]
    assert where["n_sites"] == ["main.qmd"]
    assert where["pct_cr_targeted"] == [f"sections/a.qmd: Results{S}Response", "supptbl-thing"]
    assert where["n_cr_targeted"] == [f"sections/a.qmd: Results{S}Response",
                                      f"sections/b.qmd: Results{S}Response{S}Deeper", "supptbl-thing"]
    assert where["n_targeted"] == [f"sections/a.qmd: Results{S}Response", "supptbl-thing", "fig-km-group"]
    assert where["os_n"] == [f"sections/b.qmd: Results{S}Response{S}Deeper"]
    assert where["caption_key"] == ["main.qmd: Second part"]
    assert where["p_os_group"] == ["fig-km-group"]
    assert where["alpha_text"] == ["main.qmd: Second part"]
    for absent in ("hidden_key", "hidden_too", "in_code_block", "data_hash"):
        assert absent not in where
    uses = L.find_uses(project)
    unknown = uses[uses["key"].isna()]
    assert list(unknown["display"]) == ["tables.not_in_displays"] and list(unknown["where"]) == ["tbl-new"]


def test_where_used_expands_patterns_only_with_keys(project):
    """Regression value: DISPLAYS patterns (landmarks, os_[0-9]*mo) need the registry's keys."""
    (project / "main.qmd").write_text("::: {#supptbl-lm}\n```{python}\ntables.landmark_table(results)\n```\n:::\n",
                                      encoding="utf-8")
    assert "os_6mo" not in L.where_used(project)
    where = L.where_used(project, keys=["survival.os_6mo", "survival.os_12mo", "survival.os_median_months"])
    assert where["os_6mo"] == ["supptbl-lm"] and where["os_12mo"] == ["supptbl-lm"]
    assert "os_median_months" not in where


def test_missing_include_is_an_error(project):
    (project / "main.qmd").write_text("{{< include sections/none.qmd >}}\n", encoding="utf-8")
    with pytest.raises(FileNotFoundError, match="none.qmd"):
        L.where_used(project)
