"""Reading the YAML files a user writes (configuration, sources list, mapping
files), with messages that name the file and the line.

PyYAML does the parsing; this module only turns its failures (and a file that
is not UTF-8) into one-line messages a user can act on, and finds the line of
a key so later checks can point at it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence

import yaml


class UserFileError(Exception):
    """A file the user wrote cannot be read as written. The message names the
    file and, where known, the line; it is meant to be printed as it is."""


def read_text(path: Path, *, what: str) -> str:
    """The file's text, decoded as UTF-8 (with or without a byte-order mark)."""
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise UserFileError(f"{path}: the {what} does not exist") from None
    except IsADirectoryError:
        raise UserFileError(f"{path}: the {what} is a folder, not a file") from None
    except OSError as exc:
        raise UserFileError(f"{path}: the {what} cannot be read ({exc.strerror})") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise UserFileError(
            f"{path} line {line}: the {what} is not saved as UTF-8 (byte 0x{raw[exc.start]:02x}); "
            "save it again as UTF-8 (in most editors: Save As, encoding UTF-8)"
        ) from None


def load_yaml(path: str | Path, *, what: str = "file") -> tuple[Any, yaml.Node | None]:
    """Parse a YAML file. Returns the data and the node tree (for line numbers).

    A syntax error becomes a :class:`UserFileError` naming the file and line.
    """
    path = Path(path)
    text = read_text(path, what=what)
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        hint = ""
        if "\t" in text and "tab" in str(exc).lower():
            hint = "; indent with spaces, not tabs"
        raise UserFileError(f"{path}{where}: the {what} is not valid YAML ({problem}){hint}") from None
    return data, node


def _walk(node: yaml.Node | None, keys: Iterable[str | int]) -> Iterator[tuple[int, yaml.Node]]:
    """(1-based line, node) of the value at each of ``keys`` in turn, from ``node`` down a composed
    YAML tree; ends at the first key not written."""
    for key in keys:
        if isinstance(node, yaml.MappingNode):
            found = next(((k, v) for k, v in node.value if k.value == str(key)), None)
            if found is None:
                return
            line, node = found[0].start_mark.line + 1, found[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
            line = node.start_mark.line + 1
        else:
            return
        yield line, node


def node_at(node: yaml.Node | None, keys: Iterable[str | int]) -> yaml.Node | None:
    """The node of the value at ``keys`` in a composed YAML tree; None when it is not written."""
    keys = list(keys)
    steps = list(_walk(node, keys))
    if len(steps) < len(keys):
        return None
    return steps[-1][1] if steps else node


def line_of(node: yaml.Node | None, keys: Iterable[str | int]) -> int | None:
    """1-based line of the value at ``keys`` in a composed YAML tree (the
    deepest key found, so a wrong key still points at its parent's line)."""
    line = None
    for line, _ in _walk(node, keys):
        pass
    return line


def duplicate_keys(node: yaml.Node | None, *, same: Callable[[str], str] = str) -> list[tuple[int, str]]:
    """(line, "KEY is written twice ...") for every key repeated within one YAML mapping
    (PyYAML silently keeps the last one), sorted by line. ``same`` says which keys are one
    (a mapping file's names are compared case-folded; settings exactly)."""
    out = []
    stack = [node] if node is not None else []
    while stack:
        current = stack.pop()
        if isinstance(current, yaml.MappingNode):
            seen: dict[str, int] = {}
            for key, value in current.value:
                name = getattr(key, "value", None)
                line = key.start_mark.line + 1
                if isinstance(name, str) and same(name) in seen:
                    out.append((line, f"{name!r} is written twice (lines {seen[same(name)]} and {line}), and only "
                                      "the last would count; write each entry once."))
                elif isinstance(name, str):
                    seen[same(name)] = line
                stack.append(value)
        elif isinstance(current, yaml.SequenceNode):
            stack.extend(current.value)
    return sorted(out)


def front_matter_length(lines: Sequence[str]) -> int:
    """Number of lines of a document's leading YAML block (``---`` ... ``---``
    or ``...``), as Pandoc and Quarto read it; 0 if the document has none."""
    if not lines or lines[0].rstrip() != "---":
        return 0
    for i in range(1, len(lines)):
        if lines[i].rstrip() in ("---", "..."):
            return i + 1
    return 0
