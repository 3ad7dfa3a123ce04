"""Cells for the CSV and XLSX files people open in a spreadsheet.

Every file Porchlight writes for a spreadsheet passes its text cells through
`cell_safe`: a voter file or a door note can carry `=HYPERLINK(…)`, and a
spreadsheet would run it as a formula in the organizer's session.
"""

import re

# What makes Excel, LibreOffice or Google Sheets read a cell as a formula (OWASP's list).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# A number or a phone number ("+1 512 555 0101", "-3.5") is data, not a formula.
_PLAIN_NUMBER = re.compile(r"[+-]?[\d\s().-]*\d[\d\s().-]*")


def cell_safe(value):
    """`value` as a spreadsheet will show it and never run it: text that would start a
    formula gets a leading apostrophe, the spreadsheets' own mark for "this is text".
    Anything that is not text, and plain numbers or phone numbers, pass unchanged."""
    if not isinstance(value, str) or not value.startswith(FORMULA_STARTS):
        return value
    if _PLAIN_NUMBER.fullmatch(value):
        return value
    return "'" + value


def row_safe(values):
    """`cell_safe` on every cell of a row."""
    return [cell_safe(value) for value in values]
