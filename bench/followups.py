"""Benchmark: follow-through numbers, the morning digest and "My follow-ups" on a big campaign
(issue 5, items 8–10).

Run against PostgreSQL (the database is migrated first; the synthetic campaign and its
users are deleted afterwards unless --keep):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/porchlight_bench \\
        .venv/bin/python bench/followups.py [--commitments 100000] [--owners 1000] [--keep]

It writes a campaign with `--commitments` commitments spread over 40 turfs, 200 volunteers,
every commitment kind and status, due from ten days ago to twenty days ahead (a tenth with
no date), half of them with a sent reminder, owned by `--owners` users. Then it times, each
the median of five runs, with the number of queries:

- campaign_followthrough(campaign): the campaign, turf, volunteer and kind tables;
- followups_digests_due at 8:00 campaign time, when every owner is due a digest;
- followups_digest_write: writing every digest to the outbox (once, rolled back);
- GET /follow-ups/ for one owner (about commitments/owners rows).
"""

import argparse
import os
import random
import statistics
import sys
import time
import zoneinfo
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "canvass.settings")

import django  # noqa: E402

django.setup()

import time_machine  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from canvass.models import Campaign, Membership, Volunteer  # noqa: E402
from conversations.followups import (  # noqa: E402
    followups_digest_write,
    followups_digests_due,
)
from conversations.models import Commitment, Reminder, Visit  # noqa: E402
from conversations.stats import campaign_followthrough  # noqa: E402
from turf.models import Assignment, Turf  # noqa: E402

SLUG = "bench-followups"
USER_PREFIX = "bench-fu-"
BATCH = 5000


def timed(fn, runs=5):
    """(median seconds, queries of one run, last result)."""
    times = []
    result = None
    for _ in range(runs):
        with CaptureQueriesContext(connection) as queries:
            start = time.perf_counter()
            result = fn()
            times.append(time.perf_counter() - start)
    return statistics.median(times), len(queries), result


def cleanup():
    Campaign.objects.filter(slug=SLUG).delete()
    get_user_model().objects.filter(username__startswith=USER_PREFIX).delete()


def build(commitment_count, owner_count, now):
    rng = random.Random(5)
    campaign = Campaign.objects.create(
        name="Bench follow-ups", slug=SLUG, timezone="America/Chicago"
    )
    users = get_user_model().objects.bulk_create(
        get_user_model()(username=f"{USER_PREFIX}{i}", email=f"{USER_PREFIX}{i}@example.org")
        for i in range(owner_count)
    )
    Membership.objects.bulk_create(
        Membership(user=user, campaign=campaign, role=Membership.Role.VOLUNTEER) for user in users
    )
    volunteers = Volunteer.objects.bulk_create(
        Volunteer(campaign=campaign, first_name=f"Volunteer{i}", last_name="Bench")
        for i in range(200)
    )
    turfs = Turf.objects.bulk_create(Turf(campaign=campaign, name=f"Turf {i}") for i in range(40))
    assignments = Assignment.objects.bulk_create(
        Assignment(turf=turf, token_hash=f"bench-fu-{turf.pk}", expires_at=now) for turf in turfs
    )
    kinds = campaign.commitment_kind_codes()
    statuses = ["open"] * 5 + ["kept"] * 3 + ["missed"] * 2 + ["cancelled"]
    for offset in range(0, commitment_count, BATCH):
        size = min(BATCH, commitment_count - offset)
        visits = Visit.objects.bulk_create(
            Visit(
                campaign=campaign,
                assignment=rng.choice(assignments),
                volunteer=rng.choice(volunteers),
                outcome=Visit.Outcome.CONVERSATION,
                happened_at=now,
            )
            for _ in range(size)
        )
        commitments = Commitment.objects.bulk_create(
            Commitment(
                campaign=campaign,
                visit=visit,
                kind=rng.choice(kinds),
                what="Tenants' meeting at the library",
                when=(
                    None if rng.random() < 0.1 else now + timedelta(hours=rng.randint(-240, 480))
                ),
                owner=users[(offset + i) % owner_count],
                phone="+15125550123",
                status=rng.choice(statuses),
            )
            for i, visit in enumerate(visits)
        )
        Reminder.objects.bulk_create(
            Reminder(
                campaign=campaign,
                commitment=commitment,
                channel="sms",
                to="+15125550123",
                body="See you there.",
                send_at=now,
                status=Reminder.Status.SENT,
                idempotency_key=f"bench-fu:{commitment.pk}",
            )
            for commitment in commitments
            if commitment.pk % 2
        )
    return campaign, users


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--commitments", type=int, default=100_000)
    parser.add_argument("--owners", type=int, default=1000)
    parser.add_argument("--keep", action="store_true", help="keep the synthetic campaign")
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    cleanup()
    # 8:00 in the campaign's zone, on a weekday away from daylight-saving changes.
    now = datetime(2024, 10, 8, 8, 0, tzinfo=zoneinfo.ZoneInfo("America/Chicago"))
    start = time.perf_counter()
    with time_machine.travel(now, tick=False):
        campaign, users = build(args.commitments, args.owners, now)
    if connection.vendor == "postgresql":
        # What autovacuum would do soon after a load this size; without it the planner
        # still believes the tables are empty.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    print(
        f"built {args.commitments:,} commitments for {args.owners:,} owners "
        f"in {time.perf_counter() - start:.1f} s ({connection.vendor})"
    )
    try:
        with time_machine.travel(now, tick=False):
            seconds, queries, numbers = timed(lambda: campaign_followthrough(campaign))
            print(
                f"campaign_followthrough: {seconds * 1000:.0f} ms, {queries} queries "
                f"(made {numbers.total.made:,}, rate {numbers.total.rate:.3f}, "
                f"{len(numbers.by_turf)} turfs, {len(numbers.by_volunteer)} volunteers)"
            )
            seconds, queries, due = timed(lambda: followups_digests_due(now=now))
            print(
                f"followups_digests_due: {seconds * 1000:.0f} ms, {queries} queries, "
                f"{len(due):,} digests"
            )
            # Rolled back: the digests are never published to a queue nor kept.
            with transaction.atomic(), CaptureQueriesContext(connection) as captured:
                start = time.perf_counter()
                written = followups_digest_write(now=now)
                seconds = time.perf_counter() - start
                transaction.set_rollback(True)
            print(
                f"followups_digest_write: {seconds:.2f} s for {len(written):,} digests "
                f"({len(captured)} queries)"
            )
            client = Client()
            client.force_login(users[0])
            seconds, queries, response = timed(lambda: client.get("/follow-ups/"))
            rows = Commitment.objects.filter(owner=users[0], status="open").count()
            print(
                f"GET /follow-ups/: {seconds * 1000:.0f} ms, {queries} queries, "
                f"{rows} open rows, status {response.status_code}, {len(response.content):,} bytes"
            )
    finally:
        if not args.keep:
            cleanup()


if __name__ == "__main__":
    main()
