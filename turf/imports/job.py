"""The job: an ImportJob's life from upload to report — create, run, fail, progress.

A file that cannot be read at all fails the job with one message and writes no
household or person; bad rows go to the report with their row and column.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from canvass.models import AuditEvent
from turf.imports.errors import ImportFileError
from turf.imports.layouts import mapping_by_name, mapping_guess, mapping_resolve, preset_get
from turf.imports.normalising import Normaliser, address_parse
from turf.imports.reading import file_inspect, rows_read
from turf.imports.writing import writer_for
from turf.models import ImportJob

MAX_REPORTED_ERRORS = 50_000  # of each kind
REFUSED, WARNING = "refused", "warning"


@dataclass
class Report:
    """What went wrong, row by row, as shown in the downloadable report.

    A refused row is not imported at all (it cannot be a door or a person); a
    warning names a value that was left out of a row that was imported.
    """

    errors: list = field(default_factory=list)
    failed: int = 0
    warned: int = 0
    warnings_kept: int = 0
    _last_warned_row: int = -1

    def add(self, row, column, reason, value=""):
        self.failed += 1
        if self.failed <= MAX_REPORTED_ERRORS:
            self.errors.append(
                {"row": row, "kind": REFUSED, "column": column, "reason": reason, "value": value}
            )

    def warn(self, row, column, reason, value=""):
        if row != self._last_warned_row:
            self.warned += 1
            self._last_warned_row = row
        if self.warnings_kept < MAX_REPORTED_ERRORS:
            self.warnings_kept += 1
            self.errors.append(
                {"row": row, "kind": WARNING, "column": column, "reason": reason, "value": value}
            )


PROGRESS_EVERY = 1.0  # seconds between progress writes to the job row


def import_job_create(
    *, campaign, created_by=None, upload=None, original_name="", preset="", column_mapping=None
):
    """Record an import (and store the uploaded file, if any) before it is mapped and run."""
    job = ImportJob(
        campaign=campaign,
        created_by=created_by,
        original_name=original_name or (upload.name if upload else ""),
        preset=preset,
        column_mapping=column_mapping or {},
    )
    if upload is not None:
        job.file.save(Path(upload.name).name, upload, save=False)
    job.save()
    return job


def import_job_fail(*, job, message, actor=None):
    """Mark `job` failed with one clear message, and audit the attempt. Nothing else is written."""
    job.status = ImportJob.Status.FAILED
    job.error = message
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "error", "finished_at"])
    AuditEvent.objects.create(
        campaign=job.campaign,
        actor=actor or job.created_by,
        action="voters.import_failed",
        target=f"import {job.pk}: {job.original_name}"[:200],
        detail={"error": message, "preset": job.preset},
    )
    return job


def import_job_run(
    *,
    job,
    path=None,
    has_header=None,
    progress: Callable[[ImportJob], None] | None = None,
    fast=True,
):
    """Read, normalise and write the voter file of `job`. Returns the job, done or failed.

    A file that cannot be read at all fails the job with one message and writes
    no household or person. Good rows go in; each bad row is kept in
    job.error_report with its row number, column and reason; so is each value
    left out of an imported row (a warning).
    """
    path = Path(path or job.file.path)
    campaign = job.campaign
    started = time.monotonic()
    try:
        preset = preset_get(campaign=campaign, name=job.preset) if job.preset else None
        if has_header is None:
            has_header = job.has_header
        if has_header is None and preset:
            has_header = preset.has_header
        mapping = job.column_mapping or (preset.mapping if preset else {})
        shape = file_inspect(path=path, has_header=has_header)
        resolved = mapping_resolve(mapping or mapping_guess(shape), shape)
    except ImportFileError as exc:
        return import_job_fail(job=job, message=str(exc))

    job.status = ImportJob.Status.RUNNING
    job.phase = ImportJob.Phase.READING
    job.rows_total = shape.data_rows
    job.rows_done = 0
    job.encoding = shape.encoding
    job.delimiter = shape.delimiter
    job.has_header = shape.has_header
    job.column_mapping = mapping_by_name(resolved, shape)
    job.save()

    column_names = {i: name for i, name in shape.column_choices()}
    if shape.has_header:
        column_names = dict(enumerate(shape.header))
    normalise = Normaliser(mapping=resolved, region=campaign.phone_region)
    report = Report()
    last_write = [time.monotonic()]

    def on_progress(row_number):
        now = time.monotonic()
        if row_number is not None:
            job.rows_done = row_number - (1 if shape.has_header else 0)
        if now - last_write[0] >= PROGRESS_EVERY:
            last_write[0] = now
            ImportJob.objects.filter(pk=job.pk).update(
                rows_done=job.rows_done, rows_failed=report.failed
            )
        if progress:
            progress(job)

    def on_saving():
        job.phase = ImportJob.Phase.SAVING
        ImportJob.objects.filter(pk=job.pk).update(
            phase=job.phase, rows_done=job.rows_total, rows_failed=report.failed
        )
        if progress:
            progress(job)

    rows = rows_read(path, shape, normalise, column_names, report)
    writer = writer_for(campaign, fast)
    try:
        counts = writer.write(rows, on_progress, on_saving)
    except Exception as exc:
        import_job_fail(job=job, message=f"The import stopped: {exc}")
        raise
    finally:
        address_parse.cache_clear()

    with transaction.atomic():
        job.status = ImportJob.Status.DONE
        job.phase = ImportJob.Phase.DONE
        job.rows_done = job.rows_total
        job.rows_imported = counts.rows_imported
        job.rows_failed = report.failed
        job.rows_warned = report.warned
        job.people_created = counts.people_created
        job.people_updated = counts.people_updated
        job.households_created = counts.households_created
        job.error_report = report.errors
        job.finished_at = timezone.now()
        job.save()
        AuditEvent.objects.create(
            campaign=campaign,
            actor=job.created_by,
            action="voters.import",
            target=f"import {job.pk}: {job.original_name}"[:200],
            detail={
                "rows": job.rows_total,
                "imported": counts.rows_imported,
                "failed": report.failed,
                "warned": report.warned,
                "people_created": counts.people_created,
                "people_updated": counts.people_updated,
                "households_created": counts.households_created,
                "preset": job.preset,
                "seconds": round(time.monotonic() - started, 2),
            },
        )
    if progress:
        progress(job)
    return job


def voters_import(*, campaign, path, preset="", column_mapping=None, actor=None, progress=None):
    """Import the file at `path` into `campaign` now (the command line's way)."""
    job = import_job_create(
        campaign=campaign,
        created_by=actor,
        original_name=Path(path).name,
        preset=preset,
        column_mapping=column_mapping,
    )
    return import_job_run(job=job, path=path, progress=progress)


def error_report_rows(job) -> Iterator[list]:
    """The downloadable report: a header, the refused rows, then the warnings."""
    yield ["row", "problem", "column", "reason", "value"]
    refused = [e for e in job.error_report if e.get("kind", REFUSED) == REFUSED]
    warnings = [e for e in job.error_report if e.get("kind") == WARNING]
    for error in refused:
        yield [error["row"], "refused", error["column"], error["reason"], error.get("value", "")]
    if job.rows_failed > len(refused):
        yield ["", "refused", "", f"…and {job.rows_failed - len(refused)} more refused rows", ""]
    for error in warnings:
        yield [
            error["row"],
            "imported without this value",
            error["column"],
            error["reason"],
            error.get("value", ""),
        ]
