"""The demo's shifts, signups and turf hand-outs, replayed through the shift services."""

import hashlib
import hmac
from base64 import urlsafe_b64encode
from collections import defaultdict
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from canvass.demo.data import (
    ASSIGNMENTS,
    CANCELLED_SHIFTS,
    CONTACTS,
    CURRENT_SHIFT,
    PLACES,
    POOLS,
    SERIES,
    SHIFT_NOTES,
    SHIFTS,
    SIGNUPS,
    WALK_INS,
    Signup,
)
from canvass.models import ShiftSignup
from canvass.services import (
    shift_cancel,
    shift_create,
    shift_series_create,
    signup_cancel,
    signup_check_in,
    signup_confirm,
    signup_create,
    signup_walk_in,
    signups_no_show_sweep,
)
from turf.models import Assignment
from turf.services import MAX_LINK_LIFE, assignment_create


def demo_token(*, turf_name, shift_name=None):
    """The assignment link token for a demo turf: derived, so a rerun can print it again."""
    message = f"porchlight-demo:{turf_name}"
    if shift_name is not None:
        message += f":{shift_name}"
    digest = hmac.new(settings.SECRET_KEY.encode(), message.encode(), hashlib.sha256).digest()
    return urlsafe_b64encode(digest).decode().rstrip("=")[:32]


def _shifts_ensure(*, campaign, volunteers, turfs, staff, now, created):
    """The demo's shifts and their signups, made through the services organizers and
    volunteers use, each at the time it would have happened: a shift planned a week
    ahead, signups a day or more before it, check-ins as it starts. A full shift puts
    the next people on its waitlist, a cancellation moves it up, and the no-show sweep
    finds who never came."""
    tz = campaign.tz
    today = timezone.localtime(now, tz).date()
    contacts = {"organizer": staff[0], "fieldlead": staff[1]}
    pools = defaultdict(set)
    for shift_name, turf_index, _ in ASSIGNMENTS:
        pools[shift_name].add(turf_index)
    for shift_name, indexes in POOLS.items():
        pools[shift_name].update(indexes)
    shifts = {}

    def fields(name, place, capacity):
        lat, lng = PLACES.get(place, (None, None))
        return {
            "name": name,
            "place": place,
            "place_lat": lat,
            "place_lng": lng,
            "capacity": capacity,
            "notes": SHIFT_NOTES.get(place, ""),
            "contact": contacts[CONTACTS.get(name, "organizer")],
            "turfs": [turfs[i] for i in sorted(pools[name])],
            "created_by": staff[0],
        }

    for name, days, start, hours, place, capacity in SHIFTS:
        shift = campaign.shifts.filter(name=name).order_by("starts_at").first()
        if shift is None:
            if start is None:
                # Started an hour or two ago, so the door screen has visits and doors left.
                local_now = timezone.localtime(now, tz)
                starts_at = local_now.replace(minute=0, second=0, microsecond=0) - timedelta(
                    hours=1
                )
            else:
                starts_at = datetime.combine(today + timedelta(days=days), start, tzinfo=tz)
            shift = shift_create(
                campaign=campaign,
                starts_at=starts_at,
                ends_at=starts_at + timedelta(hours=hours),
                now=min(now, starts_at - timedelta(days=7)),
                **fields(name, place, capacity),
            )
            created["shifts"] += 1
            created["sign-ups"] += _signups_replay(
                shift=shift, volunteers=volunteers, organizer=staff[0], now=now
            )
            if name in CANCELLED_SHIFTS:
                shift_cancel(shift=shift, cancelled_by=staff[0], now=now)
        shifts[name] = shift

    name, days, start, hours, place, capacity, weeks = SERIES
    first = campaign.shifts.filter(name=name).order_by("starts_at").first()
    if first is None:
        day = today + timedelta(days=days)
        day += timedelta(days=(5 - day.weekday()) % 7)  # a Saturday
        starts_at = datetime.combine(day, start, tzinfo=tz)
        series = shift_series_create(
            campaign=campaign,
            starts_at=starts_at,
            ends_at=starts_at + timedelta(hours=hours),
            weekdays=[5],
            until=day + timedelta(weeks=weeks - 1),
            now=now,
            **fields(name, place, capacity),
        )
        created["shifts"] += len(series)
        first = series[0]
        created["sign-ups"] += _signups_replay(
            shift=first, volunteers=volunteers, organizer=staff[0], now=now
        )
    shifts[name] = first
    if created["shifts"]:
        # What beat does every few minutes: the past shifts' no-shows.
        signups_no_show_sweep(now=now)
    return shifts


def _signups_replay(*, shift, volunteers, organizer, now):
    """SIGNUPS[shift.name] through the services; returns how many signups were made."""
    plan = SIGNUPS.get(shift.name, {})
    order = [(status, i) for status, indexes in plan.items() for i in indexes]
    # A day or more before the shift (and never after now), a few minutes apart.
    first = min(now - timedelta(hours=1), shift.starts_at - timedelta(days=1))
    signups = {}
    for n, (_, index) in enumerate(order):
        volunteer = volunteers[index]
        signups[index], _token = signup_create(
            shift=shift,
            volunteer=volunteer,
            source=ShiftSignup.Source.PUBLIC if n % 2 == 0 else ShiftSignup.Source.ORGANIZER,
            remind_by_sms=bool(volunteer.phone),
            remind_by_email=index % 3 == 0,
            now=first + timedelta(minutes=7 * n),
        )
    later = min(first + timedelta(minutes=7 * len(order) + 30), now)
    for status, index in order:
        signup = signups[index]
        if status == Signup.CONFIRMED:
            signup_confirm(signup=signup, now=later)
        elif status == Signup.ATTENDED:
            at = shift.starts_at - timedelta(minutes=10)
            signup_check_in(signup=signup, checked_in_by=organizer, now=at)
        elif status == Signup.CANCELLED:
            signup_cancel(signup=signup, now=later)
    for first_name, last_name, email in WALK_INS.get(shift.name, []):
        signup_walk_in(
            shift=shift,
            first_name=first_name,
            last_name=last_name,
            email=email,
            checked_in_by=organizer,
            now=shift.starts_at + timedelta(minutes=20),
        )
    return len(order) + len(WALK_INS.get(shift.name, []))


def _assignments_ensure(*, turfs, shifts, volunteers, staff, now, created):
    """The demo's assignments; returns them in ASSIGNMENTS order and the token to print."""
    assignments = []
    link_token = None
    for shift_name, turf_index, walker_indexes in ASSIGNMENTS:
        turf, shift = turfs[turf_index], shifts[shift_name]
        current = shift_name == CURRENT_SHIFT
        token = demo_token(turf_name=turf.name, shift_name=None if current else shift_name)
        if current and link_token is None:
            link_token = token
        # Found by turf and shift, not token, so a changed SECRET_KEY adds no second copy.
        assignment = Assignment.objects.filter(turf=turf, shift=shift).order_by("pk").first()
        if assignment is None:
            assignment, _ = assignment_create(
                turf=turf,
                volunteers=[volunteers[i] for i in walker_indexes],
                shift=shift,
                # The demo is started again on later days; its printed link should still open.
                expires_at=now + MAX_LINK_LIFE if current else None,
                created_by=staff[0],
                token=token,
            )
            created["assignments"] += 1
        assignments.append(assignment)
    return assignments, link_token
