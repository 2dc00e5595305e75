"""Saving figures (PDF, SVG, 600-dpi TIFF as one atomic group) and the list of
every figure of the manuscript and the supplement, by file stem."""

from __future__ import annotations

import io
import re
from contextlib import contextmanager, nullcontext
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib as mpl
from matplotlib.figure import Figure

from ...outputs import write_group
from ..supplement import SUPPLEMENTARY_FIGURES
from .theme import figure_rc
from .flow import flow_figure
from .km import km_group_figure, km_overall_figure
from .forest import forest_figure
from .zph import zph_figure

if TYPE_CHECKING:  # pragma: no cover
    from ...results import Results


TIFF_DPI = 600

#: File stems written by :func:`export_all`, in figure order: the manuscript's
#: figures, then the supplement's, numbered as supplement.qmd numbers them
#: (Figure S1 ... in :data:`analysis.present.supplement.SUPPLEMENTARY_FIGURES` order).
FIGURE_STEMS = ("fig1_flow", "fig2_km_overall", "fig3_km_salvage_group", "fig4_km_relapse_site",
                "fig5_forest") + tuple(f"figS{i}_{name.replace('-', '_')}"
                                       for i, name in enumerate(SUPPLEMENTARY_FIGURES, 1))

# metadata removed from the saved files (None drops the key)
_PDF_METADATA = {"Creator": None, "Producer": None, "CreationDate": None}
_SVG_METADATA = {"Creator": None, "Date": None}

# --------------------------------------------------------------------------- saving

_STEM_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")


#: OpenType layout tables (glyph substitution and positioning, math layout): matplotlib lays
#: the text out itself and a PDF shows glyphs by their ids, so no PDF reader reads these tables
#: of an embedded font; left out of the PDF's font subsets (:func:`_subsets_without_layout`)
LAYOUT_TABLES = ("GSUB", "GPOS", "GDEF", "MATH", "BASE", "JSTF")


@contextmanager
def _subsets_without_layout():
    """While a PDF is written, the fonts it embeds are subset without :data:`LAYOUT_TABLES`.

    matplotlib subsets each embedded TrueType font with fontTools
    (``fontTools.subset.load_font`` then a ``Subsetter`` with the same options); reading
    DejaVu Sans' kerning and substitution tables took two thirds of that time, about 0.05 s
    per font and figure, for tables the PDF never uses. matplotlib offers no setting for
    the subset's tables, so ``load_font`` is wrapped to add them to the options' dropped
    tables. Should matplotlib stop calling it, the fonts are subset as before (a test
    says so: tests/present/test_figures.py, the PDF's embedded fonts)."""
    from fontTools import subset

    load = subset.load_font

    def load_font(font_file, options, *args, **kwargs):
        options.drop_tables += [tag for tag in LAYOUT_TABLES if tag not in options.drop_tables]
        return load(font_file, options, *args, **kwargs)

    subset.load_font = load_font
    try:
        yield
    finally:
        subset.load_font = load


def _write_vector(fig: Figure, fmt: str, metadata: dict, path: Path) -> None:
    # the resolution of any part drawn as an image (a dense scatter, zph.DENSE_POINTS); a
    # figure without one is written byte for byte as without it
    with _subsets_without_layout() if fmt == "pdf" else nullcontext():
        fig.savefig(path, format=fmt, metadata=metadata, dpi=TIFF_DPI)


def _rgb_pixels(fig: Figure):
    """``fig`` rendered at :data:`TIFF_DPI` as an RGB Pillow image.

    The pixels matplotlib's Agg renderer draws (its ``raw`` RGBA buffer) with the
    alpha channel dropped: the same pixels, bit for bit, as the 600-dpi PNG that
    ``savefig`` would encode and Pillow decode again, without the PNG's zlib
    compression and decompression (about 70% of the pixels' time). The buffer is
    the whole figure (``savefig.bbox`` "standard") at the size matplotlib's canvas
    gives it (``FigureCanvasBase.get_width_height``: width x dpi and height x dpi,
    truncated after adding 1e-8); if its length says otherwise, or the bounding
    box is "tight", the PNG route is taken."""
    from PIL import Image  # Pillow is matplotlib's image dependency

    buf = io.BytesIO()
    fig.savefig(buf, format="raw", dpi=TIFF_DPI)
    width_in, height_in = fig.get_size_inches()
    size = (int(width_in * TIFF_DPI + 1e-8), int(height_in * TIFF_DPI + 1e-8))
    raw = buf.getvalue()
    if mpl.rcParams["savefig.bbox"] in (None, "standard") and len(raw) == size[0] * size[1] * 4:
        return Image.frombuffer("RGBA", size, raw, "raw", "RGBA", 0, 1).convert("RGB")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=TIFF_DPI, metadata={"Software": None})
    buf.seek(0)
    with Image.open(buf) as img:
        return img.convert("RGB")


def _write_tiff(fig: Figure, path: Path) -> None:
    _rgb_pixels(fig).save(path, format="TIFF", dpi=(TIFF_DPI, TIFF_DPI), compression="tiff_lzw")


def save_figure(fig: Figure, stem: str, out_dir: str | Path) -> list[Path]:
    """Write ``stem.pdf``, ``stem.svg`` and ``stem.tiff`` (600 dpi) into
    ``out_dir`` as one atomic group (all three appear, or none changes).

    PDF and SVG are vector (TrueType fonts embedded in the PDF; SVG text kept
    as text; a part drawn as an image, such as a dense scatter, at 600 dpi)
    without Creator/Producer/Date metadata; the SVG is
    byte-reproducible. The TIFF is rendered at 600 dpi, flattened to RGB on
    white and written by Pillow with LZW compression, resolution tags and no
    software or date tags. Returns the three paths.
    """
    if not _STEM_RE.match(stem):
        raise ValueError(f"invalid file stem {stem!r} (letters, digits, '_', '-', '.')")
    out = Path(out_dir)
    writers = {
        out / f"{stem}.pdf": partial(_write_vector, fig, "pdf", _PDF_METADATA),
        out / f"{stem}.svg": partial(_write_vector, fig, "svg", _SVG_METADATA),
        out / f"{stem}.tiff": partial(_write_tiff, fig),
    }
    with mpl.rc_context(figure_rc()):
        return write_group(writers)


def figure_makers(results: Results) -> dict[str, Any]:
    """File stem (:data:`FIGURE_STEMS`) -> a function of no arguments drawing
    that figure, for every figure of the manuscript and the supplement."""
    from .. import sensitivity   # imports this module

    supplementary = {
        "zph": partial(zph_figure, results),
        "simon-makuch": partial(sensitivity.simon_makuch_figure, results),
        "cif": partial(sensitivity.cumulative_incidence_figure, results),
    }
    makers = (
        partial(flow_figure, results),
        partial(km_overall_figure, results),
        partial(km_group_figure, results, "salvage_group"),
        partial(km_group_figure, results, "relapse_site"),
        partial(forest_figure, results),
        *(supplementary[name] for name in SUPPLEMENTARY_FIGURES),
    )
    return dict(zip(FIGURE_STEMS, makers))


def export_all(results: Results, out_dir: str | Path, build: Any = None, workers: int = 1,
               meanwhile: Any = None) -> list[Path]:
    """Draw and save every figure of the manuscript and the supplement (stems
    :data:`FIGURE_STEMS`); returns the paths. ``build(make)``, if given, returns
    the figure of a :func:`figure_makers` entry (``functools.partial``) instead
    of calling it (the figure the render's kernels kept,
    :func:`analysis.present.displays.build_figure`).

    ``workers`` > 1 draws the figures in that many forked processes (POSIX
    only; each figure is drawn and written by one process exactly as it would
    be here, so the files are the same bytes): the 600-dpi TIFF and the PDF's
    embedded fonts take about a second per figure, one core each.
    ``meanwhile()``, if given, is called while they draw (else before drawing)."""
    makers = figure_makers(results)
    if workers > 1 and len(makers) > 1:
        import multiprocessing

        if "fork" in multiprocessing.get_all_start_methods():
            done = _export_forked(makers, Path(out_dir), build, min(workers, len(makers)), meanwhile)
            if done is not None:
                return done
            meanwhile = None                            # it ran while the processes were tried
    if meanwhile is not None:
        meanwhile()
    paths: list[Path] = []
    for stem, make in makers.items():
        paths.extend(save_figure(make() if build is None else build(make), stem, out_dir))
    return paths


_JOBS: dict[str, Any] = {}      # what the forked processes of _export_forked inherit


def _draw_one(stem: str) -> list[str]:
    make, build = _JOBS["makers"][stem], _JOBS["build"]
    return [str(p) for p in save_figure(make() if build is None else build(make), stem, _JOBS["out_dir"])]


def _end_with_parent(parent: int) -> None:
    """A drawing process ends when the process that forked it does (Linux's
    PR_SET_PDEATHSIG through ctypes: the standard library has no call for it). A
    post-render step killed while drawing (Ctrl-C in ``quarto render``) left its
    drawing processes waiting for work forever, about 290 MB each."""
    import os
    import signal

    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)   # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):                                # not Linux: as before
        return
    if os.getppid() != parent:                                       # it died before the call
        os._exit(1)


def _export_forked(makers: dict[str, Any], out_dir: Path, build: Any, workers: int,
                   meanwhile: Any = None) -> list[Path] | None:
    """:func:`export_all`'s figures drawn by ``workers`` forked processes, calling
    ``meanwhile()`` here while they draw; None if the processes could not run (the
    caller draws the figures itself; ``meanwhile`` has run)."""
    import multiprocessing
    import os
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    _JOBS.update(makers=makers, build=build, out_dir=out_dir)
    try:
        try:
            pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"),
                                       initializer=_end_with_parent, initargs=(os.getpid(),))
            pending = pool.map(_draw_one, makers)      # forked and submitted now, drawn while meanwhile runs
        except (BrokenProcessPool, OSError):           # the processes could not start
            if meanwhile is not None:
                meanwhile()
            return None
        with pool:
            if meanwhile is not None:
                meanwhile()                            # its own errors are raised as ever
            try:
                done = list(pending)
            except BrokenProcessPool:                  # a process died: the caller draws them
                return None
    finally:
        _JOBS.clear()
    return [Path(p) for paths in done for p in paths]
