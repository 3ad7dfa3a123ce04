"""Benchmark: 10,000 due reminders dispatched by real Celery workers (issue 5).

Budget (DESIGN.md): reminders out within 2 minutes of due time; zero duplicates; zero dropped.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/porchlight_bench \\
    REDIS_URL=redis://127.0.0.1:6379/8 \\
        .venv/bin/python bench/reminders_dispatch.py [--reminders 10000] [--workers 1]
            [--concurrency 4] [--no-duplicates] [--keep]

It writes N reminders, all due now, for a campaign with no quiet hours, starts real Celery
workers (prefork) on a queue of its own in Redis, and runs the every-minute dispatcher once,
in this process, as beat would have a worker do. Workers send through the fake SMS backend
(canvass.messaging.FakeSmsBackend), which appends one line per provider call to a file: a
text sent twice shows up there even though its row says "sent" once.

Unless --no-duplicates, every message is then made to arrive twice: all rows are marked
"never queued" and the dispatcher runs again while the first messages are still being
worked on, and every id is published once more in a batch of its own, so workers race on
the same rows. The claim must let exactly one of them send.

Prints: elapsed time from the first dispatch to the last row sent, sends per second,
duplicates (provider calls minus distinct reminders; must be 0), rows not sent (must be 0),
due-to-sent latency (p50/p95/max), and the load average before and after.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import time as clock
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "canvass.settings")
OUTBOX = Path(tempfile.mkdtemp(prefix="bench-reminders-"))
# Set before Django reads its settings: the bench process and its workers share the outbox.
os.environ["OUTBOX_DIR"] = str(OUTBOX)
os.environ["SMS_BACKEND"] = "fake"

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from canvass.celery import app  # noqa: E402
from canvass.models import Campaign  # noqa: E402
from conversations import tasks  # noqa: E402
from conversations.models import Channel, Reminder  # noqa: E402

SLUG = "bench-reminders"


def database_ensure():
    """Create the benchmark database if it is missing (PostgreSQL only), then migrate."""
    url = urlparse(os.environ["DATABASE_URL"])
    name = url.path.lstrip("/")
    import psycopg

    admin_url = url._replace(path="/postgres").geturl()
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
    call_command("migrate", "--noinput", verbosity=0)


def reminders_write(campaign, count, run):
    now = timezone.now()
    Reminder.objects.bulk_create(
        (
            Reminder(
                campaign=campaign,
                channel=Channel.SMS,
                to=f"+1512{5550000 + n % 10000:07d}",
                body=f"bench {run} #{n}: the tenants' meeting is Thursday at 7pm.",
                send_at=now,
                idempotency_key=f"bench:{run}:{n}",
            )
            for n in range(count)
        ),
        batch_size=2000,
    )


def workers_start(count, concurrency, queue, log_dir):
    env = dict(os.environ, SMS_BACKEND="fake", OUTBOX_DIR=str(OUTBOX), PYTHONUNBUFFERED="1")
    env.pop("SMS_FAKE_DELAY", None)
    processes, logs = [], []
    for n in range(count):
        log = log_dir / f"worker-{n}.log"
        command = [
            sys.executable, "-m", "celery", "-A", "canvass", "worker",
            "--pool=prefork", f"--concurrency={concurrency}", "-Q", queue,
            "-n", f"bench{n}-{queue}@%h", "--without-gossip", "--without-mingle",
            "--without-heartbeat", "--loglevel=WARNING",
        ]  # fmt: skip
        with open(log, "wb") as fh:
            processes.append(
                subprocess.Popen(command, cwd=ROOT, env=env, stdout=fh, stderr=subprocess.STDOUT)
            )
        logs.append(log)
    # A worker at WARNING says nothing when ready: wait until it answers a ping.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        replies = app.control.ping(timeout=1.0) or []
        names = {name for reply in replies for name in reply}
        if sum(1 for name in names if queue in name) >= count:
            return processes
        if any(p.poll() is not None for p in processes):
            break
    for process in processes:
        process.terminate()
    sys.exit("the workers did not start:\n" + "\n".join(log.read_text() for log in logs))


def provider_calls(run):
    path = OUTBOX / "sms-fake.log"
    marker = f"bench {run} #"
    if not path.exists():
        return []
    return [line for line in path.read_text().splitlines() if marker in line]


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reminders", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--no-duplicates", action="store_true")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--timeout", type=float, default=600)
    options = parser.parse_args()
    if connection.vendor != "postgresql" or not settings.REDIS_URL:
        sys.exit("Set DATABASE_URL to a postgres:// URL and REDIS_URL (see the top of this file).")

    database_ensure()
    Campaign.objects.filter(slug=SLUG).delete()
    campaign = Campaign.objects.create(
        name="Benchmark campaign",
        slug=SLUG,
        quiet_hours_start=clock(0, 0),
        quiet_hours_end=clock(0, 0),
    )
    run = uuid.uuid4().hex[:8]
    reminders_write(campaign, options.reminders, run)
    rows = Reminder.objects.filter(campaign=campaign)

    queue = f"porchlight-bench-{run}"
    app.conf.task_routes = {"conversations.tasks.*": {"queue": queue}}
    with app.connection_for_write() as conn:
        conn.default_channel.queue_purge(queue)
    load_before = os.getloadavg()
    processes = workers_start(options.workers, options.concurrency, queue, OUTBOX)
    try:
        started, started_at = time.monotonic(), timezone.now()
        queued = tasks.reminders_dispatch_due.apply().get()
        extra = 0
        if not options.no_duplicates:
            # Every message delivered twice: a second dispatch of the same rows, and one
            # more batch per row, all while the first messages are being worked on.
            rows.filter(status=Reminder.Status.PENDING).update(queued_at=None)
            extra += tasks.reminders_dispatch_due.apply().get()
            ids = list(rows.values_list("pk", flat=True))
            for start in range(0, len(ids), tasks.SEND_CHUNK):
                tasks.reminders_send.delay(ids[start : start + tasks.SEND_CHUNK])
            extra += len(ids)
        dispatched = time.monotonic() - started
        deadline = started + options.timeout
        while time.monotonic() < deadline:
            if not rows.filter(
                status__in=[Reminder.Status.PENDING, Reminder.Status.SENDING]
            ).exists():
                break
            time.sleep(0.2)
        elapsed = time.monotonic() - started
        # Let any duplicate still in flight reach the provider before counting.
        time.sleep(2)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        with app.connection_for_write() as conn:
            conn.default_channel.queue_purge(queue)
    load_after = os.getloadavg()

    calls = provider_calls(run)
    distinct = len(set(calls))
    sent = rows.filter(status=Reminder.Status.SENT)
    # From when the row was due, or the first dispatch if it was due before the workers ran.
    latencies = [
        (sent_at - max(send_at, started_at)).total_seconds()
        for send_at, sent_at in sent.values_list("send_at", "sent_at")
    ]
    statuses = dict(
        (status, rows.filter(status=status).count()) for status in Reminder.Status.values
    )
    print(f"reminders due:            {options.reminders}")
    print(f"workers:                  {options.workers} x prefork {options.concurrency}")
    print(f"task messages published:  {queued} ids by the dispatcher, {extra} duplicate ids")
    print(f"dispatch (publish) time:  {dispatched:.2f} s")
    print(f"elapsed to last sent:     {elapsed:.2f} s")
    print(f"sends per second:         {sent.count() / elapsed:.0f}")
    print(f"provider calls:           {len(calls)}")
    print(f"duplicates:               {len(calls) - distinct}")
    print(f"not sent (dropped):       {options.reminders - sent.count()}")
    print(f"statuses:                 { {k: v for k, v in statuses.items() if v} }")
    if latencies:
        print(
            "due-to-sent latency:      "
            f"p50 {percentile(latencies, 0.5):.1f} s, p95 {percentile(latencies, 0.95):.1f} s, "
            f"max {max(latencies):.1f} s"
        )
    print(f"load average before/after: {load_before[0]:.2f} / {load_after[0]:.2f} (1 min)")
    if not options.keep:
        campaign.delete()
    return 0 if len(calls) == distinct == options.reminders else 1


if __name__ == "__main__":
    sys.exit(main())
