"""The Celery app. Tasks are enqueued with ids, after the transaction commits."""

import logging
import os
from functools import partial
from pathlib import Path

from celery import Celery
from django.db import transaction
from django.utils.module_loading import import_string

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "canvass.settings")

log = logging.getLogger(__name__)

app = Celery("canvass")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_configure.connect
def _make_queue_folders(sender, **kwargs):
    # Beat and the filesystem transport (the no-Redis demo) expect their folders to exist.
    Path(sender.conf.beat_schedule_filename).parent.mkdir(parents=True, exist_ok=True)
    if str(sender.conf.broker_url).startswith("filesystem://"):
        for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
            folder = sender.conf.broker_transport_options.get(key)
            if folder:
                Path(folder).mkdir(parents=True, exist_ok=True)


app.conf.beat_schedule = {
    # The outbox is drained every minute; the sweep also picks up any reminder
    # whose publish was lost (web process died between commit and publish).
    "dispatch-due-reminders": {
        "task": "conversations.tasks.reminders_dispatch_due",
        "schedule": 60.0,
    },
    # Owners' morning digests: each run queues those whose local time has just passed 8:00.
    "followups-digest": {
        "task": "conversations.followups.followups_digest_send",
        "schedule": 15 * 60.0,
    },
    # A voter-file import whose worker died is failed with a clear message (and can be
    # run again); one whose publish was lost is sent again.
    "import-jobs-sweep": {
        "task": "turf.tasks.import_jobs_sweep",
        "schedule": 5 * 60.0,
    },
    # Geocoding jobs whose publish was lost are sent again.
    "geocode-jobs-sweep": {
        "task": "turf.tasks.geocode_jobs_sweep",
        "schedule": 5 * 60.0,
    },
    # Export jobs whose publish was lost are sent again; a dead worker's job fails loudly.
    "export-jobs-sweep": {
        "task": "exports.tasks.export_jobs_sweep",
        "schedule": 5 * 60.0,
    },
    # Story words and phone numbers past each campaign's retention are redacted, and the
    # files of finished voter imports deleted. Daily; a rerun only redacts what is due.
    "retention": {
        "task": "conversations.tasks.retention_apply",
        "schedule": 24 * 60 * 60.0,
    },
    # An hour after a shift ends, signups never checked in become no-shows.
    "shifts-no-show-sweep": {
        "task": "canvass.tasks.shifts_no_show_sweep",
        "schedule": 5 * 60.0,
    },
}


def enqueue_on_commit(task, *args, **kwargs):
    """Send `task` (a task, or its dotted name) with these (id-only) arguments once the
    current transaction commits.

    Outside a transaction it is sent at once. If the publish is lost, the
    periodic sweep is what guarantees the work still happens.
    """
    if isinstance(task, str):
        # A task's name is its dotted path: importing it here, at call time, is what lets
        # services name tasks without importing the modules that import them.
        task = import_string(task)
    transaction.on_commit(partial(_publish, task, args, kwargs))


def _publish(task, args, kwargs):
    """Publish after commit, never failing the caller: the data is already saved, so a
    broker that is down must not turn a stored visit or a saved form into an error page.
    Every task published this way has a sweep that finds its work in the database."""
    try:
        task.delay(*args, **kwargs)
    except Exception:
        log.warning(
            "could not publish %s%r after commit; the periodic sweep will pick it up",
            task.name,
            args,
            exc_info=True,
        )
