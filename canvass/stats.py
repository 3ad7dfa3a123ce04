"""Shift numbers, per shift and per volunteer, computed in one place.

- signups: everyone who holds or held a spot (signed up, confirmed, checked in, no-show);
- waitlisted: still waiting; cancelled: gave their spot back (or the shift was cancelled);
- confirmations: signups that said they would come;
- checked in, no-shows, and the show rate: checked in ÷ (checked in + no-shows), so a
  shift still to come has no rate rather than a rate of zero;
- promotions: signups that moved up from the waitlist;
- doors knocked and conversations recorded through the turf links handed out at the
  shift (revoked links included: a reassignment loses no door).
"""

from dataclasses import dataclass

from django.db.models import Count, Q

from canvass.models import HOLDING, ShiftSignup
from conversations.models import Visit

Status = ShiftSignup.Status


@dataclass
class ShiftNumbers:
    signups: int = 0
    waitlisted: int = 0
    cancelled: int = 0
    confirmations: int = 0
    checked_in: int = 0
    no_shows: int = 0
    promotions: int = 0
    walk_ins: int = 0
    doors: int = 0
    conversations: int = 0

    @property
    def show_rate(self):
        """Checked in ÷ (checked in + no-shows), 0–1, or None before anyone could be either."""
        decided = self.checked_in + self.no_shows
        return self.checked_in / decided if decided else None

    @property
    def show_rate_percent(self):
        rate = self.show_rate
        return None if rate is None else round(rate * 100)


def _signup_aggregates():
    return {
        "signups": Count("pk", filter=Q(status__in=HOLDING)),
        "waitlisted": Count("pk", filter=Q(status=Status.WAITLISTED)),
        "cancelled": Count("pk", filter=Q(status=Status.CANCELLED)),
        "confirmations": Count("pk", filter=Q(status__in=HOLDING, confirmed_at__isnull=False)),
        "checked_in": Count("pk", filter=Q(status=Status.ATTENDED)),
        "no_shows": Count("pk", filter=Q(status=Status.NO_SHOW)),
        "promotions": Count("pk", filter=Q(promoted_at__isnull=False)),
        "walk_ins": Count("pk", filter=Q(source=ShiftSignup.Source.WALK_IN)),
    }


def _visit_aggregates():
    return {
        "doors": Count("household", distinct=True),
        "conversations": Count("pk", filter=Q(outcome=Visit.Outcome.CONVERSATION)),
    }


def _numbers_by(ids, signups, signup_key, visits, visit_key):
    """{id: ShiftNumbers}: signups grouped by `signup_key`, visits by `visit_key`."""
    numbers = {pk: ShiftNumbers() for pk in ids}
    grouped = (
        (signups.values(signup_key).annotate(**_signup_aggregates()).order_by(), signup_key),
        (visits.values(visit_key).annotate(**_visit_aggregates()).order_by(), visit_key),
    )
    for rows, key in grouped:
        for row in rows:
            target = numbers.get(row.pop(key))
            if target is not None:
                for name, value in row.items():
                    setattr(target, name, value)
    return numbers


def shift_numbers(shift_ids):
    """{shift id: ShiftNumbers} for `shift_ids`, in two queries."""
    shift_ids = list(shift_ids)
    return _numbers_by(
        shift_ids,
        ShiftSignup.objects.filter(shift_id__in=shift_ids),
        "shift_id",
        Visit.objects.filter(assignment__shift_id__in=shift_ids),
        "assignment__shift_id",
    )


def volunteer_numbers(campaign, volunteer_ids):
    """{volunteer id: ShiftNumbers} for these volunteers of `campaign`, in two queries.

    Their doors and conversations are the visits they recorded through links handed
    out at a shift."""
    volunteer_ids = list(volunteer_ids)
    return _numbers_by(
        volunteer_ids,
        ShiftSignup.objects.filter(volunteer_id__in=volunteer_ids, shift__campaign=campaign),
        "volunteer_id",
        Visit.objects.filter(
            campaign=campaign, volunteer_id__in=volunteer_ids, assignment__shift__isnull=False
        ),
        "volunteer_id",
    )


def campaign_shift_totals(campaign):
    """ShiftNumbers over every shift of `campaign` that went ahead (cancelled ones left out)."""
    totals = ShiftNumbers()
    signups = ShiftSignup.objects.filter(
        shift__campaign=campaign, shift__cancelled_at__isnull=True
    ).aggregate(**_signup_aggregates())
    visits = Visit.objects.filter(
        campaign=campaign,
        assignment__shift__isnull=False,
        assignment__shift__cancelled_at__isnull=True,
    ).aggregate(**_visit_aggregates())
    for name, value in {**signups, **visits}.items():
        setattr(totals, name, value or 0)
    return totals
