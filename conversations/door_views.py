"""The door screen: what a volunteer's assignment link opens."""

from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import render

from turf.models import Assignment, Person, TurfStop


def _get_assignment_for_token(token):
    """The assignment behind a link, or 404. Expired or revoked links are returned
    too: the caller tells the volunteer to reach their organizer."""
    assignment = (
        Assignment.objects.for_token(token).select_related("turf", "turf__campaign").first()
    )
    if assignment is None:
        raise Http404("No such assignment link.")
    return assignment


def assignment_open(request, token):
    """The walk list behind an assignment link. Needs no password: the link is the key."""
    assignment = _get_assignment_for_token(token)
    if not assignment.is_live:
        return render(request, "turf/link_ended.html", {"assignment": assignment}, status=410)
    stops = (
        TurfStop.objects.filter(turf=assignment.turf)
        .select_related("household")
        .prefetch_related(
            Prefetch(
                "household__people",
                queryset=Person.objects.order_by("last_name", "first_name"),
            )
        )
        .order_by("position")
    )
    return render(request, "turf/walk_list.html", {"assignment": assignment, "stops": stops})
