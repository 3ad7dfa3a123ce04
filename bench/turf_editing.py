"""Benchmark: editing turf by hand on the map, on a 100,000-household campaign.

Run against PostgreSQL (the database is migrated first; the synthetic campaign is deleted
afterwards unless --keep):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/porchlight_bench \\
        .venv/bin/python bench/turf_editing.py [--households 100000] [--doors 250] [--repeat 5]

It builds the campaign of bench/dashboard.py (the grid town cut into turfs, half of them
assigned, with visits) and posts each editing endpoint through Django's test client as an
organizer: a pick by an outline around one turf, a turf drawn around two turfs' doors, one
block face moved, a split, a merge of an assigned turf. Each edit runs in a transaction
rolled back afterwards, so every repeat edits the same campaign; the median server time
and the queries are printed. Then the turf progress counts (all turfs) are timed as they
are now (at the doors a turf holds) and as before (through the turf's links only), in the
same run, for the ratio.
"""

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "canvass.settings")

import django  # noqa: E402

django.setup()

from dashboard import USERNAME, build  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.db.models import Count, Max, Min, Q  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import reverse  # noqa: E402

from canvass.models import Campaign  # noqa: E402
from conversations.models import Visit  # noqa: E402
from turf.models import Assignment, Household, TurfStop  # noqa: E402
from turf.views import turf_progress  # noqa: E402


class Rollback(Exception):
    pass


def outline(turf_ids):
    """A rectangle around the located doors of `turf_ids`."""
    box = Household.objects.filter(stops__turf_id__in=turf_ids).aggregate(
        west=Min("lng"), east=Max("lng"), south=Min("lat"), north=Max("lat")
    )
    pad = 1e-6
    w, e, s, n = box["west"] - pad, box["east"] + pad, box["south"] - pad, box["north"] + pad
    return {"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]}


def measure(client, url, body, repeat):
    times = []
    for _ in range(repeat):
        try:
            with transaction.atomic():
                with CaptureQueriesContext(connection) as queries:
                    started = time.perf_counter()
                    response = client.post(url, json.dumps(body), content_type="application/json")
                    elapsed = time.perf_counter() - started
                assert response.status_code == 200, (url, response.status_code, response.content)
                raise Rollback
        except Rollback:
            pass
        times.append(elapsed)
    return statistics.median(times), len(queries), response.json()


def progress_before(turf_ids):
    """The counts as they were: visits through the turf's own links, wherever the door is."""
    return {
        row["assignment__turf_id"]: row
        for row in Visit.objects.filter(assignment__turf_id__in=turf_ids)
        .values("assignment__turf_id")
        .annotate(
            knocked=Count("household", distinct=True),
            conversations=Count("pk", filter=Q(outcome=Visit.Outcome.CONVERSATION)),
        )
    }


def timed(function, repeat):
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=100_000)
    parser.add_argument("--doors", type=int, default=250)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="keep the synthetic campaign")
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    print(f"database: {connection.vendor}; load: {os.getloadavg()[0]:.2f}")
    started = time.perf_counter()
    campaign, turfs, user, visits = build(args.households, args.doors)
    print(
        f"built {args.households} households, {len(turfs)} turfs, {visits} visits "
        f"in {time.perf_counter() - started:.1f} s (not timed)"
    )
    client = Client()
    client.force_login(user)
    slug = campaign.slug
    # turfs[0] is assigned (dashboard.build assigns every other turf); turfs[1] is open.
    assigned, open_turf = turfs[0], turfs[1]
    assert Assignment.objects.filter(turf=assigned).exists()
    one_door = TurfStop.objects.filter(turf=open_turf).order_by("position").first().household_id
    edits = [
        (
            "pick: outline around one turf",
            "turf_edit_select",
            [],
            {"polygon": outline([open_turf.pk])},
        ),
        (
            "new turf: outline around two turfs",
            "turf_edit_create",
            [],
            {"polygon": outline([open_turf.pk, turfs[3].pk]), "name": "Drawn", "confirm": True},
        ),
        (
            "move one block face",
            "turf_edit_move",
            [],
            {
                "households": [one_door],
                "whole_faces": True,
                "to_turf": turfs[3].pk,
                "confirm": True,
            },
        ),
        ("split a turf in two", "turf_edit_split", [open_turf.pk], {}),
        (
            "merge an assigned turf into another",
            "turf_edit_merge",
            [],
            {"turfs": [open_turf.pk, assigned.pk], "confirm": True},
        ),
    ]
    print(f"{'edit':40} {'median ms':>10} {'queries':>8} {'doors':>7}")
    for name, view, extra, body in edits:
        url = reverse(view, args=[slug, *extra])
        seconds, queries, answer = measure(client, url, body, args.repeat)
        doors = answer.get("doors", "")
        print(f"{name:40} {seconds * 1000:10.1f} {queries:8d} {doors!s:>7}")

    all_ids = [t.pk for t in turfs]
    # All turfs (the map, the progress JSON), a page of the turf list, one turf's page.
    for label, ids in (("all", all_ids), ("a page of", all_ids[:100]), ("one of", all_ids[:1])):
        now = timed(lambda ids=ids: turf_progress(ids), args.repeat)
        before = timed(lambda ids=ids: progress_before(ids), args.repeat)
        print(
            f"progress counts, {label} {len(ids)} turfs: {now * 1000:.1f} ms now (at the doors "
            f"held) against {before * 1000:.1f} ms before (through the turf's links): "
            f"{now / before:.2f}x"
        )
    print(f"load after: {os.getloadavg()[0]:.2f}")
    if not args.keep:
        Campaign.objects.filter(pk=campaign.pk).delete()
        get_user_model().objects.filter(username=USERNAME).delete()


if __name__ == "__main__":
    main()
