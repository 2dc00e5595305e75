"""The marked-up manuscript as part of the render (issue 15 item 3).

When the setting ``revisions.submitted_ledger`` names the ledger of the submitted version, the
post-render step (tools/post_render.py, after ``python -m analysis export``) writes, beside the
documents:

* ``<doc>-marked-up.html`` and ``<doc>-marked-up.docx`` for report and supplement: every number
  that changed since the submitted version with its previous value (Word: tracked changes),
  made by :func:`analysis.revisions.markup.write_markup`;
* ``changes.md`` and ``changes.docx``: the change table for the response letter
  (:mod:`analysis.revisions.changes`).

Default (no submitted ledger): nothing is written and nothing is read.

Where the executed Markdown comes from: Quarto keeps the Markdown it hands to Pandoc when the
format sets ``keep-md: true`` (_quarto.yml sets it for docx), as ``<stem>.<format>.md`` beside
the input (quarto-cli src/execute/engine.ts ``executionEngineKeepMd``: ``report.docx.md``;
quarto.org/docs/computations/execution-options.html "Intermediates"; Quarto >= 1.4). The Word
copy is the one read: its tables are Pandoc grid tables, which the markup edits cell by cell.
Which documents this render produced: ``QUARTO_PROJECT_OUTPUT_FILES`` (newline-separated output
files, given to post-render scripts; quarto.org/docs/projects/scripts.html), else both.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

from ..config import PROJECT_ROOT, Config, ConfigError, load_config

DOCUMENTS = ("report", "supplement")
#: Executed Markdown Quarto keeps per format, in order of preference (Word's grid tables first).
KEPT_MARKDOWN = (".docx.md", ".typst.md", ".html.md")
OUTPUT_FILES_ENV_VAR = "QUARTO_PROJECT_OUTPUT_FILES"


class MarkupError(Exception):
    """The marked-up copy cannot be made as configured (message names the file and the setting)."""


def submitted_ledger(config: Config) -> str | None:
    """The submitted ledger as configured: a path made absolute against the configuration file's
    folder when that file exists there, else the value as written (a git revision REV:PATH, or a
    missing file, reported when read)."""
    value = config.settings.revisions.submitted_ledger
    if not value:
        return None
    candidate = (config.path.parent / value).resolve()
    return str(candidate) if candidate.exists() else value


def rendered_documents(env: Mapping[str, str] = os.environ) -> list[str]:
    """The documents (stems) whose outputs this render wrote; both when Quarto does not say."""
    listed = env.get(OUTPUT_FILES_ENV_VAR, "")
    stems = {Path(line.strip()).name.split(".")[0] for line in listed.splitlines() if line.strip()}
    found = [d for d in DOCUMENTS if d in stems]
    return found if listed.strip() else list(DOCUMENTS)


def executed_markdown(document: str, *, roots: Iterable[Path]) -> Path | None:
    """The executed Markdown Quarto kept for ``document`` (see the module docstring)."""
    for suffix in KEPT_MARKDOWN:
        for root in roots:
            path = Path(root) / f"{document}{suffix}"
            if path.is_file():
                return path
    return None


def mark_up_render(config: Config, out_dir: str | Path, *, project_root: str | Path = PROJECT_ROOT,
                   markdown_dirs: Iterable[str | Path] | None = None, documents: Iterable[str] = DOCUMENTS,
                   log=None) -> list[Path]:
    """Write the marked-up copies and the change table into ``out_dir`` when the configuration
    names a submitted ledger; returns the files written (none without the setting). The executed
    Markdown is looked for in ``markdown_dirs`` (default: the project folder, then ``out_dir``);
    the documents' labels and headings are read from ``project_root``."""
    ref = submitted_ledger(config)
    if ref is None:
        return []
    from .. import ledger as L    # pandas and friends only when there is something to mark up
    from . import changes
    from .markup import write_markup

    log = log or sys.stderr
    where = f"{config.path.name}: revisions.submitted_ledger"
    try:
        old = L._load_ledger_or_revision(ref)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise MarkupError(f"{where}: cannot read the submitted ledger {ref}: {reason}") from None
    out = Path(out_dir)
    try:
        new = L.load_ledger(out / "numbers.json")
    except (OSError, ValueError) as exc:
        raise MarkupError(f"cannot read this render's ledger {out / 'numbers.json'}: {exc}") from None
    written: list[Path] = []
    for doc in documents:
        md = executed_markdown(doc, roots=[Path(d) for d in (markdown_dirs or (project_root, out))])
        if md is None:
            print(f"{doc}: no executed Markdown ({doc}.docx.md, kept by Quarto's keep-md when the Word "
                  f"format is rendered): no marked-up copy of {doc}.qmd", file=log)
            continue
        paths, done = write_markup(md, old, new, out_dir=out, document=f"{doc}.qmd", root=project_root,
                                   stem=f"{doc}-marked-up", keep_markdown=False)
        written += paths
        print(f"{doc}: {len(done.marked)} changed numbers marked, {len(done.figures)} in figures"
              + (f", {len(done.unplaced)} not found in the text" if done.unplaced else ""), file=log)
    report = changes.change_report(old, new)
    from ..outputs import write_text_atomic

    written.append(write_text_atomic(out / "changes.md", changes.to_markdown(report)))
    written.append(Path(changes.write_docx(report, out / "changes.docx")))
    return written


def main(argv: list[str] | None = None) -> int:
    """``python -m analysis.revisions.render --out DIR``: the post-render step's marked-up copy.
    Exit 0 (also when the setting is not set), 2 when the configuration or a ledger cannot be read."""
    p = argparse.ArgumentParser(prog="python -m analysis.revisions.render", description=__doc__.split("\n")[0])
    p.add_argument("--out", required=True, help="output folder of the render (with numbers.json)")
    p.add_argument("--config", default=None, help="configuration file (default: CART_CONFIG, else analysis.yml)")
    args = p.parse_args(argv)
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    try:
        for path in mark_up_render(config, args.out, documents=rendered_documents()):
            print(path)
    except MarkupError as exc:
        print(exc, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
