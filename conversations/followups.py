"""My follow-ups: the commitments an owner has to chase, what they did about each one,
and the morning digest that lists what is due."""

import functools
import logging
import zoneinfo
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

import phonenumbers
from celery import shared_task
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, F, Q
from django.http import Http404
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from canvass.models import Campaign, Membership, Volunteer
from conversations import services
from conversations.models import Channel, Commitment, FollowUpEvent, OptOut, Reminder
from turf.models import Person

log = logging.getLogger(__name__)

Outcome = FollowUpEvent.Outcome
Status = Commitment.Status

# The outcomes that settle a commitment. Rescheduling reopens it with a new date;
# reached / not reached are contact attempts and leave it as it is.
STATUS_FOR_OUTCOME = {
    Outcome.KEPT: Status.KEPT,
    Outcome.MISSED: Status.MISSED,
    Outcome.CANCELLED: Status.CANCELLED,
}
NOTE_MAX_LENGTH = 2000

DIGEST_AT = time(8, 0)
# The digest goes out at the first beat run after 8:00 local time. An hour-long window
# rather than one 15-minute slot means a late or skipped beat run delays the digest
# instead of dropping it; the idempotency key keeps it to one per owner per local day.
DIGEST_WINDOW = timedelta(hours=1)
# A morning email is read, not searched: longer lists end with "…and N more" and the link.
DIGEST_LIST_MAX = 25
# Wherever an owner is, the end of their local "today" is less than 27 hours away.
DIGEST_HORIZON = timedelta(hours=27)


# --- Reading: who owes what ----------------------------------------------------------


@dataclass
class FollowUp:
    """One open commitment as its owner sees it: whom to call about what, and by when."""

    commitment: Commitment
    when_label: str = ""
    person_name: str = ""
    phone: str = ""
    phone_label: str = ""
    email: str = ""
    do_not_contact: bool = False
    opted_out: list = field(default_factory=list)
    turf: str = ""
    volunteer: str = ""
    place: str = ""
    kind_label: str = ""


@dataclass
class FollowUpSections:
    today: list = field(default_factory=list)
    overdue: list = field(default_factory=list)
    upcoming: list = field(default_factory=list)
    undated: list = field(default_factory=list)

    def __len__(self):
        return len(self.today) + len(self.overdue) + len(self.upcoming) + len(self.undated)

    @property
    def due(self):
        """What the digest lists: due today, then overdue."""
        return self.today + self.overdue


def followups_queryset(commitments=None):
    """Commitments (all, or those of the queryset `commitments`) with everything a
    follow-up row shows, in two queries.

    Campaigns are prefetched rather than joined so that all the rows of one campaign
    share one instance (its time zone and kinds are read once, not once a row).
    """
    commitments = Commitment.objects.all() if commitments is None else commitments
    return (
        commitments.select_related("person", "owner", "visit__volunteer", "visit__assignment__turf")
        .prefetch_related("campaign")
        .order_by(F("when").asc(nulls_last=True), "created_at", "pk")
    )


@functools.lru_cache(maxsize=4096)
def _phone_label(e164, region):
    number = phonenumbers.parse(e164, None)
    if phonenumbers.region_code_for_number(number) == region:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def _when_label(local, today):
    """ "Today 7:00 PM CDT" or "Thu Oct 10, 7:00 PM CDT". (strftime, not dateformat: the
    digest labels thousands of rows at once, and dateformat is ten times slower.)"""
    clock = f"{local.hour % 12 or 12}:{local.minute:02d} {'AM' if local.hour < 12 else 'PM'}"
    day = "Today" if local.date() == today else f"{local:%a %b} {local.day},"
    return f"{day} {clock} {local.tzname()}"


def _followup(commitment, local_when, today, *, origin=True):
    campaign = commitment.campaign
    person = commitment.person
    row = FollowUp(commitment=commitment)
    if local_when is not None:
        row.when_label = _when_label(local_when, today)
    row.person_name = str(person) if person else "Someone not yet on the list"
    row.do_not_contact = bool(person and person.do_not_contact)
    # The phone and email given with the commitment are what the person agreed to be
    # reached at; the voter file's are shown only when they consented to contact.
    row.phone = commitment.phone or (person.phone if person and person.contact_consent else "")
    row.email = commitment.email or (person.email if person and person.contact_consent else "")
    if row.phone:
        row.phone_label = _phone_label(row.phone, campaign.phone_region)
    visit = commitment.visit if origin else None
    if visit is not None:
        row.turf = visit.assignment.turf.name if visit.assignment_id else ""
        row.volunteer = str(visit.volunteer) if visit.volunteer_id else ""
        row.place = visit.place
    row.kind_label = _kind_labels(campaign).get(commitment.kind, commitment.kind)
    return row


def _kind_labels(campaign):
    # Kept on the (shared, prefetched) campaign instance: built once per campaign.
    labels = getattr(campaign, "_kind_labels", None)
    if labels is None:
        labels = campaign._kind_labels = {k["code"]: k["label"] for k in campaign.commitment_kinds}
    return labels


def followups_sort(commitments, *, now=None, origin=True):
    """Put commitments in sections by the date of `when` in each one's campaign time zone.

    `commitments` should come from followups_queryset() (it reads the related rows);
    with `origin=False` the visit, turf and volunteer are left out and need not be loaded.
    Costs one more query, for opt-outs among the numbers and addresses shown.
    """
    now = now or timezone.now()
    sections = FollowUpSections()
    rows = []
    for commitment in commitments:
        tz = commitment.campaign.tz
        today = timezone.localtime(now, tz).date()
        local_when = timezone.localtime(commitment.when, tz) if commitment.when else None
        row = _followup(commitment, local_when, today, origin=origin)
        rows.append(row)
        if local_when is None:
            sections.undated.append(row)
        elif local_when.date() == today:
            sections.today.append(row)
        elif local_when.date() < today:
            sections.overdue.append(row)
        else:
            sections.upcoming.append(row)
    addresses = {row.phone for row in rows if row.phone} | {
        row.email.lower() for row in rows if row.email
    }
    if addresses:
        opted_out = set(
            OptOut.objects.filter(address__in=addresses).values_list("address", flat=True)
        )
        for row in rows:
            row.opted_out = [a for a in (row.phone, row.email.lower()) if a and a in opted_out]
    return sections


def followups_for_owner(user, *, now=None):
    """The open commitments `user` owns, in the campaigns they are still a member of."""
    commitments = followups_queryset().filter(
        owner=user, status=Status.OPEN, campaign__memberships__user=user
    )
    return followups_sort(commitments, now=now)


PAGE_SIZE = 50
# Without a section, the page shows this many of each, with a link to the rest.
OVERVIEW_ROWS = 10
SECTIONS = ("today", "overdue", "upcoming", "undated")
# The orders the campaign's follow-ups page offers; each ends on the primary key so a
# page boundary never repeats or skips a row.
FOLLOWUP_SORTS = {
    "when": (F("when").asc(nulls_last=True), "created_at", "pk"),
    "-when": (F("when").desc(nulls_last=True), "-created_at", "-pk"),
    "person": ("person__last_name", "person__first_name", "pk"),
    "made": ("-created_at", "-pk"),
}
SEARCH_MAX_LENGTH = 100


@dataclass
class FollowUpPage:
    """Open commitments of a campaign: with `section`, one page of that section; without,
    the first few of every section. `counts` has every section's size either way."""

    section: str
    counts: dict
    # [(section, rows)] in the order of SECTIONS.
    sections: list
    page: object = None
    q: str = ""
    sort: str = "when"


def _section_filters(campaigns, now):
    """The four sections as filters, each day read in its campaign's time zone (one
    condition per time zone among `campaigns`, not one per campaign)."""
    zones = {}
    for campaign in campaigns:
        zones.setdefault(campaign.tz, []).append(campaign.pk)
    filters = {name: Q(pk__in=[]) for name in SECTIONS[:3]}
    filters["undated"] = Q(when__isnull=True)
    for tz, ids in zones.items():
        today = timezone.localtime(now, tz).date()
        start = datetime.combine(today, time.min, tzinfo=tz)
        end = datetime.combine(today + timedelta(days=1), time.min, tzinfo=tz)
        # With one time zone (a campaign's page) the campaign is already filtered on.
        scope = Q() if len(zones) == 1 else Q(campaign_id__in=ids)
        filters["today"] |= scope & Q(when__gte=start, when__lt=end)
        filters["overdue"] |= scope & Q(when__lt=start)
        filters["upcoming"] |= scope & Q(when__gte=end)
    return filters


def _search(queryset, q, *, campaigns):
    """Every word of `q` in the person's name, phone or email, the owner's name, or what.

    The names are looked up first (trigram indexes on PostgreSQL), so the commitments are
    filtered on a short list of ids rather than joined to every person and owner.
    """
    for word in q.split():
        people = Person.objects.filter(campaign__in=campaigns).filter(
            Q(first_name__icontains=word) | Q(last_name__icontains=word)
        )
        owners = get_user_model().objects.filter(
            Q(username__icontains=word)
            | Q(first_name__icontains=word)
            | Q(last_name__icontains=word)
        )
        queryset = queryset.filter(
            Q(person_id__in=people.values("pk"))
            | Q(phone__icontains=word)
            | Q(email__icontains=word)
            | Q(what__icontains=word)
            | Q(owner_id__in=owners.values("pk"))
        )
    return queryset


def _followups_page(open_commitments, campaigns, *, section, q, sort, page, now):
    """`open_commitments` (a queryset of open ones in `campaigns`), searched and sorted: one
    page of `section`, or without it the first OVERVIEW_ROWS of each. A fixed number of
    queries whatever their number; ValueError names bad input."""
    now = now or timezone.now()
    q = (q or "").strip()
    if len(q) > SEARCH_MAX_LENGTH:
        raise ValueError(f"Search for at most {SEARCH_MAX_LENGTH} characters.")
    if sort not in FOLLOWUP_SORTS:
        raise ValueError(f"“{sort}” is not a sort. Sort by: {', '.join(FOLLOWUP_SORTS)}.")
    if section and section not in SECTIONS:
        raise ValueError(f"“{section}” is not a section. Sections: {', '.join(SECTIONS)}.")
    campaigns = list(campaigns)
    filters = _section_filters(campaigns, now)
    matching = _search(open_commitments, q, campaigns=campaigns)
    counts = matching.order_by().aggregate(
        **{name: Count("pk", filter=filters[name]) for name in SECTIONS}
    )
    # The campaigns are in hand: each row is given its (shared) instance, not a prefetch
    # query per section.
    commitments = followups_queryset(matching).prefetch_related(None)
    by_id = {campaign.pk: campaign for campaign in campaigns}

    def rows_of(queryset):
        rows = list(queryset)
        for commitment in rows:
            commitment.campaign = by_id[commitment.campaign_id]
        return rows

    order = FOLLOWUP_SORTS[sort]
    if section:
        # The page's ids first (an index-only walk of the order, however deep the page),
        # then only those rows with everything they show.
        ids = matching.filter(filters[section]).order_by(*order).values_list("pk", flat=True)
        paginator = Paginator(ids, PAGE_SIZE)
        paginator.count = counts[section]  # counted above with the others
        page_obj = paginator.get_page(page)
        ids = list(page_obj.object_list)
        found = {c.pk: c for c in rows_of(commitments.filter(pk__in=ids).order_by())}
        chosen = [found[pk] for pk in ids if pk in found]
        rows = getattr(followups_sort(chosen, now=now), section)
        return FollowUpPage(section, counts, [(section, rows)], page_obj, q, sort)
    # The first ids of each section (index walks), then those rows in one query.
    ids = []
    for name in SECTIONS:
        if counts[name]:
            section_ids = matching.filter(filters[name]).order_by(*order)
            ids += section_ids.values_list("pk", flat=True)[:OVERVIEW_ROWS]
    found = {c.pk: c for c in rows_of(commitments.filter(pk__in=ids).order_by())} if ids else {}
    sorted_rows = followups_sort([found[pk] for pk in ids if pk in found], now=now)
    return FollowUpPage(
        "", counts, [(name, getattr(sorted_rows, name)) for name in SECTIONS], None, q, sort
    )


def followups_campaign_page(campaign, *, section="", q="", sort="when", page=1, now=None):
    """`campaign`'s open commitments, searched and sorted: one page of `section` (today,
    overdue, upcoming, undated), or without it the first OVERVIEW_ROWS of each.

    A fixed number of queries whatever the campaign's size. Raises ValueError naming
    the problem for an unknown section or sort, or a search over SEARCH_MAX_LENGTH.
    """
    open_commitments = Commitment.objects.filter(campaign=campaign, status=Status.OPEN)
    return _followups_page(
        open_commitments, [campaign], section=section, q=q, sort=sort, page=page, now=now
    )


def followups_owner_page(user, *, section="", q="", sort="when", page=1, now=None):
    """My follow-ups, as followups_campaign_page: the open commitments `user` owns in the
    campaigns they are still a member of, each dated in its own campaign's time zone."""
    campaigns = Campaign.objects.filter(memberships__user=user).distinct()
    open_commitments = Commitment.objects.filter(
        owner=user, status=Status.OPEN, campaign__in=campaigns.values("pk")
    )
    return _followups_page(
        open_commitments, campaigns, section=section, q=q, sort=sort, page=page, now=now
    )


def commitment_for_user(user, pk):
    """The commitment `pk` if `user` may act on it, else 404.

    Its owner may, while still a member of its campaign; so may any organizer of its
    campaign. Everyone else gets 404: not even the commitment's existence is revealed.
    """
    if not user.is_authenticated:
        raise Http404("No such commitment.")
    commitment = followups_queryset().filter(pk=pk).first()
    if commitment is None:
        raise Http404("No such commitment.")
    role = (
        Membership.objects.filter(user=user, campaign_id=commitment.campaign_id)
        .values_list("role", flat=True)
        .first()
    )
    if role == Membership.Role.ORGANIZER or (role and commitment.owner_id == user.pk):
        return commitment
    raise Http404("No such commitment.")


# --- Writing: what the owner did -------------------------------------------------------


def _commitment_apply(*, commitment, outcome, status, when, by, now):
    """Give a locked commitment its new status and date, through the engine's own changes
    so that its reminder plan follows. Call inside the commitment's transaction."""
    if outcome == Outcome.RESCHEDULED and when != commitment.when:
        # Cancels the pending reminders and writes the plan again for the new date.
        services.commitment_change(commitment=commitment, when=when)
    elif outcome == Outcome.CANCELLED:
        services.commitment_cancel(commitment=commitment, reason=f"Cancelled by {by}.")
        return
    elif outcome in (Outcome.KEPT, Outcome.MISSED):
        # Settled either way: nothing is left to remind anyone of.
        services.commitment_reminders_cancel(
            commitment=commitment, reason=f"Marked {status} by {by}."
        )
    Commitment.objects.filter(pk=commitment.pk).update(status=status, when=when, updated_at=now)


def followup_record(*, commitment, outcome, by, note="", new_when=None, now=None):
    """Record what `by` did about `commitment`, and apply it. Returns the FollowUpEvent.

    kept / missed / cancelled set the commitment's status (a mark made by mistake can be
    corrected with another); rescheduled gives it `new_when` and reopens it; reached /
    not reached are contact attempts and change nothing else. The caller has checked
    that `by` may act on it (commitment_for_user).

    Raises ValidationError, with nothing written, for an unknown outcome, a note over
    NOTE_MAX_LENGTH characters, or a reschedule without a date still to come.
    """
    now = now or timezone.now()
    note = (note or "").strip()
    errors = {}
    if outcome not in Outcome.values:
        choices = ", ".join(label.lower() for label in Outcome.labels)
        errors["outcome"] = f"“{outcome}” is not an outcome. Mark it one of: {choices}."
    if len(note) > NOTE_MAX_LENGTH:
        errors["note"] = (
            f"The note is {len(note)} characters; keep it to {NOTE_MAX_LENGTH} or fewer."
        )
    if outcome == Outcome.RESCHEDULED:
        if new_when is None:
            errors["new_when"] = "Pick the new date and time to reschedule to."
        elif new_when <= now:
            errors["new_when"] = "That date has passed. Pick a date and time still to come."
        elif not services.when_in_range(new_when):
            errors["new_when"] = services.OUT_OF_RANGE
    elif new_when is not None:
        errors["new_when"] = "A new date goes only with “Rescheduled”."
    if errors:
        raise ValidationError(errors)

    with transaction.atomic():
        # The lock makes two taps from two phones apply one after the other, each
        # recording the status it really found.
        locked = Commitment.objects.select_for_update().get(pk=commitment.pk)
        status_before, when_before = status, when = locked.status, locked.when
        if outcome in STATUS_FOR_OUTCOME:
            status = STATUS_FOR_OUTCOME[outcome]
        elif outcome == Outcome.RESCHEDULED:
            status, when = Status.OPEN, new_when
        if (status, when) != (status_before, when_before):
            _commitment_apply(
                commitment=locked, outcome=outcome, status=status, when=when, by=by, now=now
            )
        event = FollowUpEvent.objects.create(
            commitment=locked,
            outcome=outcome,
            note=note,
            status_before=status_before,
            status_after=status,
            when_before=when_before,
            when_after=when,
            by=by,
            at=now,
        )
    commitment.status, commitment.when = status, when
    return event


# --- The morning digest ------------------------------------------------------------------


@dataclass
class Digest:
    owner: object
    tz: zoneinfo.ZoneInfo
    campaign: object
    local_date: object
    sections: FollowUpSections = None

    @property
    def idempotency_key(self):
        return f"digest:{self.owner.pk}:{self.local_date.isoformat()}"


def _in_digest_window(local_now):
    start = datetime.combine(local_now.date(), DIGEST_AT, tzinfo=local_now.tzinfo)
    return start <= local_now < start + DIGEST_WINDOW


def followups_digests_due(*, now=None):
    """The digests to write at `now`, a fixed number of queries however many owners.

    One per owner whose local time is 8:00–9:00, who has something due today or
    overdue, and who has had no digest for their local date. Their time zone is
    their volunteer profile's when it names one, else that of the first campaign
    they joined (which also sends the digest).
    """
    now = now or timezone.now()
    owed = Commitment.objects.filter(
        status=Status.OPEN,
        owner__is_active=True,
        when__lt=now + DIGEST_HORIZON,
        campaign__memberships__user=F("owner"),
    )
    owner_ids = set(owed.order_by().values_list("owner_id", flat=True).distinct())
    if not owner_ids:
        return []
    volunteer_zones = {}
    for user_id, zone in (
        Volunteer.objects.filter(user_id__in=owner_ids)
        .exclude(timezone="")
        .order_by("-pk")
        .values_list("user_id", "timezone")
    ):
        volunteer_zones[user_id] = zone  # the oldest profile wins: it is written last
    first_campaign = {}
    for membership in (
        Membership.objects.filter(user_id__in=owner_ids)
        .select_related("campaign", "user")
        .order_by("-created_at", "-pk")
    ):
        first_campaign[membership.user_id] = membership

    candidates = {}
    for user_id, membership in first_campaign.items():
        zone = volunteer_zones.get(user_id)
        tz = zoneinfo.ZoneInfo(zone) if zone else membership.campaign.tz
        local_now = now.astimezone(tz)
        if not _in_digest_window(local_now):
            continue
        digest = Digest(
            owner=membership.user, tz=tz, campaign=membership.campaign, local_date=local_now.date()
        )
        candidates[digest.idempotency_key] = digest
    if not candidates:
        return []
    for key in Reminder.objects.filter(idempotency_key__in=candidates).values_list(
        "idempotency_key", flat=True
    ):
        del candidates[key]
    if not candidates:
        return []

    digests = {digest.owner.pk: digest for digest in candidates.values()}
    # Sorted together (one opt-out query for everyone), then dealt out to each owner.
    # The digest names no turf nor volunteer: those joins are left out.
    rows = (
        Commitment.objects.filter(pk__in=owed.values("pk"), owner_id__in=digests)
        .select_related("person")
        .prefetch_related("campaign")
        .order_by(F("when").asc(nulls_last=True), "created_at", "pk")
    )
    everyone = followups_sort(rows, now=now, origin=False)
    for digest in digests.values():
        digest.sections = FollowUpSections()
    for name in ("today", "overdue", "upcoming", "undated"):
        for row in getattr(everyone, name):
            getattr(digests[row.commitment.owner_id].sections, name).append(row)
    return [digest for digest in digests.values() if digest.sections.due]


def _digest_body(digest):
    campaigns = {row.commitment.campaign_id for row in digest.sections.due}
    today, overdue = digest.sections.today, digest.sections.overdue
    return render_to_string(
        "conversations/digest_email.txt",
        {
            "owner": digest.owner,
            "today": today[:DIGEST_LIST_MAX],
            "today_count": len(today),
            "today_more": max(0, len(today) - DIGEST_LIST_MAX),
            "overdue": overdue[:DIGEST_LIST_MAX],
            "overdue_count": len(overdue),
            "overdue_more": max(0, len(overdue) - DIGEST_LIST_MAX),
            "several_campaigns": len(campaigns) > 1,
            "url": settings.SITE_URL + reverse("followups_mine"),
        },
    )


def followups_digest_write(*, now=None):
    """Queue today's digest for every owner due one, through the reminder outbox.

    Safe to run any number of times: the key digest:<user>:<local date> lets each owner
    have one per local day. An owner with no email address is skipped and logged.
    Returns the Reminder rows written.
    """
    now = now or timezone.now()
    written = []
    for digest in followups_digests_due(now=now):
        owner = digest.owner
        if not owner.email:
            log.warning("Follow-up digest for user %s skipped: no email address.", owner.pk)
            continue
        count = len(digest.sections.due)
        today = len(digest.sections.today)
        subject = f"Your follow-ups: {today} due today, {count - today} overdue"
        with transaction.atomic():
            written.append(
                services.reminder_create(
                    campaign=digest.campaign,
                    channel=Channel.EMAIL,
                    to=owner.email,
                    subject=subject,
                    body=_digest_body(digest),
                    send_at=now,
                    idempotency_key=digest.idempotency_key,
                    recipient_kind=Reminder.Recipient.OWNER,
                    recipient_name=owner.get_full_name() or owner.get_username(),
                    # 8:00 is the owner's; quiet hours must be judged in their zone too.
                    recipient_tz=digest.tz.key,
                )
            )
    return written


@shared_task
def followups_digest_send():
    """Every 15 minutes (beat): queue the morning digests now due."""
    return len(followups_digest_write())
