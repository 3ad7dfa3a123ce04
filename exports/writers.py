"""Writing rows to CSV or XLSX, one row at a time: memory stays flat whatever the count.

Every cell goes through canvass.spreadsheets.cell_safe, so a name like `=HYPERLINK(…)`
is shown as text and never run as a formula.
"""

import csv

from openpyxl import Workbook

from canvass.spreadsheets import row_safe

PROGRESS_EVERY = 2000


def _counted(rows, progress):
    written = 0
    for row in rows:
        yield row
        written += 1
        if progress is not None and written % PROGRESS_EVERY == 0:
            progress(written)


def write_csv(path, header, rows, *, progress=None):
    """Write `header` and `rows` to `path` as UTF-8 CSV. Returns the number of rows written."""
    written = 0
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(row_safe(header))
        for row in _counted(rows, progress):
            writer.writerow(row_safe(row))
            written += 1
    return written


def write_xlsx(path, header, rows, *, sheet="Export", progress=None):
    """Write `header` and `rows` to `path` as XLSX in openpyxl's write-only mode (each row
    goes to a temporary file as it comes). Returns the number of rows written."""
    workbook = Workbook(write_only=True)
    worksheet = workbook.create_sheet(title=sheet[:31])
    worksheet.append(row_safe(header))
    written = 0
    for row in _counted(rows, progress):
        worksheet.append(row_safe(row))
        written += 1
    workbook.save(path)
    return written


WRITERS = {"csv": write_csv, "xlsx": write_xlsx}
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
