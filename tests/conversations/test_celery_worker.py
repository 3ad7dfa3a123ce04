"""The reminder path end to end: a commit, Redis, a real Celery worker, the outbox.

The worker is a separate process, so it sees only committed rows: this is
where "enqueue after commit" is proved rather than assumed.
"""

import os
import subprocess
import sys
import time
import uuid
from datetime import time as clock
from urllib.parse import quote

import pytest
import redis
from celery.signals import after_task_publish
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from canvass.celery import app
from conversations.models import Channel, Reminder
from conversations.services import reminder_create
from tests.conftest import Sms
from tests.factories import CampaignFactory

pytestmark = [
    pytest.mark.redis,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]

WAIT_SECONDS = 30


def _test_database_url():
    """A URL for the database this test session uses (test_…, not the real one)."""
    db = settings.DATABASES["default"]
    auth = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        auth += ":" + quote(db["PASSWORD"], safe="")
    host = db["HOST"] or "localhost"
    port = db["PORT"] or 5432
    return f"postgres://{auth}@{host}:{port}/{quote(db['NAME'], safe='')}"


def _purge(queue):
    with app.connection_for_write() as conn:
        conn.default_channel.queue_purge(queue)


def _forget(queue):
    """Delete what the transport left in Redis for this one-off queue."""
    client = redis.Redis.from_url(settings.REDIS_URL)
    try:
        keys = list(client.scan_iter(match=f"*{queue}*"))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


def _wait_for(condition, *, what, log):
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    pytest.fail(f"gave up after {WAIT_SECONDS}s waiting for {what}; worker log:\n{log()}")


class Worker:
    def __init__(self, process, queue, log_path):
        self.process, self.queue, self.log_path = process, queue, log_path

    def log(self):
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


@pytest.fixture
def celery_worker(transactional_db, tmp_path, outbox_dir):
    """A real worker on a queue of its own, pointed at the test database and outbox.

    Requesting transactional_db first means the worker is stopped before the
    tables are flushed, so it never holds a lock the flush would wait on.
    """
    assert app.conf.broker_url == settings.REDIS_URL, "the broker must be the Redis under test"
    queue = f"porchlight-test-{uuid.uuid4().hex[:12]}"
    previous = {
        "task_routes": app.conf.task_routes,
        "task_always_eager": app.conf.task_always_eager,
    }
    # Eager mode would run the task in this process and prove nothing about the worker.
    app.conf.update(
        task_always_eager=False,
        task_routes={"conversations.tasks.*": {"queue": queue}},
    )
    env = dict(os.environ)
    for name in ("PRODUCTION", "DEBUG", "CELERY_TASK_ALWAYS_EAGER"):
        env.pop(name, None)
    env.update(
        DJANGO_SETTINGS_MODULE="canvass.settings",
        DATABASE_URL=_test_database_url(),
        REDIS_URL=settings.REDIS_URL,
        OUTBOX_DIR=str(outbox_dir),
        SMS_BACKEND="file",
        CELERY_QUEUE_DIR=str(tmp_path / "celery"),
        CELERY_BEAT_SCHEDULE=str(tmp_path / "celerybeat-schedule"),
        PYTHONUNBUFFERED="1",
    )
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "canvass",
        "worker",
        "--pool=solo",
        "--concurrency=1",
        "-Q",
        queue,
        "-n",
        f"{queue}@%h",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        "--loglevel=INFO",
    ]
    log_path = tmp_path / "worker.log"
    process = None
    try:
        _purge(queue)
        with open(log_path, "wb") as log_file:
            process = subprocess.Popen(
                command, cwd=settings.BASE_DIR, env=env, stdout=log_file, stderr=subprocess.STDOUT
            )
        worker = Worker(process, queue, log_path)
        _wait_for(
            lambda: " ready." in worker.log() or process.poll() is not None,
            what="the worker to start",
            log=worker.log,
        )
        assert process.poll() is None, f"the worker exited at start:\n{worker.log()}"
        yield worker
    finally:
        if process is not None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        try:
            _forget(queue)
        finally:
            app.conf.update(**previous)


@pytest.fixture
def publishes():
    """(routing key, task args) of every task message this process publishes.

    The worker picks a message up within milliseconds, so looking at the queue
    cannot tell "published after commit" from "published early and raced";
    recording the publish itself can.
    """
    seen = []

    def record(sender=None, body=None, routing_key=None, **kwargs):
        seen.append((routing_key, tuple(body[0])))

    after_task_publish.connect(record, weak=False)
    yield seen
    after_task_publish.disconnect(record)


def test_due_reminder_is_sent_by_the_worker_only_after_commit(celery_worker, publishes, sent_sms):
    # No quiet hours, so the outcome does not depend on when the suite runs.
    campaign = CampaignFactory(quiet_hours_start=clock(0, 0), quiet_hours_end=clock(0, 0))
    to, body = "+15125550123", "See you at the tenants' meeting tonight at 6."

    with transaction.atomic():
        reminder = reminder_create(
            campaign=campaign,
            channel=Channel.SMS,
            to=to,
            body=body,
            send_at=timezone.now(),
            idempotency_key=f"worker-test-{uuid.uuid4()}",
        )
        assert publishes == [], "the task was published before the commit"
        assert Reminder.objects.get(pk=reminder.pk).status == Reminder.Status.PENDING
        assert sent_sms() == []

    assert publishes == [(celery_worker.queue, (reminder.pk,))]

    def sent():
        reminder.refresh_from_db()
        return reminder.status not in (Reminder.Status.PENDING, Reminder.Status.SENDING)

    _wait_for(sent, what="the worker to send the reminder", log=celery_worker.log)
    assert reminder.status == Reminder.Status.SENT, celery_worker.log()
    assert reminder.attempts == 1
    assert sent_sms() == [Sms(to=to, body=body)]
