"""Presentation layer: formats computed results (tables, figures, text); computes no statistics."""

import os as _os

_STAND_INS: dict = {}


def __getattr__(name: str):
    """In a Quarto render's kernel, ``from analysis.present import tables`` (the documents'
    setup chunk) gives a stand-in that imports the module on first use, so a kernel that
    only shows kept displays never imports it (:class:`.displays.ModuleStandIn`)."""
    from .displays import DISPLAY_MODULES, ModuleStandIn

    if name in DISPLAY_MODULES and "QUARTO_FIG_FORMAT" in _os.environ:
        return _STAND_INS.setdefault(name, ModuleStandIn(name))
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
