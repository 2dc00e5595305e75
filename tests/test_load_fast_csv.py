"""The fast CSV reader (pandas' C parser, analysis.load._read_csv_fast) reads a file
exactly as the csv module does, or declines it (None) so that the tolerant reader
reads it with its messages. Each case: the table it returns equals the csv module's
records (header = row 1, then every row numbered as in the file)."""

from __future__ import annotations

import csv
import io
import random

import pytest

from analysis.load import _read_csv_fast


def _csv_module(text: str, delimiter: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    return records[0], list(enumerate(records[1:], start=2))


def _agrees(text: str, delimiter: str = ",") -> bool:
    """True when the fast reader took the file (and then read it as the csv module does)."""
    table = _read_csv_fast(text, delimiter)
    if table is None:
        return False
    header, rows = _csv_module(text, delimiter)
    assert table.header == header
    assert table.first_rows(len(rows) + 1) == rows
    return True


@pytest.mark.parametrize(
    "text, taken",
    [
        ("a,b\n1,2\n3,4\n", True),
        ("a,b\r\n1,2\r\n3,4\r\n", True),
        ("a,b\n1,2\r\n3,4", True),  # mixed line ends, no final one
        ("a,b\n 1 , 2 \n,\u00a0x\n", True),  # spaces kept as read
        ("a,b\nNA,nan\n1e5,0012\nTrue,#c\n", True),  # nothing is interpreted
        ("a,b\n\u2028x,\x0cy\n\x85,\x0bz\n", True),  # characters the csv module does not end a line on
        ("a,b\n1,2\n\x85,\x0b\n", False),  # a blank row of other white space
        ("a;b\n1;2\n", False),  # the delimiter asked for (',') is not there: one column
        ("a,b\n1,\"2\"\n", False),  # quotes
        ("\ufeffa,b\n1,2\n", False),  # a byte-order mark left in the text
        ("a,b\r1,2\r", False),  # old Mac line ends
        ("a,b\n1,2\n\n3,4\n", False),  # an empty line
        ("a,b\n1,2\n,\n", False),  # a blank row
        ("a,b\n1,2\n \u00a0, \n", False),  # a blank row of spaces
        ("a,b\n1,2,3\n", False),  # a long row
        ("a,b,c\n1,2\n", False),  # a short row
        ("a,b\n1,2\na,b\n", False),  # the column names again
        ("a,b\n", False),  # no rows
        (",\n1,2\n", False),  # no column names
        ("a\n1\n", False),  # one column
        ("a,b\n1,2\n\n", False),  # an empty line at the end
    ],
)
def test_fast_reader_reads_as_the_csv_module_or_declines(text, taken):
    assert _agrees(text) is taken


def test_fast_reader_with_a_named_delimiter():
    assert _agrees("a;b\n1,5;2\n", ";")
    assert _agrees("a\tb\n1\t 2\n", "\t")


def test_fast_reader_agrees_on_random_files():
    rng = random.Random(14)
    alphabet = ["a", "1", " ", ",", ";", "\n", "\r\n", "\r", '"', "\u00a0", "\ufeff", "é", "\t", "#", "\x0c", "\u2028"]
    taken = 0
    for _ in range(3000):
        width = rng.randint(1, 4)
        lines = [",".join("".join(rng.choice(alphabet[:5] + alphabet[9:]) for _ in range(rng.randint(0, 3)))
                          for _ in range(width)) for _ in range(rng.randint(1, 5))]
        text = "\n".join(lines) + rng.choice(["", "\n", "\r\n"])
        if rng.random() < 0.3:
            text = "".join(rng.choice(alphabet) if rng.random() < 0.05 else ch for ch in text)
        taken += _agrees(text)
    assert taken > 50  # the fast path was exercised, not only declined
