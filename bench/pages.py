"""Benchmark: the field lead's pages on a campaign of 100,000 households (budget: 200 ms each).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/porchlight_bench \\
        .venv/bin/python bench/pages.py [--households 100000] [--runs 5] [--keep]

Builds (with bench/exports.py's generator) a campaign of `--households` households, one person
and one visit each — four in five a conversation with a story note and a commitment — over
400 turfs and 200 volunteers; then settles commitments until 45,000 stay open (as in the
figure that started this: a follow-ups page of 45,517 open commitments took 28.8 s). Then it
times each page through Django's test client, logged in as an organizer: the median of
`--runs` runs, the number of queries, and the size of the HTML.
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

from canvass.models import Campaign, Membership, Volunteer  # noqa: E402

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

INSERT INTO turf_assignment (token_hash, expires_at, created_at, turf_id)
SELECT md5(random()::text || t.id), now() + interval '1 day', now(), t.id
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


def build(households):
    Campaign.objects.filter(slug=SLUG).delete()
    campaign = Campaign.objects.create(name="Bench pages", slug=SLUG)
    export_bench.SLUG = SLUG
    export_bench.grow(campaign, households, volunteers=200)
    with connection.cursor() as cursor:
        for statement in (s for s in TURFS.split(";\n") if s.strip()):
            cursor.execute(statement, {"campaign": campaign.pk, "open": OPEN})
        cursor.execute("ANALYZE")
    return campaign


def timed(client, url, runs):
    times, size, queries, status = [], 0, 0, 0
    for _ in range(runs):
        with CaptureQueriesContext(connection) as captured:
            start = time.perf_counter()
            response = client.get(url)
            times.append(time.perf_counter() - start)
        size, queries, status = len(response.content), len(captured), response.status_code
    return statistics.median(times), queries, size, status


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--households", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", action="store_true")
    options = parser.parse_args()
    call_command("migrate", verbosity=0)
    start = time.perf_counter()
    campaign = build(options.households)
    print(f"<!-- built in {time.perf_counter() - start:.0f} s; load {os.getloadavg()[0]:.2f} -->")
    user, _ = get_user_model().objects.get_or_create(username=USER)
    Membership.objects.get_or_create(
        user=user, campaign=campaign, defaults={"role": Membership.Role.ORGANIZER}
    )
    client = Client()
    client.force_login(user)
    volunteer = Volunteer.objects.filter(campaign=campaign).order_by("pk").first()
    base = f"/c/{SLUG}"
    pages = [
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
    ]
    from conversations.models import Commitment

    open_count = Commitment.objects.filter(campaign=campaign, status="open").count()
    print(f"{options.households:,} households, {open_count:,} open commitments")
    print("| page | median | queries | HTML | status |")
    print("| --- | --- | --- | --- | --- |")
    try:
        for url in pages:
            seconds, queries, size, status = timed(client, url, options.runs)
            shown = url.replace(base, "/c/SLUG")
            print(f"| `{shown}` | {seconds * 1000:.0f} ms | {queries} | {size / 1024:.0f} KB "
                  f"| {status} |", flush=True)  # fmt: skip
        print(f"<!-- load at the end {os.getloadavg()[0]:.2f} -->")
    finally:
        if not options.keep:
            Campaign.objects.filter(slug=SLUG).delete()
            get_user_model().objects.filter(username=USER).delete()


if __name__ == "__main__":
    main()
