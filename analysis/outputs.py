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


def _umask_mode() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


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
