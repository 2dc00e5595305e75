"""Atomic output writing: a failed run never leaves a half-written file, and
never replaces a good output with a broken one.

Every file is written to a temporary name in the same folder and moved into
place with ``os.replace`` (atomic on POSIX and Windows) only once complete.
A group of files (for example ADSL and ADTTE, or the formats of one figure)
is staged first and moved into place together, after all were written.
"""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _umask_mode() -> int:
    return 0o666 & ~_umask()


def write_bytes_atomic(path: Path, data: bytes) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, _umask_mode())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_text_atomic(path: Path, text: str) -> Path:
    return write_bytes_atomic(path, text.encode("utf-8"))


@contextmanager
def staged(paths: list[Path]) -> Iterator[list[Path]]:
    """Yield temporary paths to write; on success move them all onto ``paths``.

    If the block raises, every temporary file is removed and no target changes.
    """
    targets = [Path(p) for p in paths]
    temps = []
    for p in targets:
        p.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{p.stem}.", suffix=f".tmp{p.suffix}", dir=p.parent)
        os.close(fd)
        temps.append(Path(tmp))
    try:
        yield temps
        for tmp, target in zip(temps, targets):
            if not tmp.exists() or tmp.stat().st_size == 0:
                raise RuntimeError(f"{target.name} was not written")
        for tmp, target in zip(temps, targets):
            os.chmod(tmp, _umask_mode())
            os.replace(tmp, target)
    finally:
        for tmp in temps:
            tmp.unlink(missing_ok=True)


def write_group(writers: dict[Path, Callable[[Path], None]]) -> list[Path]:
    """Write several files as one unit: each writer gets a temporary path."""
    targets = list(writers)
    with staged(targets) as temps:
        for tmp, target in zip(temps, targets):
            writers[target](tmp)
    return targets


# --------------------------------------------------------------------------- a whole run as one set

RUNS_DIR = ".runs"
CURRENT = "current"


def _symlink_atomic(target: str, link: Path) -> None:
    """Point ``link`` at ``target`` (relative), replacing what was there in one step."""
    tmp = link.parent / f".{link.name}.{os.getpid()}.tmp"
    tmp.unlink(missing_ok=True)
    os.symlink(target, tmp)
    os.replace(tmp, link)


def _link_entry(folder: Path, name: str, runs: str, replaces: Callable[[Path], bool] | None = None) -> Path | None:
    """``folder/name`` -> ``runs/current/name``. A real file or folder of that name is
    never deleted unless ``replaces`` recognises it as an earlier output of the same kind
    (e.g. a ``_variables.yml`` the ``variables`` command wrote): the user's own, or an
    older layout's folder, is moved aside (:func:`_aside`) and its new place returned;
    else None."""
    entry = folder / name
    want = f"{runs}/{CURRENT}/{name}"
    if entry.is_symlink() and os.readlink(entry) == want:
        return None
    moved = None
    if entry.exists() and not entry.is_symlink() and not (replaces is not None and _recognised(replaces, entry)):
        moved = _aside(entry)
    if entry.is_dir() and not entry.is_symlink():
        import shutil

        shutil.rmtree(entry)                    # recognised as an earlier output: os.replace cannot take a folder
    _symlink_atomic(want, entry)
    return moved


def _recognised(replaces: Callable[[Path], bool], entry: Path) -> bool:
    try:
        return bool(replaces(entry))
    except (OSError, ValueError):
        return False


def _aside(entry: Path) -> Path:
    """Move ``entry`` to ``NAME.before-YYYYMMDD-HHMMSS`` beside it (a number added if taken);
    its new path."""
    import time

    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = entry.with_name(f"{entry.name}.before-{stamp}")
    n = 1
    while target.exists() or target.is_symlink():
        n += 1
        target = entry.with_name(f"{entry.name}.before-{stamp}-{n}")
    os.rename(entry, target)
    return target


def _clean_runs(runs_dir: Path, keep: str) -> None:
    import shutil

    for old in runs_dir.iterdir():
        if old.name not in (keep, CURRENT) and not old.is_symlink():
            shutil.rmtree(old, ignore_errors=True)


def current_run(folder: Path, runs: str = RUNS_DIR) -> Path | None:
    """The folder of the set ``folder`` shows now, if any."""
    link = Path(folder) / runs / CURRENT
    return (link.parent / os.readlink(link)) if link.is_symlink() else None


@contextmanager
def output_set(folder: Path, names: list[str], *, runs: str = RUNS_DIR,
               replaces: Callable[[Path], bool] | None = None) -> Iterator[Path]:
    """Write a whole run's outputs as one set.

    Yields a fresh, empty folder (``folder/runs/run-XXXX``); write every entry
    of ``names`` into it. When the block ends without error and every entry
    exists, the set is swapped in at once: ``folder/runs/current`` is a
    symbolic link to the run's folder, replaced atomically (``os.replace``),
    and each ``folder/<name>`` is a fixed link through it
    (``runs/current/<name>``). So ``folder/<name>`` shows, for every name,
    the same complete run: the earlier one until the swap, the new one after,
    whenever the process is killed. Earlier runs' folders (and any left by a
    killed run) are removed after the swap. If the block raises, the fresh
    folder is removed and nothing visible changes. A real file or folder
    already at ``folder/<name>`` (not a link this function made: the user's
    own, or an older layout's) is moved aside, never deleted, and said on
    stderr (:func:`_link_entry`), unless ``replaces`` recognises it as an
    earlier output of that name (then it is replaced, as the link would be).
    """
    import shutil

    folder = Path(folder)
    runs_dir = folder / runs
    runs_dir.mkdir(parents=True, exist_ok=True)
    run = Path(tempfile.mkdtemp(prefix="run-", dir=runs_dir))
    os.chmod(run, 0o777 & ~_umask())             # mkdtemp makes it private (0700)
    try:
        yield run
        missing = [n for n in names if not (run / n).exists()]
        if missing:
            raise RuntimeError(f"the run did not write {', '.join(missing)}")
    except BaseException:
        shutil.rmtree(run, ignore_errors=True)
        raise
    _symlink_atomic(run.name, runs_dir / CURRENT)
    for name in names:
        moved = _link_entry(folder, name, runs, replaces)
        if moved is not None:
            import sys

            print(f"Note: {folder / name} was a {'folder' if moved.is_dir() else 'file'} of your own (or of an "
                  f"older version of this project); it is kept, renamed {moved.name} (nothing was deleted), "
                  f"and {name} now holds this run's output.", file=sys.stderr)
    _clean_runs(runs_dir, keep=run.name)
