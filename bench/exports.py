"""Benchmark: every kind of export at 100,000 and 1,000,000 rows, CSV and XLSX: time and
peak memory (RSS). Peak memory must not grow with the row count.

Run against PostgreSQL (the database is migrated first; the synthetic campaign is deleted
afterwards unless --keep):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/porchlight_bench \\
        .venv/bin/python bench/exports.py [--sizes 100000,1000000] [--formats csv,xlsx]
        [--kinds calls,canvass_results,conversations,roster] [--keep] [--reuse]

For each size it grows one synthetic campaign (written with INSERT … SELECT generate_series,
so building a million of each takes a minute, not an hour) to that many households, people,
visits and volunteers: four visits in five are conversations with a story note and a
commitment, one person in fifty is marked do not contact, one in twenty has no voter id.
Each export then runs in a fresh process (so its peak RSS is its own) through the same
service as the pages and the command line — export_create and export_run, with the count
check and the audit — and the process reports its wall time and `ru_maxrss`.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "canvass.settings")

# Another slug (BENCH_EXPORTS_SLUG) keeps a second campaign of another size beside the first.
SLUG = os.environ.get("BENCH_EXPORTS_SLUG", "bench-exports")
KINDS = ["calls", "canvass_results", "conversations", "roster"]


def _setup():
    import django

    django.setup()


def _rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(kind, fmt):
    """In a fresh process: one export, its time and the process's peak RSS, as JSON."""
    _setup()
    from canvass.models import Campaign
    from exports.models import ExportJob
    from exports.services import export_create, export_run

    campaign = Campaign.objects.get(slug=SLUG)
    before = _rss_mb()
    start = time.perf_counter()
    job = export_create(campaign=campaign, kind=kind, fmt=fmt, filters={}, user=None)
    ExportJob.objects.filter(pk=job.pk).update(status=ExportJob.Status.RUNNING)
    job = export_run(job=job)
    seconds = time.perf_counter() - start
    if job.status != ExportJob.Status.DONE:
        raise SystemExit(f"export failed: {job.error}")
    size = job.file.size
    job.file.delete(save=False)
    print(
        json.dumps(
            {
                "kind": kind,
                "format": fmt,
                "rows": job.rows_done,
                "left_out": job.left_out_total,
                "seconds": round(seconds, 1),
                "rows_per_s": round(job.rows_done / seconds),
                "rss_before_mb": round(before, 1),
                "peak_rss_mb": round(_rss_mb(), 1),
                "file_mb": round(size / 1e6, 1),
            }
        )
    )


GROW = """
WITH c AS (SELECT %(campaign)s::bigint AS id)
INSERT INTO canvass_volunteer (first_name, last_name, phone, email, language, timezone, active,
                               created_at, campaign_id)
SELECT 'Vol' || i, 'Bench', '', '', 'en', '', true, now(), (SELECT id FROM c)
FROM generate_series(%(low)s, %(high)s) AS i;

INSERT INTO turf_household (house_number, street, unit, city, state, zip_code, address_key,
                            precinct, external_id, campaign_id, address_parts)
SELECT i::text, 'Bench Street', '', 'Austin', 'TX', '78702', 'bench ' || i, 'P' || (i %% 40),
       '', %(campaign)s, '{}'::jsonb
FROM generate_series(%(low)s, %(high)s) AS i;

INSERT INTO turf_person (first_name, last_name, phone, email, language, external_id,
                         contact_consent, do_not_contact, created_at, campaign_id, household_id,
                         extra, voter_status, timezone)
SELECT CASE WHEN i %% 997 = 0 THEN '=HYPERLINK("x")' ELSE 'Person' || i END, 'Neighbor',
       '+1512' || lpad((i %% 10000000)::text, 7, '0'), 'p' || i || '@example.org',
       'en', CASE WHEN i %% 20 = 1 THEN '' ELSE 'V' || i END, true, i %% 50 = 3, now(),
       %(campaign)s, h.id, '{}'::jsonb, '', ''
FROM generate_series(%(low)s, %(high)s) AS i
JOIN turf_household h ON h.campaign_id = %(campaign)s AND h.address_key = 'bench ' || i;

INSERT INTO conversations_visit (client_id, outcome, note, place, happened_at, received_at,
                                 campaign_id, content_hash, household_id, person_id,
                                 volunteer_id, from_paper)
SELECT gen_random_uuid(), CASE WHEN p.id %% 5 = 0 THEN 'not_home' ELSE 'conversation' END, '',
       '', now() - ((p.id %% 30) || ' days')::interval, now(), %(campaign)s, '',
       p.household_id, p.id, %(first_volunteer)s + (p.id %% 200), false
FROM turf_person p
WHERE p.campaign_id = %(campaign)s AND p.id > %(last_person)s;

INSERT INTO conversations_storynote (why, themes, story, canvasser_shared_story,
                                     values_feelings, sensitive, visit_id, rating_before,
                                     rating_after, self_rating)
SELECT 'Rent went up', '["Housing", "Family"]'::jsonb, 'A story told at the door', true, '',
       v.id %% 10 = 0, v.id, 3, 6, 7
FROM conversations_visit v
WHERE v.campaign_id = %(campaign)s AND v.outcome = 'conversation' AND v.id > %(last_visit)s;

INSERT INTO conversations_commitment (kind, what, "when", channel, phone, email, status,
                                      created_at, updated_at, campaign_id, person_id, visit_id,
                                      plan_version)
SELECT 'meeting', 'Tenants meeting', now() + interval '5 days', 'sms', p.phone, '', 'open',
       now(), now(), %(campaign)s, p.id, v.id, 1
FROM conversations_visit v JOIN turf_person p ON p.id = v.person_id
WHERE v.campaign_id = %(campaign)s AND v.outcome = 'conversation' AND v.id > %(last_visit)s;
"""


def grow(campaign, size, volunteers=None):
    """Bring the campaign to `size` households, people and visits, and `volunteers` (else
    `size`) volunteers."""
    from django.db import connection, transaction

    from canvass.models import Volunteer
    from conversations.models import Visit
    from turf.models import Person

    have = Person.objects.filter(campaign=campaign).count()
    if have >= size:
        return
    last_person = (
        Person.objects.filter(campaign=campaign)
        .order_by("-pk")
        .values_list("pk", flat=True)
        .first()
        or 0
    )
    last_visit = (
        Visit.objects.filter(campaign=campaign).order_by("-pk").values_list("pk", flat=True).first()
        or 0
    )
    with transaction.atomic(), connection.cursor() as cursor:
        params = {"campaign": campaign.pk, "low": have + 1, "high": size}
        have_volunteers = Volunteer.objects.filter(campaign=campaign).count()
        volunteer_params = dict(params, low=have_volunteers + 1, high=volunteers or size)
        # Volunteers first: visits point at the campaign's first 200.
        statements = [s for s in GROW.split(";\n") if s.strip()]
        cursor.execute(statements[0], volunteer_params)
        first_volunteer = Volunteer.objects.filter(campaign=campaign).order_by("pk").first().pk
        params.update(
            first_volunteer=first_volunteer, last_person=last_person, last_visit=last_visit
        )
        for statement in statements[1:]:
            cursor.execute(statement, params)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--kinds", default=",".join(KINDS))
    parser.add_argument("--formats", default="csv,xlsx")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument(
        "--reuse", action="store_true", help="Grow the campaign a --keep run left, not anew."
    )
    parser.add_argument("--measure", nargs=2, metavar=("KIND", "FORMAT"), help=argparse.SUPPRESS)
    options = parser.parse_args()
    media = os.environ.setdefault("MEDIA_ROOT", tempfile.mkdtemp(prefix="bench-exports-"))
    if options.measure:
        return measure(*options.measure)

    _setup()
    from django.core.management import call_command

    from canvass.models import Campaign

    call_command("migrate", verbosity=0)
    campaign = Campaign.objects.filter(slug=SLUG).first() if options.reuse else None
    if campaign is None:
        Campaign.objects.filter(slug=SLUG).delete()
        campaign = Campaign.objects.create(name="Bench exports", slug=SLUG)
    print(f"load: {os.getloadavg()[0]:.2f}  media: {media}", flush=True)
    header = (
        "| rows asked | kind | format | rows out | left out | time | rows/s | peak RSS | file |"
    )
    print(header)
    print("|" + " --- |" * 9, flush=True)
    try:
        for size in (int(s) for s in options.sizes.split(",")):
            start = time.perf_counter()
            grow(campaign, size)
            print(f"<!-- built {size:,} in {time.perf_counter() - start:.0f} s -->", flush=True)
            for fmt in options.formats.split(","):
                for kind in options.kinds.split(","):
                    child = subprocess.run(
                        [sys.executable, __file__, "--measure", kind, fmt],
                        capture_output=True,
                        text=True,
                        env=dict(os.environ, MEDIA_ROOT=media),
                    )
                    if child.returncode:
                        raise SystemExit(f"{kind} {fmt} failed:\n{child.stderr[-3000:]}")
                    out = child.stdout
                    r = json.loads(out.strip().splitlines()[-1])
                    print(
                        f"| {size:,} | {kind} | {fmt} | {r['rows']:,} | {r['left_out']:,} "
                        f"| {r['seconds']} s | {r['rows_per_s']:,} | {r['peak_rss_mb']} MB "
                        f"| {r['file_mb']} MB |",
                        flush=True,
                    )
        print(f"load at the end: {os.getloadavg()[0]:.2f}")
    finally:
        if not options.keep:
            Campaign.objects.filter(slug=SLUG).delete()


if __name__ == "__main__":
    main()
