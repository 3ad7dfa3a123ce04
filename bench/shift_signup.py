"""Benchmark: the public signup page of a big campaign, and 500 signups arriving at once.

Run against PostgreSQL (the database is migrated first; the synthetic campaign is deleted
afterwards unless --keep):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/porchlight_bench \\
        .venv/bin/python bench/shift_signup.py [--shifts 200] [--volunteers 5000] \\
        [--arrivals 500] [--workers 25] [--repeat 7]

It writes a campaign with `--shifts` upcoming public shifts over the next 60 days and
`--volunteers` volunteers, each signed up for three of them (setup rows are bulk-written;
everything measured goes through the app). Then, through Django's test client (no network):

1. GET /join/<slug>/ — the page that lists every shift with its free spots: median and best
   of `--repeat` requests, the number of SQL queries and the size of the page;
2. GET /join/<slug>/<shift>/ — one shift's signup form;
3. `--arrivals` new people posting the signup form at the same moment, from `--workers`
   threads (each its own database connection), onto ten shifts with ten free spots each:
   the wall time, signups a second and each request's latency, and the check that every
   shift holds exactly its capacity, the rest waitlisted, none lost. The same number of
   signups one after another, in the same run, gives the ratio.
"""

import argparse
import os
import random
import statistics
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "canvass.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

from canvass.models import HOLDING, Campaign, Shift, ShiftSignup, Volunteer  # noqa: E402

SLUG = "bench-shifts"
BATCH = 5000
# The arrival shifts: this many, each with this many spots still free.
TARGET_SHIFTS = 10
FREE_SPOTS = 10


def build(shifts, volunteers):
    Campaign.objects.filter(slug=SLUG).delete()
    campaign = Campaign.objects.create(name="Shift benchmark", slug=SLUG)
    rng = random.Random("bench-shifts")
    now = timezone.now()
    rows = []
    for n in range(shifts):
        start = (now + timedelta(days=1 + 59 * n / shifts)).replace(
            minute=0, second=0, microsecond=0
        )
        rows.append(
            Shift(
                campaign=campaign,
                name=f"Canvass {n + 1}",
                starts_at=start,
                ends_at=start + timedelta(hours=3),
                place=rng.choice(["Library", "Union hall", "Laundromat lot", "Community room"]),
                capacity=rng.choice([40, 80, 120]),
                notes="Bring water.",
            )
        )
    shift_rows = Shift.objects.bulk_create(rows, batch_size=BATCH)
    people = Volunteer.objects.bulk_create(
        (
            Volunteer(
                campaign=campaign,
                first_name=f"Walker{n}",
                last_name="Bench",
                email=f"walker{n}@bench.example.org",
            )
            for n in range(volunteers)
        ),
        batch_size=BATCH,
    )
    # As the app would have them: spots first, the waitlist only once a shift is full.
    signups, taken = [], dict.fromkeys((s.pk for s in shift_rows), 0)
    for volunteer in people:
        for shift in rng.sample(shift_rows, 3):
            full = taken[shift.pk] >= shift.capacity
            taken[shift.pk] += not full
            status = "waitlisted" if full else rng.choice(["signed_up", "signed_up", "confirmed"])
            signups.append(
                ShiftSignup(shift=shift, volunteer=volunteer, status=status, joined_at=now)
            )
    ShiftSignup.objects.bulk_create(signups, batch_size=BATCH)
    return campaign, shift_rows


def timed_get(client, url, repeat):
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.status_code
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    return statistics.median(times), min(times), len(queries), len(response.content)


def prepare_targets(campaign, shifts):
    """Ten shifts with no waitlist, each left with exactly FREE_SPOTS free spots."""
    targets = shifts[-TARGET_SHIFTS:]
    for shift in targets:
        ShiftSignup.objects.filter(shift=shift, status="waitlisted").delete()
        taken = ShiftSignup.objects.filter(shift=shift, status__in=HOLDING).count()
        Shift.objects.filter(pk=shift.pk).update(capacity=taken + FREE_SPOTS)
    return targets


def post_signup(client, campaign, shift, n, tag):
    url = reverse("signup_shift", args=[campaign.slug, shift.pk])
    started = time.perf_counter()
    response = client.post(
        url,
        {
            "first_name": f"Arrival{n}",
            "last_name": tag,
            "email": f"arrival{n}.{tag}@bench.example.org",
            "language": "en",
            "remind_by_email": "on",
        },
    )
    return response.status_code, (time.perf_counter() - started) * 1000


def at_once(campaign, targets, arrivals, workers, tag):
    """`arrivals` signups from `workers` threads released together."""
    barrier = threading.Barrier(workers)
    results, errors = [], []
    lock = threading.Lock()

    def run(worker):
        client = Client()
        try:
            barrier.wait()
            for n in range(worker, arrivals, workers):
                outcome = post_signup(client, campaign, targets[n % len(targets)], n, tag)
                with lock:
                    results.append(outcome)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(w,)) for w in range(workers)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, results, errors


def one_by_one(campaign, targets, arrivals, tag):
    client = Client()
    started = time.perf_counter()
    results = [
        post_signup(client, campaign, targets[n % len(targets)], n, tag) for n in range(arrivals)
    ]
    return time.perf_counter() - started, results


def check(targets, tag, arrivals):
    new = ShiftSignup.objects.filter(volunteer__last_name=tag)
    held = {s.pk: s.signups.holding().count() for s in targets}
    capacity = {s.pk: Shift.objects.get(pk=s.pk).capacity for s in targets}
    return {
        "signups written": new.count(),
        "expected": arrivals,
        "new people with a spot": new.filter(status__in=HOLDING).count(),
        "new people waitlisted": new.filter(status="waitlisted").count(),
        "shifts over capacity": sum(1 for pk in held if held[pk] > capacity[pk]),
        "shifts not full": sum(1 for pk in held if held[pk] < capacity[pk]),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shifts", type=int, default=200)
    parser.add_argument("--volunteers", type=int, default=5000)
    parser.add_argument("--arrivals", type=int, default=500)
    parser.add_argument("--workers", type=int, default=25)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    print(f"database: {connection.vendor}; load: {os.getloadavg()[0]:.2f} ({os.cpu_count()} cores)")
    started = time.perf_counter()
    campaign, shifts = build(args.shifts, args.volunteers)
    print(
        f"built {args.shifts} shifts, {args.volunteers} volunteers, "
        f"{ShiftSignup.objects.filter(shift__campaign=campaign).count()} signups "
        f"in {time.perf_counter() - started:.1f} s"
    )
    try:
        client = Client()
        page = reverse("signup_page", args=[campaign.slug])
        form = reverse("signup_shift", args=[campaign.slug, shifts[0].pk])
        for label, url in (("signup page", page), ("one shift's form", form)):
            median, best, queries, size = timed_get(client, url, args.repeat)
            print(f"{label}: median {median:.1f} ms, best {best:.1f} ms, ", end="")
            print(f"{queries} queries, {size:,} B")

        targets = prepare_targets(campaign, shifts)
        seconds, results = one_by_one(campaign, targets, args.arrivals, "one-by-one")
        assert all(code == 302 for code, _ in results), {code for code, _ in results}
        latencies = sorted(ms for _, ms in results)
        print(
            f"{args.arrivals} signups one after another: {seconds:.2f} s, "
            f"{args.arrivals / seconds:.0f}/s, latency p50 {latencies[len(latencies) // 2]:.1f} ms"
        )
        print("  ", check(targets, "one-by-one", args.arrivals))

        targets = prepare_targets(campaign, shifts)
        load = os.getloadavg()[0]
        seconds_at_once, results, errors = at_once(
            campaign, targets, args.arrivals, args.workers, "at-once"
        )
        assert not errors, errors[:3]
        codes = {code for code, _ in results}
        latencies = sorted(ms for _, ms in results)
        p95 = latencies[int(len(latencies) * 0.95) - 1]
        p50 = latencies[len(latencies) // 2]
        rate = args.arrivals / seconds_at_once
        print(
            f"{args.arrivals} signups at once from {args.workers} threads: "
            f"{seconds_at_once:.2f} s, {rate:.0f}/s, latency p50 {p50:.1f} ms, "
            f"p95 {p95:.1f} ms, max {latencies[-1]:.1f} ms; answers {sorted(codes)}; "
            f"load {load:.2f}"
        )
        print("  ", check(targets, "at-once", args.arrivals))
        print(f"at once ÷ one by one (time): {seconds_at_once / seconds:.2f}")
    finally:
        if not args.keep:
            Campaign.objects.filter(slug=SLUG).delete()
    print(f"load after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
