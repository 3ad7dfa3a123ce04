"""Exports are never silent: each is checked, counted, audited, and fails loudly.

`export_create` checks what was asked (kind, format, filters, columns, who asks) and writes
a pending ExportJob; `export_run` writes its file. Small exports run at once in the request,
large ones in Celery (`export_start` decides), with progress on the job row.

The file is first written to a temporary file. Its row count is then checked against the
query (and the rows left out against the rows matched); only a file that adds up is kept.
On PostgreSQL the count and the rows are read in one REPEATABLE READ snapshot, so a door
recorded while a file is written cannot make it disagree with itself.
"""

import contextlib
import logging
import os
import tempfile
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.db import connection, connections, transaction
from django.utils import timezone

from canvass.access import LEADS
from canvass.celery import enqueue_on_commit
from canvass.models import AuditEvent, Membership
from conversations.notes import story_notes_audit
from exports.kinds import kind_get
from exports.kinds.base import Context
from exports.models import ExportJob, ExportLayout, ResultCode
from exports.writers import WRITERS

log = logging.getLogger(__name__)

Status = ExportJob.Status
Role = Membership.Role
STALE_PENDING = timedelta(minutes=2)
STALE_RUNNING = timedelta(minutes=30)


class ExportShort(Exception):
    """The file would not hold every row the query has: it is an error, not a file."""


def _role(campaign, user):
    if user is None:
        return Role.ORGANIZER  # the command line, on the server itself
    return (
        Membership.objects.filter(user=user, campaign=campaign)
        .values_list("role", flat=True)
        .first()
    )


def export_form(kind, campaign, data, initial=None):
    return kind.filter_form(data, campaign=campaign, initial=initial)


def filters_clean(kind, campaign, raw):
    """The cleaned filters from `raw` (what a form or `--filter` gave), or ValidationError
    naming each bad one."""
    form = export_form(kind, campaign, raw)
    unknown = sorted(set(raw) - set(form.fields))
    if unknown:
        known = ", ".join(form.fields)
        raise ValidationError(
            f"Unknown filter {', '.join(unknown)} for this export. Its filters: {known}."
        )
    if not form.is_valid():
        messages = []
        for name, errors in form.errors.items():
            label = form.fields[name].label if name in form.fields else ""
            prefix = f"{label}: " if label else ""
            messages.extend(prefix + error for error in errors)
        raise ValidationError(messages)
    return form


def columns_clean(kind, campaign, columns, *, may_read_stories):
    """`columns` (keys, in the order wanted) checked against the kind's, or its defaults."""
    available = {column.key: column for column in kind.columns(campaign)}
    if not columns:
        columns = kind.default_columns(campaign)
    unknown = [key for key in columns if key not in available]
    if unknown:
        raise ValidationError(
            f"Unknown column {', '.join(unknown)}. Columns of this export: {', '.join(available)}."
        )
    if len(set(columns)) != len(columns):
        raise ValidationError("A column is chosen twice: keep each column once.")
    if not may_read_stories:
        columns = [key for key in columns if not available[key].story_text]
    return list(columns)


def export_create(
    *,
    campaign,
    kind,
    fmt,
    filters,
    columns=None,
    user,
    include_sensitive=False,
    layout_name="",
):
    """A pending ExportJob for what `user` asked for, once every part of it is checked.

    Raises PermissionDenied unless `user` is an organizer or field lead of `campaign` (None
    is the command line), or asks for sensitive story text without being an organizer;
    ValidationError with every reason for a bad kind, format, filter or column. With
    `layout_name`, the columns are also saved as that named layout.
    """
    try:
        kind_obj = kind_get(kind)
    except ValueError as exc:
        raise ValidationError(str(exc)) from None
    role = _role(campaign, user)
    if role not in LEADS:
        raise PermissionDenied("Only the campaign's organizers and field leads export.")
    if fmt not in WRITERS:
        raise ValidationError(f"“{fmt}” is not a format: choose csv or xlsx.")
    if include_sensitive and role != Role.ORGANIZER:
        raise PermissionDenied("Only organizers may export the story text of sensitive notes.")
    form = filters_clean(kind_obj, campaign, filters)
    columns = columns_clean(kind_obj, campaign, columns, may_read_stories=True)
    with transaction.atomic():
        if layout_name:
            layout_save(campaign=campaign, kind=kind, name=layout_name, columns=columns, user=user)
        return ExportJob.objects.create(
            campaign=campaign,
            kind=kind,
            format=fmt,
            filters=form.serializable(),
            columns=columns,
            include_sensitive=include_sensitive,
            created_by=user,
        )


def layout_save(*, campaign, kind, name, columns, user):
    """Save (or replace) the named layout `name` of `kind`."""
    name = name.strip()
    if not name or len(name) > 60:
        raise ValidationError("Give the layout a name of 1 to 60 characters.")
    columns_clean(kind_get(kind), campaign, columns, may_read_stories=True)
    layout, _ = ExportLayout.objects.update_or_create(
        campaign=campaign,
        kind=kind,
        name=name,
        defaults={"columns": list(columns), "created_by": user},
    )
    return layout


def result_codes_save(*, campaign, codes, user):
    """Set the campaign's VAN result code for each outcome in `codes` ({outcome: code}).

    Raises ValidationError, with nothing saved, for an unknown outcome or a code that is
    blank, longer than 20 characters or not letters and digits."""
    from conversations.models import Visit

    errors = {}
    for outcome, code in codes.items():
        code = (code or "").strip()
        if outcome not in Visit.Outcome.values:
            errors[outcome] = f"“{outcome}” is not a door outcome."
        elif not code or len(code) > 20 or not code.isalnum():
            label = Visit.Outcome(outcome).label
            errors[outcome] = f"{label}: give a code of 1 to 20 letters or digits, as VAN shows it."
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        for outcome, code in codes.items():
            ResultCode.objects.update_or_create(
                campaign=campaign, outcome=outcome, defaults={"code": code.strip()}
            )
        AuditEvent.objects.create(
            campaign=campaign,
            actor=user,
            action="export.result_codes",
            target="VAN result codes",
            detail={"codes": {k: v.strip() for k, v in codes.items()}},
        )


def export_start(*, job):
    """Run `job` now if it is small, else queue it for a worker. Returns the job."""
    kind = kind_get(job.kind)
    form = filters_clean(kind, job.campaign, job.filters)
    ctx = _context(job)
    queryset = kind.queryset(job.campaign, form.cleaned_data, ctx)
    rows = kind.included(queryset, job.campaign, form.cleaned_data).count()
    if rows <= settings.EXPORT_INLINE_MAX_ROWS:
        claimed = ExportJob.objects.filter(pk=job.pk, status=Status.PENDING).update(
            status=Status.RUNNING
        )
        if claimed == 1:
            return export_run(job=job)
    else:
        ExportJob.objects.filter(pk=job.pk).update(rows_total=rows)
        enqueue_on_commit("exports.tasks.export_job_run", job.pk)
    job.refresh_from_db()
    return job


def _context(job):
    role = _role(job.campaign, job.created_by)
    return Context(
        campaign=job.campaign,
        role=role,
        include_sensitive=job.include_sensitive and role == Role.ORGANIZER,
    )


@contextlib.contextmanager
def _snapshot():
    """One consistent view of the data for the count and the rows (PostgreSQL)."""
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                # Compiling these wide queries (JIT) took longer than running them.
                cursor.execute("SET LOCAL jit = off")
            yield
    else:
        yield


class _Progress:
    """Writes rows_done where the progress page can see it: through a connection of its
    own while the export reads inside its snapshot transaction (PostgreSQL)."""

    def __init__(self, job_id):
        self.job_id = job_id
        self.conn = None

    def __call__(self, done):
        self._set("rows_done", done)

    def total(self, total):
        self._set("rows_total", total)

    def _set(self, column, value):
        if connection.vendor == "postgresql" and connection.in_atomic_block:
            if self.conn is None:
                self.conn = connections.create_connection("default")
            with self.conn.cursor() as cursor:
                cursor.execute(
                    f"UPDATE exports_exportjob SET {column} = %s WHERE id = %s",
                    [value, self.job_id],
                )
        elif not connection.in_atomic_block:
            ExportJob.objects.filter(pk=self.job_id).update(**{column: value})

    def close(self):
        if self.conn is not None:
            self.conn.close()


def _write(job, kind, ctx, path):
    """Write the file at `path`; returns (rows, left_out, withheld, sensitive notes read).
    Raises ExportShort."""
    campaign = job.campaign
    form = filters_clean(kind, campaign, job.filters)
    filters = form.cleaned_data
    all_columns = {column.key: column for column in kind.columns(campaign)}
    keys = columns_clean(kind, campaign, job.columns, may_read_stories=ctx.may_read_stories)
    columns = [all_columns[key] for key in keys]
    progress = _Progress(job.pk)
    try:
        with _snapshot():
            matched = kind.queryset(campaign, filters, ctx)
            left_out = kind.left_out(matched, campaign, filters)
            included = kind.included(matched, campaign, filters)
            expected = included.count()
            total = matched.count()
            progress.total(expected)
            withheld = kind.withheld(included, ctx, columns)
            read = kind.sensitive_notes_read(included, ctx, columns)
            writer = WRITERS[job.format]
            written = writer(
                path,
                [column.header for column in columns],
                kind.rows(included, ctx, columns),
                progress=progress,
            )
    finally:
        progress.close()
    if written != expected:
        raise ExportShort(
            f"The file came out with {written} rows but the filters match {expected}: "
            "it was not kept. Try again; if it happens again, tell the campaign's organizers."
        )
    if total != expected + sum(left_out.values()):
        raise ExportShort(
            f"{total} rows matched, {expected} were written and {sum(left_out.values())} left "
            "out: these do not add up, so the file was not kept."
        )
    return written, left_out, withheld, read


def export_run(*, job):
    """Write the file of a claimed (running) job, check it, keep it, audit it.

    Returns the job, done with its file or failed with its error; either way an
    AuditEvent says who asked for what and how many rows went out or why none did.
    """
    kind = kind_get(job.kind)
    ctx = _context(job)
    handle, path = tempfile.mkstemp(prefix="porchlight-export-", suffix="." + job.format)
    os.close(handle)
    try:
        try:
            rows, left_out, withheld, read = _write(job, kind, ctx, path)
        except (ExportShort, ValidationError) as exc:
            message = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
            return _finish(job, status=Status.FAILED, error=message)
        except Exception:
            log.exception("Export %s failed.", job.pk)
            return _finish(
                job,
                status=Status.FAILED,
                error="The export failed on the server and no file was kept. Try again, or "
                "ask an organizer to look at the server log.",
            )
        name = f"{kind.filename}-{job.campaign.slug}-{timezone.now():%Y%m%d-%H%M%S}-{job.pk}"
        with open(path, "rb") as source:
            job.file.save(f"{name}.{job.format}", File(source), save=False)
        # Each sensitive note whose words went into the file is a reading, as on a page.
        story_notes_audit(
            readings=read,
            user=job.created_by,
            via=f"export: {job.kind}",
            detail={"export": job.pk},
        )
        return _finish(job, status=Status.DONE, rows=rows, left_out=left_out, withheld=withheld)
    finally:
        os.unlink(path)


def _finish(job, *, status, rows=0, left_out=None, withheld=None, error=""):
    job.status = status
    job.rows_done = rows
    if status == Status.DONE:
        job.rows_total = rows
    else:  # what the query matched, as written from outside the snapshot
        job.rows_total = ExportJob.objects.values_list("rows_total", flat=True).get(pk=job.pk)
    job.left_out = left_out or {}
    job.withheld = withheld or {}
    job.error = error
    job.finished_at = timezone.now()
    job.save()
    AuditEvent.objects.create(
        campaign=job.campaign,
        actor=job.created_by,
        action="export" if status == Status.DONE else "export.failed",
        target=f"export {job.pk}: {job.kind}",
        detail={
            "job": job.pk,
            "kind": job.kind,
            "format": job.format,
            "filters": job.filters,
            "columns": job.columns,
            "rows": rows,
            "left_out": job.left_out,
            "withheld": job.withheld,
            "include_sensitive": job.include_sensitive,
            "error": error,
        },
    )
    return job


def export_jobs_sweep(now=None):
    """Send again the jobs whose publish was lost, fail those whose worker died, and delete
    the files of exports older than EXPORT_KEEP_DAYS (people's phone numbers should not sit
    on the server). Returns the ids sent."""
    now = now or timezone.now()
    expired = ExportJob.objects.filter(
        status=Status.DONE, finished_at__lt=now - timedelta(days=settings.EXPORT_KEEP_DAYS)
    ).exclude(file="")
    for job in expired:
        job.file.delete(save=False)
        ExportJob.objects.filter(pk=job.pk).update(file="")
    for job in ExportJob.objects.filter(status=Status.RUNNING, updated_at__lt=now - STALE_RUNNING):
        if ExportJob.objects.filter(pk=job.pk, status=Status.RUNNING).update(status=Status.FAILED):
            job.status = Status.RUNNING
            _finish(job, status=Status.FAILED, error="The worker writing it stopped. Try again.")
    ids = list(
        ExportJob.objects.filter(
            status=Status.PENDING, created_at__lt=now - STALE_PENDING, rows_total__gt=0
        ).values_list("pk", flat=True)
    )
    for pk in ids:
        enqueue_on_commit("exports.tasks.export_job_run", pk)
    return ids
