"""Benchmark: geocoding 100,000 households against the local fake of the Census batch API.

Run against PostgreSQL (make the database once with
`createdb -h 127.0.0.1 -U postgres porchlight_bench`; the script migrates it and deletes its
synthetic campaigns afterwards):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/porchlight_bench \\
        .venv/bin/python bench/geocode.py [--households 100000] [--parallel 4] [--batch 10000]

It starts tests/fake_census.py on 127.0.0.1 (nothing leaves the machine), writes a campaign
of households with addresses and no coordinates (about 1 in 8 a flat of a shared building,
1 in 50 an address the fake does not find), and times one whole geocoding run: reading the
waiting households, the cache, the batches sent `--parallel` at a time, and writing every
answer. Then it imports the same addresses as a second campaign (a re-import, or another
campaign of the same town) and times that run too: every address should come from the
shared cache, with no request to the geocoder.
"""

import argparse
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "canvass.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from canvass.models import Campaign  # noqa: E402
from tests.fake_census import FakeCensus  # noqa: E402
from turf.geocoding.backends import CensusGeocoder  # noqa: E402
from turf.geocoding.services import geocode_job_run  # noqa: E402
from turf.models import GeocodeCache, GeocodeJob, Household  # noqa: E402

SLUG = "bench-geocode"
NAMES = ("Oak", "Maple", "Elm", "Cedar", "Pine", "Birch", "Walnut", "Hickory", "Willow", "Ash")
STREETS = [f"{name} {kind}" for name in NAMES for kind in ("St", "Ave", "Rd", "Ln", "Dr")]


def addresses(count, seed=11):
    rng = random.Random(seed)
    rows = []
    n = 0
    while len(rows) < count:
        n += 1
        street = STREETS[n % len(STREETS)]
        number = 100 + n // len(STREETS)
        if rng.random() < 0.02:
            street, number = "Nowhere Ln", 100 + n  # the fake finds no match there
        units = [""] if rng.random() > 0.12 else [f"Apt {u}" for u in range(1, 9)]
        for unit in units:
            rows.append((str(number), street, unit))
    return rows[:count]


def campaign_with(slug, rows):
    Campaign.objects.filter(slug=slug).delete()
    campaign = Campaign.objects.create(name=slug, slug=slug)
    Household.objects.bulk_create(
        (
            Household(
                campaign=campaign,
                house_number=number,
                street=street,
                unit=unit,
                city="Raleigh",
                state="NC",
                zip_code="27601",
                address_key=f"{number} {street} {unit} 27601".upper(),
            )
            for number, street, unit in rows
        ),
        batch_size=5000,
    )
    return campaign


def run(campaign, geocoder, fake, label):
    before = fake.requests
    job = GeocodeJob.objects.create(campaign=campaign)
    started = time.perf_counter()
    job = geocode_job_run(job=job, geocoder=geocoder)
    elapsed = time.perf_counter() - started
    rate = job.households_total / elapsed if elapsed else 0
    print(
        f"{label}: {elapsed:.1f} s for {job.households_total} households ({rate:,.0f}/s); "
        f"located {job.located}, not found {job.not_found}, from the cache {job.from_cache} "
        f"({job.from_cache / max(1, job.households_total):.1%}); "
        f"{fake.requests - before} requests to the geocoder; status {job.status}"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=100_000)
    parser.add_argument("--parallel", type=int, default=4)
    parser.add_argument("--batch", type=int, default=10_000)
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    print(f"database: {connection.vendor}; load: {os.getloadavg()[0]:.2f}")
    settings.GEOCODER_PARALLEL = args.parallel
    settings.GEOCODER_RETRIES = 0
    fake = FakeCensus().start()
    GeocodeCache.objects.all().delete()
    rows = addresses(args.households)
    first = second = None
    try:
        first = campaign_with(SLUG, rows)
        geocoder = CensusGeocoder(fake.url, batch_size=args.batch)
        print(f"{args.households} households, batches of {args.batch}, {args.parallel} at once")
        run(first, geocoder, fake, "first import")
        second = campaign_with(f"{SLUG}-again", rows)
        run(second, geocoder, fake, "same addresses again")
        print(f"load now: {os.getloadavg()[0]:.2f}")
    finally:
        fake.stop()
        Campaign.objects.filter(slug__startswith=SLUG).delete()
        GeocodeCache.objects.all().delete()


if __name__ == "__main__":
    main()
