"""Displays drawn ahead of the documents' kernels by the background worker.

On a clean tree every document execution drew its figures, tables and
paragraphs itself (the first execution of each format, about 2 s each). The
background worker (:mod:`analysis.background_export`), started by the
pre-render step, draws them first, ahead of the post-render step's export set,
in the order the executions will ask (:func:`.executions.render_executions`),
and keeps each where the kernels look (``_generated/displays/``) under the key
the asking kernel computes (:func:`.displays.display_key` with
:func:`.displays.display_settings` of the kernel it predicts,
:func:`.executions.predicted_kernel`). A kernel then finds them kept and runs
light (:func:`.displays.light_kernel`).

The worker draws in a forked process (``nice`` 10, :meth:`Ahead.draw`),
started as soon as the keys are announced, while it writes the set at ``nice``
19: the kernels wait for the displays, the set is wanted only by the
post-render step. The drawing process builds each figure when a display first
shows it, in the kernels' order (the first execution waits for no other
figure), and keeps its ``Figure`` (``_generated/figures/``), where the set's
figure files take it from (:meth:`Ahead.figure`); it makes each table once
too, shown in every format, and keeps it (with the HTML an HTML execution
made) in the worker's own folder for the set's ledger and table files
(:meth:`Ahead.table`, not waited for). The first execution's displays, which
its kernel asks for before one process can have drawn them all, are drawn by
two processes (a forked helper takes the next one too). A
display is kept only under the key of the settings in effect while it is
drawn, and never when drawing it (or building its figure) warned or printed (a
kept display carries no chunk text: its kernel draws it, so the warning shows
as without the worker).

The worker announces what it will draw in ``_generated/displays-ahead.json``
(:data:`ANNOUNCED`): its token and folder, the results it draws from (a digest
of :func:`.displays.shared_key`), the functions the documents call, then the
keys, then which failed and when it has finished. A kernel asking for a
display that is not kept yet (:func:`wait_for`) waits for it only when that
manifest is for its own results, names the key (or has not named its keys
yet), the worker that wrote it is alive and still holds the claim of this
render (``claim.json``), nothing failed for the key, and for at most
:data:`WAIT_SECONDS` (after one timeout, a kernel waits no more). Otherwise it
draws as it always did. A wrong prediction only costs time: a kept display is
only ever found under the key of the asking kernel's own settings.

Each execution records what it showed in ``_generated/displays-served/``
(:data:`SERVED_DIR`, one JSON per document and format): displays found kept,
found after waiting (and for how long), and drawn by the kernel itself, so a
reviewer of a real Quarto render can see whether the prediction held.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path
from typing import Any, Callable

from ..background_export import read_json_object

ANNOUNCED = "displays-ahead.json"      # in _generated/
SERVED_DIR = "displays-served"         # in _generated/
#: The longest a kernel waits for one display the worker announced.
WAIT_SECONDS = 30.0
_POLL = 0.02


def digest(shared: str) -> str:
    return hashlib.sha256(shared.encode()).hexdigest()[:32]


def manifest(generated: Path, shared: str) -> dict:
    """The worker's announcement for the results of ``shared``, else {}."""
    found = read_json_object(Path(generated) / ANNOUNCED)
    return found if found.get("shared") == digest(shared) else {}


def worker_alive(found: dict) -> bool:
    """Whether the worker that wrote ``found`` is alive and still this render's."""
    from ..background_export import CLAIM, running

    folder = found.get("worker")
    if not isinstance(folder, str) or not found.get("token"):
        return False
    return read_json_object(Path(folder) / CLAIM).get("token") == found["token"] and running(Path(folder))


# --------------------------------------------------------------------------- the kernel's side

_waited_out: list[bool] = []           # a kernel that once waited in vain waits no more
_served: dict[str, Any] = {}


def wait_for(generated: Path, shared: str, key: str, read: Callable[[Path], Any]) -> Any | None:
    """The display of ``key`` once the worker has drawn it (``read`` of its file), or None
    when the kernel must draw it itself (see the module docstring)."""
    if _waited_out:
        return None
    path = Path(generated) / "displays" / f"{key}.pkl"
    deadline = time.monotonic() + WAIT_SECONDS
    checked = 0.0
    while True:
        found = manifest(generated, shared)
        if not found:
            return None
        keys = found.get("keys")
        if keys is not None and (key not in keys or key in (found.get("failed") or ())):
            return None
        if found.get("finished"):
            return read(path)
        now = time.monotonic()
        if now - checked > 0.2:                       # the lock probe: a few times a second
            if not worker_alive(found):
                return read(path)                     # it may have written it before it ended
            checked = now
        if now > deadline:
            _waited_out.append(True)
            return None
        time.sleep(_POLL)
        shown = read(path)
        if shown is not None:
            return shown


def note(generated: Path, outcome: str, seconds: float = 0.0) -> None:
    """Count one display of this execution: "kept" (found at once), "waited" (drawn ahead,
    found after ``seconds`` of waiting) or "drawn" (by this kernel); written to
    ``_generated/displays-served/<document>.<format>.json``."""
    from .quarto import declared_format

    if not _served:
        _served.update({"document": os.environ.get("QUARTO_DOCUMENT_FILE"),
                        "format": declared_format() or os.environ.get("QUARTO_FIG_FORMAT"),
                        "kept": 0, "waited": 0, "wait_seconds": 0.0, "drawn": 0})
    _served[outcome] += 1
    _served["wait_seconds"] = round(_served["wait_seconds"] + seconds, 3)
    name = f"{Path(str(_served['document'])).name}.{_served['format']}.json"
    try:
        from ..outputs import write_text_atomic

        write_text_atomic(Path(generated) / SERVED_DIR / name, json.dumps(_served, indent=1) + "\n")
    except OSError:
        pass


def served(generated: Path) -> dict[str, dict]:
    """What each execution recorded (:func:`note`), by ``document/format``."""
    out = {}
    for path in sorted((Path(generated) / SERVED_DIR).glob("*.json")):
        found = read_json_object(path)
        if found:
            out[f"{found.get('document')}/{found.get('format')}"] = found
    return out


# --------------------------------------------------------------------------- the worker's side


#: What drawing a display imports on first use (great_tables for an HTML table, matplotlib's SVG
#: backend): imported before the helper forks (:meth:`Ahead.draw`), not in both processes. A name
#: missing here costs time, never a display.
DRAWING_IMPORTS = ("great_tables", "matplotlib.backends.backend_svg")


#: In the worker's staging folder (``ahead-TOKEN/``): the tables the drawing made (:meth:`Ahead.table`).
TABLES_DIR = "tables"


def table_key(fn: Callable, args: tuple, kwargs: dict) -> str:
    """File name of the table ``fn(results, *args, **kwargs)`` the drawing keeps for the set
    (one worker's, of one results: the function and its arguments say which)."""
    return hashlib.sha256("\0".join([fn.__module__, fn.__qualname__, repr(tuple(args)),
                                      repr(sorted(kwargs.items()))]).encode()).hexdigest()[:32]


def _claim(folder: Path, key: str) -> bool:
    """Claim the drawing of display ``key`` (for one of the processes drawing it); False when
    another process claimed it first."""
    try:
        os.close(os.open(Path(folder) / key, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
    except FileExistsError:
        return False
    return True


class _Noisy(Exception):
    """Drawing a display warned or printed: its kernel must draw it, so the chunk shows that too."""


class _quiet:
    """Raise :class:`_Noisy` when the block warns or writes to stdout or stderr (a kept
    display carries no chunk text: the kernel draws such a display itself)."""

    def __init__(self, what: str):
        self.what = what

    def __enter__(self):
        import io
        import sys
        import warnings

        self._warnings = warnings.catch_warnings(record=True)
        self.caught = self._warnings.__enter__()
        warnings.simplefilter("always")
        # what a kernel never shows from library code (Python's default filters; IPython shows
        # deprecations only for code run in __main__, the chunk itself): also the
        # ResourceWarning of some unrelated object collected meanwhile
        for category in (DeprecationWarning, PendingDeprecationWarning, ImportWarning, ResourceWarning):
            warnings.filterwarnings("ignore", category=category)
        self._streams = sys.stdout, sys.stderr
        self.out = io.StringIO()
        sys.stdout = sys.stderr = self.out
        return self

    def __exit__(self, kind, value, tb):
        import sys

        sys.stdout, sys.stderr = self._streams
        self._warnings.__exit__(kind, value, tb)
        if kind is None and (self.caught or self.out.getvalue()):
            said = [str(w.message) for w in self.caught] + ([self.out.getvalue().strip()] if self.out.getvalue() else [])
            raise _Noisy(f"{self.what} warned or printed while drawn ahead (its kernel draws it): "
                         + "; ".join(said)[:300])
        return False


class Ahead:
    """The worker's drawing ahead for the stored results ``store`` (see the module docstring)."""

    def __init__(self, token: str, worker: Path, store: Path, stamp: dict[str, str], root: Path,
                 log: Callable[[str], None] = print, scratch: Path | None = None):
        self.token, self.worker, self.store, self.stamp, self.log = token, Path(worker), Path(store), stamp, log
        #: where the predicted kernels' execute-info files go (the worker's staging folder)
        self.scratch = Path(scratch) if scratch is not None else None
        #: where the drawing keeps each table it made, for the set (:meth:`table`); this worker's only
        self.tables = self.scratch / TABLES_DIR if self.scratch is not None else None
        self.generated = self.store.parent
        self.root = Path(root)
        self.state: dict[str, Any] = {}
        self.plans: list = []
        self.figures: dict[str, Any] = {}      # figure_object_key -> the Figure built by this process
        self._planned: set[str] | None = None  # figure_object_key of the displays' figures (:meth:`figure`)
        #: set in the process that forked the drawing (:meth:`draw`): whether that process still draws
        self.drawing: Callable[[], bool] | None = None
        self.noisy: set[tuple] = set()         # calls that warned or printed: left to every kernel
        self.started = time.perf_counter()     # for the log's "+N s" (the worker sets its own start)

    def _write(self) -> None:
        from ..outputs import write_text_atomic

        write_text_atomic(self.generated / ANNOUNCED, json.dumps(self.state) + "\n")

    def announce(self) -> bool:
        """Say which functions, then which keys, this worker will draw; False when there is
        nothing to draw ahead (no documents, no pre-render manifest)."""
        from .displays import shared_key
        from .executions import render_executions

        executions = render_executions(self.root)
        shared = shared_key(self.store, self.stamp) if executions else None
        if shared is None:
            return False
        self.shared = shared
        self.state = {"token": self.token, "worker": str(self.worker), "shared": digest(shared),
                      "publics": sorted({c[0] for e in executions for c in e.calls}), "keys": None,
                      "failed": [], "finished": False}
        self._write()
        from .displays import display_key, display_settings
        from .executions import predicted_kernel

        with self._scratch() as scratch:
            for e in executions:
                with predicted_kernel(e, scratch) as shell:
                    settings = display_settings(shell)
                self.plans.append((e, [(c, display_key(shared, c[0], c[1], c[2], settings)) for c in e.calls]))
        self.state["keys"] = sorted({k for _, calls in self.plans for _, k in calls})
        self.state["executions"] = {e.name: [k for _, k in calls] for e, calls in self.plans}
        self._write()
        self.log(f"{len(self.state['keys'])} displays announced by +{time.perf_counter() - self.started:.2f} s "
                 f"({time.process_time():.2f} s CPU)")
        return True

    def _scratch(self):
        import tempfile
        from contextlib import nullcontext

        if self.scratch is not None:
            self.scratch.mkdir(parents=True, exist_ok=True)
            return nullcontext(self.scratch)
        return tempfile.TemporaryDirectory(prefix="cart-ahead-")

    def finish(self) -> None:
        """Nothing more will be drawn: no kernel waits from now on (as written by whichever
        process drew: the failed keys it recorded are kept)."""
        if self.state:
            written = read_json_object(self.generated / ANNOUNCED)
            if written.get("token") == self.token:
                self.state = written
            self.state["finished"] = True
            try:
                self._write()
            except OSError:
                pass

    def draw(self, results: Any) -> None:
        """Draw every announced display of ``results`` not kept yet, in the order the
        executions will ask for them. A figure's ``Figure`` is built when a display first
        shows it (never before: the first execution's kernel waits for nothing else), kept
        in ``_generated/figures/`` at once (for the set's figure files, the other drawing
        process and any kernel that draws itself) and shown again in every other format.

        The first execution's displays are drawn by two processes: this one and a forked
        helper (:meth:`_fork_helper`), each taking the next display in that order that
        neither has claimed. That execution's kernel asks for them as fast as it finds them,
        soon after it starts, before one process can have drawn them all (the later kernels
        start after it, when the drawing is ahead): while it starts, the two share what it
        leaves of the machine; then each has a core. A second process for the other
        executions would only cost CPU (each would build what the other built). Only this process
        records a display it could not draw (so that no kernel waits for it): one the
        helper could not draw (it warned, say) it draws again, and whichever the helper
        claimed but left undrawn (it died) once the helper has ended."""
        import shutil
        import tempfile

        from .displays import DISPLAYS_DIR, keep_kept_index

        self._functions = keep_kept_index(self.generated)
        self._made: dict[tuple, Any] = {}   # tables and paragraphs: built once, shown in every format
        self._kept_tables: dict[str, bool] = {}   # table_key -> kept with its HTML (:meth:`_keep_table`)
        folder = self.generated / DISPLAYS_DIR
        every = [(e, call, key) for e, calls in self.plans for call, key in calls]
        before = {key for _, _, key in every if (folder / f"{key}.pkl").exists()}
        t0, cpu0 = time.perf_counter(), time.process_time()
        self.log(f"drawing ahead from +{t0 - self.started:.2f} s")
        if self.scratch is not None:
            claims = self.scratch / "claims"
            claims.mkdir(parents=True, exist_ok=True)
        else:
            claims = Path(tempfile.mkdtemp(prefix="cart-ahead-claims-"))
        first = self.plans[0][0] if self.plans else None
        helper = None
        if first and len(self.plans[0][1]) > 1:
            import importlib

            for name in DRAWING_IMPORTS:       # once, before the fork, instead of in each process
                importlib.import_module(name)
            helper = self._fork_helper(results, claims)
        taken: dict[str, tuple] = {}           # by the helper
        try:
            with self._scratch() as scratch:
                for e, calls in self.plans:
                    with self._kernel(e, Path(scratch)) as shell:
                        for call, key in calls:
                            if taken:
                                self._left_by_helper(results, taken, claims, Path(scratch))
                            if helper is not None and e is first and not _claim(claims, key):
                                taken[key] = (e, call)
                                continue
                            self._draw_one(shell, results, call, key, record=True)
                    self.log(f"{e.name}: drawn ahead by +{time.perf_counter() - self.started:.2f} s "
                             f"({time.process_time() - cpu0:.2f} s CPU)")
                if helper is not None:
                    while helper():
                        time.sleep(0.02)
                    self._left_by_helper(results, taken, claims, Path(scratch), ended=True)
        finally:
            shutil.rmtree(claims, ignore_errors=True)
        drawn = sum(1 for _, _, key in every if key not in before and (folder / f"{key}.pkl").exists())
        self.log(f"displays drawn ahead: {drawn} of {len(self.state['keys'])} for {len(self.plans)} executions "
                 f"in {time.perf_counter() - t0:.1f} s ({time.process_time() - cpu0:.1f} s CPU here)")

    @staticmethod
    def _kernel(e, scratch: Path):
        from .executions import predicted_kernel

        return predicted_kernel(e, scratch)

    def _fork_helper(self, results: Any, claims: Path) -> Callable[[], bool] | None:
        """Fork the helper (see :meth:`draw`): it draws each display of the first execution it
        claims (in ``claims``) and records nothing; one it could not draw it marks ``KEY.left``
        there. Returns whether it still runs; None when none could be forked."""
        from ..background_export import _alive, fork_child
        from .displays import DISPLAYS_DIR

        def draw_claimed() -> None:
            # its own execute-info files: this process would rewrite them while the other reads them
            if self.scratch is not None:
                self.scratch = self.scratch / "helper"
            n = 0
            e, calls = self.plans[0]
            with self._scratch() as scratch, self._kernel(e, Path(scratch)) as shell:
                for call, key in calls:
                    if not _claim(claims, key):
                        continue
                    n += self._draw_one(shell, results, call, key, record=False)
                    if not (self.generated / DISPLAYS_DIR / f"{key}.pkl").exists():
                        _claim(claims, f"{key}.left")
            self.log(f"a helper drew {n} displays ahead by +{time.perf_counter() - self.started:.2f} s "
                     f"({time.process_time():.2f} s CPU)")

        pid = fork_child(draw_claimed)
        return None if pid is None else (lambda: _alive(pid))

    def _left_by_helper(self, results: Any, taken: dict[str, tuple], claims: Path, scratch: Path,
                        ended: bool = False) -> None:
        """Draw (recording a failure) each display of ``taken`` the helper marked as left
        undrawn, or, once it has ``ended``, every one it did not draw; each then leaves ``taken``."""
        from .displays import DISPLAYS_DIR

        for key, (e, call) in list(taken.items()):
            if (self.generated / DISPLAYS_DIR / f"{key}.pkl").exists():
                del taken[key]
            elif ended or (claims / f"{key}.left").exists():
                del taken[key]
                with self._kernel(e, scratch) as shell:
                    self._draw_one(shell, results, call, key, record=True)

    def _draw_one(self, shell: Any, results: Any, call: tuple, key: str, *, record: bool) -> int:
        """Draw the display ``key`` of ``call`` as the predicted kernel ``shell`` would and keep
        it; 1 if drawn, 0 if kept already or not drawn (with ``record``, then said in the
        manifest's failed keys, so that no kernel waits for it)."""
        import pickle
        import traceback

        import matplotlib as mpl

        from ..outputs import write_bytes_atomic
        from .displays import (DISPLAYS_DIR, FIGURES_DIR, build_figure, display_key, display_settings,
                               figure_object_key, format_display, keep_figure)

        path = self.generated / DISPLAYS_DIR / f"{key}.pkl"
        if path.exists():
            return 0
        public, args, kwargs = call
        objects = self.generated / FIGURES_DIR
        mkey = (public, repr(args), repr(sorted(kwargs.items())))
        try:
            fn = self._functions.get(public)
            if fn is None:                       # not a display function: the kernel calls it
                raise LookupError(f"{public} is not a display function")
            if mkey in self.noisy:               # every kernel's call says it again
                raise LookupError(f"{public} warned or printed")
            # kept only under the key of the settings in effect now (never another's)
            if display_key(self.shared, public, args, kwargs, display_settings(shell)) != key:
                raise LookupError(f"{public}: the settings changed since announced")
            if fn.__annotations__["return"] == "JournalFigure":
                fkey = figure_object_key(self.shared, fn, args, kwargs)
                if fkey not in self.figures:
                    with _quiet(public):         # a build that warns is left to the kernels
                        fig = build_figure(fn, results, args, kwargs, objects, self.shared, keep=False)
                    if not (objects / f"{fkey}.pkl").exists():
                        keep_figure(objects, fkey, fig)
                    self.figures[fkey] = fig
                shown = self.figures[fkey]
                shown.set_dpi(mpl.rcParams["figure.dpi"])   # as a kept Figure is given
            else:
                if mkey not in self._made:
                    with _quiet(public):
                        made = fn(results, *args, **kwargs)
                    self._made[mkey] = made      # only when quiet: never shown without its warning
                shown = self._made[mkey]
            with _quiet(public):
                data, metadata = format_display(shell.display_formatter, shown)
            write_bytes_atomic(path, pickle.dumps((data, metadata), protocol=pickle.HIGHEST_PROTOCOL))
            if fn.__annotations__["return"] == "DisplayTable":
                self._keep_table(fn, args, kwargs, shown)
            return 1
        except Exception as exc:           # noqa: BLE001 - that kernel draws it itself
            if isinstance(exc, _Noisy):
                self.noisy.add(mkey)
            if not record:                 # drawn again, and said, by the process that records
                return 0
            if isinstance(exc, _Noisy):
                self.log(str(exc))
            elif "settings changed" in str(exc):
                self.log(str(exc))
            elif not isinstance(exc, LookupError):
                traceback.print_exc()
            self.state["failed"].append(key)
            self._write()
            return 0

    def _keep_table(self, fn: Callable, args: tuple, kwargs: dict, table: Any) -> None:
        """Keep ``table`` (a ``DisplayTable`` this process made and showed quietly) for the
        set (:meth:`table`); again once it holds its HTML (an HTML execution showed it), so
        the set's HTML table files need not make it again. Nothing kept when it cannot be."""
        import pickle

        from ..outputs import write_bytes_atomic
        from .tables.display import _HTML

        if self.tables is None:
            return
        key = table_key(fn, args, kwargs)
        with_html = _HTML in vars(table)
        if self._kept_tables.get(key) in (True, with_html):
            return
        try:
            data = pickle.dumps(table, protocol=pickle.HIGHEST_PROTOCOL)
            self.tables.mkdir(parents=True, exist_ok=True)
            write_bytes_atomic(self.tables / f"{key}.pkl", data)
        except Exception:                  # noqa: BLE001 - the set makes it itself
            return
        self._kept_tables[key] = with_html

    def table(self, fn: Callable, args: tuple, kwargs: dict) -> Any | None:
        """The table ``fn(results, *args, **kwargs)`` the drawing made for the displays, if it
        has kept it by now (:meth:`_keep_table`; never waited for), else None (the caller makes
        it). Only this worker's: the folder is its own and goes with it."""
        import pickle

        from .tables.display import DisplayTable

        if self.tables is None:
            return None
        try:
            table = pickle.loads((self.tables / f"{table_key(fn, args, kwargs)}.pkl").read_bytes())
        except (OSError, pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, ImportError):
            return None
        return table if isinstance(table, DisplayTable) else None

    def figure(self, fn: Callable, args: tuple, kwargs: dict) -> Any | None:
        """The Figure of ``fn(results, *args, **kwargs)`` the displays drawn ahead show, as a
        new one would be (current dpi), or None (the caller builds it). In the process that
        forked the drawing (:attr:`drawing`), the Figure that process keeps in
        ``_generated/figures/`` once it has built it: waited for while it draws, when it
        is one of the displays' (a wrong guess costs time, never another figure: it is
        found only under its own key)."""
        import matplotlib as mpl

        from .displays import FIGURES_DIR, figure_object_key, kept_figure

        key = figure_object_key(self.shared, fn, args, kwargs)
        fig = self.figures.get(key)
        if fig is None and self.drawing is not None and key in self.planned_figures():
            path = self.generated / FIGURES_DIR / f"{key}.pkl"
            while not path.exists() and self.drawing():
                time.sleep(0.05)
            return kept_figure(path.parent, key)
        if fig is not None:
            fig.set_dpi(mpl.rcParams["figure.dpi"])
        return fig

    def planned_figures(self) -> set[str]:
        """The key (:func:`.displays.figure_object_key`) of every figure the announced displays
        show, as the drawing computes it in each predicted kernel."""
        if self._planned is None:
            import tempfile

            from .displays import figure_object_key, kept_functions
            from .executions import predicted_kernel

            functions = kept_functions()
            self._planned = set()
            with tempfile.TemporaryDirectory(prefix="cart-ahead-") as scratch:   # not the drawing's files
                for e, calls in self.plans:
                    with predicted_kernel(e, Path(scratch)):
                        for (public, args, kwargs), _ in calls:
                            fn = functions.get(public)
                            if fn is not None and fn.__annotations__["return"] == "JournalFigure":
                                self._planned.add(figure_object_key(self.shared, fn, args, kwargs))
        return self._planned
