"""Export pages: choose a kind, its filters and columns; watch it run; download it."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from canvass.access import LEADS, ORGANIZERS, campaign_for_user
from canvass.models import AuditEvent, Membership
from conversations.models import Visit
from exports.kinds import KINDS
from exports.models import ExportJob, ExportLayout, result_codes
from exports.services import export_create, export_form, export_start, result_codes_save
from exports.writers import CONTENT_TYPES
from turf.models import Turf

AUDIT_LIST_MAX = 50


def _is_organizer(user, campaign):
    return Membership.objects.filter(user=user, campaign=campaign, role__in=ORGANIZERS).exists()


def _job_for(user, campaign, pk):
    """The export `pk` of `campaign` if `user` asked for it or organizes the campaign."""
    job = get_object_or_404(
        ExportJob.objects.select_related("created_by"), pk=pk, campaign=campaign
    )
    if job.created_by_id != user.pk and not _is_organizer(user, campaign):
        raise Http404("No such export.")
    return job


@login_required
@require_GET
def export_index(request, slug):
    campaign = campaign_for_user(request.user, slug, roles=LEADS)
    organizer = _is_organizer(request.user, campaign)
    jobs = ExportJob.objects.filter(campaign=campaign).select_related("created_by")
    if not organizer:
        jobs = jobs.filter(created_by=request.user)
    audit = []
    if organizer:
        audit = (
            AuditEvent.objects.filter(campaign=campaign, action__startswith="export")
            .select_related("actor")
            .order_by("-created_at")[:AUDIT_LIST_MAX]
        )
    return render(
        request,
        "exports/index.html",
        {
            "campaign": campaign,
            "kinds": KINDS.values(),
            "jobs": jobs[:20],
            "audit": audit,
            "is_organizer": organizer,
            "can_edit": organizer,
            "section": "exports",
        },
    )


def _chosen_columns(request, kind, campaign):
    """The ticked columns, ordered by the position typed beside each (then default order)."""
    order = {c.key: i for i, c in enumerate(kind.columns(campaign))}
    chosen = []
    for key in request.POST.getlist("col"):
        raw = request.POST.get(f"pos-{key}", "").strip()
        try:
            position = int(raw) if raw else 1000 + order.get(key, 0)
        except ValueError:
            raise ValidationError(f"The position of column “{key}” must be a number.") from None
        chosen.append((position, order.get(key, 0), key))
    return [key for _, _, key in sorted(chosen)]


def _column_rows(kind, campaign, selected):
    """[(column, ticked, position)] for the form: ticked ones first, in their order."""
    columns = {c.key: c for c in kind.columns(campaign)}
    rows = [(columns[key], True, i + 1) for i, key in enumerate(selected) if key in columns]
    rows += [(c, False, "") for key, c in columns.items() if key not in selected]
    return rows


def _turf_names(campaign):
    return Turf.objects.filter(campaign=campaign).order_by("name").values_list("name", flat=True)


@login_required
@require_http_methods(["GET", "POST"])
def export_new(request, slug, kind):
    campaign = campaign_for_user(request.user, slug, roles=LEADS)
    kind_obj = KINDS.get(kind)
    if kind_obj is None:
        raise Http404("No such kind of export.")
    organizer = _is_organizer(request.user, campaign)
    layouts = ExportLayout.objects.filter(campaign=campaign, kind=kind)
    selected = kind_obj.default_columns(campaign)
    layout_id = request.GET.get("layout") or request.POST.get("layout")
    if layout_id and layout_id.isdigit():
        layout = layouts.filter(pk=int(layout_id)).first()
        if layout:
            selected = layout.columns
    errors = []
    status = 200
    form = export_form(
        kind_obj,
        campaign,
        request.POST if request.method == "POST" else None,
        initial=request.GET.dict(),
    )
    if request.method == "POST":
        try:
            columns = _chosen_columns(request, kind_obj, campaign)
            if not columns:
                raise ValidationError("Tick at least one column.")
            selected = columns
            filters = {
                name: value for name, value in request.POST.items() if name in form.fields and value
            }
            job = export_create(
                campaign=campaign,
                kind=kind,
                fmt=request.POST.get("format", "csv"),
                filters=filters,
                columns=columns,
                user=request.user,
                include_sensitive=request.POST.get("include_sensitive") == "1",
                layout_name=request.POST.get("save_layout", "").strip(),
            )
        except (ValidationError, PermissionDenied) as exc:
            errors = exc.messages if isinstance(exc, ValidationError) else [str(exc)]
            status = 400
        else:
            export_start(job=job)
            return redirect("export_job", slug=campaign.slug, pk=job.pk)
    return render(
        request,
        "exports/new.html",
        {
            "campaign": campaign,
            "kind": kind_obj,
            "form": form,
            "column_rows": _column_rows(kind_obj, campaign, selected),
            "turf_names": _turf_names(campaign) if "turf" in form.fields else [],
            "layouts": layouts,
            "errors": errors,
            "formats": ExportJob.Format.choices,
            "chosen_format": request.POST.get("format", "csv"),
            "reasons": kind_obj.reason_labels(campaign),
            "is_organizer": organizer,
            "can_edit": organizer,
            "section": "exports",
        },
        status=status,
    )


def _status(campaign, job):
    kind = KINDS.get(job.kind)
    labels = kind.reason_labels(campaign, job.filters) if kind else {}
    done = job.status == ExportJob.Status.DONE
    return {
        "status": job.status,
        "status_label": job.get_status_display(),
        "rows_total": job.rows_total,
        "rows_done": job.rows_done,
        "left_out": [
            {"reason": code, "label": labels.get(code, code), "count": count}
            for code, count in job.left_out.items()
            if count
        ],
        "left_out_total": job.left_out_total,
        "withheld": job.withheld,
        "error": job.error,
        "download_url": (
            reverse("export_download", args=[campaign.slug, job.pk]) if done and job.file else ""
        ),
    }


@login_required
@require_GET
def export_job(request, slug, pk):
    campaign = campaign_for_user(request.user, slug, roles=LEADS)
    job = _job_for(request.user, campaign, pk)
    kind = KINDS.get(job.kind)
    organizer = _is_organizer(request.user, campaign)
    return render(
        request,
        "exports/job.html",
        {
            "campaign": campaign,
            "job": job,
            "kind": kind,
            "status": _status(campaign, job),
            "keep_days": settings.EXPORT_KEEP_DAYS,
            "is_organizer": organizer,
            "can_edit": organizer,
            "section": "exports",
        },
    )


@login_required
@require_GET
def export_job_status(request, slug, pk):
    campaign = campaign_for_user(request.user, slug, roles=LEADS)
    return JsonResponse(_status(campaign, _job_for(request.user, campaign, pk)))


@login_required
@require_GET
def export_download(request, slug, pk):
    campaign = campaign_for_user(request.user, slug, roles=LEADS)
    job = _job_for(request.user, campaign, pk)
    if job.status != ExportJob.Status.DONE or not job.file:
        raise Http404("This export has no file.")
    AuditEvent.objects.create(
        campaign=campaign,
        actor=request.user,
        action="export.download",
        target=f"export {job.pk}: {job.kind}",
        detail={"job": job.pk, "rows": job.rows_done},
    )
    name = job.file.name.rsplit("/", 1)[-1]
    return FileResponse(
        job.file.open("rb"),
        as_attachment=True,
        filename=name,
        content_type=CONTENT_TYPES[job.format],
    )


@login_required
@require_http_methods(["GET", "POST"])
def result_codes_edit(request, slug):
    """The campaign's VAN result code for each door outcome (organizers)."""
    campaign = campaign_for_user(request.user, slug, roles=ORGANIZERS)
    codes = result_codes(campaign)
    errors = {}
    status = 200
    if request.method == "POST":
        posted = {outcome: request.POST.get(outcome, "") for outcome in Visit.Outcome.values}
        try:
            result_codes_save(campaign=campaign, codes=posted, user=request.user)
        except ValidationError as exc:
            errors = {name: messages[0] for name, messages in exc.message_dict.items()}
            codes = posted
            status = 400
        else:
            messages.success(request, "The VAN result codes are saved.")
            return redirect("result_codes", slug=campaign.slug)
    rows = [
        (value, label, codes.get(value, ""), errors.get(value, ""))
        for value, label in Visit.Outcome.choices
    ]
    return render(
        request,
        "exports/result_codes.html",
        {
            "campaign": campaign,
            "rows": rows,
            "errors": errors,
            "can_edit": True,
            "section": "exports",
        },
        status=status,
    )
