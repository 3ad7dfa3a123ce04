"""The demo campaign: a synthetic town with its turf, volunteers, shifts and conversations.

Every section draws from its own fixed seed and finds its rows again by stable
keys (slug, username, address, turf and shift names, visit client ids), so a
second build creates nothing and a section that is missing is filled in alone.

One room per part of the campaign: `people` (the campaign, its staff, its volunteers),
`town` (doors, people, turfs), `shifts` (shifts, signups, hand-outs), `conversations`
(visits, story notes, commitments and their reminders), `data` (the fixed lists they
draw from) and `common` (the seed and the phone pool). Shifts, signups, commitments and
reminders are made through the same services people use, at the time they would have
happened.
"""

from collections import Counter
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from canvass.demo.common import DEMO_PASSWORD, DEMO_SLUG, SEED
from canvass.demo.conversations import _conversations_ensure, _reply_ensure, _welcome_ensure
from canvass.demo.people import _campaign_ensure, _staff_ensure, _volunteers_ensure
from canvass.demo.shifts import _assignments_ensure, _shifts_ensure, demo_token
from canvass.demo.town import _town_ensure, _turfs_ensure
from canvass.models import Campaign, ShiftSignup
from conversations.models import Reminder, StoryNote
from conversations.services import quiet_until
from turf.models import Assignment, TurfStop
from turf.services import assignment_link


@dataclass
class DemoResult:
    campaign: Campaign
    staff: list
    created: Counter
    link: str = ""
    link_assignment: Assignment | None = None
    welcome: Reminder | None = None
    passwords_as_built: dict = field(default_factory=dict)


def demo_build(*, now=None):
    """Build whatever part of the demo campaign is missing, all in one transaction.

    Returns a DemoResult; `created` counts the rows made by this call (empty on a rerun).
    """
    now = now or timezone.now()
    created = Counter()
    with transaction.atomic():
        campaign = _campaign_ensure(created=created)
        staff, fresh = _staff_ensure(campaign=campaign, created=created)
        _town_ensure(campaign=campaign, created=created)
        turfs = _turfs_ensure(campaign=campaign, created=created)
        volunteers = _volunteers_ensure(campaign=campaign, created=created)
        shifts = _shifts_ensure(
            campaign=campaign,
            volunteers=volunteers,
            turfs=turfs,
            staff=staff,
            now=now,
            created=created,
        )
        assignments, link_token = _assignments_ensure(
            turfs=turfs,
            shifts=shifts,
            volunteers=volunteers,
            staff=staff,
            now=now,
            created=created,
        )
        _conversations_ensure(
            campaign=campaign,
            assignments=assignments,
            shifts=shifts,
            volunteers=volunteers,
            staff=staff,
            now=now,
            created=created,
        )
        _reply_ensure(campaign=campaign)
        welcome = _welcome_ensure(campaign=campaign, organizer=staff[0], now=now, created=created)
    result = DemoResult(campaign=campaign, staff=staff, created=created, welcome=welcome)
    if link_token:
        result.link = assignment_link(link_token)
        result.link_assignment = (
            Assignment.objects.for_token(link_token)
            .select_related("turf")
            .prefetch_related("volunteers")
            .first()
        )
    for user in staff:
        # A password someone changed since the build is theirs; only say it when it still works.
        result.passwords_as_built[user.username] = user.username in fresh or user.check_password(
            DEMO_PASSWORD
        )
    return result


def demo_counts(*, campaign):
    return {
        "households": campaign.households.count(),
        "people": campaign.people.count(),
        "turfs": campaign.turfs.count(),
        "walk-list stops": TurfStop.objects.filter(turf__campaign=campaign).count(),
        "volunteers": campaign.volunteers.count(),
        "shifts": campaign.shifts.count(),
        "sign-ups": ShiftSignup.objects.filter(shift__campaign=campaign).count(),
        "assignments": Assignment.objects.filter(turf__campaign=campaign).count(),
        "visits": campaign.visits.count(),
        "story notes": StoryNote.objects.filter(visit__campaign=campaign).count(),
        "commitments": campaign.commitments.count(),
        "reminders": campaign.reminders.count(),
    }


def demo_report_lines(*, result, quiet=False, seconds=None):
    """What the command prints: where to go and how to get in, then what was built."""
    site = settings.SITE_URL
    organizer, field_lead = result.staff
    lines = [f"Porchlight demo: {result.campaign.name}", f"Open:        {site}/"]

    def login(user, extra=""):
        if result.passwords_as_built.get(user.username):
            return f"{user.username} / {DEMO_PASSWORD}{extra}"
        return f"{user.username} (password changed since the demo was built){extra}"

    lines.append(f"Organizer:   {login(organizer, '   (also a Django admin superuser)')}")
    lines.append(f"Field lead:  {login(field_lead)}")
    lines.append(f"Admin:       {site}/admin/")
    lines.append(f"Signup page: {site}{reverse('signup_page', args=[result.campaign.slug])}")
    assignment = result.link_assignment
    if assignment is None:
        lines.append(
            "Volunteer link: none. The demo's links were made with another SECRET_KEY; "
            "make a new assignment in the admin."
        )
    else:
        walkers = " & ".join(str(v) for v in assignment.volunteers.all())
        lines.append(f"Volunteer link: {result.link}")
        state = "" if assignment.is_live else ", ended: revoked or expired"
        lines.append(f"                ({assignment.turf.name}, walked by {walkers}{state})")
    if quiet:
        return lines

    welcome = result.welcome
    tz = result.campaign.tz
    if welcome is not None and welcome.status == Reminder.Status.PENDING:
        local = timezone.localtime(welcome.send_at, tz)
        resume = quiet_until(result.campaign, local)
        due = f"{local:%H:%M} ({tz.key})"
        if resume is not None:
            due += f", held for quiet hours until {resume:%a %H:%M}"
        lines.append(
            f"Welcome email to {welcome.to}: due {due}. With the worker running it lands in "
            f"{settings.OUTBOX_DIR / 'email.log'}"
        )
    elif welcome is not None:
        lines.append(f"Welcome email to {welcome.to}: {welcome.get_status_display().lower()}.")

    counts = demo_counts(campaign=result.campaign)
    summary = ", ".join(f"{n:,} {label}" for label, n in counts.items())
    lines.append("")
    if any(result.created.values()):
        took = f" in {seconds:.1f} s" if seconds is not None else ""
        lines.append(f"Built{took}: {summary}.")
    else:
        lines.append(f"Already built, nothing changed: {summary}.")
    return lines


__all__ = [
    "DEMO_PASSWORD",
    "DEMO_SLUG",
    "SEED",
    "DemoResult",
    "demo_build",
    "demo_counts",
    "demo_report_lines",
    "demo_token",
]
