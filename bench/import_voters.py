"""Benchmark: a synthetic voter file imported into PostgreSQL, end to end.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/porchlight_bench \\
        .venv/bin/python bench/import_voters.py [--rows 1000000] [--profile]

The database is created if missing and migrated. The file (VAN-style CSV:
about two people per address, some apartment units, some odd street shapes,
about 0.5% bad rows) is generated once under the temp folder and reused. It
prints the import's wall time and rows per second, and, measured in the same
run, a plain `COPY … FROM STDIN (FORMAT csv)` of the same file into a bare
table of text columns (less its few short rows, which COPY would refuse), with
the ratio between the two. The budget is 60 s for
1,000,000 rows on two cores.
"""

import argparse
import csv
import os
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "canvass.settings")

AREA_CODES = ["512", "737", "919", "984", "704", "980", "336", "252", "910", "828", "214", "713"]
FIRST = ["Maria", "James", "Aisha", "Wei", "Jose", "Linda", "Tomas", "Grace", "Omar", "Ruth"]
FIRST += ["Dmitri", "Keisha", "Nguyen", "Sofia", "Patrick", "Amara", "Hiro", "Elena", "Sam", "Zoe"]
LAST = ["Garcia", "Smith", "Okafor", "Chen", "Hernandez", "Johnson", "Nguyen", "O'Brien"]
LAST += ["Williams", "Patel", "Kowalski", "Brown", "Lopez", "Kim", "Davis", "Martinez", "Lee"]
STREET_NAMES = ["Main", "Oak", "Maple", "Cedar", "Elm", "Pine", "Walnut", "Chestnut", "Lake"]
STREET_NAMES += ["Hill", "Sunset", "Park", "Washington", "Lincoln", "Jefferson", "Church", "Mill"]
STREET_NAMES += ["Spring", "River", "Meadow", "Willow", "Cherry", "Highland", "Forest", "Magnolia"]
STREET_NAMES += ["5th", "12th", "1st", "Martin Luther King", "Rose Garden", "Old Mill"]
TYPES = ["St", "Ave", "Rd", "Dr", "Ln", "Ct", "Blvd", "Way", "Pl", "Street", "Avenue", "Road"]
DIRS = ["", "", "", "", "N ", "S ", "E ", "W "]
CITIES = [("Raleigh", "27601"), ("Durham", "27701"), ("Cary", "27511"), ("Apex", "27502")]
CITIES += [("Garner", "27529"), ("Wake Forest", "27587"), ("Chapel Hill", "27514")]
# Shapes the fast path leaves to usaddress.
ODD = ["{n} Avenue {c}", "{n} County Road {m}", "{n} St James Pl", "{n} Highway {m} N"]


def generate(path, rows, seed=7):
    rng = random.Random(seed)
    header = ["VANID", "LastName", "FirstName", "Address", "City", "State", "Zip5", "Phone"]
    header.append("PrecinctName")
    written = 0
    with open(path, "w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(header)
        while written < rows:
            city, zip_code = rng.choice(CITIES)
            if rng.random() < 0.03:
                street = rng.choice(ODD).format(
                    n=rng.randint(1, 9999), c=rng.choice("ABCDEFG"), m=rng.randint(1, 99)
                )
            else:
                street = (
                    f"{rng.randint(1, 9999)} {rng.choice(DIRS)}{rng.choice(STREET_NAMES)} "
                    f"{rng.choice(TYPES)}"
                )
                if rng.random() < 0.15:
                    street += f" {rng.choice(['Apt', 'Unit', '#'])}{rng.choice(['', ' '])}"
                    street += f"{rng.randint(1, 40)}{rng.choice(['', 'A', 'B'])}"
                    street = street.replace("# ", "#").replace("#  ", "#")
            last = rng.choice(LAST)
            precinct = f"PR-{rng.randint(1, 400):03d}"
            for _ in range(rng.choice([1, 2, 2, 2, 3])):
                if written >= rows:
                    break
                written += 1
                phone = ""
                if rng.random() < 0.7:
                    phone = f"({rng.choice(AREA_CODES)}) {rng.randint(200, 999)}-"
                    phone += f"{rng.randint(0, 9999):04d}"
                row = [str(100000 + written), last, rng.choice(FIRST), street, city, "NC"]
                row += [zip_code, phone, precinct]
                bad = rng.random()
                if bad < 0.002:
                    row[7] = "555-01"  # invalid phone
                elif bad < 0.004:
                    row[3] = ""  # no address
                elif bad < 0.005:
                    row = row[:5]  # wrong number of columns
                out.writerow(row)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--profile", action="store_true", help="cProfile the import")
    args = parser.parse_args()

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit("Set DATABASE_URL to a PostgreSQL database (created if missing).")
    _create_database(url)

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from canvass.models import Campaign
    from turf.imports import voters_import

    call_command("migrate", verbosity=0)
    path = Path(tempfile.gettempdir()) / f"porchlight-bench-voters-{args.rows}.csv"
    if not path.exists():
        began = time.perf_counter()
        generate(path, args.rows)
        print(f"generated {path} in {time.perf_counter() - began:.1f} s", file=sys.stderr)
    size_mb = path.stat().st_size / 1e6

    Campaign.objects.filter(slug="bench-import").delete()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE turf_person")
        cursor.execute("VACUUM ANALYZE turf_household")
    campaign = Campaign.objects.create(name="Bench import", slug="bench-import")

    phases = {}

    def progress(job):
        phases.setdefault(job.phase, time.perf_counter())

    print(f"load: {os.getloadavg()[0]:.2f} (1-minute average) on {os.cpu_count()} cores")
    began = time.perf_counter()
    if args.profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        job = profiler.runcall(
            voters_import, campaign=campaign, path=path, preset="van-export", progress=progress
        )
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
    else:
        job = voters_import(campaign=campaign, path=path, preset="van-export", progress=progress)
    elapsed = time.perf_counter() - began
    if job.status != job.Status.DONE:
        sys.exit(f"import failed: {job.error}")

    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_copy")
        cursor.execute(
            "CREATE TABLE bench_copy (vanid text, last_name text, first_name text, "
            "address text, city text, state text, zip5 text, phone text, precinct text)"
        )
        copy_began = time.perf_counter()
        with cursor.cursor.copy("COPY bench_copy FROM STDIN (FORMAT csv, HEADER)") as copy:
            with open(path, "rb") as handle:
                # COPY refuses the whole file over one short row: leave those out.
                batch = []
                for line in handle:
                    if line.count(b",") >= 8:
                        batch.append(line)
                    if len(batch) == 10_000:
                        copy.write(b"".join(batch))
                        batch = []
                copy.write(b"".join(batch))
        copy_elapsed = time.perf_counter() - copy_began
        cursor.execute("DROP TABLE bench_copy")

    saving = phases.get("saving")
    print(f"file: {args.rows:,} rows, {size_mb:.0f} MB")
    print(
        f"import: {elapsed:.1f} s end to end, {args.rows / elapsed:,.0f} rows/s "
        f"(budget 60 s for 1,000,000 rows)"
    )
    if saving:
        print(
            f"  last row read and normalised after {saving - began:.1f} s (batches are merged "
            f"meanwhile on a second connection); last batches merged and committed "
            f"{began + elapsed - saving:.1f} s later"
        )
    print(
        f"  {job.rows_imported:,} rows in, {job.rows_failed:,} bad rows reported, "
        f"{job.households_created:,} households, {job.people_created:,} people created, "
        f"{job.people_updated:,} updated"
    )
    print(f"plain COPY of the same file into a bare table: {copy_elapsed:.1f} s")
    print(f"ratio import / plain COPY: {elapsed / copy_elapsed:.1f}x")


def _create_database(url):
    import psycopg
    from psycopg import sql

    base, _, name = url.rpartition("/")
    name = name.split("?")[0]
    with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


if __name__ == "__main__":
    main()
