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

`--layout nc` writes North Carolina's 67-column statewide layout instead (tab, Latin-1,
tens of thousands of distinct streets, rural highway shapes, 2% malformed phones, 15% of
voters not active), imported with the `north-carolina` preset; `--update` imports the same
file a second time (the update run). Each run prints the process's and the machine's CPU use
and the RSS at 1M, 2M, 4M and 8M rows.
"""

import argparse
import csv
import os
import random
import resource
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


# North Carolina's statewide layout: tens of thousands of distinct streets, rural shapes.
NC_STREET_WORDS = ["Oak", "Pine", "Cedar", "Dogwood", "Magnolia", "Hickory", "Laurel", "Holly"]
NC_STREET_WORDS += ["Cardinal", "Quail", "Fox", "Deer", "Creek", "Ridge", "Meadow", "Mill"]
NC_STREET_WORDS += ["Branch", "Pond", "Church", "Farm", "Chapel", "Valley", "Forest", "Lake"]
NC_STREET_WORDS += ["Spring", "Stone", "Willow", "Briar", "Poplar", "Sycamore", "Walnut", "Rock"]
NC_STREET_WORDS += ["Glen", "Hollow", "Harbor", "Summit", "Timber", "Bluff", "Shady", "Sunny"]
NC_TYPES = ["ST", "AVE", "RD", "DR", "LN", "CT", "WAY", "PL", "CIR", "TRL", "RUN", "LOOP"]


def generate_nc(path, rows, seed=7):
    """A tab-separated file in NC's 67-column statewide layout, Latin-1, with a header."""
    from turf.imports.presets import NC_COLUMNS

    rng = random.Random(seed)
    index = {name: i for i, name in enumerate(NC_COLUMNS)}
    words = NC_STREET_WORDS
    written = 0
    with open(path, "w", newline="", encoding="latin-1") as handle:
        handle.write("\t".join(NC_COLUMNS) + "\n")
        while written < rows:
            county = rng.randint(1, 100)
            city, zip_code = rng.choice(CITIES)
            shape = rng.random()
            number = rng.randint(1, 9999)
            if shape < 0.04:
                street = f"{number} {rng.choice(['US', 'NC'])} {rng.choice(['HWY ', ''])}"
                street += f"{rng.randint(1, 700)}"
                if rng.random() < 0.3:
                    street += f" {rng.choice(['LOT', 'UNIT'])} {rng.randint(1, 400)}"
            elif shape < 0.05:
                street = f"{number} 1/2 {rng.choice(words)} {rng.choice(words)} RUN"
            else:
                # ~40 x 40 x 12 names: tens of thousands of distinct streets.
                name = f"{rng.choice(words)} {rng.choice(words)}".upper()
                street = f"{number} {rng.choice(DIRS).upper()}{name} {rng.choice(NC_TYPES)}"
                if rng.random() < 0.12:
                    street += f" APT {rng.randint(1, 40)}{rng.choice(['', 'A', 'B'])}"
            last = rng.choice(LAST).upper()
            precinct = f"{rng.randint(1, 60):02d}-{rng.randint(1, 9)}"
            for _ in range(rng.choice([1, 2, 2, 2, 3])):
                if written >= rows:
                    break
                written += 1
                row = [""] * len(NC_COLUMNS)
                row[index["county_id"]] = str(county)
                row[index["county_desc"]] = f"COUNTY{county}"
                row[index["voter_reg_num"]] = str(written)
                row[index["ncid"]] = f"NC{written:09d}"
                row[index["last_name"]] = last
                row[index["first_name"]] = rng.choice(FIRST).upper()
                status = "A" if rng.random() < 0.85 else rng.choice("IIRDS")
                row[index["status_cd"]] = status
                row[index["res_street_address"]] = street
                row[index["res_city_desc"]] = city.upper()
                row[index["state_cd"]] = "NC"
                row[index["zip_code"]] = zip_code
                if rng.random() < 0.6:
                    phone = f"{rng.choice(AREA_CODES)}{rng.randint(200, 999)}"
                    phone += f"{rng.randint(0, 9999):04d}"
                    if rng.random() < 0.02:
                        phone = phone[:6]  # malformed: a warning, never a lost door
                    row[index["full_phone_number"]] = phone
                row[index["party_cd"]] = rng.choice(["DEM", "REP", "UNA", "LIB"])
                row[index["gender_code"]] = rng.choice("MFU")
                row[index["birth_year"]] = str(rng.randint(1930, 2006))
                row[index["registr_dt"]] = f"{rng.randint(1, 12):02d}/01/20{rng.randint(0, 24):02d}"
                row[index["precinct_abbrv"]] = precinct
                row[index["cong_dist_abbrv"]] = str(rng.randint(1, 14))
                row[index["nc_house_abbrv"]] = str(rng.randint(1, 120))
                row[index["nc_senate_abbrv"]] = str(rng.randint(1, 50))
                handle.write("\t".join(row) + "\n")


def rss_mib():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def postgres_cpu(database, seen):
    """CPU seconds of the PostgreSQL backends serving `database` (the import's connections),
    noted per process in `seen` (a backend's time is gone once its connection closes)."""
    tick = os.sysconf("SC_CLK_TCK")
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/cmdline", "rb") as handle:
                command = handle.read()
            if not command.startswith(b"postgres: ") or f" {database} ".encode() not in command:
                continue
            with open(f"/proc/{entry.name}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        seen[entry.name] = (int(fields[11]) + int(fields[12])) / tick
    return sum(seen.values())


def machine_busy():
    with open("/proc/stat") as stat:
        fields = [int(v) for v in stat.readline().split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument(
        "--layout",
        choices=["van", "nc"],
        default="van",
        help="van: the VAN-style CSV; nc: North Carolina's 67-column statewide layout",
    )
    parser.add_argument("--update", action="store_true", help="import the same file twice")
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
    suffix = "csv" if args.layout == "van" else "nc.txt"
    path = Path(tempfile.gettempdir()) / f"porchlight-bench-voters-{args.rows}.{suffix}"
    preset = "van-export" if args.layout == "van" else "north-carolina"
    if not path.exists():
        began = time.perf_counter()
        (generate if args.layout == "van" else generate_nc)(path, args.rows)
        print(f"generated {path} in {time.perf_counter() - began:.1f} s", file=sys.stderr)
    size_mb = path.stat().st_size / 1e6

    Campaign.objects.filter(slug="bench-import").delete()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE turf_person")
        cursor.execute("VACUUM ANALYZE turf_household")
    campaign = Campaign.objects.create(name="Bench import", slug="bench-import")

    phases = {}
    rss_at = {}

    database = url.rpartition("/")[2].split("?")[0]
    backends = {}

    def progress(job):
        phases.setdefault(job.phase, time.perf_counter())
        postgres_cpu(database, backends)
        for mark in (200_000, 1_000_000, 2_000_000, 4_000_000, 8_000_000):
            if job.rows_done >= mark and mark not in rss_at:
                rss_at[mark] = rss_mib()

    def run():
        return voters_import(campaign=campaign, path=path, preset=preset, progress=progress)

    for attempt in ["first import"] + (["update run (same file)"] if args.update else []):
        phases.clear()
        print(
            f"{attempt}: load {os.getloadavg()[0]:.2f} (1-minute average) on {os.cpu_count()} cores"
        )
        busy_before, total_before = machine_busy()
        cpu_before = os.times()
        backends.clear()
        postgres_before = postgres_cpu(database, backends)
        began = time.perf_counter()
        if args.profile:
            import cProfile
            import pstats

            profiler = cProfile.Profile()
            job = profiler.runcall(run)
            pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
        else:
            job = run()
        elapsed = time.perf_counter() - began
        cpu_after = os.times()
        busy_after, total_after = machine_busy()
        if job.status != job.Status.DONE:
            sys.exit(f"import failed: {job.error}")
        # The worker processes are counted once they have ended (the import waits for them).
        python_cpu = sum(
            getattr(cpu_after, part) - getattr(cpu_before, part)
            for part in ("user", "system", "children_user", "children_system")
        )
        worker_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        postgres = postgres_cpu(database, backends) - postgres_before
        machine = (busy_after - busy_before) / max(total_after - total_before, 1)
        print(f"  {elapsed:.1f} s end to end, {args.rows / elapsed:,.0f} rows/s")
        print(
            f"  the import's processes used {python_cpu / elapsed:.2f} cores (this process, "
            f"its merge thread and its normalising workers; PostgreSQL not counted); the whole "
            f"machine was {machine * os.cpu_count():.2f} of {os.cpu_count()} cores busy"
        )
        print(
            f"  CPU time: {python_cpu:.1f} s in Python (reading, normalising, feeding COPY), "
            f"{postgres:.1f} s in PostgreSQL (COPY and merge): "
            f"{(python_cpu + postgres) / args.rows * 1e6:.0f} µs a row; on 2 idle cores at best "
            f"{2 * args.rows / (python_cpu + postgres):,.0f} rows/s"
        )
        rss = ", ".join(
            f"{mark / 1_000_000:g}M rows: {mib:.0f} MiB" for mark, mib in rss_at.items()
        )
        print(
            f"  RSS of this process at {rss}; at the end {rss_mib():.0f} MiB; "
            f"largest worker process {worker_peak:.0f} MiB"
        )
        print(
            f"  {job.rows_imported:,} rows in, {job.rows_failed:,} refused, "
            f"{job.rows_warned:,} with a warning, {job.rows_left_out:,} left out; "
            f"{job.people_created:,} people created, {job.people_updated:,} updated"
        )

    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_copy")
        width = 9 if args.layout == "van" else 67
        separator = b"," if args.layout == "van" else b"\t"
        columns = ", ".join(f"c{i} text" for i in range(width))
        cursor.execute(f"CREATE TABLE bench_copy ({columns})")
        options = "FORMAT csv, HEADER" if args.layout == "van" else "FORMAT text, HEADER"
        copy_began = time.perf_counter()
        with cursor.cursor.copy(f"COPY bench_copy FROM STDIN ({options})") as copy:
            with open(path, "rb") as handle:
                # COPY refuses the whole file over one short row: leave those out.
                batch = []
                for line in handle:
                    if line.count(separator) >= width - 1:
                        batch.append(line)
                    if len(batch) == 10_000:
                        copy.write(b"".join(batch))
                        batch = []
                copy.write(b"".join(batch))
        copy_elapsed = time.perf_counter() - copy_began
        cursor.execute("DROP TABLE bench_copy")

    saving = phases.get("saving")
    print(f"file: {args.rows:,} rows, {size_mb:.0f} MB ({args.layout} layout)")
    print(f"last import: {elapsed:.1f} s end to end, {args.rows / elapsed:,.0f} rows/s")
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
