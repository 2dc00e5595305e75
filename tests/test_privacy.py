"""No source pseudonym or identifier-like string reaches any artifact the
pipeline writes: ledger, ADaM exports, figures (text and metadata), tables.
(The documents' chunk outputs are scanned in tests/test_documents.py.)"""

from __future__ import annotations

from pathlib import Path

import getpass
import os
import re
import socket
import subprocess
import sys

import pandas as pd
import pytest

from analysis.config import PROJECT_ROOT, load_config

ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
IDENTIFIER_LIKE = {
    "e-mail address": re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+"),
    "telephone number": re.compile(r"\+?\d[\d ()-]{8,}\d"),
    "record-number-like digit run": re.compile(r"(?<![\w.])\d{7,}(?![\w.])"),
}


def pseudonyms() -> set[str]:
    cfg = load_config()
    ids = set()
    for src in cfg.sources:
        ids |= set(pd.read_csv(src.path, dtype=str)["patient_id"].dropna())
    assert ids
    return ids


def machine_identity() -> set[str]:
    out = set()
    for fn in (getpass.getuser, socket.gethostname):
        try:
            name = fn()
        except Exception:  # pragma: no cover
            continue
        if name and len(name) >= 4 and name not in {"root", "user"}:
            out.add(name)
    return out


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """What a render exports: Quarto's post-render step (tools/post_render.py, i.e.
    ``python -m analysis export``) into the folder Quarto rendered to
    (QUARTO_PROJECT_OUTPUT_DIR, as ``quarto render --output-dir`` sets it)."""
    out = tmp_path_factory.mktemp("export")
    env = dict(os.environ, QUARTO_PROJECT_OUTPUT_DIR=str(out))
    proc = subprocess.run([sys.executable, "tools/post_render.py"], cwd=PROJECT_ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert (out / "numbers.json").is_file() and (out / "adam" / "adsl.csv").is_file()
    return out


def _texts(path) -> str:
    data = path.read_bytes()
    return data.decode("utf-8", errors="ignore") + data.decode("latin-1", errors="ignore")


def test_export_writes_every_artifact(exported):
    import os

    # the outputs are links into the run's folder (analysis.outputs.output_set): follow them
    names = {(Path(root) / f).relative_to(exported).as_posix()
             for root, _, files in os.walk(exported, followlinks=True) for f in files}
    assert "numbers.json" in names
    assert {"adam/adsl.csv", "adam/adtte.csv", "adam/adsl.xpt", "adam/adtte.xpt"} <= names
    assert sum(n.startswith("figures/") for n in names) >= 18
    assert {"tables/table1.docx", "tables/table1.xlsx", "tables/table1.csv", "tables/table1.html",
            "adam/define.csv"} <= names


def _is_number(text: str) -> bool:
    """A decimal fraction (the unrounded values of a table's .values.csv), not free text;
    a run of digits without a decimal point is still checked as a possible record number."""
    return re.fullmatch(r"-?\d*\.\d+(?:[eE][-+]?\d+)?", text.strip()) is not None


def _free_text(path) -> list[str]:
    """The human-readable strings of an artifact (not numbers or coordinates)."""
    import json

    if path.suffix == ".json":
        out = []

        def walk(node):
            if isinstance(node, dict):
                for k, v in node.items():
                    # hex hashes of data, configuration and code (the stamp; a manifest's figure_key and
                    # set_key), whose digits can happen to look like a telephone number
                    if k not in ("stamp", "figure_key", "set_key"):
                        walk(v)
            elif isinstance(node, list):
                for v in node:
                    walk(v)
            elif isinstance(node, str):
                out.append(node)

        walk(json.loads(path.read_text(encoding="utf-8")))
        return out
    if path.suffix == ".csv":
        frame = pd.read_csv(path, dtype=str)
        cols = [c for c in frame.columns if not c.endswith("DT") and c not in ("AVAL", "AGE", "BMBLAST")]
        return [v for c in cols for v in frame[c].dropna() if not _is_number(v)]
    if path.suffix == ".svg":
        return re.findall(r"<text[^>]*>([^<]*)</text>", path.read_text(encoding="utf-8")) + \
            re.findall(r"<!--(.*?)-->", path.read_text(encoding="utf-8"), flags=re.S)
    return []


def test_no_pseudonym_or_identifier_in_exported_artifacts(exported):
    ids = pseudonyms()
    problems = []
    for path in sorted(p for p in exported.rglob("*") if p.is_file()):
        text = _texts(path)
        rel = path.relative_to(exported)
        problems += [f"{rel}: pseudonym {pid}" for pid in ids if pid in text]
        problems += [f"{rel}: machine identity {m}" for m in machine_identity() if m in text]
        for value in _free_text(path):
            body = ISO_DATE.sub(" ", value)   # ISO dates are analysis dates, not telephone numbers
            for kind, rx in IDENTIFIER_LIKE.items():
                problems += [f"{rel}: {kind} {m!r}" for m in rx.findall(body)]
    assert not problems, "\n".join(problems[:30])


def test_adam_free_text_fields_are_controlled_terms(exported):
    """Free-text-like ADaM fields hold only the dictionary's labels, never site text."""
    adsl = pd.read_csv(exported / "adam" / "adsl.csv", dtype=str)
    adtte = pd.read_csv(exported / "adam" / "adtte.csv", dtype=str)
    assert set(adtte["EVNTDESC"].dropna()) <= {"Death", "Relapse", "Death without relapse"}
    assert set(adtte["CNSDTDSC"].dropna()) <= {"Alive at last contact", "Alive in remission at last contact"}
    from analysis.derive import DTHCAUS_LABELS, NOSALV_LABELS
    assert set(adsl["NOSALVRS"].dropna()) <= set(NOSALV_LABELS.values())
    assert set(adsl["DTHCAUS"].dropna()) <= set(DTHCAUS_LABELS.values())
    assert adsl["USUBJID"].str.fullmatch(r"[\w-]+-\d{3}").all()


def test_tables_show_no_pseudonym(results):
    from analysis.present import tables

    ids = pseudonyms()
    names = [n for n in dir(tables) if (n.endswith("_table") or n in ("table1", "table2", "table3", "table1_full"))
             and callable(getattr(tables, n)) and not n.startswith("_")]
    assert len(names) >= 10
    for name in names:
        shown = getattr(tables, name)(results)
        text = shown.to_html() + shown.to_markdown()
        leaked = [pid for pid in ids if pid in text]
        assert not leaked, (name, leaked[:3])
