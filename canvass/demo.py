"""The demo campaign: a synthetic town with its turf, volunteers, shifts and conversations.

Every section draws from its own fixed seed and finds its rows again by stable
keys (slug, username, address, turf and shift names, visit client ids), so a
second build creates nothing and a section that is missing is filled in alone.
"""

import functools
import hashlib
import hmac
import math
import random
import unicodedata
import uuid
from base64 import urlsafe_b64encode
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

import phonenumbers
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from canvass.demo_data import (
    APARTMENT_BUILDINGS,
    AREA_CODES,
    ASSIGNMENTS,
    AVENUES,
    BLOCK_DEPTH_M,
    BLOCK_WIDTH_M,
    CAMPAIGN,
    CANCELLED_SHIFTS,
    CITY,
    COMMITMENT_PLANS,
    COMMITMENTS_WANTED,
    CONTACTS,
    CURRENT_SHIFT,
    EVENT_CONVERSATIONS,
    EVENT_SHIFT,
    FIRST_NAMES,
    HISPANIC_FIRST,
    HISPANIC_LAST,
    LAST_NAMES,
    OUTCOME_NOTES,
    OUTCOMES,
    PLACES,
    POOLS,
    SERIES,
    SETBACK_M,
    SHIFT_NOTES,
    SHIFTS,
    SIGNUPS,
    STAFF,
    STATE,
    STORIES,
    STREETS,
    TOWN_CENTER,
    TURF_COLUMNS,
    TURF_ROWS,
    VALUES_EXTRA,
    VOLUNTEERS,
    WALK_INS,
    WHY,
    ZIP_CODE,
    Outcome,
    Signup,
)
from canvass.models import Campaign, Membership, ShiftSignup, Volunteer
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
from conversations.models import Channel, Commitment, Reminder, StoryNote, Visit
from conversations.services import quiet_until, reminder_create
from turf.imports import household_key
from turf.models import Assignment, Household, Person, Turf, TurfStop
from turf.services import MAX_LINK_LIFE, assignment_create, assignment_link

SEED = "porchlight-demo-1"
DEMO_SLUG = "demo"
DEMO_PASSWORD = "porchlight-demo"
VISIT_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "porchlight:demo:visits")


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


def demo_token(*, turf_name, shift_name=None):
    """The assignment link token for a demo turf: derived, so a rerun can print it again."""
    message = f"porchlight-demo:{turf_name}"
    if shift_name is not None:
        message += f":{shift_name}"
    digest = hmac.new(settings.SECRET_KEY.encode(), message.encode(), hashlib.sha256).digest()
    return urlsafe_b64encode(digest).decode().rstrip("=")[:32]


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


# --- Sections ---------------------------------------------------------------


def _rng(section):
    # A string seed is hashed the same way on every run and platform.
    return random.Random(f"{SEED}:{section}")


def _campaign_ensure(*, created):
    campaign, was_created = Campaign.objects.get_or_create(slug=DEMO_SLUG, defaults=CAMPAIGN)
    created["campaign"] += was_created
    return campaign


def _staff_ensure(*, campaign, created):
    """The organizer and the field lead; returns them and the usernames made just now.

    An existing user is left as it is: a rerun never resets a password.
    """
    User = get_user_model()
    staff, fresh = [], set()
    for username, first, last, email, role, superuser in STAFF:
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User(
                username=username,
                first_name=first,
                last_name=last,
                email=email,
                is_staff=superuser,
                is_superuser=superuser,
            )
            user.set_password(DEMO_PASSWORD)
            user.save()
            created["users"] += 1
            fresh.add(username)
        _, was_created = Membership.objects.get_or_create(
            user=user, campaign=campaign, defaults={"role": role}
        )
        created["memberships"] += was_created
        staff.append(user)
    return staff, fresh


def _town_ensure(*, campaign, created):
    if campaign.households.exists():
        return
    rng = _rng("town")
    lots = _town_lots(rng)
    households = Household.objects.bulk_create(
        [
            Household(
                campaign=campaign,
                house_number=str(lot["number"]),
                street=lot["street"],
                unit=lot["unit"],
                city=CITY,
                state=STATE,
                zip_code=ZIP_CODE,
                address_key=household_key(
                    house_number=lot["number"],
                    street=lot["street"],
                    unit=lot["unit"],
                    zip_code=ZIP_CODE,
                    city=CITY,
                ),
                lat=lot["lat"],
                lng=lot["lng"],
                precinct=lot["precinct"],
            )
            for lot in lots
        ],
        batch_size=500,
    )
    people = _town_people(rng, campaign=campaign, households=households, lots=lots)
    Person.objects.bulk_create(people, batch_size=500)
    created["households"] += len(households)
    created["people"] += len(people)


def _turfs_ensure(*, campaign, created):
    names = [_turf_name(index) for index in range(TURF_COLUMNS * TURF_ROWS)]
    existing = {turf.name: turf for turf in campaign.turfs.filter(name__in=names)}
    missing = [name for name in names if name not in existing]
    if missing:
        slots = defaultdict(list)
        addresses = campaign.households.values_list("pk", "street", "house_number", "unit")
        for pk, street, number, unit in addresses:
            slot = _turf_slot(street, number, unit)
            if slot is not None:
                slots[slot[0]].append((slot[1], pk))
        stops = []
        for name in missing:
            turf = Turf.objects.create(campaign=campaign, name=name)
            existing[name] = turf
            walk = sorted(slots[names.index(name)])
            stops += [
                TurfStop(turf=turf, household_id=pk, position=position)
                for position, (_, pk) in enumerate(walk)
            ]
        TurfStop.objects.bulk_create(stops, batch_size=1000)
        created["turfs"] += len(missing)
        created["walk-list stops"] += len(stops)
    return [existing[name] for name in names]


def _volunteers_ensure(*, campaign, created):
    phones = _phone_pool()
    volunteers = []
    for index, (first, last, language) in enumerate(VOLUNTEERS):
        volunteer = campaign.volunteers.filter(first_name=first, last_name=last).first()
        if volunteer is None:
            volunteer = Volunteer.objects.create(
                campaign=campaign,
                first_name=first,
                last_name=last,
                # The first numbers of the pool are kept for volunteers, see _town_people.
                phone=phones[index],
                email=f"{_ascii(first)}.{_ascii(last)}@example.org".lower(),
                language=language,
            )
            created["volunteers"] += 1
        volunteers.append(volunteer)
    return volunteers


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


# --- The town, generated ----------------------------------------------------


def _town_lots(rng):
    """Every address in town: houses along both sides of each block, some apartment buildings."""
    metres_per_lat = 111_320
    metres_per_lng = metres_per_lat * math.cos(math.radians(TOWN_CENTER[0]))
    width = (len(AVENUES) - 1) * BLOCK_WIDTH_M
    depth = (len(STREETS) - 1) * BLOCK_DEPTH_M
    origin_lat = TOWN_CENTER[0] - depth / 2 / metres_per_lat
    origin_lng = TOWN_CENTER[1] - width / 2 / metres_per_lng

    def place(x, y):
        x += rng.uniform(-1.5, 1.5)
        y += rng.uniform(-1.5, 1.5)
        # Six precincts: three across, two up.
        column = min(2, max(0, int(x / (width / 3))))
        row = 0 if y < depth / 2 else 1
        return {
            "lat": round(origin_lat + y / metres_per_lat, 6),
            "lng": round(origin_lng + x / metres_per_lng, 6),
            "precinct": f"Riverside {row * 3 + column + 1}",
        }

    lots = []

    def add(street, number, spot, unit=""):
        lots.append({"street": street, "number": number, "unit": unit, **spot})

    # Apartment buildings stand near the middle of town.
    faces = [(j, b, odd) for j in range(2, 8) for b in range(2, 6) for odd in (True, False)]
    sites = set(rng.sample(faces, APARTMENT_BUILDINGS))
    for j, street in enumerate(STREETS):
        for b in range(len(AVENUES) - 1):
            for odd in (True, False):  # odd numbers on the north side
                count = rng.randint(7, 11)
                spots = [
                    0.1 + 0.8 * (i + 0.5) / count + rng.uniform(-0.01, 0.01) for i in range(count)
                ]
                building = rng.randrange(count - 1) if (j, b, odd) in sites else None
                y = j * BLOCK_DEPTH_M + (SETBACK_M if odd else -SETBACK_M)
                i = 0
                while i < count:
                    number = 100 * (b + 1) + 2 * int(spots[i] * 49) + odd
                    if i == building:  # on two lots
                        spot = place((b + (spots[i] + spots[i + 1]) / 2) * BLOCK_WIDTH_M, y)
                        floors, per_floor = rng.randint(2, 4), rng.randint(3, 6)
                        for floor in range(1, floors + 1):
                            for letter in "ABCDEF"[:per_floor]:
                                add(street, number, spot, unit=f"Apt {floor}{letter}")
                        i += 2
                    else:
                        add(street, number, place((b + spots[i]) * BLOCK_WIDTH_M, y))
                        i += 1
    for a, avenue in enumerate(AVENUES):
        for r in range(len(STREETS) - 1):
            for odd in (True, False):  # odd numbers on the west side
                count = rng.randint(2, 3)
                x = a * BLOCK_WIDTH_M + (-SETBACK_M if odd else SETBACK_M)
                for i in range(count):
                    t = 0.25 + 0.5 * (i + 0.5) / count
                    add(
                        avenue,
                        100 * (r + 1) + 2 * int(t * 49) + odd,
                        place(x, (r + t) * BLOCK_DEPTH_M),
                    )
    return lots


def _town_people(rng, *, campaign, households, lots):
    phones = iter(_phone_pool()[len(VOLUNTEERS) :])
    people = []
    for household, lot in zip(households, lots, strict=True):
        weights = [62, 29, 7, 2] if lot["unit"] else [44, 36, 13, 7]
        size = rng.choices([1, 2, 3, 4], weights)[0]
        hispanic = rng.random() < 0.14
        family = rng.choice(HISPANIC_LAST if hispanic else LAST_NAMES)
        for member in range(size):
            last = family if member == 0 or rng.random() < 0.75 else rng.choice(LAST_NAMES)
            first = rng.choice(HISPANIC_FIRST if hispanic else FIRST_NAMES)
            phone = next(phones, "") if rng.random() < 0.45 else ""
            email = ""
            if rng.random() < 0.25:
                email = f"{_ascii(first)}.{_ascii(last)}{rng.randint(1, 99)}@example.com".lower()
            people.append(
                Person(
                    campaign=campaign,
                    household=household,
                    first_name=first,
                    last_name=last,
                    phone=phone,
                    email=email,
                    language="es" if hispanic and rng.random() < 0.55 else "en",
                    do_not_contact=rng.random() < 0.01,
                )
            )
    # Voter-file ids, unique; renters who never registered have none.
    ids = rng.sample(range(10_000_000, 100_000_000), len(people))
    for person, voter_id in zip(people, ids, strict=True):
        if rng.random() < 0.85:
            person.external_id = str(voter_id)
    return people


@functools.cache
def _phone_pool():
    """Fictional numbers in a fixed shuffled order; volunteers take the first ones."""
    numbers = []
    for area in AREA_CODES:
        for line in range(100, 200):
            e164 = f"+1{area}5550{line}"
            if phonenumbers.is_valid_number(phonenumbers.parse(e164)):
                numbers.append(e164)
    _rng("phones").shuffle(numbers)
    return tuple(numbers)


def _ascii(text):
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().replace(" ", "")


def _turf_name(index):
    row, column = divmod(index, TURF_COLUMNS)
    south, north = STREETS[row * 5].removesuffix(" St"), STREETS[row * 5 + 4]
    west, east = AVENUES[column * 2].removesuffix(" Ave"), AVENUES[column * 2 + 2]
    return f"Turf {index + 1} · {south}–{north} · {west}–{east}"


def _turf_slot(street, house_number, unit):
    """(turf index, walk-order key) for a demo address, None for any other.

    A walk goes block by block: up one side of the street by house number, then
    back down the other, apartment units of a building together.
    """
    try:
        number = int(house_number)
    except ValueError:
        return None
    odd = number % 2 == 1
    block = number // 100 - 1
    side = (0, number) if odd else (1, -number)
    if street in STREETS:
        j = STREETS.index(street)
        column, row = block, j // 5
        key = (0, j, block, *side, unit)
    elif street in AVENUES:
        a = AVENUES.index(street)
        # A turf's edge runs down the middle of an avenue: each side goes with its own block.
        column, row = min(max(a - 1 if odd else a, 0), len(AVENUES) - 2), min(block // 5, 1)
        key = (1, a, block, *side, unit)
    else:
        return None
    if not (0 <= block < 9 and 0 <= column < TURF_COLUMNS * 2):
        return None
    return row * TURF_COLUMNS + column // 2, key


# --- Visits and what follows ------------------------------------------------


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
    commitments = []
    for plan in chosen:
        person = plan["person"]
        kind = rng.choices(kinds, weights)[0]
        _, what, owner_role = COMMITMENT_PLANS[kind]
        if kind == "meeting":
            when = _next_weekday(base + timedelta(days=2), 3, time(18, 30), tz)  # a Thursday
        elif kind == "council_hearing":
            when = _next_weekday(base + timedelta(days=5), 1, time(19), tz)  # a Tuesday
        elif kind == "vote_plan":
            when = datetime.combine(base + timedelta(days=8), time(7, 30), tzinfo=tz)
        elif kind == "follow_up":
            when = datetime.combine(base + timedelta(days=3), time(18), tzinfo=tz)
        else:
            shift = rng.choice(upcoming)
            when, what = shift.starts_at, f"{what}: {shift.name}"
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
        commitments.append(
            Commitment(
                campaign=campaign,
                visit=plan["visit"],
                person=person,
                kind=kind,
                what=what,
                when=when,
                owner=owners[owner_role],
                channel=channel,
                phone=person.phone if channel == Channel.SMS else "",
                email=person.email if channel == Channel.EMAIL else "",
                created_at=plan["happened_at"],
            )
        )
    Commitment.objects.bulk_create(commitments)
    created["commitments"] += len(commitments)
    for commitment, plan in zip(commitments, chosen, strict=True):
        created["reminders"] += _commitment_reminders(
            campaign=campaign,
            commitment=commitment,
            label=labels[commitment.kind],
            canvasser=plan["volunteer"],
            now=now,
        )


def _commitment_reminders(*, campaign, commitment, label, canvasser, now):
    """A confirmation four days out and one the day before, both naming the pledge, then the
    owner's check whether it was kept. Returns how many were written.

    Three at most: more than that does harm. Only future ones are written, so the
    build itself never sends anything.
    """
    tz = campaign.tz
    person, owner = commitment.person, commitment.owner
    when = timezone.localtime(commitment.when, tz)
    when_text = _when_text(when)
    what = commitment.what[0].lower() + commitment.what[1:]
    sender = campaign.sender_name or campaign.name
    admin = settings.SITE_URL + reverse(
        "admin:conversations_commitment_change", args=[commitment.pk]
    )
    sms = commitment.channel == Channel.SMS
    address = commitment.phone if sms else commitment.email
    stop = " Reply STOP to opt out." if sms else ""
    written = 0

    def remind(name, *, days, at, subject, body, to_owner=False):
        nonlocal written
        send_at = datetime.combine(when.date() + timedelta(days=days), at, tzinfo=tz)
        to = owner.email if to_owner else address
        if send_at <= now + timedelta(minutes=2) or not to:
            return
        reminder_create(
            campaign=campaign,
            commitment=commitment,
            channel=Channel.EMAIL if to_owner else commitment.channel,
            to=to,
            subject="" if sms and not to_owner else subject,
            body=body,
            send_at=send_at,
            idempotency_key=f"demo:{commitment.pk}:{name}",
            recipient_kind=Reminder.Recipient.OWNER if to_owner else Reminder.Recipient.PERSON,
            recipient_name=owner.get_full_name() if to_owner else str(person),
        )
        written += 1

    if commitment.kind == "follow_up":
        remind(
            "call",
            days=0,
            at=time(9),
            to_owner=True,
            subject=f"Today: call {person} back",
            body=f"{person} asked to talk again ({what}). Reach them at {address} around "
            f"{_clock(when)}.\n{admin}",
        )
        return written
    remind(
        "confirm",
        days=-4,
        at=time(10),
        subject=f"You said you'd {label.lower()}",
        body=f"Hi {person.first_name}, it's {sender}. Thanks again for talking with "
        f"{canvasser.first_name}. You said you'd {what}, {when_text}. We're counting on you!{stop}",
    )
    remind(
        "day_before",
        days=-1,
        at=time(17),
        subject=f"Tomorrow: {label.lower()}",
        body=f"Hi {person.first_name}, a reminder from {sender}: tomorrow, {when_text}, {what}. "
        f"See you there!{stop}",
    )
    remind(
        "owner",
        days=1,
        at=time(9),
        to_owner=True,
        subject=f"Did {person} {label.lower()}?",
        body=f"{person} said at the door they would {what} ({when_text}). Did they? Mark the "
        f"commitment kept or missed: {admin}",
    )
    return written


def _next_weekday(start, weekday, at, tz):
    day = start + timedelta(days=(weekday - start.weekday()) % 7)
    return datetime.combine(day, at, tzinfo=tz)


def _clock(local):
    hour = local.hour % 12 or 12
    minutes = f":{local.minute:02d}" if local.minute else ""
    return f"{hour}{minutes} {'am' if local.hour < 12 else 'pm'}"


def _when_text(local):
    return f"{local:%A, %B} {local.day} at {_clock(local)}"
