"""PDF font subsets kept between exports: each made once for the same font, glyphs and libraries.

matplotlib embeds every font of a PDF as a TrueType subset of the glyphs the figure
draws (``pdf.fonttype`` 42), made by fontTools' subsetter in
``matplotlib.backends._backend_pdf_ps.get_glyphs_subset``. Each subset parses the
whole font file again (for DejaVu Sans its 6,000 glyphs' metrics and names and its
large GSUB/GPOS tables): about 70 ms, 21 subsets for the 8 submission figures, about
1.6 s of CPU, a third of drawing the figure files, every time the figures are drawn
(any change of data, configuration or code, :func:`analysis.export.figure_key`),
although the figures mostly draw the same glyphs as last time, and the 'fi' ligature's
one-glyph subset recurs in five figures of the same export.

A subset is a pure function of the font file's bytes, the face in it, the glyph ids,
and the fontTools and matplotlib versions (matplotlib sets the subsetter's options).
While :func:`kept_subsets` is active, each subset is looked up under a key of exactly
those (:func:`subset_key`) in a cache folder (``.cache/fonts/`` beside the figure
cache) and made, as matplotlib makes it, only when absent; so the embedded font
programs, and the PDF files, are the same bytes as without the cache
(``tests/present/test_font_subsets.py``). A kept subset carries its SHA-256 and is not
used when it does not match; the folder keeps the :data:`KEEP` most recently used.

Hand-written: fontTools and matplotlib keep no such cache, and this wraps one private
function of matplotlib (``get_glyphs_subset``, looked up on its module at each call by
the PDF backend); where it is missing, nothing is cached.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

#: Subsets kept in the cache folder (the most recently used); an export draws about 21.
KEEP = 256

_FONT_HASHES: dict[tuple[str, int, int], str] = {}     # (path, size, mtime_ns) -> SHA-256 of the file


def _font_hash(path: str) -> str:
    st = os.stat(path)
    key = (path, st.st_size, st.st_mtime_ns)
    if key not in _FONT_HASHES:
        with open(path, "rb") as f:
            _FONT_HASHES[key] = hashlib.sha256(f.read()).hexdigest()
    return _FONT_HASHES[key]


@functools.cache
def _versions() -> dict[str, str]:
    from importlib.metadata import version

    return {"fonttools": version("fonttools"), "matplotlib": version("matplotlib")}


def subset_key(fontfile: Any, glyphs: Any) -> str:
    """The key of the subset of ``glyphs`` (glyph ids) of ``fontfile`` (a path, or matplotlib's
    ``FontPath`` with its ``face_index``) made by the installed fontTools and matplotlib."""
    parts = {"font": _font_hash(os.fspath(fontfile)), "face": int(getattr(fontfile, "face_index", 0) or 0),
             "glyphs": sorted(int(g) for g in glyphs), **_versions()}
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:32]


class _SubsetFont:
    """A kept subset font, as matplotlib uses the font it gets (``font_as_file`` saves it; ``with``)."""

    def __init__(self, data: bytes):
        self.data = data

    def save(self, file: Any, reorderTables: bool = False) -> None:  # noqa: N803 - TTFont.save's name
        file.write(self.data)

    def __enter__(self) -> "_SubsetFont":
        return self

    def __exit__(self, *exc: Any) -> None:
        return None


def _read(path: Path) -> tuple[bytes, dict[int, int]] | None:
    try:
        kept = json.loads(path.read_text(encoding="utf-8"))
        data = base64.b64decode(kept["font"], validate=True)
        if hashlib.sha256(data).hexdigest() != kept["sha256"]:
            return None
        glyph_map = {int(a): int(b) for a, b in kept["map"]}
    except (OSError, ValueError, KeyError, TypeError):
        return None
    try:
        os.utime(path)                               # recently used: kept when the folder is pruned
    except OSError:
        pass
    return data, glyph_map


def _write(folder: Path, path: Path, data: bytes, glyph_map: dict) -> None:
    from ...outputs import write_text_atomic

    try:
        write_text_atomic(path, json.dumps({"sha256": hashlib.sha256(data).hexdigest(),
                                            "map": sorted([int(a), int(b)] for a, b in glyph_map.items()),
                                            "font": base64.b64encode(data).decode("ascii")}))
        kept = sorted(folder.glob("*.json"), key=lambda p: p.stat().st_mtime_ns, reverse=True)
        for old in kept[KEEP:]:
            old.unlink(missing_ok=True)
    except OSError:
        pass                                         # a read-only cache: made each time, as before


@contextmanager
def kept_subsets(folder: str | Path) -> Iterator[None]:
    """While active (in this process), the PDF backend's font subsets are taken from
    ``folder`` when kept there, else made as matplotlib makes them and kept."""
    try:
        from matplotlib.backends import _backend_pdf_ps
        original = _backend_pdf_ps.get_glyphs_subset
        made_as = _backend_pdf_ps.SubsetResults, _backend_pdf_ps.font_as_file
    except (ImportError, AttributeError):            # another matplotlib: nothing is kept
        yield
        return
    folder = Path(folder)
    results, font_as_file = made_as

    def get_glyphs_subset(fontfile: Any, glyphs: Any) -> Any:
        glyphs = list(glyphs)
        try:
            path = folder / f"{subset_key(fontfile, glyphs)}.json"
        except (OSError, ValueError, TypeError):
            return original(fontfile, glyphs)
        kept = _read(path)
        if kept is None:
            with original(fontfile, glyphs) as made:
                kept = font_as_file(made.font).getvalue(), dict(made.glyph_index_map)
            _write(folder, path, *kept)
        data, glyph_map = kept
        return results(_SubsetFont(data), glyph_map)._as_cm()

    _backend_pdf_ps.get_glyphs_subset = get_glyphs_subset
    try:
        yield
    finally:
        _backend_pdf_ps.get_glyphs_subset = original
