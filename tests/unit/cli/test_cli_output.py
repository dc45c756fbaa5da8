"""output.table reproduces flux's tablewriter layout: cells padded to the column width, a tab after
every data cell, one space after the header's last cell, upper-cased headers, multi-line cells.
"""

from __future__ import annotations

from gotk.cli import output


def test_rows_end_with_a_tab_and_the_header_with_a_space() -> None:
    text = output.table(["Name", "Ready"], [["a", "True"], ["longer", "False"]])
    assert text == "NAME  \tREADY \na     \tTrue \t\nlonger\tFalse\t\n"


def test_header_is_title_formatted() -> None:
    text = output.table(["Last scan", "some_thing", "v1.2"], [])
    assert text == "LAST SCAN\tSOME THING\tV1.2 \n"


def test_empty_header_prints_rows_only() -> None:
    assert output.table([], [["x", "y"]]) == "x\ty\t\n"


def test_multi_line_cells_span_lines() -> None:
    text = output.table(["A", "B"], [["one\ntwo", "x"]])
    assert text == "A  \tB \none\tx\t\ntwo\t \t\n"


def test_wide_characters_count_twice() -> None:
    text = output.table(["N"], [["日本"], ["ab"]])
    assert text == "N    \n日本\t\nab  \t\n"
