"""Benchmark: cutting and walking households that have no coordinates, by street and number.

Run against PostgreSQL (make the database once with
`createdb -h 127.0.0.1 -U postgres porchlight_bench`; the script migrates it and deletes its
synthetic campaign afterwards):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/porchlight_bench \\
        .venv/bin/python bench/cut_by_street.py [--households 100000] [--doors 75] \\
        [--located 0.4]

It builds the grid town of bench/cut_turf.py and cuts it three times, timing each
turf_cut call (reading, cutting, walk order, writing every Turf and TurfStop):

1. every household located: cut and walked by the map (the reference);
2. none located: every household cut and walked by street and number, streets in name order;
3. a share `--located` of the town's households located at random, the rest not: the
   unlocated ones are cut by street, and streets chain through where the located doors
   show they meet.

For each it prints the size spread, the share of block faces (one side of one block)
split between turfs, the buildings split, the walk-length proxy (doors per street change
along the walk lists: higher is better) and the metres walked per door, measured on the
town's true coordinates, which the street cut never sees.
"""

import argparse
import importlib.util
import math
import os
import random
import sys
import time
from collections import defaultdict
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
from turf.cutting import BY_STREET, size_spread, turf_cut  # noqa: E402
from turf.models import Household, Turf, TurfStop  # noqa: E402

_spec = importlib.util.spec_from_file_location("cut_turf_bench", ROOT / "bench" / "cut_turf.py")
cut_turf_bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(cut_turf_bench)

SLUG = "bench-cut-by-street"


def walk_figures(campaign, truth):
    """Figures of the campaign's turfs: see the module docstring."""
    stops = (
        TurfStop.objects.filter(turf__campaign=campaign)
        .order_by("turf_id", "position")
        .values_list("turf_id", "household_id", "household__street", "household__house_number")
    )
    walks = defaultdict(list)
    for turf_id, pk, street, number in stops.iterator(chunk_size=10_000):
        walks[turf_id].append((pk, street, number))
    face_turfs, building_turfs, building_units = (
        defaultdict(set),
        defaultdict(set),
        defaultdict(int),
    )
    changes = steps = 0
    metres = 0.0
    for turf_id, walk in walks.items():
        for _, street, number in walk:
            n = int(number)
            face_turfs[street, n // 100, n % 2].add(turf_id)
            building_turfs[street, number].add(turf_id)
            building_units[street, number] += 1
        for a, b in pairwise(walk):
            changes += a[1] != b[1]
            metres += math.dist(truth[a[0]], truth[b[0]])
            steps += 1
    doors = sum(map(len, walks.values()))
    buildings = [k for k, units in building_units.items() if units > 1]
    return {
        "sizes": [len(w) for w in walks.values()],
        "faces_split": sum(len(t) > 1 for t in face_turfs.values()) / len(face_turfs),
        "buildings_split": sum(len(building_turfs[k]) > 1 for k in buildings),
        "buildings": len(buildings),
        "doors_per_street_change": doors / (changes + len(walks)),
        "metres_per_door": metres / max(1, steps),
    }


def report(label, campaign, truth, doors, elapsed, by_street):
    f = walk_figures(campaign, truth)
    print(f"\n{label}")
    print(f"  turf_cut: {elapsed:.2f} s; {by_street} of {len(f['sizes'])} turfs by street")
    print(f"  size spread: {size_spread(f['sizes'], doors)}")
    print(
        f"  block faces split: {f['faces_split']:.2%}; buildings split: "
        f"{f['buildings_split']} of {f['buildings']}"
    )
    print(
        f"  walk: {f['doors_per_street_change']:.1f} doors per street change; "
        f"{f['metres_per_door']:.1f} m per door (true coordinates)"
    )


def cut(campaign, doors):
    Turf.objects.filter(campaign=campaign).delete()
    if connection.vendor == "postgresql":
        # As in bench/cut_turf.py: an imported, geocoded file has long been vacuumed.
        with connection.cursor() as cursor:
            for model in (Household, TurfStop):
                cursor.execute(f"VACUUM ANALYZE {model._meta.db_table}")
    started = time.perf_counter()
    turfs = turf_cut(campaign=campaign, doors=doors)
    return time.perf_counter() - started, sum(t.cut_by == BY_STREET for t in turfs)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=100_000)
    parser.add_argument("--doors", type=int, default=75)
    parser.add_argument("--located", type=float, default=0.4)
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    print(f"database: {connection.vendor}; load: {os.getloadavg()[0]:.2f}")
    Campaign.objects.filter(slug=SLUG).delete()
    campaign = Campaign.objects.create(name="Street cutting benchmark", slug=SLUG)
    try:
        Household.objects.bulk_create(
            (
                Household(
                    campaign=campaign,
                    address_key=f"{row['house_number']} {row['street']} {row['unit']}".lower(),
                    city="Bench",
                    **row,
                )
                for row in cut_turf_bench.town(args.households)
            ),
            batch_size=5000,
        )
        scale = 111_320 * math.cos(math.radians(cut_turf_bench.LAT0))
        truth = {
            pk: (lng * scale, lat * 110_574)
            for pk, lat, lng in Household.objects.filter(campaign=campaign).values_list(
                "pk", "lat", "lng"
            )
        }
        count = len(truth)
        print(f"{count} households, {args.doors} doors a turf")

        elapsed, by_street = cut(campaign, args.doors)
        report("1. all located (by the map)", campaign, truth, args.doors, elapsed, by_street)

        Household.objects.filter(campaign=campaign).update(lat=None, lng=None)
        elapsed, by_street = cut(campaign, args.doors)
        report("2. none located (by street)", campaign, truth, args.doors, elapsed, by_street)

        rng = random.Random(5)
        keep = rng.sample(sorted(truth), round(args.located * count))
        rows = [Household(pk=pk) for pk in keep]
        for row in rows:
            x, y = truth[row.pk]
            row.lat, row.lng = y / 110_574, x / scale
        Household.objects.bulk_update(rows, ["lat", "lng"], batch_size=5000)
        elapsed, by_street = cut(campaign, args.doors)
        label = f"3. {args.located:.0%} located at random (the rest by street, streets meeting)"
        report(label, campaign, truth, args.doors, elapsed, by_street)
        print(f"\nload now: {os.getloadavg()[0]:.2f}")
    finally:
        Campaign.objects.filter(pk=campaign.pk).delete()


if __name__ == "__main__":
    main()
