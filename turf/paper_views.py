"""Paper: walk-sheet packets as PDF, and typing a walk sheet's results back in.

Field leads may print (without the links' QR codes, which only organizers hand out).
"""

import re
from datetime import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from canvass.access import LEADS, campaign_for_user
from canvass.models import AuditEvent, Shift
from conversations.models import Visit
from turf.models import Assignment
from turf.paper import (
    RESULT_CODES,
    PaperInvalid,
    commitment_codes,
    packet_filename,
    packet_pdf,
    packet_turfs,
    paper_results_record,
    sheet_stops,
)
from turf.views import _is_organizer, _turf_for


def _pdf_response(request, campaign, *, pdf, filename, target):
    AuditEvent.objects.create(
        campaign=campaign,
        actor=request.user,
        action="walk_sheets.print",
        target=target,
        detail={"bytes": len(pdf)},
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


@never_cache
@login_required
@require_GET
def turf_sheets_pdf(request, slug, turf_id):
    """One turf's walk sheets as a PDF: cover page, then its doors in walk order."""
    campaign = campaign_for_user(request.user, slug, roles=LEADS)
    turf = _turf_for(campaign, turf_id)
    pdf = packet_pdf(
        campaign=campaign,
        turfs_and_assignments=packet_turfs(campaign=campaign, turf=turf),
        with_link=_is_organizer(request.user, campaign),
    )
    return _pdf_response(
        request, campaign, pdf=pdf, filename=packet_filename(turf=turf), target=f"turf:{turf.pk}"
    )


@never_cache
@login_required
@require_GET
def shift_sheets_pdf(request, slug, shift_id):
    """The walk-sheet packet of a shift: every turf with a link for it, in one PDF."""
    campaign = campaign_for_user(request.user, slug, roles=LEADS)
    shift = get_object_or_404(Shift, pk=shift_id, campaign=campaign)
    turfs = packet_turfs(campaign=campaign, shift=shift)
    if not turfs:
        return HttpResponse(
            f"No turf has a link for “{shift}” yet: assign turfs for the shift first.",
            status=404,
            content_type="text/plain; charset=utf-8",
        )
    pdf = packet_pdf(
        campaign=campaign,
        turfs_and_assignments=turfs,
        shift=shift,
        with_link=_is_organizer(request.user, campaign),
    )
    return _pdf_response(
        request,
        campaign,
        pdf=pdf,
        filename=packet_filename(shift=shift),
        target=f"shift:{shift.pk}",
    )


# --- Typing results back in ------------------------------------------------------

_ROW = re.compile(r"^(result|before|after|commitments)_([0-9]{1,5})$")


def _walked_at_initial(assignment):
    moment = assignment.shift.starts_at if assignment.shift else assignment.created_at
    return timezone.localtime(moment, assignment.turf.campaign.tz).strftime("%Y-%m-%dT%H:%M")


def _parse_walked_at(text, campaign):
    try:
        naive = datetime.strptime((text or "").strip(), "%Y-%m-%dT%H:%M")
    except ValueError:
        return None
    return timezone.make_aware(naive, campaign.tz)


@login_required
def paper_entry(request, slug, pk):
    """Type a paper walk sheet back in: door by door in the sheet's order, keyboard only."""
    campaign = campaign_for_user(request.user, slug, roles=LEADS)
    assignment = get_object_or_404(
        Assignment.objects.select_related("turf__campaign", "shift").prefetch_related("volunteers"),
        pk=pk,
        turf__campaign=campaign,
    )
    stops = sheet_stops(assignment.turf)
    volunteers = list(assignment.volunteers.all())
    typed, errors = {}, {}
    walk = 1
    walked_at_text = _walked_at_initial(assignment)
    chosen = volunteers[0] if volunteers else None
    if request.method == "POST":
        walk_text = request.POST.get("walk", "1").strip()
        walk = int(walk_text) if walk_text in {"1", "2", "3", "4", "5"} else None
        walked_at_text = request.POST.get("walked_at", "")
        walked_at = _parse_walked_at(walked_at_text, campaign)
        picked = request.POST.get("volunteer", "")
        chosen = next((v for v in volunteers if str(v.pk) == picked), None)
        if chosen is None and not picked and len(volunteers) == 1:
            chosen = volunteers[0]
        for name, value in request.POST.items():
            if match := _ROW.match(name):
                typed.setdefault(int(match.group(2)), {})[match.group(1)] = value[:20]
        if walk is None:
            errors[0] = "Pick which walk of the sheet this is (1 to 5)."
        elif walked_at is None:
            errors[0] = "Give the day and time the sheet was walked."
        elif volunteers and chosen is None:
            errors[0] = "Pick who walked the sheet."
        else:
            try:
                recorded, already = paper_results_record(
                    assignment=assignment,
                    rows=typed,
                    walked_at=walked_at,
                    entered_by=request.user,
                    walk=walk,
                    volunteer=chosen,
                )
            except PaperInvalid as invalid:
                errors = invalid.errors
            else:
                done = f"Saved {recorded} door{'s' if recorded != 1 else ''} from the paper sheet."
                if already:
                    done += f" {already} had been typed in already and were left as they were."
                messages.success(request, done)
                return redirect("paper_entry", slug=campaign.slug, pk=assignment.pk)
    rows = [
        {
            "number": i,
            "stop": stop,
            "typed": typed.get(i, {}),
            "error": errors.get(i, ""),
        }
        for i, stop in enumerate(stops, start=1)
    ]
    return render(
        request,
        "dashboard/paper_entry.html",
        {
            "campaign": campaign,
            "assignment": assignment,
            "rows": rows,
            "volunteers": volunteers,
            "chosen": chosen,
            "walk": walk or 1,
            "walked_at": walked_at_text,
            "general_error": errors.get(0, ""),
            "error_count": len(errors),
            "result_codes": [(code, outcome.label) for code, outcome in RESULT_CODES.items()],
            "commitment_codes": commitment_codes(campaign),
            "paper_visits": Visit.objects.filter(assignment=assignment, from_paper=True).count(),
            "can_edit": _is_organizer(request.user, campaign),
            "section": "turfs",
        },
    )
