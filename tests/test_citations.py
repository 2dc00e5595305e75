"""Citations in generated text go through the documents' citation mechanism
(REVIEW 2026-12-06 item 28; issue 12 leftover): a reference that reaches a
document is a ``[@key]`` of references.bib, formatted and listed by citeproc;
a plain warning (a compute note, a log line) carries no hand-typed citation,
because no citeproc will list it. The old compute notes ended in
"(Peduzzi et al. 1995)", which reached the notes of Table 3 and Tables S7,
S11 and S14 as text the supplement's reference list did not know."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pandas as pd
import pytest

from analysis.compute.cox import cox_model
from analysis.config import PROJECT_ROOT

# "Peduzzi et al. 1995", "Yang & Dalton 2012", "(Greenwood 1926)", "Kaplan and Meier, 1958"
HAND_TYPED = re.compile(r"\bet al\b|\b[A-Z][a-z]+(?: (?:&|and) [A-Z][a-z]+)?,? \(?(?:1[89]\d\d|20[0-4]\d)\b")
CITE_KEY = re.compile(r"(?<![\w.])@([A-Za-z][\w:-]*\d{4}[a-z]?)\b")
BIB_KEYS = set(re.findall(r"^@\w+\{([^,\s]+),", (PROJECT_ROOT / "references.bib").read_text(encoding="utf-8"),
                          flags=re.M))


def _generated_strings(path: Path) -> list[tuple[int, str]]:
    """String constants (f-string parts included) that code can print: every
    string except documentation, i.e. a string that is a statement of its own
    (module, class, function and attribute docstrings)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docs = {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Expr)
            and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)}
    return [(node.lineno, node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs]


PYTHON_FILES = sorted([*(PROJECT_ROOT / "analysis").rglob("*.py"), *(PROJECT_ROOT / "tools").glob("*.py")])


def test_no_hand_typed_citation_in_generated_text():
    offenders = [f"{path.relative_to(PROJECT_ROOT)}:{line}: {text[:100]!r}"
                 for path in PYTHON_FILES for line, text in _generated_strings(path) if HAND_TYPED.search(text)]
    assert not offenders, "cite with [@key] (references.bib) or drop the citation:\n" + "\n".join(offenders)


def test_the_scan_sees_the_old_warning():
    """The pattern catches what the compute notes used to print."""
    assert HAND_TYPED.search("so estimates may be unstable and over-fitted (Peduzzi et al. 1995)")
    assert HAND_TYPED.search("multinomial SMD (Yang & Dalton 2012)")
    assert not HAND_TYPED.search("fewer than 10 events per parameter [@peduzzi1995]")


def test_every_citation_key_in_code_and_documents_is_in_the_bibliography():
    cited: dict[str, str] = {}
    for path in PYTHON_FILES:
        for _, text in _generated_strings(path):
            for key in CITE_KEY.findall(text) if "[@" in text else ():
                cited.setdefault(key, str(path.relative_to(PROJECT_ROOT)))
    for path in sorted([*PROJECT_ROOT.glob("*.qmd"), *PROJECT_ROOT.glob("sections/*.qmd")]):
        for key in CITE_KEY.findall(path.read_text(encoding="utf-8")):
            cited.setdefault(key, str(path.relative_to(PROJECT_ROOT)))
    assert "peduzzi1995" in cited
    missing = {key: where for key, where in cited.items() if key not in BIB_KEYS}
    assert not missing, missing


def test_events_per_parameter_caution_is_a_plain_warning():
    """Few events per parameter: the note says so in words, without a citation;
    the reference is cited where the documents say the models are flagged."""
    ref = PROJECT_ROOT / "tests" / "reference"
    fit = cox_model(pd.read_csv(ref / "cox_synthetic.csv"), time="time", event="event",
                    covariates=["age", "salvage", "sex"], reference={"salvage": "inotuzumab", "sex": "female"},
                    alpha=0.05, min_events_per_parameter=100)
    note = next(w for w in fit.warnings if "events per parameter" in w)
    assert not HAND_TYPED.search(note) and "[@" not in note, note


@pytest.mark.parametrize("label", ["supptbl-td-cox", "supptbl-missing", "supptbl-cox"])
def test_tables_that_can_carry_the_caution_cite_it_in_their_caption(label):
    """The caption is Markdown that citeproc reads (a table's notes are raw
    HTML in the HTML output, where a [@key] would stay literal)."""
    text = (PROJECT_ROOT / "supplement.qmd").read_text(encoding="utf-8")
    block = text.split(f"::: {{#{label}}}", 1)[1].split("\n:::", 1)[0]
    assert "[@peduzzi1995]" in block, block[-400:]

