"""The post-render step's work, started early in the background.

The submission set the post-render step writes (numbers ledger, ADaM files,
figures as PDF, SVG and 600-dpi TIFF, table files: :mod:`analysis.export`)
depends on the stored results, the project's sources and the environment, not
on the documents Quarto executes. So when the pre-render step has computed and
stored the results, it starts a **worker** (:func:`start`): a detached process
(its own session; stdin, stdout and stderr not inherited, since Quarto reads
the pre-render step's pipes to their end; output in ``.cache/worker/log.txt``)
that writes the set (when the pre-render step has just computed the results, the
worker is that process forked, with the results and libraries it has in
memory, and keeps no other descriptor of it than ``running.lock``; else a
fresh ``python -m analysis.background_export`` that reads them from the store) while Quarto executes the documents, and keeps it where
the post-render step looks for a kept set (``.cache/export/KEY``, keyed by
:func:`analysis.export.set_key`; its figures in ``.cache/figures/KEY``).
First it draws every display (figure, table, paragraph) each document
execution will show, in the order they will ask, under the key each kernel
will compute, and keeps it where they look (``_generated/displays/``;
:mod:`analysis.present.ahead`), so a clean-tree kernel runs light; each
figure's matplotlib ``Figure`` is built once for this and kept too
(``_generated/figures/``, :mod:`analysis.present.displays`) and reused for the
set's figure files. The worker runs at a lower priority (``nice`` 10): the
documents come first.

The post-render step (:func:`settle`, called by :func:`analysis.export.export`)
waits for the worker of this render's inputs, then takes its set as any kept
set: checked complete and unedited, under the key of everything it was made
from, and linked into the output folder as one set. When the worker failed,
was killed, did not finish within :data:`WAIT_SECONDS`, or was started for
other inputs, its set is not there (or is under another key) and the
post-render step writes the set itself, exactly as without a worker; a failure
is said in one line (no traceback), with the log's place.

A worker from an earlier render never writes into a newer set: it commits
(moves its set and figures into the caches) only while it holds
``commit.lock`` and ``claim.json`` names its token; a new pre-render step and
a post-render step that does not want it withdraw the claim under the same
lock first and stop its processes. It keeps ``Figure`` objects only in the
folder of its own pre-render set (resolved when it starts), under keys of its
own inputs.

Files in ``.cache/worker/`` (beside the figure cache, :func:`analysis.export.figure_cache`):
``claim.json`` (token, process id and stamp of the worker allowed to commit),
``commit.lock``, ``running.lock`` (held by the worker and its processes for
their whole life; taken by the pre-render step and handed to the worker, so a
worker not yet started is never mistaken for one that died), ``done-TOKEN.json``
(how it ended), ``log.txt``, the staging folder ``run-TOKEN/`` and ``ahead-TOKEN/``
(the execute-info files of the kernels it draws ahead for).

No worker is started without POSIX file locks (Windows), or with
``CART_BACKGROUND_EXPORT=0`` in the environment: the post-render step does the
work, as before.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator, Sequence

from . import PROJECT_ROOT

WORKER_DIR = "worker"
CLAIM = "claim.json"
COMMIT_LOCK = "commit.lock"
RUNNING_LOCK = "running.lock"
LOG = "log.txt"
ENV_SWITCH = "CART_BACKGROUND_EXPORT"
#: How long the post-render step waits for the worker before writing the set itself.
WAIT_SECONDS = 180.0
_STAMP_KEYS = ("data_hash", "config_hash", "code_version")
_STARTED: list = []          # the workers' Popen objects, kept so that none is reported as left running


def worker_dir(cache_root: Path) -> Path:
    """The worker's folder beside the caches (``cache_root``: the figure cache's parent)."""
    return Path(cache_root) / WORKER_DIR


def _stamp(want: dict[str, str]) -> dict[str, str]:
    return {k: want[k] for k in _STAMP_KEYS}


def read_json_object(path: Path) -> dict:
    """The JSON object in ``path``; {} when it is missing, unreadable, not JSON or not an
    object (a file another process is replacing is read whole or not at all: every
    writer of these files replaces them atomically)."""
    try:
        found = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


def _write(path: Path, obj: dict) -> None:
    from .outputs import write_text_atomic

    write_text_atomic(path, json.dumps(obj, indent=2) + "\n")


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive lock on ``path`` (``flock``; waits for it)."""
    import fcntl

    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def running(folder: Path) -> bool:
    """Whether a worker (or one of its processes) is alive: it holds ``running.lock``."""
    import fcntl

    try:
        fd = os.open(Path(folder) / RUNNING_LOCK, os.O_RDWR)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)               # also releases the lock if it was free
    return False


def _revoke(folder: Path) -> dict:
    """Withdraw the claim: no worker may commit from now on. Returns the claim withdrawn."""
    with _locked(folder / COMMIT_LOCK):
        claim = read_json_object(folder / CLAIM)
        if claim.get("token"):
            _write(folder / CLAIM, {"token": None, "withdrawn": claim["token"], "pid": claim.get("pid")})
    return claim


def _is_worker(pid: int) -> bool:
    """Whether process ``pid`` is a worker (checked where ``/proc`` tells, Linux; elsewhere
    the claim's process id is trusted while ``running.lock`` is held): its command line
    names this module, or, forked by the pre-render step, it bears :data:`WORKER_NAME`."""
    proc = Path(f"/proc/{pid}/cmdline")
    if not Path("/proc/self/cmdline").exists():
        return True
    try:
        if b"analysis.background_export" in proc.read_bytes():
            return True
        return Path(f"/proc/{pid}/comm").read_bytes().rstrip(b"\n") == WORKER_NAME   # a forked worker
    except OSError:
        return False


def _stop(folder: Path, claim: dict, wait: float = 10.0) -> bool:
    """Stop the running worker, if any (its process group: the worker leads its own
    session); True when none runs any more."""
    import signal

    if not running(folder):
        return True
    pid = claim.get("pid")
    if isinstance(pid, int) and pid > 1 and _is_worker(pid):
        try:
            os.killpg(pid, signal.SIGTERM)     # running.lock is held: the group is the worker's
        except OSError:
            pass
    deadline = time.monotonic() + wait
    while running(folder):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def stop(cache_root: Path) -> bool:
    """Withdraw the claim of any earlier worker and stop it (the pre-render step,
    before it writes a new set); True when no worker runs any more."""
    if os.name != "posix":
        return True
    folder = worker_dir(cache_root)
    if not folder.is_dir():
        return True
    try:
        return _stop(folder, _revoke(folder))
    except OSError:
        return False


def _enabled() -> bool:
    if os.environ.get(ENV_SWITCH, "1").strip() == "0" or os.name != "posix":
        return False
    try:
        import fcntl  # noqa: F401 - POSIX file locks
    except ImportError:  # pragma: no cover - not POSIX
        return False
    return True


def start(want: dict[str, str], variables: Path, figure_cache: Path, *, data: str | None = None,
          config: str | None = None, doc=None) -> int | None:
    """Start the worker for the results the pre-render step just stored beside
    ``variables`` (computed from ``want``, an :func:`analysis.present.document.input_stamp`);
    its process id, or None when no worker was started (the post-render step then
    does the work).

    ``doc``: those results, when this process has just computed them (every library
    they need imported): the worker is then this process forked (:func:`_fork_worker`),
    which neither starts an interpreter nor imports or reads the results again;
    without it (or without ``os.fork``), a fresh ``python -m analysis.background_export``."""
    import fcntl
    import secrets
    import subprocess

    if not _enabled():
        return None
    folder = worker_dir(Path(figure_cache).parent)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if not _stop(folder, _revoke(folder)):
            return None                                  # an earlier worker would not stop
        for old in folder.iterdir():
            if old.name.startswith(("run-", "done-", "ahead-")):
                shutil.rmtree(old) if old.is_dir() else old.unlink()
        token = secrets.token_hex(8)
        argv = [sys.executable, "-m", "analysis.background_export", "--token", token,
                "--variables", str(Path(variables).resolve()), "--figure-cache", str(Path(figure_cache).resolve())]
        argv += ["--data", data] if data else []
        argv += ["--config", config] if config else []
        held = os.open(folder / RUNNING_LOCK, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)   # handed to the worker (pass_fds)
            with _locked(folder / COMMIT_LOCK), open(folder / LOG, "wb") as log:
                if doc is not None and hasattr(os, "fork"):
                    pid = _fork_worker(token, want, Path(variables).resolve(), Path(figure_cache).resolve(),
                                       doc, held, log.fileno(), data, config)
                else:
                    proc = subprocess.Popen(argv, cwd=PROJECT_ROOT, stdin=subprocess.DEVNULL, stdout=log,
                                            stderr=subprocess.STDOUT, start_new_session=True, pass_fds=(held,))
                    _STARTED.append(proc)
                    pid = proc.pid
                try:
                    _write(folder / CLAIM, {"token": token, "pid": pid, "stamp": _stamp(want)})
                except OSError:
                    os.kill(pid, 9)                      # without its claim it could never commit
                    raise
        finally:
            os.close(held)
    except OSError:
        return None
    return pid


#: The name a forked worker gives itself (``/proc/PID/comm``, at most 15 bytes): its command
#: line is the pre-render step's, so :func:`_is_worker` recognises it by this name.
WORKER_NAME = b"cart-bg-export"
_FORKED: list[int] = []        # workers forked by this process, reaped by settle()


def _name_worker() -> None:
    """Name this process :data:`WORKER_NAME` (Linux's PR_SET_NAME through ctypes)."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(15, WORKER_NAME, 0, 0, 0)    # 15 = PR_SET_NAME
    except (OSError, AttributeError):                                     # not Linux: the lock tells
        pass


def _open_descriptors() -> list[int]:
    for listing in ("/proc/self/fd", "/dev/fd"):
        try:
            return sorted(int(name) for name in os.listdir(listing))
        except (OSError, ValueError):
            continue
    return list(range(3, 256))  # pragma: no cover - no descriptor listing


def _fork_worker(token: str, want: dict[str, str], variables: Path, figure_cache: Path, doc, held: int,
                 log: int, data: str | None, config: str | None) -> int:
    """The worker as this process forked, with the results ``doc`` it has in memory;
    returns its process id once it leads its own session under its name. The child
    detaches as the ``python -m analysis.background_export`` process would: its own
    session, ``nice`` 10, stdin from ``/dev/null``, stdout and stderr into ``log``, and
    no other inherited descriptor than ``held`` (``running.lock``): every other one is
    pointed at ``/dev/null`` (so Quarto's pipes of the pre-render step, and the locks
    this process holds, are not kept open by it; the numbers stay taken, so no Python
    object holding one closes a later file by mistake). It never returns: it ends with
    ``os._exit``."""
    sys.stdout.flush()
    sys.stderr.flush()
    ready_r, ready_w = os.pipe()
    pid = os.fork()
    if pid:
        os.close(ready_w)
        try:
            os.read(ready_r, 1)                    # its session and name are set (or it died)
        finally:
            os.close(ready_r)
        _FORKED.append(pid)
        return pid
    code = 1
    try:
        os.setsid()                                # its own group: stop() signals it as a whole
        _name_worker()
        os.write(ready_w, b"1")
        devnull = os.open(os.devnull, os.O_RDWR)
        os.dup2(devnull, 0)
        os.dup2(log, 1)
        os.dup2(log, 2)
        for fd in _open_descriptors():
            if fd > 2 and fd not in (held, devnull):
                try:
                    os.dup2(devnull, fd)
                except OSError:
                    pass                               # closed meanwhile (the listing's own)
        os.close(devnull)
        sys.stdin = open(0, "r", closefd=False)
        sys.stdout = open(1, "w", buffering=1, closefd=False)
        sys.stderr = open(2, "w", buffering=1, closefd=False)
        code = _run(token, figure_cache, variables, data, config, doc=doc, want=want)
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def _say(message: str) -> None:
    print(f"Note: {message}", file=sys.stderr)


def settle(cache_root: Path, want: dict[str, str], wait: float | None = None) -> str:
    """The post-render step, before it looks for a kept set: wait for the worker of
    this render's inputs to finish (or stop one started for other inputs), so that
    no worker commits from then on. Returns what happened: "none", "done",
    "failed", "stopped", "timeout" or "other inputs"; unless "none", also said, with
    how long this step waited, as the last line of the worker's log (what a real
    render's reviewer reads: did the worker finish before the post-render step?)."""
    if os.name != "posix":
        return "none"
    t0 = time.monotonic()
    what = _settle(cache_root, want, wait)
    if what != "none":
        try:
            with open(worker_dir(cache_root) / LOG, "a", encoding="utf-8") as log:
                log.write(f"post-render step: {what} after waiting {time.monotonic() - t0:.2f} s\n")
        except OSError:
            pass
    return what


def _settle(cache_root: Path, want: dict[str, str], wait: float | None) -> str:
    for proc in _STARTED:                        # reap workers this process started that have ended
        proc.poll()
    _FORKED[:] = [pid for pid in _FORKED if _alive(pid)]   # reap forked workers that have ended
    folder = worker_dir(cache_root)
    claim = read_json_object(folder / CLAIM)
    token = claim.get("token")
    if not token:
        return "none"
    log = folder / LOG
    if claim.get("stamp") != _stamp(want):        # started for other data, configuration or code
        _stop(folder, _revoke(folder))
        return "other inputs"
    deadline = time.monotonic() + (WAIT_SECONDS if wait is None else wait)
    done = folder / f"done-{token}.json"
    while True:
        alive = running(folder)
        ended = read_json_object(done)
        if ended:
            if ended.get("ok"):
                return "done"
            _revoke(folder)
            _say(f"the submission files were not prepared in the background ({ended.get('message')}); "
                 f"writing them now (log: {log}).")
            return "failed"
        if not alive:
            _revoke(folder)
            _say(f"the background worker preparing the submission files stopped before it finished; "
                 f"writing them now (log: {log}).")
            return "stopped"
        if time.monotonic() > deadline:
            _stop(folder, _revoke(folder))
            _say(f"the background worker preparing the submission files did not finish within "
                 f"{WAIT_SECONDS if wait is None else wait:.0f} s; writing them now (log: {log}).")
            return "timeout"
        time.sleep(0.05)


# --------------------------------------------------------------------------- the worker


def _keeping_build(doc, want: dict[str, str], ahead=None):
    """A figure builder for :func:`analysis.present.figures.export_all` that builds every
    figure now (in this process, before the files are drawn in forked processes) and keeps
    each ``Figure`` where the documents' kernels look for it; a Figure the displays drawn
    ahead show (``ahead``, :class:`analysis.present.ahead.Ahead`) is the one the drawing
    process built and kept (:meth:`~analysis.present.ahead.Ahead.figure`)."""
    from .present.displays import FIGURES_DIR, build_figure, shared_key
    from .present.document import results_path
    from .present.figures.files import figure_makers

    store = results_path().resolve()              # this pre-render set's own folder, never a newer one
    shared = shared_key(store, want) if store.exists() else None
    folder = store.parent / FIGURES_DIR
    built: dict = {}

    def key(make) -> tuple:
        return make.func, make.args[1:], tuple(sorted(make.keywords.items()))

    def build(make):
        if key(make) not in built:
            fig = ahead.figure(make.func, make.args[1:], make.keywords) if ahead is not None else None
            built[key(make)] = fig if fig is not None else build_figure(
                make.func, make.args[0], make.args[1:], make.keywords, folder, shared, keep=True)
        return built[key(make)]

    for make in figure_makers(doc.results).values():
        build(make)
    return build


def _ahead(token: str, folder: Path):
    """The displays this worker draws ahead of the kernels, announced
    (:class:`analysis.present.ahead.Ahead`); None when there are none to draw."""
    from .present.ahead import Ahead
    from .present.document import PREPARED_FILE, results_path

    store = results_path().resolve()              # this pre-render set's own folder, never a newer one
    stamp = read_json_object(store.parent / PREPARED_FILE).get("stamp")
    if not isinstance(stamp, dict) or not store.exists():
        return None
    ahead = Ahead(token, folder, store, stamp, PROJECT_ROOT, log=lambda line: print(line, flush=True),
                  scratch=folder / f"ahead-{token}")
    try:
        if ahead.announce():
            return ahead
    except Exception:                              # noqa: BLE001 - the kernels draw as before
        import traceback

        traceback.print_exc()
    ahead.finish()
    return None


def work(token: str, figure_cache: Path, data: str | None = None, config: str | None = None, *,
         doc=None, want: dict[str, str] | None = None) -> str:
    """Draw the documents' displays ahead of their kernels (:mod:`analysis.present.ahead`,
    in a forked process) while this process writes the
    set of this render's inputs into ``run-TOKEN`` and commits it to the caches if the claim
    is still this worker's; returns what happened (once the drawing has ended too).
    ``doc`` and ``want``: the results, in memory, and the stamp they were computed from
    (a worker forked by the pre-render step); else they are read from the store."""
    figure_cache = Path(figure_cache)
    folder = worker_dir(figure_cache.parent)
    ahead = _ahead(token, folder)
    try:
        return _work(token, figure_cache, folder, ahead, data, config, doc, want)
    finally:
        if ahead is not None:
            _drawn(ahead, drawing_pid=_DRAWING[0] if _DRAWING else None)
            shutil.rmtree(folder / f"ahead-{token}", ignore_errors=True)


_DRAWING: list[int] = []       # the process drawing ahead, forked by _work


def _draw(ahead, results) -> None:
    try:
        ahead.draw(results)
    except Exception:                              # noqa: BLE001 - the kernels draw what is missing
        import traceback

        traceback.print_exc()


def fork_child(body: Callable[[], None]) -> int | None:
    """Run ``body`` in a forked child that ends with this process (and with ``os._exit``:
    status 0 when ``body`` returned, 1 when it raised); the child's process id, or None when
    no process could be forked. Output buffered so far is flushed first, so the child
    does not write it again."""
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        pid = os.fork()
    except (AttributeError, OSError):
        return None
    if pid:
        return pid
    code = 1
    try:
        from .present.figures.files import _end_with_parent

        _end_with_parent(os.getppid())
        body()
        code = 0
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _fork_drawing(ahead, results) -> None:
    """Draw the displays ahead in a forked process (it ends with this one) while this one
    writes the set at a still lower priority (``nice`` 19: it takes what the kernels and
    the drawing leave); here when no process can be forked."""
    def draw_and_say() -> None:
        _draw(ahead, results)
        ahead.finish()

    pid = fork_child(draw_and_say)
    if pid is None:
        _draw(ahead, results)
        return
    _DRAWING.append(pid)
    ahead.drawing = functools.partial(_alive, pid)      # its Figures are waited for (Ahead.figure)
    try:
        os.nice(9)                             # the set is wanted last: the kernels wait for the displays
    except OSError:  # pragma: no cover
        pass


def _alive(pid: int) -> bool:
    """Whether this process's child ``pid`` has not ended (once ended, it is reaped here)."""
    try:
        return os.waitpid(pid, os.WNOHANG)[0] == 0
    except ChildProcessError:
        return False


def _drawn(ahead, drawing_pid: int | None) -> None:
    """Wait for the process drawing ahead, then say that nothing more will be drawn."""
    if drawing_pid is not None:
        try:
            os.waitpid(drawing_pid, 0)
        except ChildProcessError:
            pass
        _DRAWING.clear()
    ahead.finish()


def _work(token: str, figure_cache: Path, folder: Path, ahead, data: str | None, config: str | None,
          doc=None, want: dict[str, str] | None = None) -> str:
    from . import export as ex
    from .config import load_config
    from .present.document import input_stamp

    sets = figure_cache.parent / "export"
    if doc is not None and want is not None:       # in memory, as the pre-render step computed them
        from .present import style

        style.use_settings(doc.results.settings)   # as export.load_document does
    else:
        doc = None
        cfg = load_config(config, data=data)
        want = input_stamp(cfg)
    if ahead is not None and _stamp(want) == _stamp(ahead.stamp):
        doc = doc if doc is not None else ex.load_document(cfg, want)
        _fork_drawing(ahead, doc.results)          # at once: its Figures are then the set's (Ahead.figure)
    skey = ex.set_key(want)
    if ex.kept_set(sets, skey) is not None:
        return "the set was kept already"
    doc = doc if doc is not None else ex.load_document(cfg, want)
    run = folder / f"run-{token}"
    shutil.rmtree(run, ignore_errors=True)
    run.mkdir(parents=True)
    try:
        written = ex.write_entries(run, doc, want, figure_cache, build=_keeping_build(doc, want, ahead),
                                   made=ahead.table if ahead is not None else None)
        print(f"the set took {written['tables_reused']} tables the drawing made", flush=True)
        with _locked(folder / COMMIT_LOCK):
            if read_json_object(folder / CLAIM).get("token") != token:
                return "withdrawn: not committed"
            ex.commit_figures(figure_cache, run, written)
            ex._keep_set(sets, skey, run)
    finally:
        shutil.rmtree(run, ignore_errors=True)
    return "committed"


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m analysis.background_export --token T --variables F --figure-cache D``
    (started by :func:`start`, not by hand)."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m analysis.background_export")
    parser.add_argument("--token", required=True)
    parser.add_argument("--variables", required=True)
    parser.add_argument("--figure-cache", required=True)
    parser.add_argument("--data")
    parser.add_argument("--config")
    args = parser.parse_args(argv)
    return _run(args.token, Path(args.figure_cache), Path(args.variables), args.data, args.config)


def _run(token: str, figure_cache: Path, variables: Path, data: str | None, config: str | None, *,
         doc=None, want: dict[str, str] | None = None) -> int:
    """The worker's life (a fresh process, or the pre-render step forked): :func:`work`
    at ``nice`` 10, then how it ended in ``done-TOKEN.json``; its exit status."""
    import traceback

    from .present.document import VARIABLES_ENV_VAR

    os.environ[VARIABLES_ENV_VAR] = str(variables)     # this render's stored results
    try:
        os.nice(10)
    except (AttributeError, OSError):  # pragma: no cover
        pass
    folder = worker_dir(Path(figure_cache).parent)
    t0 = time.perf_counter()
    cpu0 = sum(os.times()[:4])                         # zero but in a test calling this itself
    try:
        what, ok = work(token, Path(figure_cache), data, config, doc=doc, want=want), True
    except BaseException as exc:                        # noqa: BLE001 - said in done-TOKEN.json, traceback in the log
        traceback.print_exc()
        what, ok = (str(exc).splitlines() or [type(exc).__name__])[0], False
    cpu = sum(os.times()[:4]) - cpu0                   # this process and its ended forked processes
    print(f"{what} in {time.perf_counter() - t0:.1f} s ({cpu:.1f} s CPU)", flush=True)
    try:
        _write(folder / f"done-{token}.json", {"token": token, "ok": ok, "message": what})
    except OSError:
        return 1
    return 0 if ok else 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
