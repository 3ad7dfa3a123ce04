"""Benchmark: the field lead's pages on a campaign of 100,000 households (budget: 200 ms each).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/porchlight_bench \\
        .venv/bin/python bench/pages.py [--households 100000] [--runs 5] [--keep]

Builds (with bench/exports.py's generator) a campaign of `--households` households, one person
and one visit each — four in five a conversation with a story note and a commitment — over
400 turfs and 200 volunteers; then settles commitments until 45,000 stay open (as in the
figure that started this: a follow-ups page of 45,517 open commitments took 28.8 s). Then it
times each organizer and field-lead page through Django's test client, logged in as an
organizer who also owns one open commitment in ten (their "My follow-ups"): the first
request (nothing cached) and the median of `--runs` runs after it, the number of queries,
and the size of the HTML. The map pages' own town (turfs cut from located households) is
bench/dashboard.py's; here the turf list and GeoJSON are timed on this campaign's 400 turfs.
"""

import argparse
import importlib.util
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "canvass.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from canvass.models import Campaign, Membership, Shift, ShiftSignup, Volunteer  # noqa: E402

# bench/exports.py's generator (a file, not the exports app of the same name).
_spec = importlib.util.spec_from_file_location("bench_exports", ROOT / "bench" / "exports.py")
export_bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(export_bench)

SLUG = "bench-pages"
USER = "bench-pages-organizer"
OPEN = 45_000

TURFS = """
INSERT INTO turf_turf (name, status, created_at, campaign_id)
SELECT 'Turf ' || lpad(i::text, 3, '0'), 'assigned', now(), %(campaign)s
FROM generate_series(1, 400) AS i;

INSERT INTO turf_assignment (token_hash, link_salt, expires_at, created_at, turf_id)
SELECT md5(random()::text || t.id), '', now() + interval '1 day', now(), t.id
FROM turf_turf t WHERE t.campaign_id = %(campaign)s;

UPDATE conversations_visit v SET assignment_id = a.id
FROM turf_assignment a JOIN turf_turf t ON t.id = a.turf_id
WHERE v.campaign_id = %(campaign)s AND t.campaign_id = %(campaign)s
  AND t.name = 'Turf ' || lpad(((v.household_id %% 400) + 1)::text, 3, '0');

UPDATE conversations_storynote n SET minutes = 5 + (n.id %% 25)
FROM conversations_visit v WHERE v.id = n.visit_id AND v.campaign_id = %(campaign)s;

UPDATE conversations_commitment SET
    status = CASE WHEN id %% 3 = 0 THEN 'missed' ELSE 'kept' END,
    "when" = now() - interval '10 days'
WHERE campaign_id = %(campaign)s AND id IN (
    SELECT id FROM conversations_commitment WHERE campaign_id = %(campaign)s
    ORDER BY id OFFSET %(open)s);

UPDATE conversations_commitment SET "when" = CASE
    WHEN id %% 10 = 0 THEN NULL
    ELSE now() + ((id %% 30) - 15 || ' days')::interval END
WHERE campaign_id = %(campaign)s AND status = 'open';
"""


def shifts(campaign):
    """Fifty shifts (half to come), twenty of the volunteers signed up to each."""
    from datetime import timedelta

    from django.utils import timezone

    now = timezone.now()
    made = Shift.objects.bulk_create(
        Shift(
            campaign=campaign,
            name=f"Shift {i}",
            starts_at=now + timedelta(days=i - 25),
            ends_at=now + timedelta(days=i - 25, hours=3),
            capacity=30,
        )
        for i in range(50)
    )
    volunteers = list(Volunteer.objects.filter(campaign=campaign).order_by("pk")[:200])
    ShiftSignup.objects.bulk_create(
        ShiftSignup(shift=shift, volunteer=volunteers[(i * 7 + j) % len(volunteers)])
        for i, shift in enumerate(made)
        for j in range(20)
    )


def build(households):
    Campaign.objects.filter(slug=SLUG).delete()
    campaign = Campaign.objects.create(name="Bench pages", slug=SLUG)
    export_bench.SLUG = SLUG
    export_bench.grow(campaign, households, volunteers=200)
    with connection.cursor() as cursor:
        for statement in (s for s in TURFS.split(";\n") if s.strip()):
            cursor.execute(statement, {"campaign": campaign.pk, "open": OPEN})
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return campaign


def timed(client, url, runs):
    """(first request, median of `runs` after it, queries, size, status)."""
    from django.core.cache import cache

    cache.clear()
    start = time.perf_counter()
    client.get(url)
    first = time.perf_counter() - start
    times, size, queries, status = [], 0, 0, 0
    for _ in range(runs):
        with CaptureQueriesContext(connection) as captured:
            start = time.perf_counter()
            response = client.get(url)
            times.append(time.perf_counter() - start)
        size, queries, status = len(response.content), len(captured), response.status_code
    return first, statistics.median(times), queries, size, status


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--households", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument(
        "--reuse", action="store_true", help="Time the campaign a --keep run left, unbuilt."
    )
    options = parser.parse_args()
    call_command("migrate", verbosity=0)
    start = time.perf_counter()
    campaign = Campaign.objects.filter(slug=SLUG).first() if options.reuse else None
    campaign = campaign or build(options.households)
    print(f"<!-- built in {time.perf_counter() - start:.0f} s; load {os.getloadavg()[0]:.2f} -->")
    user, _ = get_user_model().objects.get_or_create(username=USER)
    Membership.objects.get_or_create(
        user=user, campaign=campaign, defaults={"role": Membership.Role.ORGANIZER}
    )
    from conversations.models import Commitment

    # One open commitment in ten is the organizer's own to chase (My follow-ups).
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE conversations_commitment SET owner_id = %s"
            " WHERE campaign_id = %s AND status = 'open' AND id %% 10 = 0",
            [user.pk, campaign.pk],
        )
    if not Shift.objects.filter(campaign=campaign).exists():
        shifts(campaign)  # a campaign kept before the shifts were timed
    client = Client()
    client.force_login(user)
    volunteer = Volunteer.objects.filter(campaign=campaign).order_by("pk").first()
    base = f"/c/{SLUG}"
    turf = campaign.turfs.order_by("pk").first()
    shift = Shift.objects.filter(campaign=campaign).order_by("starts_at")[25]
    pages = [
        f"{base}/",
        "/follow-ups/",
        "/follow-ups/?section=upcoming&page=20",
        "/follow-ups/?q=Person12",
        "/follow-ups/?section=undated&sort=person",
        f"{base}/follow-ups/",
        f"{base}/follow-ups/?section=overdue",
        f"{base}/follow-ups/?section=upcoming&page=300",
        f"{base}/follow-ups/?q=Person1234",
        f"{base}/follow-ups/?section=overdue&sort=person",
        f"{base}/follow-through/",
        f"{base}/conversations/",
        f"{base}/conversations/?by=volunteer&sort=conversations&dir=desc",
        f"{base}/conversations/?by=day&page=1",
        f"{base}/coaching/{volunteer.pk}/",
        f"{base}/exports/",
        f"{base}/exports/new/calls/",
        f"{base}/people/?q=Person1234",
        f"{base}/turfs/",
        f"{base}/turfs/?status=assigned&q=a",
        f"{base}/turfs/{turf.pk}/",
        f"{base}/map/turfs.geojson",
        f"{base}/map/households.geojson",
        f"{base}/shifts/",
        f"{base}/shifts/numbers/",
        f"{base}/shifts/{shift.pk}/",
    ]

    open_count = Commitment.objects.filter(campaign=campaign, status="open").count()
    print(f"{options.households:,} households, {open_count:,} open commitments")
    print(f"<!-- load before timing {os.getloadavg()[0]:.2f} -->")
    print("| page | first | median | queries | HTML | status |")
    print("| --- | --- | --- | --- | --- | --- |")
    try:
        for url in pages:
            first, seconds, queries, size, status = timed(client, url, options.runs)
            shown = url.replace(base, "/c/SLUG")
            print(f"| `{shown}` | {first * 1000:.0f} ms | {seconds * 1000:.0f} ms | {queries} "
                  f"| {size / 1024:.0f} KB | {status} |", flush=True)  # fmt: skip
        print(f"<!-- load at the end {os.getloadavg()[0]:.2f} -->")
    finally:
        if not options.keep:
            Campaign.objects.filter(slug=SLUG).delete()
            get_user_model().objects.filter(username=USER).delete()


if __name__ == "__main__":
    main()
