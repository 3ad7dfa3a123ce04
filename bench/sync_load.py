"""Saturday at 10:00: the sync API under gunicorn on PostgreSQL, driven over loopback.

    python3 -c "import porchlight; porchlight.ensure_venv('test,bench')"
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/porchlight_bench
    export REDIS_URL=redis://127.0.0.1:6379/3
    .venv/bin/python bench/sync_load.py                 # the full run (about 5 minutes)
    .venv/bin/python bench/sync_load.py --scale 0.1     # a quick run: a tenth of the burst
    .venv/bin/python bench/sync_load.py --root /path/to/other/checkout --root .
    .venv/bin/python bench/sync_load.py --queries-only  # only the query counts

It builds a throwaway database (DATABASE_URL's name with "test_" in front and "_load"
behind; --reuse keeps it between runs), fills one campaign — a link per phone, each on its
own small turf, and a 500-door walk list opened through many links — then starts gunicorn
(`--workers`, sync workers, DB_CONN_MAX_AGE=60 as in docker-compose.yml) from each `--root`
in turn and drives it with its own asyncio + aiohttp client on the same machine:

1. visits/s sustained: `--connections` (32) clients each sending batches of 25 new visits
   (the door screen's batch) as fast as they are answered, for `--seconds`; p50 and p95 per
   request;
2. the reconnect burst: 300 phones (× scale) each holding 100 visits arrive at random times
   over 60 s (× scale) and send their queue as the door screen does, one batch of 25 after
   another, resending a batch whose answer failed (and, one batch in 20, resending it although
   the answer came: an answer lost on the way). Reported: the time from the first arrival until
   the last visit is stored, p50/p95 per request, and the rows counted in the database —
   every visit sent stored exactly once;
3. walk-list bundles/s: `--bundle-connections` (16) clients fetching the 500-door walk list
   (gzipped, as a phone asks for it) for `--seconds`.

Before the load it counts the queries of one 25-visit batch and of one bundle through Django's
test client (CaptureQueriesContext) and prints them per visit and per bundle. The visits are a
Saturday's mix: most doors not home or refused, one in four a conversation with a story note,
one in fifty a person added at the door, one conversation in ten with a commitment.

The load generator shares the machine's cores with gunicorn and PostgreSQL; the load average
is printed beside every figure. With several --root, each phase runs on each in turn, so
their ratio is measured under the same load.
"""

import argparse
import asyncio
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "canvass.settings")

import django  # noqa: E402

django.setup()

import aiohttp  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

from canvass.models import Campaign, Membership, Volunteer  # noqa: E402
from conversations.models import StoryNote, Visit  # noqa: E402
from turf.models import Household, Person, Turf, TurfStop  # noqa: E402
from turf.services import assignment_create  # noqa: E402

SLUG = "sync-load"
BATCH = 25  # static/door/sync.js
DOORS_PER_PHONE = 10
BUNDLE_DOORS = 500
BUNDLE_LINKS = 250  # many phones open the same kind of list; each link has its own rate limit
BURST_PHONES = 300
BURST_VISITS = 100
BURST_WINDOW = 60.0
THEMES = ["Housing", "Family", "Health care costs", "Work and wages"]


def load():
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def say(message):
    print(message, flush=True)


# --- The campaign ------------------------------------------------------------------


class Phone:
    def __init__(self, token, doors):
        self.token = token
        self.doors = doors  # [(household_id, [person_id, …]), …]
        self.sent = 0


def _turf_with_doors(campaign, name, doors, *, earlier_visits=0):
    turf = Turf.objects.create(campaign=campaign, name=name)
    households = Household.objects.bulk_create(
        Household(
            campaign=campaign,
            house_number=str(n),
            street=f"{name} Street",
            unit="Apt 1" if n % 5 == 0 else "",
            address_key=f"{n} {name.lower()} street",
            lat=30.0 + n / 10000,
            lng=-97.0,
        )
        for n in range(1, doors + 1)
    )
    TurfStop.objects.bulk_create(
        TurfStop(turf=turf, household=h, position=n) for n, h in enumerate(households, 1)
    )
    people = Person.objects.bulk_create(
        Person(campaign=campaign, household=h, first_name=first, last_name=f"Family {h.pk}")
        for h in households
        for first in ("Ana", "Ben")
    )
    if earlier_visits:
        now = timezone.now()
        visits = Visit.objects.bulk_create(
            Visit(
                campaign=campaign,
                household=h,
                outcome=Visit.Outcome.CONVERSATION,
                happened_at=now - timedelta(days=7 * (k + 1)),
            )
            for h in households
            for k in range(earlier_visits)
        )
        StoryNote.objects.bulk_create(
            StoryNote(visit=v, themes=["Housing", "Family"], story="Never sent to a phone. " * 10)
            for v in visits
        )
    by_door = {h.pk: [] for h in households}
    for person in people:
        by_door[person.household_id].append(person.pk)
    return turf, list(by_door.items())


def build(phones):
    """The campaign: `phones` links on turfs of their own, and BUNDLE_LINKS links on one
    500-door walk list. Returns (phones, bundle tokens)."""
    Campaign.objects.filter(slug=SLUG).delete()
    campaign = Campaign.objects.create(name="Saturday load", slug=SLUG)
    for n in range(3):
        user, _ = django.contrib.auth.get_user_model().objects.get_or_create(
            username=f"load-lead{n}"
        )
        Membership.objects.create(user=user, campaign=campaign, role=Membership.Role.FIELD_LEAD)
    volunteers = Volunteer.objects.bulk_create(
        Volunteer(campaign=campaign, first_name="Vol", last_name=f"{n:04}") for n in range(phones)
    )
    built = []
    for n, volunteer in enumerate(volunteers):
        turf, doors = _turf_with_doors(campaign, f"Phone {n}", DOORS_PER_PHONE)
        _, token = assignment_create(turf=turf, volunteers=[volunteer])
        built.append(Phone(token, doors))
    turf, _ = _turf_with_doors(campaign, "Long", BUNDLE_DOORS, earlier_visits=1)
    bundles = []
    walker = Volunteer.objects.create(campaign=campaign, first_name="Walker")
    for _ in range(BUNDLE_LINKS):
        _, token = assignment_create(turf=turf, volunteers=[walker])
        bundles.append(token)
    return built, bundles


def visit_item(phone, rng, happened_at):
    """One visit as the door screen sends it, in a Saturday's mix."""
    household, people = phone.doors[phone.sent % len(phone.doors)]
    phone.sent += 1
    item = {
        "client_id": str(uuid.uuid4()),
        "happened_at": happened_at,
        "household_id": household,
        "outcome": rng.choice(["not_home"] * 4 + ["refused", "come_back", "moved"]),
        "note": rng.choice(["", "", "Dog in the yard", "Came to the window"]),
    }
    roll = rng.random()
    if roll < 0.25:
        item["outcome"] = "conversation"
        item["person_id"] = rng.choice(people)
        item["story_note"] = {
            "rating_before": rng.randint(0, 6),
            "rating_after": rng.randint(4, 10),
            "why": "Rent went up twice this year.",
            "themes": rng.sample(THEMES, 2),
            "story": "She works two jobs and still falls behind. " * rng.randint(1, 8),
            "canvasser_shared_story": rng.random() < 0.5,
            "values_feelings": "Fairness; worry for her kids.",
            "self_rating": rng.randint(5, 10),
        }
        if rng.random() < 0.1:
            item["commitments"] = [
                {
                    "kind": "meeting",
                    "what": "Tenants' meeting at the library",
                    "when": (datetime.now(UTC) + timedelta(days=6)).isoformat(),
                    "channel": "none",
                }
            ]
    elif roll < 0.27:
        item["new_person"] = {"first_name": "Dana", "last_name": "New", "phone": "512-555-0199"}
    return item


def happened_now():
    return datetime.now(UTC).isoformat()


# --- Counting queries ------------------------------------------------------------------


def count_queries(phone, bundle_token, rng):
    client = Client()
    url = reverse("sync_visits", args=[phone.token])
    items = [visit_item(phone, rng, happened_now()) for _ in range(BATCH)]
    client.post(url, json.dumps({"visits": items[:1]}), content_type="application/json")
    items = [visit_item(phone, rng, happened_now()) for _ in range(BATCH)]
    # The log keeps its last 9,000 queries: start each count from an empty one.
    connection.queries_log.clear()
    with CaptureQueriesContext(connection) as batch:
        response = client.post(url, json.dumps({"visits": items}), content_type="application/json")
    assert response.status_code == 200, response.content[:500]
    assert {r["status"] for r in response.json()["results"]} == {201}, response.content[:500]
    if os.environ.get("BENCH_SHOW_SQL"):
        for query in batch:
            print(query["sql"][:160])
    batch = len(batch)
    connection.queries_log.clear()
    with CaptureQueriesContext(connection) as again:
        client.post(url, json.dumps({"visits": items}), content_type="application/json")
    again = len(again)
    promised = visit_item(phone, rng, happened_now())
    while not promised.get("commitments"):
        promised = visit_item(phone, rng, happened_now())
    connection.queries_log.clear()
    with CaptureQueriesContext(connection) as commitment:
        client.post(url, json.dumps({"visits": [promised]}), content_type="application/json")
    commitment = len(commitment)
    client.get(reverse("sync_bundle", args=[bundle_token]))
    connection.queries_log.clear()
    with CaptureQueriesContext(connection) as bundle:
        response = client.get(reverse("sync_bundle", args=[bundle_token]))
    assert response.status_code == 200
    bundle = len(bundle)
    conversations = sum(i["outcome"] == "conversation" for i in items)
    commitments = sum(bool(i.get("commitments")) for i in items)
    return {
        "batch": batch,
        "per_visit": batch / BATCH,
        "resend": again,
        "commitment": commitment,
        "bundle": bundle,
        "mix": f"{conversations} conversations, {commitments} with a commitment",
    }


# --- The server ------------------------------------------------------------------------


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, root, workers, database_url):
        self.root = Path(root).resolve()
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "DB_CONN_MAX_AGE": "60",
            "DEBUG": "0",
            "PYTHONPATH": str(self.root),
        }
        self.process = subprocess.Popen(
            [
                str(ROOT / ".venv" / "bin" / "gunicorn"),
                "canvass.wsgi:application",
                "--chdir",
                str(self.root),
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(workers),
                "--backlog",
                "2048",
                "--timeout",
                "120",
                "--log-level",
                "warning",
            ],
            env=env,
            start_new_session=True,
        )

    async def ready(self, token):
        deadline = time.monotonic() + 60
        async with aiohttp.ClientSession() as session:
            while time.monotonic() < deadline:
                try:
                    async with session.get(f"{self.url}/api/a/{token}/bundle") as response:
                        if response.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.3)
        raise SystemExit(f"gunicorn from {self.root} did not answer within 60 s")

    def stop(self):
        os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait(timeout=30)


# --- The load ------------------------------------------------------------------------


def percentile(values, p):
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, max(0, round(p / 100 * len(values)) - 1))]


async def post_batch(session, url, phone, items):
    """Send one batch until it is answered in full; returns the request times (s)."""
    body = json.dumps({"visits": items})
    times = []
    while True:
        start = time.monotonic()
        try:
            async with session.post(
                f"{url}/api/a/{phone.token}/visits",
                data=body,
                headers={"Content-Type": "application/json"},
            ) as response:
                payload = await response.read()
                times.append(time.monotonic() - start)
                if response.status == 200:
                    statuses = {r["status"] for r in json.loads(payload)["results"]}
                    if statuses <= {200, 201}:
                        return times
                    raise SystemExit(f"a visit was refused: {payload[:400]!r}")
                wait = float(response.headers.get("Retry-After", 1))
        except (TimeoutError, aiohttp.ClientError):
            times.append(time.monotonic() - start)
            wait = 1
        await asyncio.sleep(wait)


async def sustained(url, phones, connections, seconds, rng):
    times = []
    sent = []
    stop = time.monotonic() + seconds
    turn = iter(range(10**9))

    async def client(session):
        while time.monotonic() < stop:
            phone = phones[next(turn) % len(phones)]
            items = [visit_item(phone, rng, happened_now()) for _ in range(BATCH)]
            times.extend(await post_batch(session, url, phone, items))
            sent.extend(i["client_id"] for i in items)

    connector = aiohttp.TCPConnector(limit=connections)
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        start = time.monotonic()
        await asyncio.gather(*(client(session) for _ in range(connections)))
        elapsed = time.monotonic() - start
    return {"visits": len(sent), "elapsed": elapsed, "times": times, "sent": sent}


async def burst(url, phones, window, rng):
    times = []
    sent = []
    queues = [[visit_item(p, rng, happened_now()) for _ in range(BURST_VISITS)] for p in phones]
    arrivals = sorted(rng.uniform(0, window) for _ in phones)
    last_stored = 0.0
    resends = 0

    async def deliver(session, phone, queue, at):
        nonlocal last_stored, resends
        await asyncio.sleep(at)
        for n in range(0, len(queue), BATCH):
            items = queue[n : n + BATCH]
            times.extend(await post_batch(session, url, phone, items))
            last_stored = max(last_stored, time.monotonic() - start)
            sent.extend(i["client_id"] for i in items)
            if rng.random() < 0.05:  # the answer was lost: the phone sends it again
                resends += 1
                times.extend(await post_batch(session, url, phone, items))

    connector = aiohttp.TCPConnector(limit=0, force_close=True)
    timeout = aiohttp.ClientTimeout(total=300)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        start = time.monotonic()
        await asyncio.gather(
            *(deliver(session, p, q, at) for p, q, at in zip(phones, queues, arrivals, strict=True))
        )
    return {
        "visits": len(sent),
        "stored_after": last_stored,
        "times": times,
        "sent": sent,
        "resends": resends,
        "window": window,
    }


async def bundles(url, tokens, connections, seconds):
    times = []
    sizes = []
    stop = time.monotonic() + seconds
    turn = iter(range(10**9))

    async def client(session):
        while time.monotonic() < stop:
            token = tokens[next(turn) % len(tokens)]
            start = time.monotonic()
            async with session.get(
                f"{url}/api/a/{token}/bundle", headers={"Accept-Encoding": "gzip"}
            ) as response:
                body = await response.read()
                if response.status != 200:
                    raise SystemExit(f"bundle answered {response.status}: {body[:200]!r}")
            times.append(time.monotonic() - start)
            sizes.append(len(body))

    connector = aiohttp.TCPConnector(limit=connections)
    async with aiohttp.ClientSession(connector=connector, auto_decompress=False) as session:
        start = time.monotonic()
        await asyncio.gather(*(client(session) for _ in range(connections)))
        elapsed = time.monotonic() - start
    return {"count": len(times), "elapsed": elapsed, "times": times, "size": statistics.mean(sizes)}


def rows_check(sent):
    """Every client_id sent is stored exactly once (and nothing else was stored for them)."""
    stored = list(Visit.objects.filter(client_id__in=sent).values_list("client_id", flat=True))
    unique_sent = set(sent)
    return {
        "sent": len(unique_sent),
        "rows": len(stored),
        "lost": len(unique_sent - {str(c) for c in stored}),
        "duplicated": len(stored) - len(set(stored)),
    }


def ms(seconds):
    return f"{seconds * 1000:,.0f} ms"


async def run_root(server, args, phones, burst_phones, bundle_tokens, rng):
    await server.ready(bundle_tokens[0])
    # Warm every worker up: imports, connections, URL resolver.
    await bundles(server.url, bundle_tokens[:4], 4, 2)
    say(f"\n== {server.root} ({args.workers} gunicorn workers) ==")

    before = load()
    result = await sustained(server.url, phones, args.connections, args.seconds, rng)
    rows = await asyncio.to_thread(rows_check, result["sent"])
    rate = result["visits"] / result["elapsed"]
    say(
        f"sustained:  {rate:,.0f} visits/s over {result['elapsed']:.1f} s at "
        f"{args.connections} connections, batches of {BATCH}; per request p50 "
        f"{ms(percentile(result['times'], 50))}, p95 {ms(percentile(result['times'], 95))}; "
        f"rows {rows['rows']:,}/{rows['sent']:,}, lost {rows['lost']}, duplicated "
        f"{rows['duplicated']}; load {before} -> {load()}"
    )
    summary = {
        "visits_per_s": rate,
        "sustained_p50": percentile(result["times"], 50),
        "sustained_p95": percentile(result["times"], 95),
    }

    before = load()
    window = BURST_WINDOW * args.scale
    result = await burst(server.url, burst_phones, window, rng)
    rows = await asyncio.to_thread(rows_check, result["sent"])
    say(
        f"burst:      {result['visits']:,} visits from {len(burst_phones)} phones arriving over "
        f"{window:.0f} s: all stored after {result['stored_after']:.1f} s; per request p50 "
        f"{ms(percentile(result['times'], 50))}, p95 {ms(percentile(result['times'], 95))} "
        f"({len(result['times']):,} requests, {result['resends']} answers lost and resent); "
        f"rows {rows['rows']:,}/{rows['sent']:,}, lost {rows['lost']}, duplicated "
        f"{rows['duplicated']}; load {before} -> {load()}"
    )
    summary.update(burst_stored=result["stored_after"], burst_p95=percentile(result["times"], 95))
    # The burst's phones may deliver again in a later round: they start a fresh queue.

    before = load()
    result = await bundles(server.url, bundle_tokens, args.bundle_connections, args.seconds)
    rate = result["count"] / result["elapsed"]
    say(
        f"bundles:    {rate:,.1f} walk lists/s ({BUNDLE_DOORS} doors, "
        f"{result['size'] / 1024:.0f} KB gzipped) at {args.bundle_connections} connections; "
        f"p50 {ms(percentile(result['times'], 50))}, p95 {ms(percentile(result['times'], 95))}; "
        f"load {before} -> {load()}"
    )
    summary.update(bundles_per_s=rate)
    return summary


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="of the burst (phones, window)")
    parser.add_argument("--seconds", type=float, default=30, help="of each sustained phase")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--bundle-connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers (2-4)")
    parser.add_argument("--root", action="append", help="checkout to serve (default: this one)")
    parser.add_argument("--reuse", action="store_true", help="keep the database between runs")
    parser.add_argument("--seed", type=int, default=10)
    parser.add_argument("--queries-only", action="store_true", help="count queries, no load")
    args = parser.parse_args()
    roots = args.root or [str(ROOT)]
    rng = random.Random(args.seed)

    setup_test_environment()
    database = settings.DATABASES["default"]
    if not database["ENGINE"].endswith("postgresql"):
        raise SystemExit("Set DATABASE_URL to a PostgreSQL database: this measures PostgreSQL.")
    if not settings.REDIS_URL:
        raise SystemExit("Set REDIS_URL: the per-link rate limit counts in Redis, as deployed.")
    original = database["NAME"]
    database.setdefault("TEST", {})["NAME"] = f"test_{original}_load"
    say(f"load {load()} on {os.cpu_count()} cores: building the database …")
    name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=args.reuse)
    url = (
        f"postgres://{database['USER']}:{database['PASSWORD']}@{database['HOST']}:"
        f"{database['PORT'] or 5432}/{name}"
    )
    servers = []
    try:
        burst_count = max(1, round(BURST_PHONES * args.scale))
        phones, bundle_tokens = build(args.connections * 2 + burst_count * len(roots))
        say(f"built: load {load()}")
        queries = count_queries(phones[0], bundle_tokens[0], rng)
        say(
            f"queries:    {queries['batch']} for a batch of {BATCH} new visits "
            f"({queries['per_visit']:.2f} per visit; {queries['mix']}), {queries['resend']} for "
            f"the same batch resent, {queries['commitment']} for a batch of one conversation with "
            f"a commitment, {queries['bundle']} per {BUNDLE_DOORS}-door bundle"
        )
        if args.queries_only:
            return
        sustained_phones = phones[: args.connections * 2]
        summaries = []
        for n, root in enumerate(roots):
            server = Server(root, args.workers, url)
            servers.append(server)
            offset = args.connections * 2 + n * burst_count
            burst_phones = phones[offset : offset + burst_count]
            try:
                summaries.append(
                    asyncio.run(
                        run_root(server, args, sustained_phones, burst_phones, bundle_tokens, rng)
                    )
                )
            finally:
                server.stop()
        if len(summaries) > 1:
            first, last = summaries[0], summaries[-1]
            say(f"\n== {roots[-1]} ÷ {roots[0]}, same run ==")
            for key in first:
                say(f"{key:>16}: {last[key] / first[key]:.2f}×")
    finally:
        for server in servers:
            if server.process.poll() is None:
                server.stop()
        connection.close()
        if not args.reuse:
            connection.creation.destroy_test_db(original, verbosity=0)


if __name__ == "__main__":
    main()
