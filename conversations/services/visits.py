"""Visits from the door screen: one idempotent write per visit, with all that came of it."""

import hashlib
import json
import uuid
import zoneinfo
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from canvass.access import LEADS
from canvass.models import Membership
from canvass.phones import phone_normalize
from conversations.models import (
    Channel,
    HeldVisit,
    StoryNote,
    Visit,
)
from conversations.services.plans import commitment_record
from turf.models import Person, TurfStop


class VisitInvalid(ValidationError):
    """Nothing of the visit was written.

    `errors` maps the sync API's item fields to one message each; `new_person` and
    `story_note` map to such a dict, `commitments` to a list with one dict per
    commitment, in order ({} for a good one).
    """

    message_for_people = "This visit was not saved: fix the marked fields."

    def __init__(self, errors):
        super().__init__(self.message_for_people, code="invalid")
        self.errors = errors


class VisitConflict(Exception):
    """The client_id already belongs to a different visit; nothing was written."""


PERSON_NOT_ON_LIST = "This person is not on your walk list."
VISIT_CONFLICT_MESSAGE = (
    "A different visit was already saved with this client_id. Nothing was changed: "
    "record it again as a new visit if it really is another one."
)
STORY_NOTE_FIELDS = {
    "rating_before": None,
    "rating_after": None,
    "why": "",
    "themes": [],
    "story": "",
    "canvasser_shared_story": False,
    "values_feelings": "",
    "sensitive": False,
    "self_rating": None,
}
# As StoryNote's check constraint: a conversation longer than four hours is a typo.
MAX_MINUTES = 240
NEW_PERSON_FIELDS = {"first_name": "", "last_name": "", "phone": "", "email": ""}
COMMITMENT_FIELDS = {
    "kind": "",
    "what": "",
    "when": None,
    "owner": None,
    "channel": Channel.NONE,
    "phone": "",
    "email": "",
}


def visit_record(
    *,
    assignment,
    client_id,
    happened_at,
    outcome,
    household=None,
    person=None,
    new_person=None,
    note="",
    place="",
    story_note=None,
    commitments=(),
    volunteer=None,
):
    """Record one visit sent by a phone, with all that came of it. Returns (visit, created).

    Sending the same visit again is harmless: when `client_id` is already stored with the
    same content, the stored visit is returned with created=False and nothing is written —
    also when several copies arrive at once (the unique constraint decides, the losers
    re-read). The same client_id with different content raises VisitConflict.

    Invalid input raises VisitInvalid and leaves nothing behind: the visit, a person added
    on the spot, the story note, the commitments and their reminders are one transaction.
    `volunteer` defaults to the assignment's first volunteer.
    """
    visit = _visit_prepare(
        client_id=client_id,
        happened_at=happened_at,
        outcome=outcome,
        household=household,
        person=person,
        new_person=new_person,
        note=note,
        place=place,
        story_note=story_note,
        commitments=commitments,
        volunteer=volunteer,
    )
    campaign = assignment.turf.campaign
    stored = _visit_stored(
        client_id=client_id, campaign=campaign, content_hash=visit["content_hash"]
    )
    if stored is not None:
        return stored, False
    errors = _visit_errors(assignment=assignment, campaign=campaign, **_checked(visit))
    if errors:
        raise VisitInvalid(errors)
    return _visit_write(assignment=assignment, visit=visit)


@dataclass
class VisitStored:
    """A visit of a batch that is stored: now (created) or by an earlier copy."""

    visit_id: int
    created: bool


def visits_record(*, assignment, visits):
    """Record a batch of visits sent by a phone: `visits` is a list of dicts of
    visit_record's keyword arguments. Returns one answer per visit, in order: a VisitStored,
    or the VisitConflict or VisitInvalid that visit_record would have raised for it.

    Each visit is answered as visit_record answers it, idempotent on its client_id: what
    is already stored is read in one query, the batch is checked with one query per kind
    of fact (the walk list's doors, the campaign's leads), and the visits without
    commitments are written with one INSERT per table, all in one transaction. A visit
    with commitments is written on its own (in a savepoint of that transaction, or its own
    transaction when there is nothing else to write: its commitments are checked as they
    are written, and a refused one leaves nothing of that visit). The same
    client_id twice in one batch is one visit. If a copy of one of these visits is
    inserted by another request meanwhile, the batch is written again visit by visit, and
    those copies are answered as stored. Rows are inserted in client_id order, so that two
    batches holding the same visits wait for each other instead of deadlocking.
    """
    campaign = assignment.turf.campaign
    given = visits
    visits = [_visit_prepare(**item) for item in given]
    answers = [None] * len(visits)
    first = {}  # client_id -> index of its first copy in this batch
    for index, visit in enumerate(visits):
        first.setdefault(str(visit["client_id"]), index)
    todo = set(first.values())

    stored = Visit.objects.filter(client_id__in=list(first)).values_list(
        "client_id", "pk", "campaign_id", "content_hash"
    )
    for client_id, pk, campaign_id, content_hash in stored:
        index = first[str(client_id)]
        todo.discard(index)
        if campaign_id != campaign.pk or content_hash != visits[index]["content_hash"]:
            answers[index] = VisitConflict(VISIT_CONFLICT_MESSAGE)
        else:
            answers[index] = VisitStored(pk, False)

    households = {visits[i]["household"].pk for i in todo if visits[i]["household"] is not None}
    doors = set()
    if households:
        doors = set(
            TurfStop.objects.filter(
                turf_id=assignment.turf_id, household_id__in=households
            ).values_list("household_id", flat=True)
        )
    owners = {c["owner"].pk for i in todo for c in visits[i]["commitments"] if c["owner"]}
    leads = _leads(campaign, owners)
    for index in sorted(todo):
        errors = _visit_errors(
            assignment=assignment,
            campaign=campaign,
            doors=doors,
            leads=leads,
            **_checked(visits[index]),
        )
        if errors:
            todo.discard(index)
            answers[index] = VisitInvalid(errors)

    # The order rows are inserted (and so locked) in: the visits without commitments, in
    # one INSERT, then the others; each group by client_id.
    order = sorted(
        todo, key=lambda i: (bool(visits[i]["commitments"]), str(visits[i]["client_id"]))
    )
    plain = [i for i in order if not visits[i]["commitments"]]
    try:
        # Visits with commitments only: each is its own transaction, as visit_record's.
        with transaction.atomic() if plain else nullcontext():
            for index, pk in zip(
                plain, _visits_insert(assignment, [visits[i] for i in plain]), strict=True
            ):
                answers[index] = VisitStored(pk, True)
            for index in order[len(plain) :]:
                answers[index] = _visit_answer(assignment, visits[index])
    except IntegrityError:
        # A copy arrived through another request between our read and our insert.
        with transaction.atomic():
            for index in order:
                answers[index] = _visit_answer(assignment, visits[index])

    # A second copy in this batch is answered as a resend after the first: the same
    # answer for the same content; a different content is answered in a round of its own.
    again = []
    for index, visit in enumerate(visits):
        original = first[str(visit["client_id"])]
        if original == index:
            continue
        if visit["content_hash"] != visits[original]["content_hash"]:
            again.append(index)
            continue
        answer = answers[original]
        answers[index] = (
            VisitStored(answer.visit_id, False) if isinstance(answer, VisitStored) else answer
        )
    if again:
        later = visits_record(assignment=assignment, visits=[given[i] for i in again])
        for index, answer in zip(again, later, strict=True):
            answers[index] = answer
    return answers


def _visit_answer(assignment, visit):
    """visit_record's answer for one prepared, checked visit, written in its own savepoint."""
    try:
        written, created = _visit_write(assignment=assignment, visit=visit)
    except (VisitConflict, VisitInvalid) as exc:
        return exc
    return VisitStored(written.pk, created)


def _visits_insert(assignment, visits):
    """Insert checked visits without commitments: their new people, the visits and their
    story notes, one INSERT per table. Returns the visits' ids. Call inside a transaction."""
    if not visits:
        return []
    campaign = assignment.turf.campaign
    default_volunteer = _first_volunteer(assignment)
    added = [n for n, v in enumerate(visits) if v["new_person"] is not None]
    people = Person.objects.bulk_create(
        _new_person_row(campaign, visits[n]["household"], visits[n]["new_person"]) for n in added
    )
    person = dict(zip(added, people, strict=True))
    rows = Visit.objects.bulk_create(
        _visit_row(
            assignment,
            campaign,
            visit,
            person=person.get(n, visit["person"]),
            volunteer=visit["volunteer"] or default_volunteer,
        )
        for n, visit in enumerate(visits)
    )
    StoryNote.objects.bulk_create(
        StoryNote(visit=row, **visit["story_note"])
        for visit, row in zip(visits, rows, strict=True)
        if visit["story_note"] is not None
    )
    return [row.pk for row in rows]


def _visit_prepare(
    *,
    client_id,
    happened_at,
    outcome,
    household=None,
    person=None,
    new_person=None,
    note="",
    place="",
    story_note=None,
    commitments=(),
    volunteer=None,
):
    """A visit as sent, with its defaults filled in and its content hash."""
    visit = {
        "client_id": client_id,
        "happened_at": happened_at,
        "outcome": outcome,
        "household": household,
        "person": person,
        "new_person": _with_defaults(new_person, NEW_PERSON_FIELDS),
        "note": note,
        "place": place,
        "story_note": _story_note_with_defaults(story_note),
        "commitments": [_commitment_with_defaults(c) for c in commitments],
        "volunteer": volunteer,
    }
    visit["content_hash"] = visit_content_hash(**visit)
    return visit


def _checked(visit):
    """The arguments of _visit_errors from a prepared visit."""
    return {
        name: visit[name]
        for name in (
            "happened_at",
            "outcome",
            "household",
            "person",
            "new_person",
            "place",
            "story_note",
            "commitments",
            "volunteer",
        )
    }


def _new_person_row(campaign, household, new_person):
    return Person(
        campaign=campaign,
        household=household,
        first_name=new_person["first_name"].strip(),
        last_name=new_person["last_name"].strip(),
        phone=new_person["phone"],
        email=new_person["email"].strip(),
    )


def _visit_row(assignment, campaign, visit, *, person, volunteer):
    return Visit(
        client_id=visit["client_id"],
        campaign=campaign,
        assignment=assignment,
        household=visit["household"],
        person=person,
        volunteer=volunteer,
        outcome=visit["outcome"],
        note=visit["note"],
        place=visit["place"],
        happened_at=visit["happened_at"],
        content_hash=visit["content_hash"],
    )


def _visit_write(*, assignment, visit):
    """Write one checked visit with all that came of it, in one transaction (a savepoint
    inside a batch's). Returns (visit, created); a copy inserted meanwhile by another
    request is returned with created=False."""
    campaign = assignment.turf.campaign
    volunteer = visit["volunteer"] or _first_volunteer(assignment)
    person = visit["person"]
    try:
        with transaction.atomic():
            if visit["new_person"] is not None:
                person = _new_person_row(campaign, visit["household"], visit["new_person"])
                person.save()
            row = _visit_row(assignment, campaign, visit, person=person, volunteer=volunteer)
            row.save(force_insert=True)
            if visit["story_note"] is not None:
                StoryNote.objects.create(visit=row, **visit["story_note"])
            _visit_commitments_write(visit=row, person=person, commitments=visit["commitments"])
    except IntegrityError:
        # Another copy of this visit was inserted between our check and our insert.
        stored = _visit_stored(
            client_id=visit["client_id"], campaign=campaign, content_hash=visit["content_hash"]
        )
        if stored is None:
            raise
        return stored, False
    return row, True


def visit_content_hash(**item):
    """SHA-256 of a visit as submitted, in a canonical form: key order, the offset a time
    is written in and objects versus their ids make no difference."""
    canonical = json.dumps(item, sort_keys=True, separators=(",", ":"), default=_canonical)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _canonical(value):
    if isinstance(value, datetime):
        return value.astimezone(zoneinfo.ZoneInfo("UTC")).isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if hasattr(value, "_meta"):  # a model instance: its id is what was sent
        return value.pk
    raise TypeError(f"{type(value).__name__} has no canonical form")


def _with_defaults(given, defaults):
    if given is None:
        return None
    unknown = set(given) - set(defaults)
    if unknown:
        raise TypeError(f"Unexpected fields: {', '.join(sorted(unknown))}")
    return {**defaults, **given}


def _story_note_with_defaults(given):
    """A story note with its defaults; `minutes` (the conversation's length) only when
    given, so a visit stored before the door sent it keeps its content hash."""
    if given is None:
        return None
    given = dict(given)
    minutes = given.pop("minutes", None)
    note = _with_defaults(given, STORY_NOTE_FIELDS)
    if minutes is not None:
        note["minutes"] = minutes
    return note


def _commitment_with_defaults(given):
    """A commitment with its defaults; `shift` (the ladder) only when one was picked, so
    a visit stored before a shift could be picked keeps its content hash."""
    given = dict(given)
    shift = given.pop("shift", None)
    commitment = _with_defaults(given, COMMITMENT_FIELDS)
    if shift is not None:
        commitment["shift"] = shift
    return commitment


def _visit_stored(*, client_id, campaign, content_hash):
    """The visit already stored under `client_id` if it is this same visit; None if none."""
    stored = Visit.objects.filter(client_id=client_id).first()
    if stored is None:
        return None
    # Another campaign's visit is a conflict too, and says nothing about that visit.
    if stored.campaign_id != campaign.pk or stored.content_hash != content_hash:
        raise VisitConflict(VISIT_CONFLICT_MESSAGE)
    return stored


def _first_volunteer(assignment):
    # In the volunteers' own order (by name), as the bundle lists them; .all() so that
    # volunteers prefetched with the assignment cost no query per visit.
    return next(iter(assignment.volunteers.all()), None)


def _visit_errors(
    *,
    assignment,
    campaign,
    happened_at,
    outcome,
    household,
    person,
    new_person,
    place,
    story_note,
    commitments,
    volunteer,
    doors=None,
    leads=None,
):
    """Everything wrong with a visit that can be known before writing it, by item field.

    `doors` (household ids on the walk list) and `leads` (user ids of the campaign's
    organizers and field leads) may be given, read once for a whole batch; they are read
    for this visit alone otherwise."""
    errors = {}
    conversation = outcome == Visit.Outcome.CONVERSATION
    if outcome not in Visit.Outcome.values:
        errors["outcome"] = f"“{outcome}” is not an outcome."
    if timezone.is_naive(happened_at):
        errors["happened_at"] = "Give the time with its offset, e.g. 2024-10-05T14:03:00-05:00."
    if household is not None:
        if doors is None:
            on_list = TurfStop.objects.filter(
                turf_id=assignment.turf_id, household=household
            ).exists()
        else:
            on_list = household.pk in doors
        if not on_list:
            errors["household_id"] = "This door is not on your walk list."
        elif place:
            errors["place"] = (
                "A place is only for a conversation away from the walk list; "
                "leave it empty for a door."
            )
    elif not conversation:
        errors["household_id"] = (
            "Choose the door: only a conversation can be recorded away from the walk list."
        )
    if person is not None and new_person is not None:
        errors["new_person"] = "Pick someone on the list or add a new person, not both."
    elif person is not None:
        if person.campaign_id != campaign.pk:
            errors["person_id"] = PERSON_NOT_ON_LIST
        elif household is not None and person.household_id != household.pk:
            errors["person_id"] = (
                "This person is not listed at this door. Add them as a new person instead."
            )
        elif conversation and person.do_not_contact:
            errors["person_id"] = (
                "This person asked not to be contacted: no conversation is recorded with them. "
                "Record the door as it went (not home, refused…) or talk with someone else."
            )
    elif new_person is not None:
        person_errors = _new_person_errors(new_person, campaign=campaign)
        if person_errors:
            errors["new_person"] = person_errors
    # .all() so that volunteers prefetched with the assignment cost no query per visit.
    if volunteer is not None and volunteer not in assignment.volunteers.all():
        errors["volunteer_id"] = "This volunteer is not on this assignment."
    if story_note is not None:
        if not conversation:
            errors["story_note"] = "Only a conversation has a story note."
        else:
            note_errors = _story_note_errors(story_note, campaign=campaign)
            if note_errors:
                errors["story_note"] = note_errors
    if commitments:
        if not conversation:
            errors["commitments"] = "Only a conversation has commitments."
        else:
            owner_errors = _owner_errors(commitments, campaign=campaign, leads=leads)
            if any(owner_errors):
                errors["commitments"] = owner_errors
    return errors


def _new_person_errors(new_person, *, campaign):
    """Checks a person added on the spot, normalising their phone in place."""
    errors = {}
    if not new_person["first_name"].strip():
        errors["first_name"] = "Give at least a first name."
    try:
        new_person["phone"] = phone_normalize(new_person["phone"], region=campaign.phone_region)
    except ValidationError as exc:
        errors["phone"] = exc.messages[0]
    email = new_person["email"].strip()
    if email:
        try:
            validate_email(email)
        except ValidationError:
            errors["email"] = f"“{email}” is not an email address."
    return errors


def _story_note_errors(story_note, *, campaign):
    errors = {}
    for field in ("rating_before", "rating_after", "self_rating"):
        value = story_note[field]
        if value is not None and not 0 <= value <= 10:
            errors[field] = "Give a number from 0 to 10, or leave it empty."
    minutes = story_note.get("minutes")
    if minutes is not None and not 0 <= minutes <= MAX_MINUTES:
        errors["minutes"] = f"Give the conversation's length from 0 to {MAX_MINUTES} minutes."
    unknown = [theme for theme in story_note["themes"] if theme not in campaign.story_themes]
    if unknown:
        errors["themes"] = f"“{unknown[0]}” is not one of this campaign's story themes."
    return errors


def _owner_errors(commitments, *, campaign, leads=None):
    if leads is None:
        leads = _leads(campaign, {c["owner"].pk for c in commitments if c["owner"] is not None})
    return [
        {"owner_id": "Choose one of this campaign's organizers or field leads."}
        if c["owner"] is not None and c["owner"].pk not in leads
        else {}
        for c in commitments
    ]


def _leads(campaign, user_ids):
    """Those of `user_ids` who are the campaign's organizers or field leads."""
    if not user_ids:
        return set()
    return set(
        Membership.objects.filter(
            campaign=campaign, user_id__in=user_ids, role__in=LEADS
        ).values_list("user_id", flat=True)
    )


def _visit_commitments_write(*, visit, person, commitments):
    """Record each commitment through commitment_record. Call inside the visit's transaction:
    any invalid commitment raises VisitInvalid, which rolls the whole visit back."""
    from canvass.services.ladder import commitment_shift_record

    errors = []
    for commitment in commitments:
        # A shift picked at the door: the commitment and its signup (canvass/services/ladder.py).
        record = commitment_shift_record if "shift" in commitment else commitment_record
        try:
            record(campaign=visit.campaign, person=person, visit=visit, **commitment)
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                errors.append({field: " ".join(msgs) for field, msgs in exc.message_dict.items()})
            else:
                errors.append({"non_field_errors": " ".join(exc.messages)})
        else:
            errors.append({})
    if any(errors):
        raise VisitInvalid({"commitments": errors})


class HeldVisitRefused(Exception):
    """This client_id is already held for another campaign's link; nothing was written."""


def held_visit_record(*, assignment, client_id, payload, problem, detail=""):
    """Keep a visit the server would not take, exactly as the phone holds it, for the
    campaign's organizers to review. Returns (held, created).

    Sending it again is harmless: a client_id already held for this campaign is answered
    with the stored row (the first copy is kept).
    """
    campaign = assignment.turf.campaign
    with transaction.atomic():
        held, created = HeldVisit.objects.get_or_create(
            client_id=client_id,
            defaults={
                "campaign": campaign,
                "assignment": assignment,
                "payload": payload,
                "problem": problem,
                "detail": detail,
            },
        )
    if held.campaign_id != campaign.pk:
        raise HeldVisitRefused()
    return held, created


def held_visit_resolve(*, held, resolved_by):
    """Mark a held visit as dealt with by an organizer. Resolving twice changes nothing."""
    return bool(
        HeldVisit.objects.filter(pk=held.pk, resolved_at__isnull=True).update(
            resolved_at=timezone.now(), resolved_by=resolved_by
        )
    )
