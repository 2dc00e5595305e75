"""Quarto's pre- and post-render steps, as ``tools/pre_render.py`` and
``tools/post_render.py`` run them: ``python -m analysis.render_steps pre`` and
``python -m analysis.render_steps post --out DIR``.

Each first asks whether nothing changed since the pre-render step's set was
written (its witness, :mod:`analysis.freshness`: the files the stamp was
computed from, re-hashed, without reading the configuration or importing
pandas); then

* ``pre`` keeps the set (:func:`analysis.present.document.prepare` would keep
  it too, after reading the configuration), starts the post-render step's work
  in the background when its set is not kept (the documents' prose changed),
  and lists the unfilled placeholders;
* ``post`` links the export set kept for that stamp
  (:func:`analysis.export.export_kept`, as ``python -m analysis export`` would;
  first waiting for the background worker writing it, as that command does),
  and, when the configuration names no submitted ledger, has no marked-up
  copy to make (:mod:`analysis.revisions.render` writes and reads nothing then).

Anything else takes the full way, exactly as before: ``python -m analysis
prepare``, and ``python -m analysis export --out DIR`` followed by
``python -m analysis.revisions.render --out DIR``, each with its own messages
and exit status.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def _witness() -> tuple[dict | None, dict, dict]:
    """The stamp the pre-render step's witness vouches for (None if it does not), the
    witness and the pre-render step's manifest."""
    from .freshness import fresh_stamp
    from .present.document import PREPARED_FILE, results_path

    try:
        manifest = json.loads((results_path().parent / PREPARED_FILE).read_text(encoding="utf-8"))
        witness = manifest["witness"]
    except (OSError, ValueError, KeyError, TypeError):
        return None, {}, {}
    return fresh_stamp(witness), witness, manifest


def pre() -> int:
    from . import PROJECT_ROOT
    from .present.document import prepared_set, print_unfilled_placeholders, variables_path

    want, _, manifest = _witness()
    kept = prepared_set(want, variables_path()) if want is not None else None
    if kept is None:
        from .__main__ import main

        return main(["prepare"])
    _export_in_background(want, manifest)
    print_unfilled_placeholders(PROJECT_ROOT)
    for path in kept:
        print(path)
    return 0


def _export_in_background(want: dict[str, str], manifest: dict) -> None:
    """The results are kept, but the post-render step's set may not be: an edit of
    the documents' prose or captions changes its key (:func:`analysis.export.set_key`
    covers the project's sources). Then its work starts now, in the background
    worker, as after a new analysis (:mod:`analysis.background_export`), instead of
    in the post-render step after the documents. ``want``: the stamp the witness of
    ``manifest`` (the pre-render step's) vouched for."""
    from . import background_export
    from .export import figure_cache, kept_set, set_cache, set_key
    from .present.document import variables_path
    from .store import current_environment

    if kept_set(set_cache(), set_key(want, environment=current_environment(manifest))) is None:
        background_export.start(want, variables_path(), figure_cache())


def post(out: str) -> int:
    want, witness, manifest = _witness()
    if want is not None and witness.get("submitted_ledger", "unknown") is None:
        from .export import export_kept
        from .store import current_environment

        environment = current_environment(manifest)
        kept = export_kept(out, want, environment=environment)
        if kept is None:                     # the worker of this render may still be writing it
            from .background_export import settle
            from .export import figure_cache

            if settle(figure_cache().parent, want) == "done":
                kept = export_kept(out, want, environment=environment)
        if kept is not None:
            for path in kept:
                print(path)
            return 0
    status = subprocess.call([sys.executable, "-m", "analysis", "export", "--out", out])
    if status == 0:
        status = subprocess.call([sys.executable, "-m", "analysis.revisions.render", "--out", out])
    return status


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv == ["pre"]:
        return pre()
    if len(argv) == 3 and argv[0] == "post" and argv[1] == "--out":
        return post(str(Path(argv[2])))
    print("usage: python -m analysis.render_steps pre | post --out DIR", file=sys.stderr)
    return 2


def _leave(status: int) -> None:
    """End the step's process with ``status`` once its output is flushed, without
    Python's teardown (freeing every module of pandas, scipy ...: a third of a second
    after a fresh analysis). Every file the step writes is complete and closed, and it
    registers no exit handler; a worker it started runs in a session of its own."""
    import os

    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


if __name__ == "__main__":
    _leave(main())
