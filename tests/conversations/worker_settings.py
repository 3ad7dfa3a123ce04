"""Settings for a Celery worker started by a test: the project's, plus what the test asks.

Tasks a worker publishes itself (the dispatcher queuing sends) must land on the
test's own queue, which only this worker consumes.
"""

import os

from canvass.settings import *  # noqa: F403

CELERY_TASK_DEFAULT_QUEUE = os.environ["PORCHLIGHT_TEST_QUEUE"]
for _name in ("REMINDERS_STALE_CLAIM_SECONDS", "REMINDERS_STALE_SENDING_SECONDS"):
    if os.environ.get(_name):
        globals()[_name] = float(os.environ[_name])
