"""Which output format Quarto is rendering, for objects that display differently per format.

Quarto runs every chunk once per output format. Since Quarto 1.8 it sets the
environment variable ``QUARTO_EXECUTE_INFO`` during a run to the path of a JSON
file that describes the format being rendered
(quarto.org/docs/advanced/quarto-execute-info.html);
``info["format"]["identifier"]["base-format"]`` names it ("html", "typst",
"docx", ...). Quarto 1.6 and 1.7 do not set it, and neither do plain Jupyter,
tests and scripts: :func:`declared_format` is then None, and objects that
display per format must offer every representation and let Quarto choose
(see :class:`analysis.present.tables.DisplayTable`).
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


def declared_format() -> str | None:
    """The base format Quarto says it is rendering, lower-cased ("html", "typst", "docx", ...).

    Read from the JSON file named by ``QUARTO_EXECUTE_INFO``
    (``format.identifier["base-format"]``). None when the variable is absent
    (Quarto before 1.8, or no Quarto at all), the file cannot be read or
    parsed, or the field is missing.
    """
    path = os.environ.get(EXECUTE_INFO_ENV)
    if not path:
        return None
    try:
        info = json.loads(Path(path).read_text(encoding="utf-8"))
        base = info["format"]["identifier"]["base-format"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not isinstance(base, str) or not base.strip():
        return None
    return base.strip().lower()


def output_format() -> str:
    """:func:`declared_format`, or "html" when Quarto does not say."""
    return declared_format() or DEFAULT_FORMAT


def is_html() -> bool:
    """True when the current output format displays HTML (see :data:`HTML_FORMATS`)."""
    return output_format() in HTML_FORMATS
