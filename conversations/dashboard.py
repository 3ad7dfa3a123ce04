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
    minutes: list = field(default_factory=list, repr=False)
    before: list = field(default_factory=list, repr=False)
    after: list = field(default_factory=list, repr=False)
    rated_both: int = 0
    moved: int = 0
    themes: Counter = field(default_factory=Counter)
    commitments: int = 0
    followthrough: object = None

    @property
    def contact_rate_percent(self):
        return round(100 * self.contacts / self.visits) if self.visits else None

    @property
    def median_minutes(self):
        return median(self.minutes)

    @property
    def average_before(self):
        return round(statistics.fmean(self.before), 1) if self.before else None

    @property
    def average_after(self):
        return round(statistics.fmean(self.after), 1) if self.after else None

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


def _add_note(target, minutes, before, after, themes):
    if minutes is not None:
        target.minutes.append(minutes)
    if before is not None:
        target.before.append(before)
    if after is not None:
        target.after.append(after)
    if before is not None and after is not None:
        target.rated_both += 1
        target.moved += after > before
    target.themes.update(theme for theme in themes or () if isinstance(theme, str))


def campaign_dashboard_numbers(campaign):
    """The campaign's conversation numbers, in total and by turf, volunteer and local day.

    A fixed number of queries: the visits counted in SQL per group (four), one pass over
    the story notes' numbers (ratings, length, themes), and the follow-through tables.
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

    notes = (
        StoryNote.objects.filter(visit__campaign=campaign)
        .annotate(day=TruncDate("visit__happened_at", tzinfo=tz))
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
    for turf, volunteer, day_key, minutes, before, after, themes in notes.iterator(chunk_size=5000):
        _add_note(total, minutes, before, after, themes)
        for name, key in (("turf", turf), ("volunteer", volunteer), ("day", day_key)):
            target = groups[name].get(key)
            if target is not None:
                _add_note(target, minutes, before, after, themes)

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
