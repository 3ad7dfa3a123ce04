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


def worker_env(*, queue, tmp_path, outbox_dir, **extra):
    """The environment of a worker for this test: its queue, the test database and outbox."""
    env = dict(os.environ)
    for name in ("PRODUCTION", "DEBUG", "CELERY_TASK_ALWAYS_EAGER", "SMS_FAKE_DELAY"):
        env.pop(name, None)
    env.update(
        DJANGO_SETTINGS_MODULE="tests.conversations.worker_settings",
        PORCHLIGHT_TEST_QUEUE=queue,
        DATABASE_URL=_test_database_url(),
        REDIS_URL=settings.REDIS_URL,
        OUTBOX_DIR=str(outbox_dir),
        SMS_BACKEND="file",
        # As in this process (tests/conftest.py): the daily cap only where a test sets it.
        REMINDERS_PER_PERSON_PER_DAY="1000",
        CELERY_QUEUE_DIR=str(tmp_path / "celery"),
        CELERY_BEAT_SCHEDULE=str(tmp_path / "celerybeat-schedule"),
        PYTHONUNBUFFERED="1",
    )
    env.update({name: str(value) for name, value in extra.items()})
    return env


def worker_start(*, queue, env, log_path):
    """Start a worker process on `queue`; returns once it says it is ready."""
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
    # A restarted worker appends to the same log: wait for one more "ready." than before.
    ready_before = log_path.read_text(errors="replace").count(" ready.") if log_path.exists() else 0
    with open(log_path, "ab") as log_file:
        process = subprocess.Popen(
            command, cwd=settings.BASE_DIR, env=env, stdout=log_file, stderr=subprocess.STDOUT
        )
    worker = Worker(process, queue, log_path)
    try:
        _wait_for(
            lambda: worker.log().count(" ready.") > ready_before or process.poll() is not None,
            what="the worker to start",
            log=worker.log,
        )
    except BaseException:
        worker_stop(worker)
        raise
    assert process.poll() is None, f"the worker exited at start:\n{worker.log()}"
    return worker


def worker_stop(worker):
    if worker.process.poll() is None:
        worker.process.terminate()
        try:
            worker.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            worker.process.kill()
            worker.process.wait(timeout=5)


@pytest.fixture
def worker_queue(transactional_db):
    """A queue of this test's own, with this process's tasks routed to it.

    Requesting transactional_db first means workers are stopped before the
    tables are flushed, so none holds a lock the flush would wait on.
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
    _purge(queue)
    try:
        yield queue
    finally:
        try:
            _forget(queue)
        finally:
            app.conf.update(**previous)


@pytest.fixture
def celery_worker(worker_queue, tmp_path, outbox_dir):
    """A real worker on a queue of its own, pointed at the test database and outbox."""
    env = worker_env(queue=worker_queue, tmp_path=tmp_path, outbox_dir=outbox_dir)
    worker = worker_start(queue=worker_queue, env=env, log_path=tmp_path / "worker.log")
    try:
        yield worker
    finally:
        worker_stop(worker)


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
