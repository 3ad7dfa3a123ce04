"""Walk-list bundle: server time and query count for a 500-door turf.

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/porchlight
    .venv/bin/python bench/walk_list_bundle.py            # PostgreSQL
    DATABASE_URL= .venv/bin/python bench/walk_list_bundle.py   # SQLite, in memory
    .venv/bin/python bench/walk_list_bundle.py --doors 2000 --runs 50

It builds a throwaway test database (the name of DATABASE_URL's with "test_" in front and
"_bench" behind), fills one turf — every door with two people and `--visits` earlier
conversations with story notes — and times GET /api/a/<token>/bundle through Django's test
client: URL routing, middleware, the view, its queries and the JSON rendering; no network.
The budget (docs/BENCHMARKS.md): a fixed number of queries, at most 100 ms for 500 doors.
Each request opens its own database connection unless DB_CONN_MAX_AGE is set, as in
production; the time includes that.
The machine's load average is printed with the figures: rerun when it was busy.
"""

import argparse
import gzip
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "canvass.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

from canvass.models import Campaign, Membership, Volunteer  # noqa: E402
from conversations.models import StoryNote, Visit  # noqa: E402
from turf.models import Household, Person, Turf, TurfStop  # noqa: E402
from turf.services import assignment_create  # noqa: E402


def build(doors, visits_per_door):
    campaign = Campaign.objects.create(name="Bench campaign", slug="bench")
    for n in range(3):
        user = django.contrib.auth.get_user_model().objects.create(username=f"lead{n}")
        Membership.objects.create(user=user, campaign=campaign, role=Membership.Role.FIELD_LEAD)
    volunteer = Volunteer.objects.create(campaign=campaign, first_name="Vera")
    turf = Turf.objects.create(campaign=campaign, name="Bench turf")
    households = Household.objects.bulk_create(
        Household(
            campaign=campaign,
            house_number=str(n),
            street="Elm Street",
            unit="Apt 1" if n % 5 == 0 else "",
            address_key=f"{n} elm street",
            lat=30.0 + n / 10000,
            lng=-97.0,
        )
        for n in range(1, doors + 1)
    )
    TurfStop.objects.bulk_create(
        TurfStop(turf=turf, household=h, position=n) for n, h in enumerate(households, 1)
    )
    Person.objects.bulk_create(
        Person(campaign=campaign, household=h, first_name=first, last_name=f"Family {h.pk}")
        for h in households
        for first in ("Ana", "Ben")
    )
    now = timezone.now()
    visits = Visit.objects.bulk_create(
        Visit(
            campaign=campaign,
            household=h,
            outcome=Visit.Outcome.CONVERSATION,
            happened_at=now - timedelta(days=7 * (k + 1)),
        )
        for h in households
        for k in range(visits_per_door)
    )
    StoryNote.objects.bulk_create(
        StoryNote(
            visit=v,
            themes=["Housing", "Family"],
            story="A story that must never reach the phone. " * 10,
            sensitive=n % 10 == 0,
        )
        for n, v in enumerate(visits)
    )
    _, token = assignment_create(turf=turf, volunteers=[volunteer])
    return token


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--doors", type=int, default=500)
    parser.add_argument("--visits", type=int, default=1, help="earlier visits per door")
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()

    setup_test_environment()
    database = settings.DATABASES["default"]
    if database["ENGINE"].endswith("postgresql"):
        database.setdefault("TEST", {})["NAME"] = f"test_{database['NAME']}_bench"
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        token = build(args.doors, args.visits)
        client = Client()
        url = reverse("sync_bundle", args=[token])
        for _ in range(3):  # warm up: imports, URL resolver, connection
            client.get(url)
        queries = []

        def count(execute, sql, params, many, context):
            queries.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            response = client.get(url)
        assert response.status_code == 200, response.status_code
        timings = []
        for _ in range(args.runs):
            start = time.perf_counter()
            client.get(url)
            timings.append((time.perf_counter() - start) * 1000)
        timings.sort()
        p95 = timings[min(len(timings) - 1, round(0.95 * len(timings)) - 1)]
        print(f"database:   {connection.vendor}")
        print(
            f"turf:       {args.doors} doors, {2 * args.doors} people, "
            f"{args.visits * args.doors} earlier visits"
        )
        print(f"queries:    {len(queries)}")
        print(
            f"response:   {len(response.content) / 1024:.0f} KB, "
            f"{len(gzip.compress(response.content)) / 1024:.0f} KB gzipped"
        )
        print(
            f"time (ms):  median {statistics.median(timings):.1f}, p95 {p95:.1f}, "
            f"min {timings[0]:.1f} over {args.runs} runs"
        )
        print(
            f"load:       {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} cores"
        )
    finally:
        connection.creation.destroy_test_db(database["NAME"], verbosity=0)


if __name__ == "__main__":
    main()
