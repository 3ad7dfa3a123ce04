"""Reading: what a file is (encoding, delimiter, header, width) and its rows as cells.

The file is streamed, never held in memory or unpacked to disk: a byte scan
(encoding, row count, binary junk), then the rows themselves. A gzipped file
is read through gzip; a ZIP archive member by member (a state's one file per
county), all in the same layout. A fixed-width layout (Michigan) is cut into
cells at the layout's character positions.
"""

from __future__ import annotations

import csv
import gzip
import io
import multiprocessing
import os
import zipfile
from collections import Counter, deque
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from turf.imports.errors import ImportFileError, LeftOut, RowError
from turf.imports.layouts import ALIAS_TO_FIELD, FIELDS, norm_header

DELIMITERS = {",": "comma", "\t": "tab", "|": "pipe", ";": "semicolon"}
SAMPLE_LINES = 200
# No voter-file row comes near this (North Carolina's are about 600 bytes): a longer
# line is one bad row, read past in chunks, never held whole.
MAX_LINE_BYTES = 1 << 20
csv.field_size_limit(MAX_LINE_BYTES)
CHUNK = 1 << 20


@dataclass
class FileShape:
    """What the byte scan and the first lines tell about a file."""

    encoding: str
    delimiter: str  # "" for a fixed-width layout
    has_header: bool
    quoted: bool
    columns: int
    header: list[str]
    sample: list[list[str]]
    lines: int
    # The columns' names: the header, else the layout's own names, else none.
    names: list[str] = field(default_factory=list)
    widths: tuple = ()  # fixed width: (start, end) of each column
    members: list[str] = field(default_factory=list)  # an archive's files, in order

    @property
    def data_rows(self):
        headers = len(self.members or [""]) if self.has_header else 0
        return max(self.lines - headers, 0)

    def column_choices(self):
        """(index, label) for each column, for the mapping form."""
        choices = []
        for index in range(self.columns):
            name = self.names[index] if index < len(self.names) else ""
            choices.append((index, f"{index + 1}: {name}" if name else f"Column {index + 1}"))
        return choices

    def column_names(self):
        """{index: name} for the report and the extra fields ("column 7" when unnamed)."""
        return {
            i: (self.names[i] if i < len(self.names) and self.names[i] else f"column {i + 1}")
            for i in range(self.columns)
        }


# --- The file's members: a plain file, a gzip stream, or a ZIP archive's members -----


def file_members(path):
    """[(name, open)] for the text inside `path`; `open()` gives a binary stream."""
    with open(path, "rb") as handle:
        magic = handle.read(4)
    if magic[:2] == b"\x1f\x8b":
        return [(Path(path).name.removesuffix(".gz"), lambda: gzip.open(path, "rb"))]
    if magic != b"PK\x03\x04":
        return [(Path(path).name, lambda: open(path, "rb"))]
    try:
        archive = zipfile.ZipFile(path)
        infos = [
            info
            for info in archive.infolist()
            if not info.is_dir() and not info.filename.startswith(("__MACOSX/", "."))
        ]
    except zipfile.BadZipFile:
        raise ImportFileError("The ZIP archive is damaged. Download it again.") from None
    names = {info.filename for info in infos}
    if "[Content_Types].xml" in names or any(n.startswith(("xl/", "word/")) for n in names):
        raise ImportFileError(
            "This is a spreadsheet workbook, not a text file. "
            "Save it as CSV (comma-separated) and upload that."
        )
    if not infos:
        raise ImportFileError("The ZIP archive holds no files.")

    def opener(info):
        return lambda: io.BufferedReader(zipfile.ZipFile(path).open(info), CHUNK)

    return [(info.filename, opener(info)) for info in sorted(infos, key=lambda i: i.filename)]


def _scan_bytes(members):
    """(line count, encoding, lines not UTF-8) from one pass over the raw bytes of every member.

    Valid UTF-8 everywhere → "utf-8". Lines that are not UTF-8 in a file whose
    other non-ASCII lines are → still UTF-8, and those lines become bad rows
    ("undecodable text"). Mostly-invalid → Latin-1, which decodes anything.
    """
    lines = 0
    valid_non_ascii = 0
    invalid = 0

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

    for _name, open_member in members:
        carry = b""
        with open_member() as handle:
            while chunk := handle.read(CHUNK):
                buffer = carry + chunk
                cut = buffer.rfind(b"\n")
                if cut == -1:
                    carry = buffer[-MAX_LINE_BYTES:]  # an over-long line: never held whole
                    continue
                body, carry = buffer[: cut + 1], buffer[cut + 1 :]
                lines += body.count(b"\n")
                if not body.isascii():
                    classify(body)
        if carry:
            lines += 1
            if not carry.isascii():
                classify(carry)
    if invalid and invalid > valid_non_ascii:
        return lines, "latin-1", invalid
    return lines, "utf-8", invalid


def _check_not_binary(head):
    if not head.strip():
        raise ImportFileError("The file is empty. Export the voter file again and upload it.")
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ImportFileError(
            "The file is UTF-16 text. Save it as UTF-8 CSV (or Latin-1) and upload that."
        )
    # A stray NUL or control byte is one bad row; many of them are not a text file.
    controls = sum(1 for byte in head if byte < 32 and byte not in (9, 10, 13))
    if controls > len(head) // 100:
        raise ImportFileError(
            "This does not look like a text file (it holds binary data). "
            "Upload the voter file as CSV, tab- or pipe-delimited text."
        )


TOO_LONG = f"line longer than {MAX_LINE_BYTES // (1 << 20)} MiB: not a voter-file row"
NUL = "holds a NUL byte (binary data), not text"


def decoded_lines(open_member, encoding, bad_lines):
    """The member's lines as text. Lines that cannot be rows are noted in `bad_lines`
    ({line number: reason}) and read as blank; undecodable ones keep their text (with
    replacement characters) so the report can name the column."""
    with open_member() as handle:
        number = 0
        while raw := handle.readline(MAX_LINE_BYTES + 1):
            number += 1
            if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
                while (more := handle.readline(CHUNK)) and not more.endswith(b"\n"):
                    pass
                bad_lines[number] = TOO_LONG
                yield "\n"
                continue
            if b"\x00" in raw:
                bad_lines[number] = NUL
                yield "\n"
                continue
            try:
                text = raw.decode(encoding)
            except UnicodeDecodeError:
                bad_lines[number] = f"text that is not valid {encoding.upper()}"
                text = raw.decode(encoding, "replace")
            if number == 1:
                text = text.removeprefix("\ufeff")
            yield text


def _sniff_delimiter(lines, quoted):
    best = None
    for delimiter in DELIMITERS:
        try:
            rows = list(csv.reader(lines, **dialect(delimiter, quoted)))
        except csv.Error:
            continue
        counts = Counter(len(row) for row in rows if row)
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


def _fixed_cells(line, widths):
    line = line.rstrip("\r\n")
    return [line[start:end].strip() for start, end in widths]


def file_inspect(*, path, has_header=None, preset=None):
    """The shape of the file at `path`, or ImportFileError saying why it cannot be read.

    A preset that fixes the delimiter, the encoding, the column widths or the
    column names (a layout with no header) is followed instead of guessing.
    """
    path = Path(path)
    if not path.is_file():
        raise ImportFileError(f"There is no file at {path}.")
    if path.stat().st_size == 0:
        raise ImportFileError("The file is empty. Export the voter file again and upload it.")
    members = file_members(path)
    try:
        with members[0][1]() as handle:
            _check_not_binary(handle.read(65536))
        lines, encoding, invalid = _scan_bytes(members)
    except (OSError, EOFError, zipfile.BadZipFile, gzip.BadGzipFile) as exc:
        raise ImportFileError(f"The compressed file cannot be read ({exc}).") from None
    if preset and preset.encoding == "latin-1" and encoding == "utf-8" and invalid:
        encoding = "latin-1"  # a Latin-1 layout: a line that is not UTF-8 is Latin-1
    sample_lines = []
    for line in decoded_lines(members[0][1], encoding, {}):
        if line.strip():
            sample_lines.append(line)
        if len(sample_lines) >= SAMPLE_LINES:
            break
    if not sample_lines:
        raise ImportFileError("The file has no rows. Export the voter file again and upload it.")
    widths = tuple(preset.widths) if preset and preset.widths else ()
    layout_names = list(preset.columns) if preset else []
    if widths:
        rows = [_fixed_cells(line, widths) for line in sample_lines]
        has_header = False if has_header is None else has_header
        return FileShape(
            encoding=encoding,
            delimiter="",
            has_header=has_header,
            quoted=False,
            columns=len(widths),
            header=[],
            sample=rows[:5],
            lines=lines,
            names=layout_names,
            widths=widths,
            members=[name for name, _ in members] if len(members) > 1 else [],
        )
    quoted = any('"' in line for line in sample_lines)
    if preset and preset.delimiter:
        delimiter = preset.delimiter
    else:
        delimiter = _sniff_delimiter(sample_lines, quoted)
    try:
        rows = [row for row in csv.reader(sample_lines, **dialect(delimiter, quoted)) if row]
    except csv.Error as exc:
        raise ImportFileError(
            f"The first rows cannot be read as {DELIMITERS[delimiter]}-delimited text: {exc}."
        ) from None
    column_counts = Counter(len(row) for row in rows)
    columns = column_counts.most_common(1)[0][0]
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
        names=header if has_header else layout_names[:columns],
        members=[name for name, _ in members] if len(members) > 1 else [],
    )


# --- The rows: the file cut into pieces, each read and normalised on its own -----------

# One piece of work: about 3,000 North Carolina rows. A quoted file is cut only where
# the quotes before the cut are even (outside any quoted field), up to 16 times this.
PIECE_BYTES = 1 << 21
TOO_LONG_LINE = b"\x00line too long\x00\n"  # stands in for a line never held whole
# Below this many rows a file is read in this process: starting workers costs more.
PARALLEL_MIN_ROWS = 50_000


def _member_pieces(open_member, quoted):
    """The member's bytes in pieces of whole lines (bytes, first of the member?)."""
    with open_member() as handle:
        parts, size, quotes, first = [], 0, 0, True
        partial, skipping = b"", False
        while block := handle.read(CHUNK):
            if skipping:
                cut = block.find(b"\n")
                if cut == -1:
                    continue
                block, skipping = block[cut + 1 :], False
                parts.append(TOO_LONG_LINE)
            data = partial + block
            cut = data.rfind(b"\n")
            if cut == -1:
                partial = data
            else:
                complete, partial = data[: cut + 1], data[cut + 1 :]
                parts.append(complete)
                size += len(complete)
                if quoted:
                    quotes += complete.count(b'"')
            if len(partial) > MAX_LINE_BYTES:  # an over-long line: never held whole
                partial, skipping = b"", True
            if size >= PIECE_BYTES and (not quotes % 2 or size >= 16 * PIECE_BYTES):
                yield b"".join(parts), first
                parts, size, quotes, first = [], 0, 0, False
        if skipping:
            parts.append(TOO_LONG_LINE)
        if partial:
            parts.append(partial)
        if parts:
            yield b"".join(parts), first


def _piece_lines(blob, encoding, bad_lines, first):
    """A piece's lines as text, as decoded_lines gives them (bad ones noted, read as blank)."""
    text = None
    if b"\x00" not in blob and (
        len(blob) <= MAX_LINE_BYTES or max(map(len, blob.split(b"\n"))) <= MAX_LINE_BYTES
    ):
        try:
            text = blob.decode(encoding)
        except UnicodeDecodeError:
            pass
    if text is not None:  # the usual case: the whole piece at once
        if first:
            text = text.removeprefix("\ufeff")
        return io.StringIO(text, newline="\n")
    return _piece_lines_one_by_one(blob, encoding, bad_lines, first)


def _piece_lines_one_by_one(blob, encoding, bad_lines, first):
    for number, raw in enumerate(io.BytesIO(blob), 1):
        if raw == TOO_LONG_LINE or len(raw.rstrip(b"\r\n")) > MAX_LINE_BYTES:
            bad_lines[number] = TOO_LONG
            yield "\n"
            continue
        if b"\x00" in raw:
            bad_lines[number] = NUL
            yield "\n"
            continue
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            bad_lines[number] = f"text that is not valid {encoding.upper()}"
            text = raw.decode(encoding, "replace")
        if number == 1 and first:
            text = text.removeprefix("\ufeff")
        yield text


class _Events:
    """A report's add, warn and leave_out, noted to be replayed on the real report."""

    def __init__(self):
        self.events = []

    def add(self, row, column, reason, value=""):
        self.events.append((0, row, column, reason, value))

    def warn(self, row, column, reason, value=""):
        self.events.append((1, row, column, reason, value))

    def leave_out(self, reason):
        self.events.append((2, 0, "", reason, ""))


def piece_rows(piece, shape, normalise, column_names):
    """Read and normalise one piece: ([(row, staged values)], report events, rows read).

    Rows are numbered from 1 within the piece (the header, in a member's first piece, is
    row 1, as a spreadsheet shows it); the caller adds the rows read before."""
    blob, first = piece
    report = _Events()
    rows = list(_member_rows(blob, first, shape, normalise, column_names, report, counted := []))
    return rows, report.events, counted[0]


def _replay(events, report, offset):
    for kind, row, column, reason, value in events:
        if kind == 0:
            report.add(row + offset, column, reason, value)
        elif kind == 1:
            report.warn(row + offset, column, reason, value)
        else:
            report.leave_out(reason)


_WORKER = {}  # in each worker process: what every piece is read with


def _worker_init(shape, normalise, column_names):
    _WORKER.update(shape=shape, normalise=normalise, column_names=column_names)


def _worker_piece(piece):
    return piece_rows(piece, _WORKER["shape"], _WORKER["normalise"], _WORKER["column_names"])


@contextmanager
def normalising_pool(shape, normalise, column_names, workers=None):
    """Worker processes that read and normalise the file's pieces, one per core (None when
    the file is small, there is one core, or processes cannot be started here).

    Started before any thread of the import: the workers are forked, and get the normaliser
    as it is, without pickling it."""
    workers = os.cpu_count() if workers is None else workers
    if workers < 2 or shape.data_rows < PARALLEL_MIN_ROWS:
        yield None
        return
    try:
        pool = multiprocessing.get_context("fork").Pool(
            workers, initializer=_worker_init, initargs=(shape, normalise, column_names)
        )
    except (AssertionError, OSError, ValueError):  # e.g. a daemonic process cannot have children
        yield None
        return
    try:
        yield pool
    finally:
        pool.terminate()
        pool.join()


def rows_read(path, shape, normalise, column_names, report, pool=None):
    """Yield (row number, staged values) for good rows; bad rows go to `report`.

    Row numbers count the header as row 1, as a spreadsheet shows them; in an
    archive they count within each member, and the report names the member. With a
    `pool` (normalising_pool), pieces of the file are read and normalised in its worker
    processes, a few pieces ahead, and come back in the file's order.
    """
    members = file_members(path)
    lines_before = 0
    for name, open_member in members:
        report.member = name if len(members) > 1 else ""
        pieces = _member_pieces(open_member, shape.quoted and not shape.widths)
        offset = 0
        for rows, events, counted in _pieces_read(pieces, shape, normalise, column_names, pool):
            if events:
                _replay(events, report, offset)
            for row_number, values in rows:
                yield lines_before + offset + row_number, values  # the position, for progress
            offset += counted
        lines_before += offset
    report.member = ""


def _pieces_read(pieces, shape, normalise, column_names, pool):
    if pool is None:
        for piece in pieces:
            yield piece_rows(piece, shape, normalise, column_names)
        return
    ahead = deque()
    window = 2 * pool._processes + 1  # enough to keep every worker busy, no more in memory
    for piece in pieces:
        ahead.append(pool.apply_async(_worker_piece, (piece,)))
        if len(ahead) >= window:
            yield ahead.popleft().get()
    while ahead:
        yield ahead.popleft().get()


def _member_rows(blob, first, shape, normalise, column_names, report, counted):
    bad_lines = {}
    lines = _piece_lines(blob, shape.encoding, bad_lines, first)
    if shape.widths:
        widths = shape.widths
        reader = (_fixed_cells(line, widths) if line.strip() else [] for line in lines)
        line_numbers = None
    else:
        reader = csv.reader(lines, **dialect(shape.delimiter, shape.quoted))
        line_numbers = reader
    width = shape.columns
    row_number = 0
    last_line = 0
    counted.append(0)
    if shape.has_header and first:
        try:
            next(reader)
        except (StopIteration, csv.Error):
            return
        row_number = 1
        last_line = line_numbers.line_num if line_numbers else 1
    while True:
        counted[0] = row_number
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            row_number += 1
            report.add(row_number, "", f"unreadable row: {exc}")
            last_line = line_numbers.line_num
            continue
        row_number += 1
        counted[0] = row_number
        line_num = line_numbers.line_num if line_numbers else row_number
        if bad_lines:
            reason = next(
                (bad_lines[n] for n in range(last_line + 1, line_num + 1) if n in bad_lines), None
            )
            if reason is not None:
                last_line = line_num
                column = next(
                    (column_names[i] for i, c in enumerate(cells) if "\ufffd" in c and i < width),
                    "",
                )
                report.add(row_number, column, reason)
                continue
        last_line = line_num
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
        except LeftOut as left_out:
            normalise.warnings.clear()
            report.leave_out(left_out.reason)
            if left_out.external_id:
                # Not a door; but if the campaign has this voter, the writer marks them inactive.
                yield row_number, (left_out.external_id, left_out.voter_status)
            continue
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
    if field_name in column_names.values():
        return field_name  # already a column (an extra field)
    index = mapping.get(field_name)
    if index is None and field_name == "address":
        index = mapping.get("house_number", mapping.get("street"))
    if index is None:
        return FIELDS.get(field_name, field_name)
    if isinstance(index, tuple | list):
        return " + ".join(column_names[i] for i in index)
    return column_names[index]
