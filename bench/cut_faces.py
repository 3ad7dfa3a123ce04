"""Benchmark: cutting located doors by whole block faces and buildings, against the door-by-door
cut, in one run on one town (issue 12, item 4).

Run against PostgreSQL (make the database once with
`createdb -h 127.0.0.1 -U postgres porchlight_bench`; the script migrates it and deletes its
synthetic campaign afterwards):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/porchlight_bench \\
        .venv/bin/python bench/cut_faces.py [--households 20000 100000] [--doors 75]

For each size it builds the grid town of bench/cut_turf.py (every household located) and
times two whole turf_cut calls on it (reading, cutting, walk order, writing every Turf and
TurfStop), with the turfs of the first deleted before the second:

- "door by door": the cut as it was before blocks and faces, bisecting single doors
  (turf.cutting.bymap.partition_doors without units);
- "faces": the cut turf_cut makes now, of whole blocks, block faces and buildings.

For each it prints the wall time and this process's CPU time, the size spread against the
±15% band, the share of block faces (one side of one block: street, hundred-block, odd or
even) on two or more turfs, the buildings (one address, two or more units) on two or more
turfs, the metres per door of a nearest-neighbour tour of each turf (from its south-west
door, always on to the nearest door not yet visited; total length over doors), the metres
per door of the walk lists themselves, and the share of turfs' bounding-box area that
overlaps another turf's box. Then the ratios of the two, measured in the same run.
"""

import argparse
import contextlib
import importlib.util
import math
import os
import sys
import time
from collections import defaultdict
from itertools import pairwise
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "canvass.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from canvass.models import Campaign  # noqa: E402
from turf.cutting import services, size_spread, turf_cut  # noqa: E402
from turf.models import Household, Turf, TurfStop  # noqa: E402

_spec = importlib.util.spec_from_file_location("cut_turf_bench", ROOT / "bench" / "cut_turf.py")
cut_turf_bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(cut_turf_bench)

SLUG = "bench-cut-faces"


def nearest_neighbour_tour(points):
    """Length of the greedy tour: from the south-west point, always to the nearest left."""
    if len(points) < 2:
        return 0.0
    left = list(points)
    start = min(range(len(left)), key=lambda i: (left[i][1], left[i][0]))
    here = left[start]
    left[start] = left[-1]
    left.pop()
    total = 0.0
    while left:
        hx, hy = here
        j = min(range(len(left)), key=lambda i: (left[i][0] - hx) ** 2 + (left[i][1] - hy) ** 2)
        total += math.dist(here, left[j])
        here = left[j]
        left[j] = left[-1]
        left.pop()
    return total


def figures(campaign, truth, doors):
    stops = (
        TurfStop.objects.filter(turf__campaign=campaign)
        .order_by("turf_id", "position")
        .values_list("turf_id", "household_id", "household__street", "household__house_number")
    )
    walks = defaultdict(list)
    face_turfs, building_turfs, units = defaultdict(set), defaultdict(set), defaultdict(int)
    for turf_id, pk, street, number in stops.iterator(chunk_size=10_000):
        walks[turf_id].append(truth[pk])
        n = int(number)
        face_turfs[street, n // 100, n % 2].add(turf_id)
        building_turfs[street, number].add(turf_id)
        units[street, number] += 1
    count = sum(map(len, walks.values()))
    tour = sum(nearest_neighbour_tour(points) for points in walks.values())
    steps = [math.dist(a, b) for points in walks.values() for a, b in pairwise(points)]
    _, overlap = cut_turf_bench.compactness(list(walks.values()))
    return {
        "spread": size_spread([len(w) for w in walks.values()], doors),
        "faces": sum(len(t) > 1 for t in face_turfs.values()) / len(face_turfs),
        "buildings": sum(len(building_turfs[k]) > 1 for k, n in units.items() if n > 1),
        "all_buildings": sum(n > 1 for n in units.values()),
        "tour": tour / count,
        "walk": sum(steps) / max(1, len(steps)),
        "overlap": overlap,
    }


def cut(campaign, doors, *, by_faces):
    Turf.objects.filter(campaign=campaign).delete()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for model in (Household, TurfStop):
                cursor.execute(f"VACUUM ANALYZE {model._meta.db_table}")
    # The door-by-door cut: partition_doors without blocks, faces and buildings.
    door_by_door = mock.patch.object(services, "block_faces", lambda *a, **k: None)
    with contextlib.nullcontext() if by_faces else door_by_door:
        load = os.getloadavg()[0]
        started, cpu = time.perf_counter(), time.process_time()
        turf_cut(campaign=campaign, doors=doors)
        return time.perf_counter() - started, time.process_time() - cpu, load


def run(households, doors):
    Campaign.objects.filter(slug=SLUG).delete()
    campaign = Campaign.objects.create(name="Block face cutting benchmark", slug=SLUG)
    try:
        Household.objects.bulk_create(
            (
                Household(
                    campaign=campaign,
                    address_key=f"{row['house_number']} {row['street']} {row['unit']}".lower(),
                    city="Bench",
                    **row,
                )
                for row in cut_turf_bench.town(households)
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
        print(f"\n{len(truth)} households, {doors} doors a turf")
        results = {}
        for label, by_faces in (("door by door", False), ("faces", True)):
            elapsed, cpu, load = cut(campaign, doors, by_faces=by_faces)
            f = figures(campaign, truth, doors)
            results[label] = (elapsed, cpu, f)
            print(f"  {label}: turf_cut {elapsed:.2f} s (process CPU {cpu:.2f} s; load {load:.2f})")
            print(f"    size spread: {f['spread']}")
            print(
                f"    block faces split: {f['faces']:.2%}; buildings split: {f['buildings']} "
                f"of {f['all_buildings']}"
            )
            print(
                f"    nearest-neighbour tour {f['tour']:.2f} m per door; walk lists "
                f"{f['walk']:.2f} m per door; box overlap {f['overlap']:.2%}"
            )
        (t0, c0, f0), (t1, c1, f1) = results["door by door"], results["faces"]
        print(
            f"  faces ÷ door by door: time {t1 / t0:.2f}×, CPU {c1 / c0:.2f}×, "
            f"tour {f1['tour'] / f0['tour']:.3f}×, walk {f1['walk'] / f0['walk']:.3f}×"
        )
    finally:
        Campaign.objects.filter(pk=campaign.pk).delete()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, nargs="+", default=[20_000, 100_000])
    parser.add_argument("--doors", type=int, default=75)
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    print(f"database: {connection.vendor}; load: {os.getloadavg()[0]:.2f}")
    for households in args.households:
        run(households, args.doors)
    print(f"\nload now: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
