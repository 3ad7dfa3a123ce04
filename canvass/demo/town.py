"""The demo's synthetic town (its doors and people) and the turfs cut from it."""

import math
import random
from collections import defaultdict

from django.utils import timezone

from canvass.demo.common import _ascii, _phone_pool, _rng
from canvass.demo.data import (
    APARTMENT_BUILDINGS,
    AVENUES,
    BLOCK_DEPTH_M,
    BLOCK_WIDTH_M,
    CITY,
    FIRST_NAMES,
    HISPANIC_FIRST,
    HISPANIC_LAST,
    LAST_NAMES,
    SETBACK_M,
    STATE,
    STREETS,
    TOWN_CENTER,
    TURF_COLUMNS,
    TURF_ROWS,
    VOLUNTEERS,
    ZIP_CODE,
)
from turf.imports import household_key
from turf.models import Household, Person, Turf, TurfStop


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
    # What a state's voter file says of its voters (NC's columns): the cutting page's
    # universe filters (party, age, gender). Drawn apart, so the town above stays the same.
    voters = random.Random(len(people))
    this_year = timezone.localdate().year
    for person in people:
        if person.external_id:
            person.extra = {
                "party_cd": voters.choices(["DEM", "UNA", "REP", "LIB"], [40, 33, 24, 3])[0],
                "birth_year": str(this_year - voters.randint(18, 90)),
                "gender_code": voters.choice("FMU"),
            }
    return people


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
