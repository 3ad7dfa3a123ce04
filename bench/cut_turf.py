"""Benchmark: cut 100,000 households into ~250-door turfs (issue 3, item 8; budget ≤ 10 s).

Run against PostgreSQL (make the database once with
`createdb -h 127.0.0.1 -U postgres porchlight_bench`; the script migrates it and deletes its
synthetic campaign afterwards unless --keep):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/porchlight_bench \\
        .venv/bin/python bench/cut_turf.py [--households 100000] [--doors 250] [--keep]

It builds a grid town (named streets west–east, numbered avenues south–north, odd numbers on
one side and even on the other, some apartment buildings with units, a few gaps), writes it
with bulk_create, then times one whole turf_cut call (reading, cutting, walk order, writing
every Turf and TurfStop). It prints the time, the size spread, two compactness figures and
the mean step between consecutive doors of the walk lists:

- mean distance to centroid: a turf's mean door-to-centroid distance divided by that of a
  square holding the same share of the town's area (1.0 = as compact as a square; a 4:1
  strip is about 1.4);
- box overlap: the area where turfs' bounding boxes overlap, as a share of their total area
  (0 = no two turfs interleave).
"""

import argparse
import math
import os
import random
import sys
import time
from itertools import pairwise
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "canvass.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from canvass.models import Campaign  # noqa: E402
from turf.cutting import size_spread, turf_cut  # noqa: E402
from turf.models import Household, TurfStop  # noqa: E402

SLUG = "bench-cut-turf"
LAT0, LNG0 = 41.60, -87.70
BLOCK_M = 130  # street spacing
LOT_M = 14  # frontage per house
SETBACK_M = 12  # house to street centre line
STREET_NAMES = [
    "Oak", "Maple", "Elm", "Cedar", "Walnut", "Chestnut", "Hickory", "Locust", "Sycamore",
    "Willow", "Birch", "Ash", "Pine", "Spruce", "Poplar", "Alder", "Aspen", "Linden", "Magnolia",
    "Juniper", "Laurel", "Holly", "Hazel", "Cypress", "Redwood", "Dogwood", "Beech", "Hemlock",
    "Larch", "Mulberry", "Olive", "Palm", "Peach", "Pear", "Plum", "Quince", "Rowan", "Sassafras",
    "Tamarack", "Tupelo", "Yew", "Acacia", "Balsam", "Catalpa", "Elder", "Fir", "Ginkgo",
    "Hawthorn", "Ironwood", "Jacaranda", "Kapok", "Lilac", "Mimosa", "Nutmeg", "Orchid",
    "Privet", "Rose", "Sumac", "Teak", "Umbrella", "Vine", "Wisteria", "Yucca", "Zelkova",
]  # fmt: skip


def ordinal(n):
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix} Ave"


def town(households, seed=3):
    """About `households` addresses on a square grid, in random order, with coordinates."""
    rng = random.Random(seed)
    per_face = (BLOCK_M - 2 * SETBACK_M) // LOT_M  # houses on one side of one block
    # Each grid line carries two faces per block; ~6% of lots are buildings of 4–16 units.
    per_line_block = 2 * per_face * (1 + 0.06 * 9)
    grid = max(2, math.ceil(math.sqrt(households / (2 * per_line_block)) * 1.05) + 1)
    x_scale = 111_320 * math.cos(math.radians(LAT0))
    addresses = []
    for line in range(grid):
        for block in range(grid - 1):
            if rng.random() < 0.03:
                continue  # a park or a vacant block face: a real gap in the map
            for lot in range(per_face):
                number = (block + 1) * 100 + lot * 2
                along = block * BLOCK_M + SETBACK_M + (lot + 0.5) * LOT_M
                for side in (1, 0):  # odd numbers north/east, even south/west
                    units = [""]
                    if rng.random() < 0.06:
                        units = [f"Apt {u}" for u in range(1, rng.randint(4, 16) + 1)]
                    offset = SETBACK_M if side else -SETBACK_M
                    for vertical in (False, True):
                        street = ordinal(line + 1) if vertical else STREET_NAMES[line % 64]
                        if not vertical and line >= 64:
                            street = f"{STREET_NAMES[line % 64]} {line // 64 + 1}"
                        x, y = (
                            (line * BLOCK_M + offset, along)
                            if vertical
                            else (along, line * BLOCK_M + offset)
                        )
                        for unit in units:
                            addresses.append(
                                (str(number + side), street, unit,
                                 x + rng.uniform(-2, 2), y + rng.uniform(-2, 2), line, block)
                            )  # fmt: skip
    rng.shuffle(addresses)
    addresses = addresses[:households]
    return [
        dict(
            house_number=number,
            street=street,
            unit=unit,
            lat=LAT0 + y / 110_574,
            lng=LNG0 + x / x_scale,
            precinct=f"P{line * 4 // grid + 1}{block * 4 // grid + 1}",
        )
        for number, street, unit, x, y, line, block in addresses
    ]


def compactness(turfs):
    """(mean distance-to-centroid ratio, box overlap share) for lists of (x, y) per turf."""
    everything = [p for points in turfs for p in points]
    xs, ys = [p[0] for p in everything], [p[1] for p in everything]
    town_area = (max(xs) - min(xs)) * (max(ys) - min(ys))
    ratios, boxes = [], []
    for points in turfs:
        cx = sum(p[0] for p in points) / len(points)
        cy = sum(p[1] for p in points) / len(points)
        spread = sum(math.hypot(p[0] - cx, p[1] - cy) for p in points) / len(points)
        side = math.sqrt(town_area * len(points) / len(everything))
        ratios.append(spread / (0.3826 * side))  # 0.3826·side: mean distance in a square
        px, py = [p[0] for p in points], [p[1] for p in points]
        boxes.append((min(px), min(py), max(px), max(py)))
    overlap = 0.0
    ordered = sorted(boxes)
    for i, a in enumerate(ordered):
        for b in ordered[i + 1 :]:
            if b[0] >= a[2]:
                break
            overlap += max(0.0, min(a[2], b[2]) - b[0]) * max(
                0.0, min(a[3], b[3]) - max(a[1], b[1])
            )
    total = sum((b[2] - b[0]) * (b[3] - b[1]) for b in boxes)
    return sum(ratios) / len(ratios), overlap / total if total else 0.0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=100_000)
    parser.add_argument("--doors", type=int, default=250)
    parser.add_argument("--keep", action="store_true", help="keep the synthetic campaign")
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    print(f"database: {connection.vendor}; load: {os.getloadavg()[0]:.2f}")
    Campaign.objects.filter(slug=SLUG).delete()
    campaign = Campaign.objects.create(name="Turf cutting benchmark", slug=SLUG)
    started = time.perf_counter()
    Household.objects.bulk_create(
        (
            Household(
                campaign=campaign,
                address_key=f"{row['house_number']} {row['street']} {row['unit']}".lower(),
                city="Bench",
                **row,
            )
            for row in town(args.households)
        ),
        batch_size=5000,
    )
    if connection.vendor == "postgresql":
        # A voter file is imported long before turf is cut; autovacuum has long since set
        # the table's statistics and hint bits by then.
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM ANALYZE {Household._meta.db_table}")
    count = Household.objects.filter(campaign=campaign).count()
    print(f"wrote {count} households in {time.perf_counter() - started:.1f} s (not timed)")

    started, cpu = time.perf_counter(), time.process_time()
    turfs = turf_cut(campaign=campaign, doors=args.doors)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    # The CPU time of this process alone (not PostgreSQL's) tells how much of the wall time a
    # busy machine added.
    print(
        f"turf_cut: {elapsed:.2f} s for {count} households into {len(turfs)} turfs "
        f"(this process's CPU: {cpu:.2f} s; load now {os.getloadavg()[0]:.2f})"
    )

    stops = (
        TurfStop.objects.filter(turf__campaign=campaign)
        .order_by("turf_id", "position")
        .values_list("turf_id", "household__lat", "household__lng")
    )
    x_scale = 111_320 * math.cos(math.radians(LAT0))
    by_turf = {}
    for turf_id, lat, lng in stops.iterator(chunk_size=10_000):
        by_turf.setdefault(turf_id, []).append((lng * x_scale, lat * 110_574))
    assert sum(map(len, by_turf.values())) == count, "some households are on no turf"
    print(f"size spread: {size_spread([len(p) for p in by_turf.values()], args.doors)}")
    ratio, overlap = compactness(list(by_turf.values()))
    print(
        f"compactness: mean distance to centroid {ratio:.2f}× a square's; box overlap {overlap:.2%}"
    )
    steps = [math.dist(a, b) for walk in by_turf.values() for a, b in pairwise(walk)]
    print(
        f"walk order: mean step between doors {sum(steps) / len(steps):.1f} m "
        f"(lots are {LOT_M} m wide, units share a spot); "
        f"{sum(s > 3 * BLOCK_M for s in steps)} steps longer than {3 * BLOCK_M} m"
    )
    if not args.keep:
        Campaign.objects.filter(pk=campaign.pk).delete()


if __name__ == "__main__":
    main()
