"""Conversation numbers for the campaign, and by turf, volunteer and day: the one place they
are computed (follow-through comes from conversations.stats).

- doors knocked: distinct households visited; visits: every knock recorded;
- contact rate: visits where someone came to the door (a conversation or a refusal) ÷ visits;
- conversations: visits recorded as a conversation;
- median length: of the conversations whose length was recorded, in minutes;
- ratings before and after, and the share who moved (rated higher after than before, of the
  notes with both ratings): what the canvasser reported, never a measured effect;
- themes heard: how many story notes name each theme.
"""

import statistics
from collections import Counter
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Count, Q
from django.db.models.functions import TruncDate

from conversations.models import StoryNote, Visit
from conversations.stats import NO_TURF, NO_VOLUNTEER, campaign_followthrough

CONTACT = (Visit.Outcome.CONVERSATION, Visit.Outcome.REFUSED)
GROUPS = ("turf", "volunteer", "day")


def median(values):
    """The median of `values`, a whole number when it is one (16, not 16.0), else None."""
    if not values:
        return None
    value = statistics.median(values)
    return int(value) if float(value).is_integer() else round(value, 1)


@dataclass
class ConversationNumbers:
    label: str
    key: object = None
    visits: int = 0
    doors: int = 0
    contacts: int = 0
    conversations: int = 0
    median_minutes: object = None
    timed: int = 0  # notes with a length
    average_before: object = None
    average_after: object = None
    rated_both: int = 0
    moved: int = 0
    themes: Counter = field(default_factory=Counter)
    commitments: int = 0
    followthrough: object = None

    @property
    def contact_rate_percent(self):
        return round(100 * self.contacts / self.visits) if self.visits else None

    @property
    def moved_percent(self):
        return round(100 * self.moved / self.rated_both) if self.rated_both else None

    @property
    def followthrough_percent(self):
        return self.followthrough.rate_percent if self.followthrough else None

    @property
    def top_themes(self):
        return self.themes.most_common(3)


@dataclass
class Dashboard:
    campaign: object
    total: ConversationNumbers
    by_turf: list
    by_volunteer: list
    by_day: list

    def group(self, name):
        return getattr(self, f"by_{name}")


def _visit_counts():
    return {
        "visits": Count("pk"),
        "doors": Count("household", distinct=True),
        "contacts": Count("pk", filter=Q(outcome__in=CONTACT)),
        "conversations": Count("pk", filter=Q(outcome=Visit.Outcome.CONVERSATION)),
    }


def _average(value):
    return None if value is None else round(value, 1)


NOTES_SQL = """
SELECT GROUPING(a.turf_id, v.volunteer_id, day) AS grouping, a.turf_id, v.volunteer_id, day,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY n.minutes), count(n.minutes),
       avg(n.rating_before), avg(n.rating_after),
       count(*) FILTER (WHERE n.rating_before IS NOT NULL AND n.rating_after IS NOT NULL),
       count(*) FILTER (WHERE n.rating_after > n.rating_before)
FROM conversations_storynote n
JOIN conversations_visit v ON v.id = n.visit_id
LEFT JOIN turf_assignment a ON a.id = v.assignment_id
CROSS JOIN LATERAL (SELECT (v.happened_at AT TIME ZONE %(tz)s)::date AS day) d
WHERE v.campaign_id = %(campaign)s
GROUP BY GROUPING SETS ((a.turf_id), (v.volunteer_id), (day), ())
"""
THEMES_SQL = """
SELECT GROUPING(a.turf_id, v.volunteer_id, day) AS grouping, a.turf_id, v.volunteer_id, day,
       t.theme, count(*)
FROM conversations_storynote n
JOIN conversations_visit v ON v.id = n.visit_id
LEFT JOIN turf_assignment a ON a.id = v.assignment_id
CROSS JOIN LATERAL (SELECT (v.happened_at AT TIME ZONE %(tz)s)::date AS day) d
CROSS JOIN LATERAL jsonb_array_elements_text(
    CASE WHEN jsonb_typeof(n.themes) = 'array' THEN n.themes ELSE '[]'::jsonb END) AS t(theme)
WHERE v.campaign_id = %(campaign)s
GROUP BY GROUPING SETS ((a.turf_id, t.theme), (v.volunteer_id, t.theme), (day, t.theme),
                        (t.theme))
"""
# GROUPING(turf, volunteer, day) is a bit mask of the columns *not* grouped by.
_GROUPING = {0b011: "turf", 0b101: "volunteer", 0b110: "day", 0b111: None}


def _notes_postgresql(campaign, total, groups):
    """Ratings, lengths and themes per group in two grouped queries (PostgreSQL)."""
    params = {"campaign": campaign.pk, "tz": campaign.timezone}

    def target(grouping, turf, volunteer, day):
        name = _GROUPING[grouping]
        if name is None:
            return total
        return groups[name].get({"turf": turf, "volunteer": volunteer, "day": day}[name])

    with connection.cursor() as cursor:
        cursor.execute(NOTES_SQL, params)
        for grouping, turf, volunteer, day, med, timed, before, after, both, moved in cursor:
            numbers = target(grouping, turf, volunteer, day)
            if numbers is None:
                continue
            numbers.median_minutes = median([med]) if med is not None else None
            numbers.timed = timed
            numbers.average_before = _average(before and float(before))
            numbers.average_after = _average(after and float(after))
            numbers.rated_both, numbers.moved = both, moved
        cursor.execute(THEMES_SQL, params)
        for grouping, turf, volunteer, day, theme, count in cursor:
            numbers = target(grouping, turf, volunteer, day)
            if numbers is not None:
                numbers.themes[theme] = count


def _notes_python(campaign, total, groups):
    """The same numbers in one pass over the notes (SQLite: the demo's small campaigns)."""
    acc = {}
    notes = (
        StoryNote.objects.filter(visit__campaign=campaign)
        .annotate(day=TruncDate("visit__happened_at", tzinfo=campaign.tz))
        .values_list(
            "visit__assignment__turf",
            "visit__volunteer",
            "day",
            "minutes",
            "rating_before",
            "rating_after",
            "themes",
        )
        .order_by()
    )
    for turf, volunteer, day, minutes, before, after, themes in notes.iterator(chunk_size=5000):
        targets = [total] + [
            groups[name].get(key)
            for name, key in (("turf", turf), ("volunteer", volunteer), ("day", day))
        ]
        for numbers in targets:
            if numbers is None:
                continue
            lists = acc.setdefault(id(numbers), (numbers, [], [], []))
            for values, value in zip(lists[1:], (minutes, before, after), strict=True):
                if value is not None:
                    values.append(value)
            if before is not None and after is not None:
                numbers.rated_both += 1
                numbers.moved += after > before
            numbers.themes.update(t for t in themes or () if isinstance(t, str))
    for numbers, minutes, before, after in acc.values():
        numbers.median_minutes, numbers.timed = median(minutes), len(minutes)
        numbers.average_before = _average(statistics.fmean(before)) if before else None
        numbers.average_after = _average(statistics.fmean(after)) if after else None


def campaign_dashboard_numbers(campaign):
    """The campaign's conversation numbers, in total and by turf, volunteer and local day.

    A fixed number of queries: the visits counted per group (four), the story notes'
    ratings, lengths and themes (two grouped queries on PostgreSQL), and follow-through.
    """
    tz = campaign.tz
    visits = Visit.objects.filter(campaign=campaign).order_by()
    day = TruncDate("happened_at", tzinfo=tz)
    total = ConversationNumbers(label=campaign.name, key=campaign.pk)
    for name, value in visits.aggregate(**_visit_counts()).items():
        setattr(total, name, value or 0)

    groups = {name: {} for name in GROUPS}
    for row in visits.values("assignment__turf", "assignment__turf__name").annotate(
        **_visit_counts()
    ):
        key = row.pop("assignment__turf")
        label = row.pop("assignment__turf__name") or NO_TURF
        groups["turf"][key] = ConversationNumbers(label=label, key=key, **row)
    for row in visits.values("volunteer", "volunteer__first_name", "volunteer__last_name").annotate(
        **_visit_counts()
    ):
        key = row.pop("volunteer")
        first, last = row.pop("volunteer__first_name"), row.pop("volunteer__last_name")
        label = f"{first} {last}".strip() if key else NO_VOLUNTEER
        groups["volunteer"][key] = ConversationNumbers(label=label, key=key, **row)
    for row in visits.annotate(day=day).values("day").annotate(**_visit_counts()):
        key = row.pop("day")
        groups["day"][key] = ConversationNumbers(label=key.isoformat(), key=key, **row)

    if connection.vendor == "postgresql":
        _notes_postgresql(campaign, total, groups)
    else:
        _notes_python(campaign, total, groups)

    followthrough = campaign_followthrough(campaign, days=True)
    total.followthrough = followthrough.total
    total.commitments = followthrough.total.made
    for name, rows in (
        ("turf", followthrough.by_turf),
        ("volunteer", followthrough.by_volunteer),
        ("day", followthrough.by_day),
    ):
        for numbers in rows:
            target = groups[name].get(numbers.key)
            if target is None:  # commitments with no visit of that group (added by hand)
                target = groups[name][numbers.key] = ConversationNumbers(
                    label=numbers.label, key=numbers.key
                )
            target.commitments = numbers.made
            target.followthrough = numbers

    by_day = sorted(groups["day"].values(), key=lambda n: (n.key is None, n.key or 0))
    return Dashboard(
        campaign=campaign,
        total=total,
        by_turf=sorted(groups["turf"].values(), key=lambda n: (n.key is None, n.label)),
        by_volunteer=sorted(groups["volunteer"].values(), key=lambda n: (n.key is None, n.label)),
        by_day=by_day,
    )


def rating_counts(campaign):
    """({rating: notes}, {rating: notes}): how many rated each point before and after."""
    notes = StoryNote.objects.filter(visit__campaign=campaign).order_by()
    counts = []
    for field_name in ("rating_before", "rating_after"):
        rows = notes.exclude(**{f"{field_name}__isnull": True}).values_list(field_name)
        counts.append(Counter(dict(rows.annotate(n=Count("pk")))))
    return tuple(counts)


def volunteer_conversations(campaign, volunteer, *, shift=None):
    """A volunteer's story notes (newest first), for coaching; with `shift`, those from the
    turf links handed out at it or recorded during it."""
    notes = StoryNote.objects.filter(visit__campaign=campaign, visit__volunteer=volunteer)
    if shift is not None:
        notes = notes.filter(
            Q(visit__assignment__shift=shift)
            | Q(visit__happened_at__gte=shift.starts_at, visit__happened_at__lte=shift.ends_at)
        )
    return notes.select_related("visit__household", "visit__assignment__turf").order_by(
        "-visit__happened_at", "-pk"
    )


@dataclass
class Medians:
    minutes: object = None
    rating_shift: object = None
    self_rating: object = None
    shared_story_percent: object = None
    notes: int = 0


def note_medians(notes):
    """The medians a coaching debrief compares against, over the story notes `notes`."""
    minutes, shifts, selfs = [], [], []
    shared = count = 0
    for m, before, after, self_rating, shared_story in (
        notes.values_list(
            "minutes", "rating_before", "rating_after", "self_rating", "canvasser_shared_story"
        )
        .order_by()
        .iterator(chunk_size=5000)
    ):
        count += 1
        shared += shared_story
        if m is not None:
            minutes.append(m)
        if before is not None and after is not None:
            shifts.append(after - before)
        if self_rating is not None:
            selfs.append(self_rating)
    return Medians(
        minutes=median(minutes),
        rating_shift=median(shifts),
        self_rating=median(selfs),
        shared_story_percent=round(100 * shared / count) if count else None,
        notes=count,
    )
