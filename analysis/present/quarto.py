"""Which output format Quarto is rendering, for objects that display differently per format.

Quarto runs every chunk once per output format. During a run it sets the
environment variable ``QUARTO_EXECUTE_INFO`` to the path of a JSON file that
describes the format being rendered; ``info["format"]["identifier"]["base-format"]``
names it ("html", "typst", "docx", ...). Outside Quarto (plain Jupyter, tests,
scripts) the variable is absent and the format is taken to be "html".
"""

from __future__ import annotations

import json
import os
from pathlib import Path

EXECUTE_INFO_ENV = "QUARTO_EXECUTE_INFO"
DEFAULT_FORMAT = "html"

#: Base formats that display HTML (Quarto's own list of HTML outputs, plus dashboards).
HTML_FORMATS = frozenset(
    {"html", "html4", "html5", "revealjs", "dashboard", "s5", "slidy", "slideous", "dzslides",
     "epub", "epub2", "epub3"}
)


def output_format() -> str:
    """The base format Quarto is rendering, lower-cased ("html", "typst", "docx", ...).

    Read from the JSON file named by ``QUARTO_EXECUTE_INFO``
    (``format.identifier["base-format"]``). "html" when the variable is absent,
    the file cannot be read or parsed, or the field is missing.
    """
    path = os.environ.get(EXECUTE_INFO_ENV)
    if not path:
        return DEFAULT_FORMAT
    try:
        info = json.loads(Path(path).read_text(encoding="utf-8"))
        base = info["format"]["identifier"]["base-format"]
    except (OSError, ValueError, KeyError, TypeError):
        return DEFAULT_FORMAT
    if not isinstance(base, str) or not base.strip():
        return DEFAULT_FORMAT
    return base.strip().lower()


def is_html() -> bool:
    """True when the current output format displays HTML (see :data:`HTML_FORMATS`)."""
    return output_format() in HTML_FORMATS
