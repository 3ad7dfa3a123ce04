"""Paper: walk-sheet packets as PDF, and typing a walk sheet's results back in.

Field leads may print (without the links' QR codes, which only organizers hand out).
"""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from canvass.access import LEADS, campaign_for_user
from canvass.models import AuditEvent, Shift
from turf.paper import packet_filename, packet_pdf, packet_turfs
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
