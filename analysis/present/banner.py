"""Synthetic-data banners for every output format, written by the pre-render step.

Quarto includes these files in every render (see _quarto.yml):
* HTML: ``banner.html`` (include-before-body), a banner fixed to the top of the page;
* Typst/PDF: ``banner.typ`` (include-in-header, top level before the template's
  show rule), a page footer on every page, with the page number;
* DOCX: ``reference.docx`` (reference-doc), whose page footer pandoc copies into
  the document.
With real data the files are written empty (HTML, Typst) or with the page number
only in the footer (DOCX), so the same _quarto.yml works for both.
"""

from __future__ import annotations

from pathlib import Path

from ..outputs import write_text_atomic
from .docx_reference import pandoc_default_reference, write_reference_docx

TEXT = "SYNTHETIC DATA — not patient data. Every number was computed from a simulated cohort."

HTML = f"""<div class="synthetic-banner" role="note" style="position:sticky;top:0;z-index:1000;
background:#b00020;color:#fff;font-weight:600;text-align:center;padding:6px 12px;
font-family:sans-serif;font-size:14px;">{TEXT}</div>
"""

TYPST = f"""// synthetic-data footer on every page (generated; do not edit)
#set page(footer: context [
  #set text(size: 8pt, fill: rgb("#b00020"), weight: "bold")
  #grid(columns: (1fr, auto), [{TEXT}], [#counter(page).display()])
])
"""


def write_banners(synthetic: bool, out_dir: Path) -> list[Path]:
    out_dir = Path(out_dir)
    base = pandoc_default_reference()
    footer = TEXT if synthetic else None
    return [
        write_text_atomic(out_dir / "banner.html", HTML if synthetic else "<!-- real data: no banner -->\n"),
        write_text_atomic(out_dir / "banner.typ", TYPST if synthetic else "// real data: no banner\n"),
        write_reference_docx(out_dir / "reference.docx", footer=footer, base=base),
        # the review copy's (quarto render --profile review; _quarto-review.yml)
        write_reference_docx(out_dir / "reference-review.docx", footer=footer, base=base, review=True),
    ]
