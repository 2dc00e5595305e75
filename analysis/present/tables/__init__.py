"""The manuscript's tables and the supplementary tables, formatted from :class:`Results`.

Every table is made in two steps:

1. ``*_frame(results) -> pandas.DataFrame``: the display strings, one row per
   displayed row (tidy; a ``section`` column where the table has row groups,
   an ``indent`` column (0, 1, 2) where rows are indented under a heading row,
   a ``test`` column naming the test behind each P value). Every number is
   formatted with :mod:`analysis.present.style`.
2. ``table1(results)`` etc.: a :class:`DisplayTable` built on that same frame.
   In a Jupyter kernel (and so in a Quarto chunk) it displays, according to
   :func:`analysis.present.quarto.declared_format`, as

   * HTML (``"html"`` and other HTML formats): the great_tables table (fixed
     ``id``; column spanners, row groups, indented rows, lettered footnotes on
     the P values naming the tests, general notes, the source note), sent as
     ``text/markdown`` holding a raw HTML block, never as ``text/html``
     (which makes Quarto add jQuery and RequireJS; see ``to_raw_html_markdown``);
   * anything else (``"typst"``, ``"docx"``, ...): a Pandoc grid table built
     from the same frame (column widths from the content, row-group rows in
     bold spanning every column, spanners as a header row, indented rows led
     by no-break spaces, or in Word paragraphs of an indented style), footnote
     marks as Pandoc superscripts (``^a^``), then the source note and
     footnotes as plain paragraphs. Plain Unicode
     ("<", "≥", "–", "χ²", apostrophes as they are), no HTML entities and no
     HTML tags: Quarto passes great_tables' HTML to Typst with the entities
     left literal (``&lt;``, ``&#x27;``), so the HTML is never used there.

   When Quarto does not declare the format (``QUARTO_EXECUTE_INFO`` exists
   from Quarto 1.8; 1.6 and 1.7 do not set it), the table offers both
   ``text/html`` and ``text/markdown`` and Quarto chooses: for HTML targets
   ``text/html`` comes first, for every other target ``text/markdown``
   (``displayDataMimeType`` in quarto-cli ``src/core/jupyter/display-data.ts``).
   So a Typst or Word render never falls back to the HTML whatever the version.

   Quarto documents the Markdown route for computed tables: a chunk with
   ``#| label: tbl-…`` and ``#| tbl-cap:`` whose result is a ``text/markdown``
   output (``IPython.display.Markdown(tabulate(...))`` in Quarto's "Tables ›
   Computations" and "Cross References" examples) becomes a captioned,
   cross-referenceable table in every format. The label must start with ``tbl-``
   and be given together with ``tbl-cap`` (quarto-cli issue 9369: a caption
   without a label does not show in Typst). Captions come from ``tbl-cap``,
   so the tables have no title of their own (``title=`` adds one).

This module formats only: it computes no statistic (no lifelines, scipy or
statsmodels), and reads every number from the :class:`Results` object.
No source pseudonym and no date of any patient is shown.

Results that could not be computed on the data at hand (a
:class:`~analysis.results.NotEstimable` in the results, or a row with a
``not_estimable`` reason) are shown, never dropped silently: a whole table
or section that cannot be estimated becomes one row whose label reads
"Not estimable: <reason>." (``style.fmt_not_estimable``); a single missing
test or model prints "NE" with a marked footnote giving the reason. No cell
or note ever reads "nan" or "None".
"""

from __future__ import annotations

from .display import Footnote, DisplayTable
from .common import SYNTHETIC_NOTE
from .baseline import table1, table1_frame, table1_full, table1_full_frame
from .response import table2, table2_frame, factor_conventions_table, factor_conventions_frame
from .cox import table3, table3_frame, zph_table, zph_frame, cox_full_table, cox_full_frame
from .survival import median_methods_table, median_methods_frame, landmark_table, landmark_frame
from .transplant import (transplant_summary_table, transplant_summary_frame, transplant_listing_table,
                         transplant_listing_frame)
from .study import dictionary_table, dictionary_frame, versions_table, versions_frame, flow_table, flow_frame

__all__ = [
    "DisplayTable",
    "Footnote",
    "SYNTHETIC_NOTE",
    "table1", "table1_frame", "table1_full", "table1_full_frame",
    "table2", "table2_frame",
    "table3", "table3_frame",
    "dictionary_table", "dictionary_frame",
    "factor_conventions_table", "factor_conventions_frame",
    "median_methods_table", "median_methods_frame",
    "landmark_table", "landmark_frame",
    "zph_table", "zph_frame",
    "cox_full_table", "cox_full_frame",
    "transplant_summary_table", "transplant_summary_frame",
    "transplant_listing_table", "transplant_listing_frame",
    "versions_table", "versions_frame",
    "flow_table", "flow_frame",
]
