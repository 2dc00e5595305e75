"""What the authors still have to fill in before submission.

Placeholders are written ``[TO COMPLETE: what to write]`` in the authors file
(authors, affiliations, e-mail; ``authors.yml``) and in the documents (the
Declarations section: ethics, funding, competing interests, data availability,
contributions, acknowledgements). :func:`unfilled_placeholders` lists every
one still present; the pre-render step prints the list, so each render says
what is left.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

from .. import PROJECT_ROOT

PLACEHOLDER = re.compile(r"\[TO COMPLETE:\s*([^\]]*)\]")
SOURCES = ("authors.yml", "report.qmd", "sections/*.qmd", "supplement.qmd")
_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*(\{[^}]*\})?\s*$")
_YAML_KEY = re.compile(r"^\s*-?\s*([\w-]+):")


@dataclass(frozen=True)
class Placeholder:
    file: str          # relative to the project
    line: int
    where: str         # the section heading (documents) or the field (authors file)
    text: str          # what to write

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.where}: {self.text}"


def _files(root: Path) -> list[Path]:
    seen: list[Path] = []
    for pattern in SOURCES:
        for path in sorted(root.glob(pattern)):
            if path.is_file() and path not in seen:
                seen.append(path)
    return seen


def unfilled_placeholders(root: Path = PROJECT_ROOT) -> list[Placeholder]:
    """Every ``[TO COMPLETE: …]`` left in the authors file and the documents, in file order."""
    found: list[Placeholder] = []
    for path in _files(root):
        where = section = ""
        in_comment = False
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if path.suffix == ".qmd":
                if "<!--" in line:
                    in_comment = "-->" not in line.split("<!--", 1)[1]
                    line = line.split("<!--", 1)[0]
                elif in_comment:
                    in_comment = "-->" not in line
                    continue
                heading = _HEADING.match(line)
                if heading:
                    where = heading.group(1)
            else:
                if line.lstrip().startswith("#"):
                    continue
                key = _YAML_KEY.match(line)
                if key and not line[:1].isspace():
                    section = {"author": "author", "affiliations": "affiliation"}.get(key.group(1), key.group(1))
                    where = section
                elif key:
                    where = f"{section} {key.group(1)}".strip()
            for m in PLACEHOLDER.finditer(line):
                found.append(Placeholder(path.relative_to(root).as_posix(), n, where or "front matter",
                                         m.group(1).strip()))
    return found


def placeholder_report(root: Path = PROJECT_ROOT) -> str:
    """The message the pre-render step prints ('' when nothing is left)."""
    left = unfilled_placeholders(root)
    if not left:
        return ""
    lines = [f"Before submission, fill in {len(left)} placeholder(s) marked [TO COMPLETE: ...]:"]
    lines += [f"  {p}" if len(str(p)) <= 110 else f"  {str(p)[:107]}..." for p in left]
    return "\n".join(lines)


def print_unfilled_placeholders(root: Path = PROJECT_ROOT) -> None:
    """Print :func:`placeholder_report` to stderr when anything is left (pre-render step)."""
    report = placeholder_report(root)
    if report:
        print(report, file=sys.stderr)
