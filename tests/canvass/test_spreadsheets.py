"""Spreadsheet cells: formulas are neutralised, numbers and phone numbers are not."""

import pytest

from canvass.spreadsheets import cell_safe, row_safe


@pytest.mark.parametrize(
    "value",
    ["=1+1", '=HYPERLINK("http://x","y")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\t=1"],
)
def test_a_cell_that_would_run_as_a_formula_is_shown_as_text(value):
    assert cell_safe(value) == "'" + value


@pytest.mark.parametrize("value", ["+15125550101", "+1 (512) 555-0101", "-3.5", "Maria", ""])
def test_names_numbers_and_phones_are_left_as_they_are(value):
    assert cell_safe(value) == value


def test_cells_that_are_not_text_pass_unchanged():
    assert row_safe([3, None, 2.5, "=x"]) == [3, None, 2.5, "'=x"]
