"""Check that HTML loads nothing from the network (REVIEW 2026-12-06 item 23:
jQuery, RequireJS and MathJax were fetched from CDNs by the "self-contained" HTML)."""

from __future__ import annotations

import re

#: An http(s) URL in a src attribute (script, img, iframe, ...), quoted or not.
EXTERNAL_SRC = re.compile(r"""\bsrc\s*=\s*["']?\s*(https?:)?//""", re.IGNORECASE)


def external_srcs(html: str) -> list[str]:
    """Every src= that points to http(s) or a protocol-relative // URL, with some context."""
    return [html[m.start():m.start() + 120] for m in EXTERNAL_SRC.finditer(html)]


def assert_no_external_src(html: str) -> None:
    found = external_srcs(html)
    assert not found, "external src= in HTML:\n" + "\n".join(found)
