"""The demo's visits, story notes and commitments, and the welcome email:
the commitments go through the same services the door screen uses."""

import uuid
from collections import Counter, defaultdict
from datetime import datetime, time, timedelta

from django.conf import settings
from django.utils import timezone

from canvass.demo.common import VISIT_NAMESPACE, _phone_pool, _rng
from canvass.demo.data import (
    ASSIGNMENTS,
    COMMITMENT_PLANS,
    COMMITMENTS_WANTED,
    CURRENT_SHIFT,
    EVENT_CONVERSATIONS,
    EVENT_SHIFT,
    FIRST_NAMES,
    HISPANIC_FIRST,
    HISPANIC_LAST,
    LAST_NAMES,
    OUTCOME_NOTES,
    OUTCOMES,
    SIGNUPS,
    STORIES,
    VALUES_EXTRA,
    WHY,
    Outcome,
    Signup,
)
from canvass.models import ShiftSignup
from canvass.services.ladder import commitment_shift_record
from conversations.models import Channel, Commitment, InboundSms, Reminder, StoryNote, Visit
from conversations.services import commitment_record, reminder_create, sms_inbound_handle
from turf.models import Person, TurfStop


def _conversations_ensure(*, campaign, assignments, shifts, volunteers, staff, now, created):
    plans = _visit_plans(
        campaign=campaign, assignments=assignments, shifts=shifts, volunteers=volunteers
    )
    seen = set(
        Visit.objects.filter(client_id__in=[p["client_id"] for p in plans]).values_list(
            "client_id", flat=True
        )
    )
    plans = [p for p in plans if p["client_id"] not in seen]
    if not plans:
        return

    walk_ins = [p for p in plans if p["new_person"] is not None]
    new_people = Person.objects.bulk_create(
        Person(campaign=campaign, **p["new_person"]) for p in walk_ins
    )
    for plan, person in zip(walk_ins, new_people, strict=True):
        plan["person"] = person
    created["people"] += len(new_people)

    visits = Visit.objects.bulk_create(
        Visit(
            client_id=p["client_id"],
            campaign=campaign,
            assignment=p["assignment"],
            household_id=p["household_id"],
            person=p["person"],
            volunteer=p["volunteer"],
            outcome=p["outcome"],
            note=p["note"],
            place=p["place"],
            happened_at=p["happened_at"],
            received_at=min(p["received_at"], now),
        )
        for p in plans
    )
    for plan, visit in zip(plans, visits, strict=True):
        plan["visit"] = visit
    talks = [p for p in plans if p["story"] is not None]
    StoryNote.objects.bulk_create(StoryNote(visit=p["visit"], **p["story"]) for p in talks)
    created["visits"] += len(visits)
    created["story notes"] += len(talks)
    _commitments_create(
        campaign=campaign, talks=talks, shifts=shifts, staff=staff, now=now, created=created
    )


def _visit_plans(*, campaign, assignments, shifts, volunteers):
    """Every demo visit as a dict, in a fixed order with fixed client ids.

    Depends only on the town and the shift times stored in the database, never on
    the clock, so a later run plans the same visits and finds them all recorded.
    """
    turf_ids = {a.turf_id for a in assignments}
    stops = defaultdict(list)
    for stop in TurfStop.objects.filter(turf_id__in=turf_ids).order_by("turf_id", "position"):
        stops[stop.turf_id].append(stop.household_id)
    residents = defaultdict(list)
    for person in Person.objects.filter(household__stops__turf_id__in=turf_ids).order_by("pk"):
        residents[person.household_id].append(person)
    walkers = {a.pk: list(a.volunteers.order_by("pk")) for a in assignments}

    plans = []
    reached = Counter()  # how far down each walk list the earlier shifts got
    for index, ((shift_name, _, _), assignment) in enumerate(
        zip(ASSIGNMENTS, assignments, strict=True)
    ):
        shift = shifts[shift_name]
        # The walk's timeline draws from its own stream and the people at each door from
        # another, so an edited person never lengthens a walk into new visits on a rerun.
        rng = _rng(f"walk:{index}")
        if shift_name == CURRENT_SHIFT:
            # Only its first hour: the build may run minutes after the shift began.
            start, end = (
                shift.starts_at + timedelta(minutes=8),
                shift.starts_at + timedelta(hours=1),
            )
        else:
            start, end = (
                shift.starts_at + timedelta(minutes=15),
                shift.ends_at - timedelta(minutes=10),
            )
        doors = stops[assignment.turf_id]
        t = start
        n = 0
        while t < end and reached[assignment.turf_id] < len(doors):
            household_id = doors[reached[assignment.turf_id]]
            reached[assignment.turf_id] += 1
            outcome, _, (low, high) = rng.choices(OUTCOMES, [o[1] for o in OUTCOMES])[0]
            volunteer = rng.choice(walkers[assignment.pk])
            key = f"walk:{index}:{n}"
            door_rng = _rng(key)
            person = None
            if outcome == Outcome.CONVERSATION:
                people = [p for p in residents[household_id] if not p.do_not_contact]
                if people:
                    person = door_rng.choice(people)
                else:
                    outcome = Outcome.NOT_HOME
            plans.append(
                _visit_plan(
                    door_rng,
                    key=key,
                    campaign=campaign,
                    assignment=assignment,
                    household_id=household_id,
                    person=person,
                    volunteer=volunteer,
                    outcome=outcome,
                    at=t,
                )
            )
            n += 1
            t += timedelta(minutes=rng.uniform(low, high) + rng.uniform(0.5, 1.5))

    # Conversations at the flea-market table: no door, the person added on the spot.
    event = shifts[EVENT_SHIFT]
    rng = _rng("event")
    table = [volunteers[i] for i in SIGNUPS[EVENT_SHIFT][Signup.ATTENDED]]
    for n in range(EVENT_CONVERSATIONS):
        hispanic = rng.random() < 0.3
        first = rng.choice(HISPANIC_FIRST if hispanic else FIRST_NAMES)
        walk_in = {
            "household": None,
            "first_name": first,
            "last_name": rng.choice(HISPANIC_LAST if hispanic else LAST_NAMES),
            "language": "es" if hispanic else "en",
        }
        at = event.starts_at + timedelta(minutes=15 + n * 22 + rng.uniform(0, 8))
        plan = _visit_plan(
            rng,
            key=f"event:{n}",
            campaign=campaign,
            assignment=None,
            household_id=None,
            person=None,
            volunteer=rng.choice(table),
            outcome=Outcome.CONVERSATION,
            at=at,
            first_name=first,
        )
        plan["new_person"] = walk_in
        plan["place"] = event.place
        plans.append(plan)
    return plans


def _visit_plan(
    rng, *, key, campaign, assignment, household_id, person, volunteer, outcome, at, first_name=None
):
    delay = rng.uniform(3, 90)
    if rng.random() < 0.1:  # saved on the phone with no signal, synced a little later
        delay += rng.uniform(600, 2400)
    story = None
    if outcome == Outcome.CONVERSATION:
        story = _story_note(rng, campaign=campaign, first=first_name or person.first_name)
    return {
        "client_id": uuid.uuid5(VISIT_NAMESPACE, key),
        "assignment": assignment,
        "household_id": household_id,
        "person": person,
        "new_person": None,
        "volunteer": volunteer,
        "outcome": outcome,
        "note": rng.choice(OUTCOME_NOTES[outcome]),
        "place": "",
        "happened_at": at,
        "received_at": at + timedelta(seconds=delay),
        "story": story,
    }


def _story_note(rng, *, campaign, first):
    themes, sensitive, story, values = rng.choice(STORIES)
    before = rng.choices(range(11), [3, 2, 3, 4, 4, 8, 6, 6, 5, 4, 5])[0]
    after = None
    if rng.random() < 0.9:  # some conversations end before the second rating
        after = min(10, max(0, before + rng.choices([-1, 0, 1, 2, 3], [1, 4, 4, 3, 1])[0]))
    bucket = "low" if before <= 3 else "mid" if before <= 6 else "high"
    extra = rng.choice(VALUES_EXTRA)
    return {
        "rating_before": before,
        "rating_after": after,
        "why": rng.choice(WHY[bucket]),
        "themes": [t for t in themes if t in campaign.story_themes],
        "story": story.format(first=first),
        "canvasser_shared_story": rng.random() < 0.7,
        "values_feelings": f"{values}; {extra.lower()}" if extra else values,
        "sensitive": sensitive,
        "self_rating": rng.randint(4, 9),
        # 10–25 minutes, as deep-canvass conversations run (no draw: the stories stay as they were).
        "minutes": 10 + (before * 7 + len(story)) % 16,
    }


def _commitments_create(*, campaign, talks, shifts, staff, now, created):
    """What was said yes to at the door, recorded through the services the door screen's
    sync uses: `commitment_record` writes each one's follow-up plan into the outbox, and a
    "volunteer a shift" picks one of the shifts to come, which signs the person up
    (`commitment_shift_record`, the ladder)."""
    rng = _rng("commitments")
    tz = campaign.tz
    owners = {"organizer": staff[0], "fieldlead": staff[1]}
    base = timezone.localtime(shifts[CURRENT_SHIFT].starts_at, tz).date()
    upcoming = sorted(
        (
            s
            for s in shifts.values()
            if timezone.localtime(s.starts_at, tz).date() > base and not s.is_cancelled
        ),
        key=lambda s: s.starts_at,
    )
    labels = {kind["code"]: kind["label"] for kind in campaign.commitment_kinds}
    extra_phones = iter(reversed(_phone_pool()))
    kinds = [k for k in COMMITMENT_PLANS if k in labels and (upcoming or k != "volunteer_shift")]
    weights = [COMMITMENT_PLANS[k][0] for k in kinds]

    chosen = rng.sample(talks, min(COMMITMENTS_WANTED, len(talks)))
    chosen.sort(key=lambda p: p["happened_at"])
    reminders_before = Reminder.objects.filter(campaign=campaign).count()
    signups_before = ShiftSignup.objects.filter(shift__campaign=campaign).count()
    for plan in chosen:
        person = plan["person"]
        kind = rng.choices(kinds, weights)[0]
        _, what, owner_role = COMMITMENT_PLANS[kind]
        if rng.random() < 0.2:  # owners are not strictly by kind
            owner_role = "fieldlead" if owner_role == "organizer" else "organizer"
        # Consent is given at the door, with the number or address to use.
        if person.phone or not person.email:
            channel = Channel.SMS
            if not person.phone:
                person.phone = next(extra_phones)
        else:
            channel = Channel.EMAIL
        person.contact_consent = True
        person.save(update_fields=["phone", "contact_consent"])
        fields = {
            "campaign": campaign,
            "visit": plan["visit"],
            "person": person,
            "kind": kind,
            "owner": owners[owner_role],
            "channel": channel,
            "phone": person.phone if channel == Channel.SMS else "",
            "email": person.email if channel == Channel.EMAIL else "",
        }
        if kind == "volunteer_shift":
            commitment = commitment_shift_record(
                shift=rng.choice(upcoming), what="", now=now, **fields
            )
        else:
            commitment = commitment_record(
                what=what, when=_commitment_when(kind, base=base, tz=tz), **fields
            )
        # Said at the door, when the visit happened.
        Commitment.objects.filter(pk=commitment.pk).update(created_at=plan["happened_at"])
    created["commitments"] += len(chosen)
    created["reminders"] += Reminder.objects.filter(campaign=campaign).count() - reminders_before
    created["sign-ups"] += (
        ShiftSignup.objects.filter(shift__campaign=campaign).count() - signups_before
    )


def _commitment_when(kind, *, base, tz):
    if kind == "meeting":
        return _next_weekday(base + timedelta(days=2), 3, time(18, 30), tz)  # a Thursday
    if kind == "council_hearing":
        return _next_weekday(base + timedelta(days=5), 1, time(19), tz)  # a Tuesday
    if kind == "vote_plan":
        return datetime.combine(base + timedelta(days=8), time(7, 30), tzinfo=tz)
    return datetime.combine(base + timedelta(days=3), time(18), tzinfo=tz)  # "talk again"


def _reply_ensure(*, campaign):
    """One text back from a person who said yes, waiting in the replies inbox."""
    if InboundSms.objects.filter(provider_id="demo-reply-1").exists():
        return
    texted = (
        Commitment.objects.filter(
            campaign=campaign, status=Commitment.Status.OPEN, channel=Channel.SMS
        )
        .exclude(phone="")
        .order_by("pk")
        .first()
    )
    if texted is not None:
        sms_inbound_handle(
            provider_id="demo-reply-1",
            from_number=texted.phone,
            body="Can I bring my neighbor? Her landlord won't fix the heat either.",
        )


def _welcome_ensure(*, campaign, organizer, now, created):
    existing = Reminder.objects.filter(idempotency_key="demo:welcome").first()
    if existing is not None:
        return existing
    reminder = reminder_create(
        campaign=campaign,
        channel=Channel.EMAIL,
        to=organizer.email or "organizer@example.org",
        subject="Welcome to Porchlight: your first reminder arrived",
        body=(
            f"Hello {organizer.first_name or organizer.username},\n\n"
            "This email came through Porchlight's outbox, the same way every follow-up does. "
            "When the demo was built it wrote a row in the Reminder table, due two minutes "
            "later. Celery beat found it due, a worker claimed it and sent it; had it fallen "
            "in quiet hours, it would have waited for the morning.\n\n"
            "The texts and emails people agreed to at the door travel this way too: see "
            f"Reminders in the admin, {settings.SITE_URL}/admin/conversations/reminder/\n\n"
            f"{campaign.sender_name or campaign.name}"
        ),
        # Two minutes: long enough to open the outbox and watch it arrive.
        send_at=now + timedelta(minutes=2),
        idempotency_key="demo:welcome",
        recipient_kind=Reminder.Recipient.OWNER,
        recipient_name=organizer.get_full_name(),
    )
    created["reminders"] += 1
    return reminder


def _next_weekday(start, weekday, at, tz):
    day = start + timedelta(days=(weekday - start.weekday()) % 7)
    return datetime.combine(day, at, tzinfo=tz)
