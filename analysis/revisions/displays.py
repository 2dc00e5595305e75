"""Every number a reader sees in a table, a figure or a generated paragraph, as ledger entries.

The registry (:mod:`analysis.present.numbers`) holds the numbers the prose
quotes; tables and figures print many more (every hazard ratio of Table 3,
numbers at risk, P values on plots). They are collected here GENERICALLY, from
the objects the display functions return, so that a new table or figure needs
no entry here:

* a :class:`~analysis.present.tables.DisplayTable`: every non-empty body cell
  outside the stub, every column label holding a digit, every note; located as
  "Table 2, row By salvage group › Targeted, column % (95% CI)";
* a matplotlib figure: every visible text artist holding a digit except axis
  tick labels (the scale, not a result); located by panel letter, the row of a
  risk table and its time ("Figure 2, panel A, At risk at 12 months"), the
  row of a forest plot, or the title of the box a text belongs to;
* generated Markdown (IPython ``Markdown``): every sentence holding a digit,
  located by the heading path of the chunk.

Which displays the documents call, and where, is the ledger's scan
(:func:`analysis.ledger.find_uses`, kind "display"); each is called here as
the chunk calls it (``module.function(results[, "ARG"])``).

Entry keys are stable across versions (the place with its digits replaced by
``#``: "Table 1, column Targeted (n = #)"), so that a changed count in a label
does not turn a cell into a removal and an addition. Each entry: ``text`` (as
printed), ``raw`` (the unrounded registry value when a registry number the
display is mapped to in :data:`analysis.ledger.DISPLAYS` prints the same text,
else the numbers parsed from the text), ``place`` (human), ``float`` (the
float's name, "Table 2"), ``display`` (function), ``order`` (first
appearance in the manuscript: document order of the chunk, then position).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from ..ledger import HEADING_SEPARATOR

#: number tokens as printed: "1,234", "8.6", ".0036", "−0.12", "≥18"
NUMBER_RE = re.compile(r"(?<![\w.])[−-]?(?:(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|\.\d+)")
_DIGIT_RE = re.compile(r"\d")
SEP = HEADING_SEPARATOR


def numbers_in(text: str) -> list[str]:
    """Number tokens of ``text`` as printed."""
    return NUMBER_RE.findall(str(text))


def _parse(token: str) -> float | None:
    try:
        return float(token.replace(",", "").replace("\u2212", "-"))
    except ValueError:
        return None


def stable_key(text: str) -> str:
    """``text`` with every number in parentheses replaced by ``#`` ("Targeted (n = #)"): keys that
    survive a changed count in a label, while "At 12 months" or "≥18" stay as they are."""
    return re.sub(r"\([^()]*\)", lambda m: NUMBER_RE.sub("#", m.group(0)), " ".join(str(text).split()))


def call_display(call: str, results: Any) -> Any:
    """Call ``"module.function"`` or ``"module.function:ARG"`` as a chunk does."""
    from ..present.shared_displays import function_of

    fn, args = function_of(call)
    return fn(results, *args)


# --------------------------------------------------------------------------- tables


def _clean(value: Any) -> str:
    if value is None:
        return ""
    try:
        import pandas as pd

        if pd.isna(value):
            return ""
    except (TypeError, ValueError):
        pass
    return " ".join(str(value).split())


def table_entries(table: Any, name: str) -> Iterator[dict[str, Any]]:
    """(place, text) of every cell, number-bearing column label and note of a DisplayTable."""
    frame = table.frame
    cols = list(table.columns)
    stub = cols[0]
    spans = {c: label for label, cs in getattr(table, "spanners", ()) for c in cs}

    def col_label(c: str) -> str:
        text = _clean(table.labels.get(c, c))
        return f"{spans[c]} {text}".strip() if c in spans else (text or c)

    for c in cols[1:]:
        label = col_label(c)
        if _DIGIT_RE.search(label):
            yield dict(place=f"{name}, column header {label}", key=f"{name}, column header {c}", text=label,
                       position=(-1, cols.index(c)))
    parents: dict[int, str] = {}
    seen: dict[str, int] = {}
    for r, rec in enumerate(frame.to_dict("records")):
        label = _clean(rec.get(stub))
        level = 0
        if table.indent is not None:
            try:
                level = int(rec.get(table.indent) or 0)
            except (TypeError, ValueError):
                level = 0
        parents = {lv: t for lv, t in parents.items() if lv < level}
        path = [parents[lv] for lv in sorted(parents)] + [label]
        parents[level] = label
        group = _clean(rec.get(table.group)) if table.group else ""
        row = SEP.join(p for p in ([group] if group else []) + path if p) or f"{r + 1}"
        row_key = stable_key(row)
        k = seen.get(row_key, 0)
        seen[row_key] = k + 1
        if k:
            row_key = f"{row_key} ({k + 1})"
        for c in cols[1:]:
            text = _clean(rec.get(c))
            if not text:
                continue
            yield dict(place=f"{name}, row {row}, column {col_label(c)}",
                       key=f"{name}, row {row_key}, column {c}", text=text, position=(r, cols.index(c)))
    notes = [f.text for f in getattr(table, "footnotes", ())] + list(getattr(table, "source_notes", ()))
    for i, note in enumerate(notes, 1):
        if _DIGIT_RE.search(str(note)):
            yield dict(place=f"{name}, note {i}", key=f"{name}, note {i}", text=_clean(note),
                       position=(10**6 + i, 0))


# --------------------------------------------------------------------------- figures


def _tick_labels(fig: Any) -> set[int]:
    out: set[int] = set()
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            for tick in list(axis.get_major_ticks()) + list(axis.get_minor_ticks()):
                out.update(id(t) for t in (tick.label1, tick.label2))
    return out


def _panels(fig: Any) -> list[tuple[float, float, str]]:
    """(x, y) in figure coordinates and letter of the panel letters (texts with gid 'panel-X')."""
    out = []
    for t in fig.texts:
        gid = t.get_gid() or ""
        if gid.startswith("panel-"):
            x, y = t.get_position()
            out.append((float(x), float(y), t.get_text().strip()))
    return out


def _panel_of(ax: Any, panels: list[tuple[float, float, str]]) -> str:
    if ax is None or not panels:
        return ""
    box = ax.get_position()
    left = [p for p in panels if p[0] <= box.x0 + 1e-9 and p[1] >= box.y0 - 1e-9]
    if not left:
        return ""
    return max(left, key=lambda p: (p[0], -p[1]))[2]


def _row_label(ax: Any, y: float) -> str:
    """The y tick label at ``y`` (risk-table rows, forest-plot rows), or ""."""
    try:
        ticks = list(ax.get_yticks())
        labels = [t.get_text() for t in ax.get_yticklabels()]
    except (AttributeError, ValueError):
        return ""
    for pos, lab in zip(ticks, labels):
        if abs(float(pos) - float(y)) < 1e-6 and lab.strip():
            return " ".join(lab.split())
    return ""


def _row_siblings(text: Any, ax: Any) -> str:
    """Row label of a text with gid ``<prefix>-<N>``: the texts of the same axes with gid ending in
    ``-<N>`` (another prefix) left of it, up to the first one that starts with a number."""
    if ax is None:
        return ""
    suffix = "-" + (text.get_gid() or "").rsplit("-", 1)[-1]
    x0 = text.get_position()[0]
    sibs = sorted((t for t in ax.texts if t is not text and (t.get_gid() or "").endswith(suffix)
                   and t.get_position()[0] < x0), key=lambda t: t.get_position()[0])
    parts = []
    for t in sibs:
        body = " ".join(t.get_text().split())
        if not body or NUMBER_RE.match(body):
            break
        parts.append(body)
    return ": ".join(parts)


def _axes_of(text: Any, fig: Any) -> Any:
    ax = getattr(text, "axes", None)
    if ax is not None:
        return ax
    for a in fig.axes:
        if text in a.texts or text in (a.title, getattr(a, "_left_title", None), getattr(a, "_right_title", None)):
            return a
    return None


def figure_entries(fig: Any, name: str) -> Iterator[dict[str, Any]]:
    """(place, text) of every visible, number-bearing text of a matplotlib figure except tick labels."""
    from matplotlib.text import Text

    ticks = _tick_labels(fig)
    panels = _panels(fig)
    texts = [t for t in fig.findobj(Text) if id(t) not in ticks and t.get_visible()
             and _DIGIT_RE.search(t.get_text() or "")]
    by_gid = {t.get_gid(): t for t in fig.findobj(Text) if t.get_gid()}
    seen: dict[str, int] = {}
    for i, t in enumerate(texts):
        gid = t.get_gid() or ""
        if gid.startswith("panel-"):
            continue
        ax = _axes_of(t, fig)
        panel = _panel_of(ax, panels)
        where = [name] + ([f"panel {panel}"] if panel else [])
        key = [name, (ax.get_gid() or "") if ax is not None else "figure"]
        x, y = t.get_position()
        row = _row_label(ax, y) if ax is not None and t in getattr(ax, "texts", []) else ""
        legend = ax.get_legend() if ax is not None else None
        fig_legend = next((lg for lg in getattr(fig, "legends", []) if t in lg.get_texts()), None)
        if legend is not None and t in legend.get_texts():
            where.append("legend")
            key.append(f"legend {stable_key(t.get_text()).split(' (')[0]}")
        elif fig_legend is not None:
            where.append("legend")
            key.append(f"legend {stable_key(t.get_text()).split(' (')[0]}")
        elif ax is not None and t is ax.title or (ax is not None and t in (getattr(ax, "_left_title", None),
                                                                           getattr(ax, "_right_title", None))):
            lines = [ln.strip() for ln in t.get_text().split("\n") if ln.strip()]
            head = lines[0] if len(lines) > 1 else NUMBER_RE.sub("", lines[0]).rstrip(" =:;,")
            where.append(f"panel {head}, title" if head else "panel title")
            key.append("title")
        elif row and (ax.get_gid() or "").endswith("-risk"):
            title = " ".join(ax.get_title(loc="left").split()) or " ".join(ax.get_title().split())
            where.append((f"{title}: " if title else "") + f"{row} at {float(x):g} months")
            key.append(f"{stable_key(row)} @ {float(x):g}")
        elif row:
            where.append(row)
            key.append(f"{stable_key(row)} {gid or x}")
        elif gid and re.search(r"-\d+$", gid) and gid.rsplit("-", 1)[0] in by_gid:
            title = " ".join(by_gid[gid.rsplit("-", 1)[0]].get_text().split())
            where.append(f"box {stable_key(title) if _DIGIT_RE.search(title) else title}")
            key.append(gid)
        elif gid and re.search(r"-\d+$", gid) and _row_siblings(t, ax):
            label = _row_siblings(t, ax)
            what = gid.rsplit("-", 1)[0].split("-")[-1]
            what = what.upper() if len(what) <= 3 else what
            where.append(f"row {label}, {what}")
            key.append(f"{stable_key(label)} {what}")
        elif gid:
            where.append("annotation" if ax is not None else "note")
            key.append(gid)
        else:
            where.append("text")
            key.append(f"text {NUMBER_RE.sub('#', ' '.join(t.get_text().split()))[:80]}")
        k = ", ".join(str(p) for p in key)
        n = seen.get(k, 0)
        seen[k] = n + 1
        yield dict(place=", ".join(where), key=k if not n else f"{k} ({n + 1})", text=" ".join(t.get_text().split()),
                   position=(i, 0))


# --------------------------------------------------------------------------- generated prose

_SENTENCE_RE = re.compile(r"(?<=[.!?])\s+(?=[A-Z(])")


def markdown_entries(markdown: str, name: str, *, display: str = "") -> Iterator[dict[str, Any]]:
    """Sentences holding a digit of generated Markdown; keyed by place, display (two generated
    paragraphs may share a section) and sentence number."""
    text = re.sub(r"^:::.*$|^#+ .*$", "", str(markdown), flags=re.M)
    k = 0
    for para in re.split(r"\n\s*\n", text):
        for sentence in _SENTENCE_RE.split(" ".join(para.split())):
            if not sentence or not _DIGIT_RE.search(sentence):
                continue
            k += 1
            key = f"{name}, {display}, sentence {k}" if display else f"{name}, sentence {k}"
            yield dict(place=name, key=key, text=sentence, position=(k, 0))


# --------------------------------------------------------------------------- all displays


def _registry_raw(text: str, candidates: Mapping[str, tuple[str, Any]]) -> tuple[Any, str | None]:
    """The unrounded registry value printed as ``text`` (whole text, or its only number), else None."""
    if re.fullmatch(r"[\d,]+", text):   # a count is its own unrounded value; equal counts are coincidences
        return None, None
    for key, (t, raw) in candidates.items():
        if t == text:
            return raw, key
    return None, None


def display_entries(results: Any, project_root: str | Path, *, registry: Any = None,
                    uses: Any = None, call: Any = None) -> dict[str, dict[str, Any]]:
    """Every cell, figure text and generated sentence the documents display, keyed stably.

    ``uses``: :func:`analysis.ledger.find_uses` of the project (computed when
    None); ``registry``: the numbers registry, for unrounded values; ``call``: gives
    the display of a ``"module.function[:ARG]"`` (an export's
    :meth:`analysis.present.shared_displays.SharedDisplays.call`, which owns the
    figures: read here, not closed), else :func:`call_display`."""
    from ..ledger import find_uses
    from .places import human_place

    root = Path(project_root)
    if uses is None:
        uses = find_uses(root, keys=[f"{s}.{k}" for s, k, _ in registry.items()] if registry is not None else None)
    texts = {}
    if registry is not None:
        texts = {k: (e.text, e.raw) for _, k, e in registry.items()}
    out: dict[str, dict[str, Any]] = {}
    done: set[tuple[str, str]] = set()
    for order, use in enumerate(uses.itertuples(index=False)):
        if use.kind != "display" or not use.display or (use.display, use.where) in done:
            continue
        done.add((use.display, use.where))
        mapped = {k: texts[k] for k in uses.loc[(uses["display"] == use.display) & (uses["where"] == use.where),
                                               "key"].dropna() if k and k in texts}
        place = human_place(use.where, document=use.document, file=use.file, line=int(use.line), root=root)
        obj = call_display(use.display, results) if call is None else call(use.display)
        if hasattr(obj, "frame") and hasattr(obj, "columns"):
            found = table_entries(obj, place)
            kind = "table cell"
        elif hasattr(obj, "findobj"):
            found = figure_entries(obj, place)
            kind = "figure text"
        else:
            data = getattr(obj, "data", None)
            if not isinstance(data, str):
                continue
            found = markdown_entries(data, place, display=use.display)
            kind = "text"
        for e in found:
            raw, reg_key = _registry_raw(e["text"], mapped)
            if raw is None:
                parsed = [_parse(t) for t in numbers_in(e["text"])]
                raw = parsed[0] if len(parsed) == 1 else parsed
            key = e["key"]
            if key in out:
                continue
            out[key] = {"text": e["text"], "raw": raw, "place": e["place"], "float": place, "kind": kind,
                        "display": use.display, "registry_key": reg_key,
                        "order": [order, *e["position"]]}
        if hasattr(obj, "findobj") and call is None:
            import matplotlib.pyplot as plt

            plt.close(obj)
    return out
