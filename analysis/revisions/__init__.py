"""Reviewer revisions: what a reader sees, and what changed between two versions.

* :mod:`.places` — locations as the reader sees them ("Table 2", "Abstract ›
  Results", "Table S5") from the Quarto labels and headings of the documents;
* :mod:`.displays` — every cell of every table, every number-bearing text of
  every figure and every sentence of generated prose, as ledger entries;
* :mod:`.settings` — the analysis settings stored in the ledger, described in words;
* :mod:`.changes` — the letter-ready change table (Markdown and Word);
* :mod:`.freeze` — per-patient fingerprints of ADSL and the data-freeze log;
* :mod:`.markup` — the marked-up manuscript (changed numbers with their previous values).

:mod:`analysis.ledger` builds the ledger and runs ``python -m analysis diff``.
"""
