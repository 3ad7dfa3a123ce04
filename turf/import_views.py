"""Organizer pages for voter-file imports: upload, map columns, watch progress, get the report."""

import csv

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from canvass.access import campaign_for_user
from canvass.celery import enqueue_on_commit
from canvass.models import AuditEvent
from canvass.spreadsheets import row_safe
from turf import tasks
from turf.imports import (
    FIELDS,
    ImportFileError,
    error_report_rows,
    file_inspect,
    import_job_create,
    import_job_fail,
    import_job_retry,
    import_preset_name_check,
    import_preset_save,
    mapping_by_name,
    mapping_guess,
    mapping_resolve,
    presets_for,
    stored_file,
)
from turf.models import ImportJob


class UploadForm(forms.Form):
    file = forms.FileField(label="Voter file")
    preset = forms.ChoiceField(label="Layout", required=False)
    complete = forms.BooleanField(
        label="This is the complete file for its area: mark the voters it no longer lists "
        "as inactive",
        required=False,
    )

    def __init__(self, *args, presets, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["preset"].choices = [("", "Match columns by their names")] + [
            (name, preset.label) for name, preset in presets.items()
        ]

    def clean_file(self):
        upload = self.cleaned_data["file"]
        limit = settings.IMPORT_MAX_UPLOAD_MB
        if upload.size > limit * 1024 * 1024:
            raise forms.ValidationError(
                f"The file is {upload.size / (1024 * 1024):,.0f} MB; uploads are limited to "
                f"{limit:,} MB. Upload it zipped or gzipped, or import it from the command line."
            )
        return upload


class MappingForm(forms.Form):
    save_as = forms.CharField(
        label="Save this mapping as a preset named", max_length=60, required=False
    )

    def __init__(self, *args, choices, initial_mapping, **kwargs):
        super().__init__(*args, **kwargs)
        options = [("", "— not in this file —")] + [(str(i), label) for i, label in choices]
        for name, label in FIELDS.items():
            initial = initial_mapping.get(name)
            if initial is None:
                initial = []
            elif isinstance(initial, tuple | list):
                initial = [str(i) for i in initial]
            else:
                initial = [str(initial)]
            # Several columns make one field, joined in order: an area code and a number.
            self.fields[f"col_{name}"] = forms.MultipleChoiceField(
                label=label,
                choices=options,
                required=False,
                initial=initial,
                widget=forms.SelectMultiple(attrs={"size": 1}),
            )

    def mapping(self):
        found = {}
        for name in FIELDS:
            columns = [int(c) for c in self.cleaned_data.get(f"col_{name}") or [] if c != ""]
            if columns:
                found[name] = columns[0] if len(columns) == 1 else columns
        return found

    def mapping_fields(self):
        return [self[f"col_{name}"] for name in FIELDS]


def _job_for(campaign, job_id):
    return get_object_or_404(ImportJob, pk=job_id, campaign=campaign)


@login_required
@require_http_methods(["GET", "POST"])
def import_upload(request, slug):
    campaign = campaign_for_user(request.user, slug)
    presets = presets_for(campaign)
    form = UploadForm(request.POST or None, request.FILES or None, presets=presets)
    if request.method == "POST" and form.is_valid():
        preset = presets.get(form.cleaned_data["preset"])
        job = import_job_create(
            campaign=campaign,
            created_by=request.user,
            upload=form.cleaned_data["file"],
            preset=preset.name if preset else "",
            complete=form.cleaned_data["complete"],
        )
        try:
            with stored_file(job) as local:
                file_inspect(
                    path=local, has_header=preset.has_header if preset else None, preset=preset
                )
        except ImportFileError as exc:
            job.file.delete(save=True)  # an unreadable upload is not kept
            import_job_fail(job=job, message=str(exc), actor=request.user)
            form.add_error("file", str(exc))
        else:
            return redirect("import_map", slug=campaign.slug, job_id=job.pk)
    jobs = ImportJob.objects.filter(campaign=campaign)[:10]
    return render(
        request,
        "turf/import_upload.html",
        {
            "campaign": campaign,
            "form": form,
            "jobs": jobs,
            "max_upload_mb": settings.IMPORT_MAX_UPLOAD_MB,
        },
        status=400 if form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def import_map(request, slug, job_id):
    campaign = campaign_for_user(request.user, slug)
    job = _job_for(campaign, job_id)
    if job.status != ImportJob.Status.PENDING or job.phase != ImportJob.Phase.MAPPING:
        return redirect("import_detail", slug=campaign.slug, job_id=job.pk)
    preset = presets_for(campaign).get(job.preset)
    header_choice = request.POST.get("has_header", request.GET.get("header"))
    has_header = None
    if header_choice in ("0", "1"):
        has_header = header_choice == "1"
    elif preset:
        has_header = preset.has_header
    try:
        with stored_file(job) as local:
            shape = file_inspect(path=local, has_header=has_header, preset=preset)
    except ImportFileError as exc:
        import_job_fail(job=job, message=str(exc), actor=request.user)
        return redirect("import_detail", slug=campaign.slug, job_id=job.pk)

    initial = mapping_guess(shape)
    if preset:
        try:
            initial = mapping_resolve(preset.mapping, shape)
        except ImportFileError:
            pass  # the preset does not fit this file: start from the header names
    form = MappingForm(
        request.POST or None, choices=shape.column_choices(), initial_mapping=initial
    )
    if request.method == "POST" and form.is_valid():
        try:
            resolved = mapping_resolve(form.mapping(), shape)
            if form.cleaned_data["save_as"]:
                import_preset_name_check(form.cleaned_data["save_as"])
        except ImportFileError as exc:
            form.add_error(None, str(exc))
        except ValidationError as exc:
            form.add_error("save_as", exc)
        else:
            stored = mapping_by_name(resolved, shape)
            if form.cleaned_data["save_as"]:
                import_preset_save(
                    campaign=campaign,
                    name=form.cleaned_data["save_as"],
                    has_header=shape.has_header,
                    column_mapping=stored,
                    created_by=request.user,
                )
            job.column_mapping = stored
            job.has_header = shape.has_header
            job.phase = ImportJob.Phase.QUEUED
            job.rows_total = shape.data_rows
            job.save(update_fields=["column_mapping", "has_header", "phase", "rows_total"])
            enqueue_on_commit(tasks.import_job_run, job.pk)
            return redirect("import_detail", slug=campaign.slug, job_id=job.pk)
    return render(
        request,
        "turf/import_map.html",
        {
            "campaign": campaign,
            "job": job,
            "shape": shape,
            "form": form,
            "delimiter_name": {
                ",": "commas",
                "\t": "tabs",
                "|": "pipes",
                ";": "semicolons",
                "": "fixed character positions",
            }[shape.delimiter],
        },
        status=400 if form.errors else 200,
    )


def _status(campaign, job):
    return {
        "status": job.status,
        "status_label": job.get_status_display(),
        "phase": job.phase,
        "phase_label": job.get_phase_display(),
        "rows_total": job.rows_total,
        "rows_done": job.rows_done,
        "rows_imported": job.rows_imported,
        "rows_failed": job.rows_failed,
        "rows_warned": job.rows_warned,
        "people_created": job.people_created,
        "people_updated": job.people_updated,
        "households_created": job.households_created,
        "people_inactivated": job.people_inactivated,
        "rows_left_out": job.rows_left_out,
        "left_out": job.left_out,
        "error": job.error,
        "can_retry": job.status == ImportJob.Status.FAILED
        and bool(job.file)
        and bool(job.column_mapping or job.preset),
        "report_url": (
            reverse("import_report", args=[campaign.slug, job.pk]) if job.error_report else ""
        ),
    }


@login_required
@require_GET
def import_detail(request, slug, job_id):
    campaign = campaign_for_user(request.user, slug)
    job = _job_for(campaign, job_id)
    return render(
        request,
        "turf/import_detail.html",
        {"campaign": campaign, "job": job, "status": _status(campaign, job)},
    )


@login_required
@require_POST
def import_retry(request, slug, job_id):
    """Run a failed import again (its worker died, say): nothing is duplicated."""
    campaign = campaign_for_user(request.user, slug)
    job = _job_for(campaign, job_id)
    try:
        import_job_retry(job=job, actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("import_detail", slug=campaign.slug, job_id=job.pk)


@login_required
@require_GET
def import_status(request, slug, job_id):
    campaign = campaign_for_user(request.user, slug)
    job = _job_for(campaign, job_id)
    return JsonResponse(_status(campaign, job))


class _Echo:
    def write(self, value):
        return value


@login_required
@require_GET
def import_report(request, slug, job_id):
    """The import's report as CSV: refused rows, then values left out, each with its column."""
    campaign = campaign_for_user(request.user, slug)
    job = _job_for(campaign, job_id)
    AuditEvent.objects.create(
        campaign=campaign,
        actor=request.user,
        action="voters.import_report",
        target=f"import {job.pk}: {job.original_name}"[:200],
        detail={"rows": len(job.error_report)},
    )
    writer = csv.writer(_Echo())
    response = StreamingHttpResponse(
        (writer.writerow(row_safe(row)) for row in error_report_rows(job)),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-report.csv"'
    return response
