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

from canvass.models import Volunteer
from conversations.models import StoryNote, Visit
from conversations.stats import NO_TURF, NO_VOLUNTEER, campaign_followthrough
from turf.models import Turf

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
SELECT {grouping}, {keys}
       percentile_cont(0.5) WITHIN GROUP (ORDER BY n.minutes), count(n.minutes),
       avg(n.rating_before), avg(n.rating_after),
       count(*) FILTER (WHERE n.rating_before IS NOT NULL AND n.rating_after IS NOT NULL),
       count(*) FILTER (WHERE n.rating_after > n.rating_before)
FROM conversations_storynote n
JOIN conversations_visit v ON v.id = n.visit_id
LEFT JOIN turf_assignment a ON a.id = v.assignment_id
CROSS JOIN LATERAL (SELECT (v.happened_at AT TIME ZONE %(tz)s)::date AS day) d
WHERE v.campaign_id = %(campaign)s
GROUP BY GROUPING SETS ({sets}())
"""
THEMES_SQL = """
SELECT {grouping}, {keys} t.theme, count(*)
FROM conversations_storynote n
JOIN conversations_visit v ON v.id = n.visit_id
LEFT JOIN turf_assignment a ON a.id = v.assignment_id
CROSS JOIN LATERAL (SELECT (v.happened_at AT TIME ZONE %(tz)s)::date AS day) d
CROSS JOIN LATERAL jsonb_array_elements_text(
    CASE WHEN jsonb_typeof(n.themes) = 'array' THEN n.themes ELSE '[]'::jsonb END) AS t(theme)
WHERE v.campaign_id = %(campaign)s
GROUP BY GROUPING SETS ({sets}(t.theme))
"""
_SET_COLUMNS = {"turf": "a.turf_id", "volunteer": "v.volunteer_id", "day": "day"}


def _sql(template, wanted, extra=""):
    """`template` grouped by each of `wanted` (and in total): GROUPING() is a bit mask of
    the columns a row is *not* grouped by, one bit per wanted group, the first the highest."""
    columns = [_SET_COLUMNS[name] for name in wanted]
    return template.format(
        grouping=f"GROUPING({', '.join(columns)})" if columns else "0",
        keys="".join(f"{column}, " for column in columns),
        sets="".join(f"({column}{extra}), " for column in columns),
    )


def _notes_postgresql(campaign, total, groups, wanted=GROUPS):
    """Ratings, lengths and themes per group in two grouped queries (PostgreSQL)."""
    params = {"campaign": campaign.pk, "tz": campaign.timezone}
    wanted = [name for name in GROUPS if name in wanted]
    width = len(wanted)
    everything = (1 << width) - 1
    masks = {everything & ~(1 << (width - 1 - i)): name for i, name in enumerate(wanted)}

    def target(grouping, keys):
        if grouping == everything:
            return total
        name = masks[grouping]
        return groups[name].get(keys[wanted.index(name)])

    with connection.cursor() as cursor:
        cursor.execute(_sql(NOTES_SQL, wanted), params)
        for row in cursor:
            keys, rest = row[1 : 1 + width], row[1 + width :]
            numbers = target(row[0], keys)
            if numbers is None:
                continue
            med, timed, before, after, both, moved = rest
            numbers.median_minutes = median([med]) if med is not None else None
            numbers.timed = timed
            numbers.average_before = _average(before and float(before))
            numbers.average_after = _average(after and float(after))
            numbers.rated_both, numbers.moved = both, moved
        cursor.execute(_sql(THEMES_SQL, wanted, ", t.theme"), params)
        for row in cursor:
            keys, (theme, count) = row[1 : 1 + width], row[1 + width :]
            numbers = target(row[0], keys)
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


VISITS_SQL = """
SELECT {grouping}, {keys}
       count(*), count(DISTINCT v.household_id),
       count(*) FILTER (WHERE v.outcome = ANY(%(contact)s)),
       count(*) FILTER (WHERE v.outcome = %(conversation)s)
FROM conversations_visit v
LEFT JOIN turf_assignment a ON a.id = v.assignment_id
CROSS JOIN LATERAL (SELECT (v.happened_at AT TIME ZONE %(tz)s)::date AS day) d
WHERE v.campaign_id = %(campaign)s
GROUP BY GROUPING SETS ({sets}())
"""


def _visits_postgresql(campaign, total, groups, wanted):
    """The visits counted in total and per group in one pass (PostgreSQL), then the turfs'
    and volunteers' names for the keys found."""
    wanted = [name for name in GROUPS if name in wanted]
    width = len(wanted)
    everything = (1 << width) - 1
    masks = {everything & ~(1 << (width - 1 - i)): name for i, name in enumerate(wanted)}
    params = {
        "campaign": campaign.pk,
        "tz": campaign.timezone,
        "contact": list(CONTACT),
        "conversation": Visit.Outcome.CONVERSATION,
    }
    names = ("visits", "doors", "contacts", "conversations")
    found = {name: {} for name in GROUPS}
    with connection.cursor() as cursor:
        cursor.execute(_sql(VISITS_SQL, wanted), params)
        for row in cursor:
            keys, numbers = row[1 : 1 + width], dict(zip(names, row[1 + width :], strict=True))
            if row[0] == everything:
                for name, value in numbers.items():
                    setattr(total, name, value)
            else:
                name = masks[row[0]]
                found[name][keys[wanted.index(name)]] = numbers
    turfs = Turf.objects.filter(pk__in=[k for k in found["turf"] if k])
    volunteers = Volunteer.objects.filter(pk__in=[k for k in found["volunteer"] if k])
    labels = {
        "turf": dict(turfs.values_list("pk", "name")) if found["turf"] else {},
        "volunteer": {v.pk: str(v) for v in volunteers} if found["volunteer"] else {},
    }
    for name, rows in found.items():
        for key, numbers in rows.items():
            if name == "day":
                label = key.isoformat()
            elif key is None:
                label = NO_TURF if name == "turf" else NO_VOLUNTEER
            else:
                label = labels[name].get(key, "")
            groups[name][key] = ConversationNumbers(label=label, key=key, **numbers)


def _visits_orm(campaign, total, groups, wanted):
    """The same counts, one query per group (SQLite)."""
    visits = Visit.objects.filter(campaign=campaign).order_by()
    for name, value in visits.aggregate(**_visit_counts()).items():
        setattr(total, name, value or 0)
    turf_rows = visits.values("assignment__turf", "assignment__turf__name")
    volunteer_rows = visits.values("volunteer", "volunteer__first_name", "volunteer__last_name")
    day_rows = visits.annotate(day=TruncDate("happened_at", tzinfo=campaign.tz)).values("day")
    for row in turf_rows.annotate(**_visit_counts()) if "turf" in wanted else ():
        key = row.pop("assignment__turf")
        label = row.pop("assignment__turf__name") or NO_TURF
        groups["turf"][key] = ConversationNumbers(label=label, key=key, **row)
    for row in volunteer_rows.annotate(**_visit_counts()) if "volunteer" in wanted else ():
        key = row.pop("volunteer")
        first, last = row.pop("volunteer__first_name"), row.pop("volunteer__last_name")
        label = f"{first} {last}".strip() if key else NO_VOLUNTEER
        groups["volunteer"][key] = ConversationNumbers(label=label, key=key, **row)
    for row in day_rows.annotate(**_visit_counts()) if "day" in wanted else ():
        key = row.pop("day")
        groups["day"][key] = ConversationNumbers(label=key.isoformat(), key=key, **row)


def campaign_dashboard_numbers(campaign, groups=GROUPS):
    """The campaign's conversation numbers, in total and by turf, volunteer and local day.

    A fixed number of queries: the visits counted per group (one grouped query and the
    names on PostgreSQL, four elsewhere), the story notes' ratings, lengths and themes (two
    grouped queries on PostgreSQL), and follow-through.
    Only the breakdowns in `groups` are computed; the others are left empty.
    """
    total = ConversationNumbers(label=campaign.name, key=campaign.pk)
    wanted = groups
    groups = {name: {} for name in GROUPS}
    if connection.vendor == "postgresql":
        _visits_postgresql(campaign, total, groups, wanted)
    else:
        _visits_orm(campaign, total, groups, wanted)

    if connection.vendor == "postgresql":
        _notes_postgresql(campaign, total, groups, wanted)
    else:
        _notes_python(campaign, total, groups)

    followthrough = campaign_followthrough(campaign, days="day" in wanted)
    total.followthrough = followthrough.total
    total.commitments = followthrough.total.made
    for name, rows in (
        ("turf", followthrough.by_turf),
        ("volunteer", followthrough.by_volunteer),
        ("day", followthrough.by_day or []),
    ):
        if name not in wanted:
            continue
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


MEDIANS_SQL = """
SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY minutes),
       percentile_cont(0.5) WITHIN GROUP (ORDER BY rating_after - rating_before),
       percentile_cont(0.5) WITHIN GROUP (ORDER BY self_rating),
       count(*) FILTER (WHERE canvasser_shared_story), count(*)
FROM ({notes}) AS notes
"""


def note_medians(notes):
    """The medians a coaching debrief compares against, over the story notes `notes`
    (one aggregate query on PostgreSQL; one pass in Python elsewhere)."""
    columns = ("minutes", "rating_before", "rating_after", "self_rating", "canvasser_shared_story")
    if connection.vendor == "postgresql":
        sql, params = notes.values(*columns).order_by().query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(MEDIANS_SQL.format(notes=sql), params)
            minutes, shift, self_rating, shared, count = cursor.fetchone()
        return Medians(
            minutes=median([minutes]) if minutes is not None else None,
            rating_shift=median([shift]) if shift is not None else None,
            self_rating=median([self_rating]) if self_rating is not None else None,
            shared_story_percent=round(100 * shared / count) if count else None,
            notes=count,
        )
    minutes, shifts, selfs = [], [], []
    shared = count = 0
    for m, before, after, self_rating, shared_story in (
        notes.values_list(*columns).order_by().iterator(chunk_size=5000)
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
