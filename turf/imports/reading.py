"""Reading: what a file is (encoding, delimiter, header, width) and its rows as cells.

The file is streamed, never held in memory: a byte scan (encoding, row count,
binary junk), then the rows themselves.
"""

from __future__ import annotations

import csv
import functools
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from turf.imports.errors import ImportFileError, RowError
from turf.imports.layouts import ALIAS_TO_FIELD, FIELDS, norm_header

DELIMITERS = {",": "comma", "\t": "tab", "|": "pipe", ";": "semicolon"}
SAMPLE_LINES = 200


@dataclass
class FileShape:
    """What the byte scan and the first lines tell about a file."""

    encoding: str
    delimiter: str
    has_header: bool
    quoted: bool
    columns: int
    header: list[str]
    sample: list[list[str]]
    lines: int

    @property
    def data_rows(self):
        return max(self.lines - (1 if self.has_header else 0), 0)

    def column_choices(self):
        """(index, label) for each column, for the mapping form."""
        choices = []
        for index in range(self.columns):
            name = self.header[index] if self.has_header and index < len(self.header) else ""
            choices.append((index, f"{index + 1}: {name}" if name else f"Column {index + 1}"))
        return choices


def _scan_bytes(path):
    """(line count, encoding) from one pass over the raw bytes.

    Valid UTF-8 everywhere → "utf-8". Lines that are not UTF-8 in a file whose
    other non-ASCII lines are → still UTF-8, and those lines become bad rows
    ("undecodable text"). Mostly-invalid → Latin-1, which decodes anything.
    """
    lines = 0
    valid_non_ascii = 0
    invalid = 0
    carry = b""
    ends_with_newline = True

    def classify(body):
        nonlocal valid_non_ascii, invalid
        try:
            body.decode("utf-8")
            valid_non_ascii += 1
            return
        except UnicodeDecodeError:
            pass
        for line in body.split(b"\n"):
            if line.isascii():
                continue
            try:
                line.decode("utf-8")
                valid_non_ascii += 1
            except UnicodeDecodeError:
                invalid += 1

    with open(path, "rb") as handle:
        for chunk in iter(functools.partial(handle.read, 1 << 20), b""):
            buffer = carry + chunk
            cut = buffer.rfind(b"\n")
            if cut == -1:
                carry = buffer
                continue
            body, carry = buffer[: cut + 1], buffer[cut + 1 :]
            lines += body.count(b"\n")
            if not body.isascii():
                classify(body)
        if carry:
            ends_with_newline = False
            lines += 1
            if not carry.isascii():
                classify(carry)
    del ends_with_newline
    if invalid and invalid > valid_non_ascii:
        return lines, "latin-1"
    return lines, "utf-8"


def _check_not_binary(path):
    with open(path, "rb") as handle:
        head = handle.read(65536)
    if not head.strip():
        raise ImportFileError("The file is empty. Export the voter file again and upload it.")
    if head.startswith(b"PK\x03\x04"):
        raise ImportFileError(
            "This is a spreadsheet workbook or a zip archive, not a text file. "
            "Save it as CSV (comma-separated) and upload that."
        )
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ImportFileError(
            "The file is UTF-16 text. Save it as UTF-8 CSV (or Latin-1) and upload that."
        )
    controls = sum(1 for byte in head if byte < 32 and byte not in (9, 10, 13))
    if b"\x00" in head or controls > len(head) // 100:
        raise ImportFileError(
            "This does not look like a text file (it holds binary data). "
            "Upload the voter file as CSV, tab- or pipe-delimited text."
        )


def decoded_lines(path, encoding, bad_lines):
    """The file's lines as text; lines that fail to decode are noted in `bad_lines`."""
    with open(path, "rb") as handle:
        first = True
        for number, raw in enumerate(handle, 1):
            try:
                text = raw.decode(encoding)
            except UnicodeDecodeError:
                bad_lines.add(number)
                text = raw.decode(encoding, "replace")
            if first:
                text = text.removeprefix("\ufeff")
                first = False
            yield text


def _sniff_delimiter(lines, quoted):
    best = None
    for delimiter in DELIMITERS:
        reader = csv.reader(lines, **dialect(delimiter, quoted))
        counts = Counter(len(row) for row in reader if row)
        if not counts:
            continue
        width, hits = counts.most_common(1)[0]
        if width < 2:
            continue
        score = (hits / sum(counts.values()), width)
        if best is None or score > best[0]:
            best = (score, delimiter)
    if best is None:
        raise ImportFileError(
            "Could not find columns in this file: every row is one single column. "
            "Use a file with commas, tabs or pipes (|) between columns."
        )
    return best[1]


def dialect(delimiter, quoted):
    if quoted:
        return {"delimiter": delimiter, "quotechar": '"', "doublequote": True}
    # No quotes in the sample: a stray quote later on must not swallow the rows after it.
    return {"delimiter": delimiter, "quoting": csv.QUOTE_NONE}


def _looks_like_header(first, rest):
    known = sum(1 for cell in first if norm_header(cell) in ALIAS_TO_FIELD)
    if known >= 2:
        return True
    if any(cell.strip().replace("-", "").isdigit() for cell in first):
        return False
    # A column that is numeric in the data but not in the first row: a header.
    for index, cell in enumerate(first):
        values = [row[index].strip() for row in rest if index < len(row) and row[index].strip()]
        if values and cell.strip() and all(v.isdigit() for v in values):
            return True
    return known >= 1


def file_inspect(*, path, has_header=None):
    """The shape of the file at `path`, or ImportFileError saying why it cannot be read."""
    path = Path(path)
    if not path.is_file():
        raise ImportFileError(f"There is no file at {path}.")
    if path.stat().st_size == 0:
        raise ImportFileError("The file is empty. Export the voter file again and upload it.")
    _check_not_binary(path)
    lines, encoding = _scan_bytes(path)
    sample_lines = []
    for line in decoded_lines(path, encoding, set()):
        if line.strip():
            sample_lines.append(line)
        if len(sample_lines) >= SAMPLE_LINES:
            break
    if not sample_lines:
        raise ImportFileError("The file has no rows. Export the voter file again and upload it.")
    quoted = any('"' in line for line in sample_lines)
    delimiter = _sniff_delimiter(sample_lines, quoted)
    rows = [row for row in csv.reader(sample_lines, **dialect(delimiter, quoted)) if row]
    widths = Counter(len(row) for row in rows)
    columns = widths.most_common(1)[0][0]
    if has_header is None:
        has_header = _looks_like_header(rows[0], rows[1:])
    header = [cell.strip() for cell in rows[0]] if has_header else []
    if has_header:
        columns = len(header)
    return FileShape(
        encoding=encoding,
        delimiter=delimiter,
        has_header=has_header,
        quoted=quoted,
        columns=columns,
        header=header,
        sample=rows[1:6] if has_header else rows[:5],
        lines=lines,
    )


def rows_read(path, shape, normalise, column_names, report):
    """Yield (row number, staged values) for good rows; bad rows go to `report`.

    Row numbers count the header as row 1, as a spreadsheet shows them.
    """
    bad_lines = set()
    lines = decoded_lines(path, shape.encoding, bad_lines)
    reader = csv.reader(lines, **dialect(shape.delimiter, shape.quoted))
    width = shape.columns
    row_number = 0
    last_line = 0
    if shape.has_header:
        try:
            next(reader)
        except StopIteration:
            return
        row_number = 1
        last_line = reader.line_num
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            row_number += 1
            report.add(row_number, "", f"unreadable row: {exc}")
            last_line = reader.line_num
            continue
        row_number += 1
        if bad_lines and any(n in bad_lines for n in range(last_line + 1, reader.line_num + 1)):
            last_line = reader.line_num
            column = next(
                (column_names[i] for i, c in enumerate(cells) if "\ufffd" in c and i < width), ""
            )
            report.add(row_number, column, f"text that is not valid {shape.encoding.upper()}")
            continue
        last_line = reader.line_num
        if len(cells) != width:
            if not cells or (len(cells) == 1 and not cells[0].strip()):
                continue  # blank line
            if not (len(cells) == width + 1 and not cells[-1]):
                report.add(
                    row_number, "", f"wrong number of columns: expected {width}, found {len(cells)}"
                )
                continue
        try:
            values = normalise(cells)
        except RowError as error:
            normalise.warnings.clear()
            column = _column_label(error.column, normalise.get, column_names)
            report.add(row_number, column, error.reason, error.value)
            continue
        if normalise.warnings:
            for warning in normalise.warnings:
                column = _column_label(warning.column, normalise.get, column_names)
                report.warn(row_number, column, warning.reason, warning.value)
            normalise.warnings.clear()
        yield row_number, values


def _column_label(field_name, mapping, column_names):
    """The file's name for the column(s) holding `field_name`, for the report."""
    index = mapping.get(field_name)
    if index is None and field_name == "address":
        index = mapping.get("house_number", mapping.get("street"))
    if index is None:
        return FIELDS.get(field_name, field_name)
    if isinstance(index, tuple | list):
        return " + ".join(column_names[i] for i in index)
    return column_names[index]
