"""Follow-through numbers: how many commitments were made, reminded, kept and missed.

This module is the one place they are computed. Every page, export or email that
shows a follow-through rate takes it from here.
"""

from dataclasses import dataclass

from django.db.models import Count, F, Q
from django.db.models.functions import Coalesce, TruncDate

from conversations.models import Commitment, Reminder
from conversations.numbers import numbers_cached

NO_TURF = "Not from a turf (tabling, phone calls)"
NO_VOLUNTEER = "No volunteer recorded"


@dataclass(frozen=True)
class FollowThrough:
    """The numbers for one group of commitments (a campaign, a turf, a volunteer or a kind).

    `reminded` counts commitments whose person was sent at least one reminder;
    reminders to the follow-up owner do not count, they remind nobody of a pledge.
    """

    label: str
    made: int = 0
    reminded: int = 0
    kept: int = 0
    missed: int = 0
    key: object = None
    # The ladder: shift signups made at the door, and how many of them checked in.
    to_shift: int = 0
    showed_up: int = 0

    @property
    def rate(self):
        """kept / (kept + missed), or None while no commitment has an outcome.

        Open and cancelled commitments are left out: neither was kept nor broken.
        """
        decided = self.kept + self.missed
        return None if decided == 0 else self.kept / decided

    @property
    def rate_percent(self):
        rate = self.rate
        return None if rate is None else round(rate * 100)


@dataclass(frozen=True)
class CampaignFollowThrough:
    campaign: object
    total: FollowThrough
    by_turf: list
    by_volunteer: list
    by_kind: list
    # By the local day of the conversation (or of the commitment, without one); only when
    # asked for with days=True.
    by_day: list = None


def _counts(campaign):
    # Uncorrelated IN rather than EXISTS: PostgreSQL hashes the reminded ids once instead of
    # probing the reminders once per commitment.
    sent = Reminder.objects.filter(
        campaign=campaign,
        recipient_kind=Reminder.Recipient.PERSON,
        status=Reminder.Status.SENT,
    )
    # A shift commitment's reminders are its signup's (canvass/services/notify.py).
    reminded = Q(pk__in=sent.exclude(commitment=None).values("commitment_id")) | Q(
        shift_signup__in=sent.exclude(signup=None).values("signup_id")
    )
    return {
        "made": Count("pk"),
        "reminded": Count("pk", filter=reminded),
        "kept": Count("pk", filter=Q(status=Commitment.Status.KEPT)),
        "missed": Count("pk", filter=Q(status=Commitment.Status.MISSED)),
        "to_shift": Count("pk", filter=Q(shift_signup__isnull=False)),
        "showed_up": Count("pk", filter=Q(shift_signup__status="attended")),
    }


def _numbers(row):
    names = ("made", "reminded", "kept", "missed", "to_shift", "showed_up")
    return {name: row[name] for name in names}


def _volunteer_name(row):
    if row["visit__volunteer"] is None:
        return NO_VOLUNTEER
    return f"{row['visit__volunteer__first_name']} {row['visit__volunteer__last_name']}".strip()


def campaign_followthrough(campaign, *, breakdowns=True, days=False):
    """The campaign's follow-through, and unless `breakdowns=False`, by turf, volunteer
    and commitment kind; with `days=True`, also by local day.

    Kept between writes (conversations.numbers): one query when nothing has changed since
    the last read; else one more aggregate query per table (four in all, one without
    breakdowns), whatever the number of commitments.
    """
    return numbers_cached(
        campaign,
        f"followthrough:{int(breakdowns)}:{int(days)}",
        lambda: _followthrough(campaign, breakdowns=breakdowns, days=days),
    )


def _followthrough(campaign, *, breakdowns, days):
    commitments = Commitment.objects.filter(campaign=campaign).order_by()
    total = FollowThrough(
        label=campaign.name, key=campaign.pk, **commitments.aggregate(**_counts(campaign))
    )
    if not breakdowns:
        return CampaignFollowThrough(campaign, total, [], [], [])

    by_turf = [
        FollowThrough(
            label=row["visit__assignment__turf__name"] or NO_TURF,
            key=row["visit__assignment__turf"],
            **_numbers(row),
        )
        for row in commitments.values("visit__assignment__turf", "visit__assignment__turf__name")
        .annotate(**_counts(campaign))
        .order_by(F("visit__assignment__turf__name").asc(nulls_last=True))
    ]

    by_volunteer = [
        FollowThrough(
            label=_volunteer_name(row),
            key=row["visit__volunteer"],
            **_numbers(row),
        )
        for row in commitments.values(
            "visit__volunteer", "visit__volunteer__first_name", "visit__volunteer__last_name"
        )
        .annotate(**_counts(campaign))
        .order_by(
            F("visit__volunteer__first_name").asc(nulls_last=True), "visit__volunteer__last_name"
        )
    ]

    # Every kind the campaign offers gets a row, so a kind nobody has said yes to shows as 0.
    rows = {row["kind"]: row for row in commitments.values("kind").annotate(**_counts(campaign))}
    by_kind = []
    for kind in campaign.commitment_kinds:
        row = rows.pop(kind["code"], None)
        numbers = _numbers(row) if row else {}
        by_kind.append(FollowThrough(label=kind["label"], key=kind["code"], **numbers))
    # Kinds since removed from the campaign still have their commitments counted.
    for code, row in sorted(rows.items()):
        by_kind.append(FollowThrough(label=code, key=code, **_numbers(row)))

    by_day = None
    if days:
        day = TruncDate(Coalesce("visit__happened_at", "created_at"), tzinfo=campaign.tz)
        by_day = [
            FollowThrough(label=row["day"].isoformat(), key=row["day"], **_numbers(row))
            for row in commitments.annotate(day=day)
            .values("day")
            .annotate(**_counts(campaign))
            .order_by("day")
        ]
    return CampaignFollowThrough(campaign, total, by_turf, by_volunteer, by_kind, by_day)
