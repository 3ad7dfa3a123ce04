"""Cutting and walking doors without coordinates: by street, block face and house number,
never mixed with located doors, balanced like map turfs."""

import random
from collections import Counter

import pytest

from tests.factories import HouseholdFactory
from tests.turf.test_cutting import LOT_M, SETBACK_M, house, walk
from turf import cutting
from turf.cutting.bystreet import (
    BLOCK,
    BUILDING,
    SIDE,
    STREET,
    partition_row,
    street_layout,
    street_meetings,
)
from turf.cutting.common import Door
from turf.cutting.services import meetings_for
from turf.cutting.sizes import hard_band, turf_count
from turf.models import Household

pytestmark = pytest.mark.django_db


def unlocated(campaign, street, numbers, units=1):
    rows = [
        Household(
            campaign=campaign,
            house_number=str(n),
            street=street,
            unit=f"Apt {u}" if units > 1 else "",
            address_key=f"{n} {street} {u}".lower(),
        )
        for n in numbers
        for u in range(1, units + 1)
    ]
    Household.objects.bulk_create(rows)
    return len(rows)


def faces_of(turf):
    """The block faces on a turf: (street, hundred-block, odd?)."""
    return {
        (street, int(number) // 100, int(number) % 2)
        for number, street, _ in walk(turf)
        if number.isdigit()
    }


def test_unlocated_doors_are_cut_by_whole_block_faces_and_balanced(campaign):
    # Three streets, four blocks each, both sides, 10 houses a face: 240 doors, no map.
    for street in ("Alder St", "Birch St", "Cedar St"):
        unlocated(
            campaign,
            street,
            [b * 100 + k for b in range(1, 5) for k in range(20)],
        )

    turfs = cutting.turf_cut(campaign=campaign, doors=40)

    assert {t.cut_by for t in turfs} == {cutting.BY_STREET}
    sizes = [t.stops.count() for t in turfs]
    assert sum(sizes) == 240 and len(turfs) == 6
    assert all(34 <= s <= 46 for s in sizes), sizes
    # Every block face is on one turf only: none is split between two volunteers.
    seen = Counter(face for t in turfs for face in faces_of(t))
    assert set(seen.values()) == {1}
    # Each turf is a run of house numbers along its streets.
    first = walk(turfs[0])
    assert {s for _, s, _ in first} == {"Alder St"}
    assert sorted(int(n) for n, _, _ in first) == [b * 100 + k for b in (1, 2) for k in range(20)]


def test_a_narrow_street_is_split_along_its_numbers_a_wide_one_by_side(campaign):
    campaign.narrow_streets = ["Alder St"]
    campaign.save()
    # One block of 30 doors, 15 a side, cut in two: a wide street gives each volunteer
    # a side; on a narrow street each walks both sides of half the block.
    unlocated(campaign, "Alder St", range(100, 130))
    unlocated(campaign, "Birch St", range(100, 130))

    turfs = cutting.turf_cut(campaign=campaign, doors=15)

    def numbers(street):
        return [
            sorted(int(n) for n, s, _ in walk(t) if s == street)
            for t in turfs
            if any(s == street for _, s, _ in walk(t))
        ]

    birch = numbers("Birch St")
    assert [{n % 2 for n in t} for t in birch] == [{1}, {0}]
    alder = numbers("Alder St")
    assert [{n % 2 for n in t} for t in alder] == [{0, 1}, {0, 1}]
    assert max(alder[0]) < min(alder[1])
    # Walked zig-zag, both sides together.
    first = [int(n) for n, s, _ in walk(turfs[0])]
    assert first == sorted(first)


def test_a_face_is_split_only_when_it_alone_is_more_than_a_turf(campaign):
    # A tower of 120 flats at 100 Alder St, then ordinary houses.
    unlocated(campaign, "Alder St", [100], units=120)
    unlocated(campaign, "Alder St", range(201, 241, 2))

    turfs = cutting.turf_cut(campaign=campaign, doors=50)

    sizes = [t.stops.count() for t in turfs]
    assert sum(sizes) == 140 and all(43 <= s <= 57 for s in sizes), sizes
    # The 200-block odd side (20 houses) is never split; the tower has to be.
    holding = [t for t in turfs if any(n == "201" for n, _, _ in walk(t))]
    assert len(holding) == 1
    assert {n for n, _, _ in walk(holding[0]) if n != "100"} == {str(n) for n in range(201, 241, 2)}


def test_partition_row_prefers_streets_then_blocks_inside_the_band():
    # 40 doors into two turfs of 20: each may hold 17 to 23 (±15%).
    def cut(marks):
        worth = [STREET] + [BUILDING] * 39
        for position, kind in marks.items():
            worth[position] = kind
        return partition_row(worth, doors=20)

    assert cut({18: BLOCK, 22: STREET}) == [(0, 22), (22, 40)]
    assert cut({18: BLOCK, 20: SIDE}) == [(0, 18), (18, 40)]
    # A street change outside the band does not pull the cut out of it.
    assert cut({12: STREET}) == [(0, 20), (20, 40)]


@pytest.mark.parametrize("seed", range(8))
def test_partition_row_is_always_balanced(seed):
    rng = random.Random(seed)
    n = rng.randint(1, 3000)
    doors = rng.randint(3, 300)
    worth = [rng.choice([STREET, BLOCK, SIDE, BUILDING, BUILDING, 0]) for _ in range(n)]

    cuts = partition_row(worth, doors=doors)

    assert cuts[0][0] == 0 and cuts[-1][1] == n
    assert all(a[1] == b[0] for a, b in zip(cuts, cuts[1:], strict=False))
    assert len(cuts) == turf_count(n, doors)
    low, high = hard_band(n, len(cuts), doors)
    if len(cuts) > 1:
        assert all(low <= b - a <= high for a, b in cuts), [b - a for a, b in cuts]


def test_layout_goes_street_by_street_block_by_block_odd_side_first():
    doors = [
        Door(i, str(number), street, "", None, None)
        for i, (number, street) in enumerate(
            [("202", "Birch"), ("101", "Birch"), ("103", "Birch"), ("102", "Birch"), ("5", "Alder")]
        )
    ]
    order, worth = street_layout(doors, both_sides=False, narrow=set(), meetings={})
    assert [doors[i].street + " " + doors[i].house_number for i in order] == [
        "Alder 5",
        "Birch 101",
        "Birch 103",
        "Birch 102",
        "Birch 202",
    ]
    assert worth[1:] == [STREET, BUILDING, SIDE, BLOCK]


# --- Walk order -----------------------------------------------------------------


def test_unlocated_walk_goes_up_the_odd_side_and_down_the_even(campaign):
    unlocated(campaign, "Elm St", [104, 101, 103, 100, 102])
    ordered = cutting.walk_order(Household.objects.filter(campaign=campaign).order_by("?"))
    assert [h.house_number for h in ordered] == ["101", "103", "104", "102", "100"]


def test_streets_without_known_meetings_follow_name_order(campaign):
    for street in ("10th Ave", "2nd Ave", "Main St"):
        unlocated(campaign, street, [1, 2])
    ordered = cutting.walk_order(Household.objects.filter(campaign=campaign).order_by("?"))
    assert [h.street for h in ordered] == ["2nd Ave"] * 2 + ["10th Ave"] * 2 + ["Main St"] * 2


def test_unlocated_streets_chain_through_where_located_doors_show_they_meet(campaign):
    # The map knows Alder St's 300-block end meets Cedar St at Cedar's 900 end, and
    # nothing about Birch St: Alder, then Cedar (from its 900 end), then Birch.
    house(campaign, 301, "Alder St", 0, 0)
    house(campaign, 901, "Cedar St", 20, 0)
    house(campaign, 101, "Cedar St", 2000, 0)
    unlocated(campaign, "Alder St", [100, 101, 102, 103])
    unlocated(campaign, "Birch St", [100, 101])
    unlocated(campaign, "Cedar St", [896, 897, 898, 899])

    turfs = cutting.turf_cut(campaign=campaign, doors=10)

    by_street = [t for t in turfs if t.cut_by == cutting.BY_STREET]
    assert len(by_street) == 1
    order = [(s, n) for n, s, _ in walk(by_street[0])]
    assert [s for s, _ in order] == ["Alder St"] * 4 + ["Cedar St"] * 4 + ["Birch St"] * 2
    # Alder's walk ends at 100 (odd up, even down); Cedar meets Alder at 301, far from 100,
    # but it is the only known meeting. Cedar is entered from the end nearer 901: its top.
    assert [n for s, n in order if s == "Cedar St"] == ["899", "897", "896", "898"]


def test_meetings_come_from_doors_of_two_streets_close_together():
    points = [
        ("Oak St", "101", 0.0, SETBACK_M),
        ("Oak St", "151", 25 * LOT_M, SETBACK_M),
        ("1st Ave", "220", 25 * LOT_M + 20, 30.0),
        ("Pine St", "101", 0.0, 1000.0),
    ]
    meetings = street_meetings(points)
    assert meetings == {"oak st": [("1st ave", 151, 220)], "1st ave": [("oak st", 220, 151)]}


def test_meetings_for_reads_only_located_doors_of_the_given_streets(campaign):
    house(campaign, 101, "Oak St", 0, 0)
    house(campaign, 200, "Elm St", 10, 10)
    house(campaign, 300, "Far St", 15, 15)
    HouseholdFactory(campaign=campaign, street="Oak St", house_number="103")
    assert meetings_for(campaign, ["Oak St", "Elm St"]) == {
        "oak st": [("elm st", 101, 200)],
        "elm st": [("oak st", 200, 101)],
    }
