"""The conversations dashboard and the coaching view, for organizers and field leads."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from canvass.access import LEADS, ORGANIZERS, campaign_for_user
from canvass.models import Membership, Shift, Volunteer
from conversations import charts
from conversations.dashboard import (
    GROUPS,
    campaign_dashboard_numbers,
    note_medians,
    rating_counts,
    volunteer_conversations,
)
from conversations.models import StoryNote
from conversations.numbers import numbers_cached

PAGE_SIZE = 50
BAD_SHIFT = "That is not a shift: pick one from the list."
COLUMNS = [
    ("label", "Name"),
    ("doors", "Doors knocked"),
    ("visits", "Visits"),
    ("contact_rate_percent", "Contact rate"),
    ("conversations", "Conversations"),
    ("median_minutes", "Median length (min)"),
    ("average_before", "Avg rating before*"),
    ("average_after", "Avg rating after*"),
    ("moved_percent", "Moved*"),
    ("commitments", "Commitments"),
    ("followthrough_percent", "Follow-through"),
]
GROUP_LABELS = {"turf": "By turf", "volunteer": "By volunteer", "day": "By day"}
# The practice's own debrief prompts (deep canvassing: listen, share, connect, no judgement).
CHECKLIST = [
    "Did I keep from judging, whatever they said?",
    "Did I listen more than I talked — did the voter talk more?",
    "Did I share a story of my own?",
    "Did we connect on values, not arguments?",
    "What would I ask differently next time?",
]


def _can_edit(user, campaign):
    return Membership.objects.filter(user=user, campaign=campaign, role__in=ORGANIZERS).exists()


def _breakdown(request, dashboard):
    """The chosen group's rows: searched, sorted and paginated; or a 400 message."""
    by = request.GET.get("by", "turf")
    sort = request.GET.get("sort", "label")
    direction = request.GET.get("dir", "asc")
    q = request.GET.get("q", "").strip()
    columns = dict(COLUMNS)
    if by not in GROUPS:
        return None, f"“{by}” is not a breakdown. Choose one of: {', '.join(GROUPS)}."
    if sort not in columns:
        return None, f"“{sort}” is not a column to sort by."
    if direction not in ("asc", "desc"):
        return None, "Sort direction is asc or desc."
    if len(q) > 100:
        return None, "Search for at most 100 characters."
    rows = dashboard.group(by)
    if q:
        rows = [row for row in rows if q.lower() in row.label.lower()]
    if sort == "label":
        rows = sorted(rows, key=lambda n: n.label.lower(), reverse=direction == "desc")
    else:
        present = [row for row in rows if getattr(row, sort) is not None]
        missing = [row for row in rows if getattr(row, sort) is None]
        rows = sorted(present, key=lambda n: getattr(n, sort), reverse=direction == "desc")
        rows += missing  # "—" goes last either way
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page", 1))
    return {"by": by, "sort": sort, "dir": direction, "q": q, "page": page}, None


def _dashboard_read(campaign, groups):
    """(numbers, when read, the charts' data URLs, rating counts): what the page keeps."""
    dashboard = campaign_dashboard_numbers(campaign, groups=groups)
    before, after = rating_counts(campaign)
    days = dashboard.by_day[-30:]
    total = dashboard.total
    pictures = {
        "days": charts.by_day_chart(days) if days else "",
        "ratings": charts.ratings_chart(before, after) if before or after else "",
        "themes": charts.themes_chart(total.themes) if total.themes else "",
    }
    ratings = [(point, before.get(point, 0), after.get(point, 0)) for point in range(11)]
    return dashboard, timezone.now(), pictures, ratings


@login_required
@require_GET
def conversations_dashboard(request, slug):
    campaign = campaign_for_user(request.user, slug, roles=LEADS)
    by = request.GET.get("by", "turf")
    groups = tuple(sorted({"day", by})) if by in GROUPS else ("day",)
    # Kept until the next write to what they are counted from (conversations.numbers).
    cached = numbers_cached(
        campaign,
        f"conversations-dashboard:{'-'.join(groups)}",
        lambda: _dashboard_read(campaign, groups),
    )
    dashboard, read_at, pictures, ratings = cached
    breakdown, error = _breakdown(request, dashboard)
    context = {
        "campaign": campaign,
        "total": dashboard.total,
        "breakdown": breakdown,
        "error": error,
        "columns": COLUMNS,
        "groups": GROUP_LABELS,
        "days": dashboard.by_day[-30:],
        "ratings": ratings,
        "themes": dashboard.total.themes.most_common(),
        "charts": pictures,
        "read_at": read_at,
        "can_edit": _can_edit(request.user, campaign),
        "section": "conversations",
    }
    return render(request, "dashboard/conversations.html", context, status=400 if error else 200)


@login_required
@require_GET
def coaching(request, slug, volunteer_id):
    """One volunteer's conversations (after a shift, or all), beside the campaign's medians,
    with the practice's checklist as prompts for the debrief."""
    campaign = campaign_for_user(request.user, slug, roles=LEADS)
    volunteer = get_object_or_404(Volunteer, pk=volunteer_id, campaign=campaign)
    shifts = Shift.objects.filter(campaign=campaign, signups__volunteer=volunteer).distinct()
    shift = None
    raw = request.GET.get("shift", "")
    if raw:
        if not raw.isdigit():
            return render(
                request,
                "dashboard/coaching.html",
                {
                    "campaign": campaign,
                    "volunteer": volunteer,
                    "error": "Pick a shift from the list.",
                },
                status=400,
            )
        shift = get_object_or_404(Shift, pk=int(raw), campaign=campaign)
    notes = list(volunteer_conversations(campaign, volunteer, shift=shift)[:200])
    theirs = note_medians(volunteer_conversations(campaign, volunteer, shift=shift))
    # The campaign's medians read every story note: kept until the next write.
    campaign_medians = numbers_cached(
        campaign,
        "coaching-medians",
        lambda: note_medians(StoryNote.objects.filter(visit__campaign=campaign)),
    )
    return render(
        request,
        "dashboard/coaching.html",
        {
            "campaign": campaign,
            "volunteer": volunteer,
            "shift": shift,
            "shifts": shifts.order_by("-starts_at")[:50],
            "notes": notes,
            "theirs": theirs,
            "medians": campaign_medians,
            "checklist": CHECKLIST,
            "can_edit": _can_edit(request.user, campaign),
            "section": "conversations",
        },
    )
