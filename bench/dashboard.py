"""Benchmark: the organizer dashboard's pages on a 100,000-household campaign.

Run against PostgreSQL (the database is migrated first; the synthetic campaign is deleted
afterwards unless --keep):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/porchlight_bench \\
        .venv/bin/python bench/dashboard.py [--households 100000] [--doors 250] [--repeat 5]

It builds the grid town of bench/cut_turf.py, cuts it into turfs, assigns half of them to
pairs of volunteers with a few thousand visits, and then requests every dashboard page and
JSON endpoint through Django's test client (no network, no browser) as an organizer. For
each it prints the median server time of --repeat requests, the number of SQL queries and
the size of the response.
"""

import argparse
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "canvass.settings")

import django  # noqa: E402

django.setup()

from cut_turf import town  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

from canvass.models import Campaign, Membership, Shift, Volunteer  # noqa: E402
from conversations.models import Visit  # noqa: E402
from turf.cutting import turf_cut  # noqa: E402
from turf.models import Household, TurfStop  # noqa: E402
from turf.services import assignment_create  # noqa: E402

SLUG = "bench-dashboard"
USERNAME = "bench-dashboard-organizer"


def build(households, doors):
    Campaign.objects.filter(slug=SLUG).delete()
    campaign = Campaign.objects.create(name="Dashboard benchmark", slug=SLUG)
    Household.objects.bulk_create(
        (
            Household(
                campaign=campaign,
                address_key=f"{row['house_number']} {row['street']} {row['unit']}".lower(),
                city="Bench",
                **row,
            )
            for row in town(households)
        ),
        batch_size=5000,
    )
    turfs = turf_cut(campaign=campaign, doors=doors)
    now = timezone.now()
    shift = Shift.objects.create(
        campaign=campaign, name="Bench shift", starts_at=now, ends_at=now + timedelta(hours=3)
    )
    volunteers = Volunteer.objects.bulk_create(
        Volunteer(campaign=campaign, first_name=f"Walker{i}") for i in range(len(turfs))
    )
    visits = []
    for index, turf in enumerate(turfs[::2]):
        assignment, _ = assignment_create(
            turf=turf, volunteers=volunteers[2 * index : 2 * index + 2], shift=shift
        )
        stops = TurfStop.objects.filter(turf=turf).order_by("position")[:20]
        for n, stop in enumerate(stops):
            visits.append(
                Visit(
                    campaign=campaign,
                    assignment=assignment,
                    household_id=stop.household_id,
                    outcome="conversation" if n % 5 == 0 else "not_home",
                    happened_at=now,
                )
            )
    Visit.objects.bulk_create(visits, batch_size=5000)
    user, _ = get_user_model().objects.get_or_create(username=USERNAME)
    Membership.objects.get_or_create(
        user=user, campaign=campaign, defaults={"role": Membership.Role.ORGANIZER}
    )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return campaign, turfs, user, len(visits)


def measure(client, url, repeat):
    times = []
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = client.get(url)
            elapsed = time.perf_counter() - started
        assert response.status_code == 200, (url, response.status_code)
        times.append(elapsed)
    return statistics.median(times), len(queries), len(response.content)


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
    slug, turf = campaign.slug, turfs[0]
    precinct = Household.objects.filter(campaign=campaign).values_list("precinct", flat=True)[0]
    pages = [
        ("overview", reverse("campaign_dashboard", args=[slug])),
        ("turf list (page 1)", reverse("turf_list", args=[slug])),
        ("turf list, filtered", reverse("turf_list", args=[slug]) + "?status=assigned&q=a"),
        ("progress JSON, all turfs", reverse("turf_progress", args=[slug])),
        ("turf page", reverse("turf_detail", args=[slug, turf.pk])),
        ("walk sheet", reverse("walk_sheet", args=[slug, turf.pk])),
        ("map page", reverse("turf_map", args=[slug])),
        ("turfs GeoJSON (hulls)", reverse("turfs_geojson", args=[slug])),
        ("households GeoJSON (capped)", reverse("households_geojson", args=[slug])),
        (
            "households GeoJSON, one precinct",
            reverse("households_geojson", args=[slug]) + f"?precinct={precinct}",
        ),
        (
            "households GeoJSON, one turf",
            reverse("households_geojson", args=[slug]) + f"?turf={turf.pk}",
        ),
    ]
    print(f"{'page':36} {'median ms':>10} {'queries':>8} {'bytes':>10}")
    for name, url in pages:
        seconds, queries, size = measure(client, url, args.repeat)
        print(f"{name:36} {seconds * 1000:10.1f} {queries:8d} {size:10d}")
    print(f"load after: {os.getloadavg()[0]:.2f}")
    if not args.keep:
        Campaign.objects.filter(pk=campaign.pk).delete()
        get_user_model().objects.filter(username=USERNAME).delete()


if __name__ == "__main__":
    main()
