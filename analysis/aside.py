"""One computation run aside, in a forked process, while this one goes on.

:func:`aside` starts ``fn(*args, **kwargs)`` in a child made by ``os.fork``
(it inherits the data in memory: nothing is copied or written to disk) and
returns a handle whose :meth:`Aside.result` waits for the value, sent back
pickled through a pipe. A performance device for registry-scale data on a
machine with more than one core: the value is that of calling ``fn`` here.

Nothing is lost or changed on the way: warnings the computation gives are
recorded in the child and given again here, in order, when the result is
taken; if anything goes wrong in the child (an exception, a value that
cannot be pickled, a child that dies), the computation is simply run again
here, so its exception and traceback are those of a plain call (with
``keep=False`` the arguments are not kept for that, so that the parent can
free them: an error in the child is then raised here as a RuntimeError
holding the child's traceback). Without
``os.fork`` (Windows), off the main thread, or when ``enabled`` is false, the
computation runs here when the result is taken.

The standard library's ``concurrent.futures.ProcessPoolExecutor`` would pickle
the arguments (the whole analysis data) into a fresh interpreter that imports
everything again; ``os.fork`` shares them as they are.
"""

from __future__ import annotations

import gc
import os
import pickle
import threading
import warnings
from collections.abc import Callable
from typing import Any

#: Patients from which the registry-scale computations run aside: below, a fork costs more than it saves
#: (and the shipped cohort, the tests and the documents compute in one process).
WORTH_FROM = 20_000
#: ... and up to which: the child's own working set comes on top of the parent's (and pages the
#: parent frees stay with the child), and at 1,000,000 patients the two together peak at ~2.7 GiB
#: (PSS, measured 2026-12-06: validation beside typing 2.7 GiB, the analysis halves 2.5 GiB; one
#: process: 1.8 GiB), above the 2 GiB target, so a million-patient registry is analysed in one
#: process, more slowly, within the memory of a small machine.
WORTH_UNTIL = 500_000


def worth(n_patients: int) -> bool:
    """Whether a computation on ``n_patients`` is run aside (:data:`WORTH_FROM`, :data:`WORTH_UNTIL`)."""
    return WORTH_FROM <= n_patients <= WORTH_UNTIL


class Aside:
    """Handle of a computation started by :func:`aside`."""

    def __init__(self, fn: Callable[..., Any], args: tuple, kwargs: dict, *, enabled: bool,
                 keep: bool = True) -> None:
        self._call: tuple | None = (fn, args, kwargs)
        self._pid: int | None = None
        self._read: int | None = None
        if not (enabled and hasattr(os, "fork") and threading.current_thread() is threading.main_thread()):
            return
        read, write = os.pipe()
        try:
            pid = os.fork()
        except OSError:  # no process left to make: run it here
            os.close(read)
            os.close(write)
            return
        if pid == 0:  # the child: compute, send, leave without running any exit handler of the parent
            # the objects inherited from the parent are no business of the child's cyclic collector:
            # frozen, its collections skip them (and do not write to, so copy, their pages): at
            # 100,000 patients the validation child's collections took 0.2-0.4 s, frozen 0.02-0.07 s
            gc.freeze()
            os.close(read)
            try:
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    value = fn(*args, **kwargs)
                given = [(w.message, w.category, w.filename, w.lineno) for w in caught]
                payload = pickle.dumps(("ok", value, given), protocol=pickle.HIGHEST_PROTOCOL)
            except BaseException:  # noqa: BLE001 - the parent runs it again and raises it there
                import traceback

                payload = pickle.dumps(("failed", traceback.format_exc(), []))
            try:
                with os.fdopen(write, "wb") as out:
                    out.write(payload)
            finally:
                os._exit(0)
        os.close(write)
        self._pid, self._read = pid, read
        if not keep:
            self._call = None

    def cancel(self) -> None:
        """Stop the child (its value is not wanted: the parent's computation failed)."""
        if self._pid is None:
            return
        import signal

        try:
            os.kill(self._pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        os.waitpid(self._pid, 0)
        os.close(self._read)
        self._pid = None

    def result(self) -> Any:
        """The value of the computation (waits for the child)."""
        if self._pid is None:
            fn, args, kwargs = self._call
            return fn(*args, **kwargs)
        try:
            with os.fdopen(self._read, "rb") as pipe:
                data = pipe.read()
        finally:
            os.waitpid(self._pid, 0)
            self._pid = None
        try:
            status, value, given = pickle.loads(data)
        except Exception:  # noqa: BLE001 - a child that died before sending: compute it here
            status, value, given = "failed", "the process ended without a result", []
        if status != "ok":
            if self._call is None:
                raise RuntimeError(f"the computation run aside failed:\n{value}")
            fn, args, kwargs = self._call
            return fn(*args, **kwargs)
        for message, category, filename, lineno in given:
            warnings.warn_explicit(message, category, filename, lineno)
        return value


def aside(fn: Callable[..., Any], /, *args: Any, enabled: bool = True, keep: bool = True, **kwargs: Any) -> Aside:
    """Start ``fn(*args, **kwargs)`` in a forked process; ``.result()`` gives its value."""
    return Aside(fn, args, kwargs, enabled=enabled, keep=keep)
