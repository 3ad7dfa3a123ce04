"""The job: an ImportJob's life from upload to report — create, run, fail, progress.

A file that cannot be read at all fails the job with one message and writes no
household or person; bad rows go to the report with their row and column.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from canvass.celery import enqueue_on_commit
from canvass.models import AuditEvent
from turf.imports.errors import ImportFileError
from turf.imports.layouts import (
    layout_rules,
    mapping_by_name,
    mapping_guess,
    mapping_resolve,
    preset_get,
)
from turf.imports.normalising import STAGE_COLUMNS, Normaliser, normalising_caches_clear
from turf.imports.reading import file_inspect, normalising_pool, rows_read
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
    left_out: Counter = field(default_factory=Counter)  # reason → rows not made into doors
    member: str = ""  # the archive member being read, if the file is an archive
    _last_warned_row: tuple = ()

    def _entry(self, row, kind, column, reason, value):
        entry = {"row": row, "kind": kind, "column": column, "reason": reason, "value": value}
        if self.member:
            entry["file"] = self.member
        return entry

    def leave_out(self, reason):
        self.left_out[reason] += 1

    def add(self, row, column, reason, value=""):
        self.failed += 1
        if self.failed <= MAX_REPORTED_ERRORS:
            self.errors.append(self._entry(row, REFUSED, column, reason, value))

    def warn(self, row, column, reason, value=""):
        if (self.member, row) != self._last_warned_row:
            self.warned += 1
            self._last_warned_row = (self.member, row)
        if self.warnings_kept < MAX_REPORTED_ERRORS:
            self.warnings_kept += 1
            self.errors.append(self._entry(row, WARNING, column, reason, value))


PROGRESS_EVERY = 1.0  # seconds between progress writes to the job row


def import_job_create(
    *,
    campaign,
    created_by=None,
    upload=None,
    original_name="",
    preset="",
    column_mapping=None,
    complete=False,
):
    """Record an import (and store the uploaded file, if any) before it is mapped and run.

    `complete`: the file is the whole list for its area, so the campaign's voters it
    no longer holds are marked inactive (never deleted)."""
    job = ImportJob(
        campaign=campaign,
        created_by=created_by,
        original_name=original_name or (upload.name if upload else ""),
        preset=preset,
        column_mapping=column_mapping or {},
        complete=complete,
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
    if path is not None:
        return _run(job, Path(path), has_header, progress, fast)
    try:
        with stored_file(job) as local:
            job = _run(job, local, has_header, progress, fast)
    except ImportFileError as exc:
        return import_job_fail(job=job, message=str(exc))
    if job.status == ImportJob.Status.DONE and job.file:
        # The voter file is not kept once it is in: its rows are people now, and the
        # report keeps what went wrong.
        job.file.delete(save=False)
        ImportJob.objects.filter(pk=job.pk).update(file="")
    return job


@contextmanager
def stored_file(job):
    """A local path to the job's uploaded file, through Django's storage API: the file
    itself on a shared volume, else a temporary copy streamed from the storage (S3)."""
    if not job.file:
        raise ImportFileError("The import has no file (it was removed after a finished import).")
    storage, name = job.file.storage, job.file.name
    try:
        local = Path(storage.path(name))
    except NotImplementedError:  # S3 and the like: no local path
        local = None
    if local is not None and local.is_file():
        yield local
        return
    if not storage.exists(name):
        raise ImportFileError(
            f"The uploaded file is not where it was stored ({name}). Every process must "
            "reach the same storage (MEDIA_ROOT on a shared volume, or S3); upload it again."
        )
    with tempfile.NamedTemporaryFile(suffix=Path(name).suffix) as copy:
        with storage.open(name, "rb") as remote:
            shutil.copyfileobj(remote, copy, 1 << 20)
        copy.flush()
        yield Path(copy.name)


def _run(job, path, has_header, progress, fast):
    campaign = job.campaign
    started = time.monotonic()
    try:
        preset = preset_get(campaign=campaign, name=job.preset) if job.preset else None
        if has_header is None:
            has_header = job.has_header
        if has_header is None and preset:
            has_header = preset.has_header
        mapping = job.column_mapping or (preset.mapping if preset else {})
        shape = file_inspect(path=path, has_header=has_header, preset=preset)
        resolved = mapping_resolve(mapping or mapping_guess(shape), shape)
        rules = layout_rules(preset, shape, resolved)
    except ImportFileError as exc:
        return import_job_fail(job=job, message=str(exc))

    job.status = ImportJob.Status.RUNNING
    job.phase = ImportJob.Phase.READING
    job.heartbeat_at = timezone.now()
    job.error = ""
    job.rows_total = shape.data_rows
    job.rows_done = 0
    job.encoding = shape.encoding
    job.delimiter = shape.delimiter
    job.has_header = shape.has_header
    job.column_mapping = mapping_by_name(resolved, shape)
    job.save()

    column_names = shape.column_names()
    normalise = Normaliser(
        mapping=rules["mapping"],
        region=campaign.phone_region,
        column_names=column_names,
        status=rules["status"],
        left_out=rules["left_out"],
    )
    report = Report()
    last_write = [time.monotonic()]

    def on_progress(row_number):
        now = time.monotonic()
        if row_number is not None:
            job.rows_done = min(row_number, job.rows_total)
        if now - last_write[0] >= PROGRESS_EVERY:
            last_write[0] = now
            ImportJob.objects.filter(pk=job.pk).update(
                rows_done=job.rows_done, rows_failed=report.failed, heartbeat_at=timezone.now()
            )
        if progress:
            progress(job)

    def on_saving():
        job.phase = ImportJob.Phase.SAVING
        ImportJob.objects.filter(pk=job.pk).update(
            phase=job.phase,
            rows_done=job.rows_total,
            rows_failed=report.failed,
            heartbeat_at=timezone.now(),
        )
        if progress:
            progress(job)

    writer = writer_for(campaign, fast, complete=job.complete)
    # The workers are started before the writer's thread: they read and normalise the
    # file's pieces on every core while this process feeds the database.
    with normalising_pool(shape, normalise, column_names) as pool:
        rows = rows_read(path, shape, normalise, column_names, report, pool=pool)
        try:
            counts = writer.write(rows, on_progress, on_saving)
        except Exception as exc:
            import_job_fail(job=job, message=f"The import stopped: {exc}")
            raise
        finally:
            normalising_caches_clear()

    with transaction.atomic():
        job.status = ImportJob.Status.DONE
        job.phase = ImportJob.Phase.DONE
        job.rows_done = job.rows_total
        job.rows_imported = counts.rows_imported
        job.rows_failed = report.failed
        job.rows_warned = report.warned
        job.rows_left_out = sum(report.left_out.values())
        job.left_out = dict(report.left_out)
        job.people_created = counts.people_created
        job.people_updated = counts.people_updated
        job.households_created = counts.households_created
        job.people_inactivated = counts.people_inactivated
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
                "left_out": dict(report.left_out),
                "people_created": counts.people_created,
                "people_updated": counts.people_updated,
                "households_created": counts.households_created,
                "people_inactivated": counts.people_inactivated,
                "complete": job.complete,
                "preset": job.preset,
                "seconds": round(time.monotonic() - started, 2),
            },
        )
    if progress:
        progress(job)
    return job


def voters_import(
    *,
    campaign,
    path,
    preset="",
    column_mapping=None,
    actor=None,
    progress=None,
    complete=False,
):
    """Import the file at `path` into `campaign` now (the command line's way)."""
    job = import_job_create(
        campaign=campaign,
        created_by=actor,
        original_name=Path(path).name,
        preset=preset,
        column_mapping=column_mapping,
        complete=complete,
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


def voters_preview(*, campaign, path, preset="", column_mapping=None, rows=10):
    """The first `rows` rows of the file as they would be imported, and the problems found
    in them, without writing anything. Raises ImportFileError if the file cannot be read.

    Returns (shape, [(row number, {field: value})], report).
    """
    preset_obj = preset_get(campaign=campaign, name=preset) if preset else None
    shape = file_inspect(
        path=path, has_header=preset_obj.has_header if preset_obj else None, preset=preset_obj
    )
    mapping = column_mapping or (preset_obj.mapping if preset_obj else {})
    resolved = mapping_resolve(mapping or mapping_guess(shape), shape)
    rules = layout_rules(preset_obj, shape, resolved)
    column_names = shape.column_names()
    normalise = Normaliser(
        mapping=rules["mapping"],
        region=campaign.phone_region,
        column_names=column_names,
        status=rules["status"],
        left_out=rules["left_out"],
    )
    report = Report()
    last_row = rows + (1 if shape.has_header else 0)
    good = []
    try:
        for position, values in rows_read(Path(path), shape, normalise, column_names, report):
            if position > last_row:
                break
            if len(values) != 2:  # not a voter left out
                good.append((position, dict(zip(STAGE_COLUMNS, values, strict=True))))
    finally:
        normalising_caches_clear()
    report.errors = [e for e in report.errors if e["row"] <= last_row]
    return shape, good, report


STALE_RUNNING = timedelta(minutes=10)  # progress is written every second while a worker runs
STALE_QUEUED = timedelta(minutes=10)


def import_jobs_sweep(now=None):
    """Fail the imports whose worker died, and send again those whose publish was lost.

    A running job whose heartbeat stopped is failed with a message saying so; on
    PostgreSQL nothing of it was committed (one transaction), elsewhere its
    finished batches stay, and running it again (`import_job_retry`) completes it
    without duplicates. Returns (ids failed, ids sent again).
    """
    now = now or timezone.now()
    stale = ImportJob.objects.filter(status=ImportJob.Status.RUNNING).filter(
        Q(heartbeat_at__lt=now - STALE_RUNNING)
        | Q(heartbeat_at__isnull=True, created_at__lt=now - STALE_RUNNING)
    )
    failed = []
    for job in stale.select_related("campaign", "created_by"):
        last = job.heartbeat_at or job.created_at
        claimed = ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.RUNNING).filter(
            Q(heartbeat_at=job.heartbeat_at) if job.heartbeat_at else Q(heartbeat_at__isnull=True)
        )
        if not claimed.update(status=ImportJob.Status.FAILED):
            continue  # it moved on since it was read
        import_job_fail(
            job=job,
            message=(
                "The worker running this import stopped (last heard from at "
                f"{timezone.localtime(last):%Y-%m-%d %H:%M}). Nothing half-done is visible; "
                "run the import again to finish it."
            ),
        )
        failed.append(job.pk)
    sent = list(
        ImportJob.objects.filter(
            status=ImportJob.Status.PENDING,
            phase=ImportJob.Phase.QUEUED,
            created_at__lt=now - STALE_QUEUED,
        ).values_list("pk", flat=True)
    )
    for pk in sent:
        enqueue_on_commit("turf.tasks.import_job_run", pk)
    return failed, sent


def import_job_retry(*, job, actor=None):
    """Queue a failed import again with its stored file and mapping. People are matched
    by voter id and households by address, so whatever an earlier attempt wrote is
    updated, never duplicated."""
    if job.status != ImportJob.Status.FAILED:
        raise ValidationError("Only a failed import can be run again.")
    if not job.file:
        raise ValidationError("This import's file is no longer stored: upload it again.")
    if not job.column_mapping and not job.preset:
        raise ValidationError("This import was never mapped: upload the file again.")
    updated = ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.FAILED).update(
        status=ImportJob.Status.PENDING,
        phase=ImportJob.Phase.QUEUED,
        error="",
        finished_at=None,
        heartbeat_at=None,
        rows_done=0,
    )
    if updated:
        AuditEvent.objects.create(
            campaign=job.campaign,
            actor=actor,
            action="voters.import_retry",
            target=f"import {job.pk}: {job.original_name}"[:200],
            detail={},
        )
        enqueue_on_commit("turf.tasks.import_job_run", job.pk)
    job.refresh_from_db()
    return job
