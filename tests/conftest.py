"""Shared fixtures: the personas, a private outbox per test, and the backend markers.

Tests marked `postgres` or `redis` need those services. Locally they are
skipped with a reason when the service is missing; under CI=true a missing
service fails the run, so a misconfigured CI can never pass by skipping.
"""

import functools
import os
import re
import tempfile
from typing import NamedTuple

import pytest
import redis
from django.conf import settings as django_settings
from django.db import connection

from canvass.models import Membership
from tests.factories import (
    CampaignFactory,
    MembershipFactory,
    ShiftFactory,
    TurfFactory,
    UserFactory,
    VolunteerFactory,
)
from turf.services import assignment_create

NEEDS_POSTGRES = "needs PostgreSQL: set DATABASE_URL to a postgres:// URL"
NEEDS_REDIS = "needs Redis: set REDIS_URL"
CHROMIUM = "/usr/bin/chromium"
NEEDS_CHROMIUM = f"needs Chromium at {CHROMIUM}: apt-get install chromium"

_celery_folder = pytest.StashKey[tempfile.TemporaryDirectory]()


def pytest_configure(config):
    # WhiteNoise warns on every test client request until collectstatic has
    # filled STATIC_ROOT, which the tests never need.
    config.addinivalue_line("filterwarnings", "ignore:No directory at:UserWarning")
    # Without Redis, Celery's filesystem transport lives in var/celery/ and its
    # folders are made as soon as the app is configured, which collection
    # already does (it looks at task objects). Point it elsewhere first.
    options = django_settings.CELERY_BROKER_TRANSPORT_OPTIONS
    if "data_folder_in" in options:
        folder = config.stash[_celery_folder] = tempfile.TemporaryDirectory(prefix="celery-")
        queue = os.path.join(folder.name, "queue")
        options.update(
            data_folder_in=queue,
            data_folder_out=queue,
            processed_folder=os.path.join(folder.name, "processed"),
            control_folder=os.path.join(folder.name, "control"),
        )


def pytest_unconfigure(config):
    folder = config.stash.get(_celery_folder, None)
    if folder is not None:
        folder.cleanup()


def _in_ci():
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


@functools.cache
def _redis_reachable(url):
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except redis.RedisError:
        return False


def _missing_service(item):
    if item.get_closest_marker("postgres") and connection.vendor != "postgresql":
        return NEEDS_POSTGRES
    if item.get_closest_marker("redis"):
        url = django_settings.REDIS_URL
        if not url:
            return NEEDS_REDIS
        if not _redis_reachable(url):
            return f"{NEEDS_REDIS} (nothing answers at {url})"
    if item.get_closest_marker("browser") and not os.path.exists(CHROMIUM):
        return NEEDS_CHROMIUM
    return None


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    reason = _missing_service(item)
    if reason is None:
        return
    if _in_ci():
        pytest.fail(f"CI=true and this test {reason}", pytrace=False)
    pytest.skip(reason)


# --- A private outbox -------------------------------------------------------


class Sms(NamedTuple):
    to: str
    body: str


_SMS_HEADER = re.compile(r"^----- sms .* -----\n", re.MULTILINE)


def read_sms_outbox(outbox_dir):
    """The text messages the file backend wrote to `outbox_dir`, oldest first."""
    path = outbox_dir / "sms.log"
    if not path.exists():
        return []
    messages = []
    for chunk in _SMS_HEADER.split(path.read_text(encoding="utf-8"))[1:]:
        to_line, _, body = chunk.partition("\n\n")
        messages.append(Sms(to=to_line.removeprefix("To: "), body=body.rstrip("\n")))
    return messages


@pytest.fixture
def outbox_dir(tmp_path):
    return tmp_path / "outbox"


@pytest.fixture(autouse=True)
def _private_outbox(settings, outbox_dir):
    # The default outbox is var/outbox/ in the project folder, which the
    # demo shows to people; tests write to their own folder instead.
    settings.OUTBOX_DIR = outbox_dir
    settings.SMS_BACKEND = "file"


@pytest.fixture(autouse=True)
def _daily_cap_out_of_the_way(settings):
    # Tests send many messages to the factories' one phone number in a day; the daily cap
    # per person is tested on its own (tests/conversations/test_daily_cap.py, and with
    # real workers in test_worker_faults.py), at its default and at other values.
    settings.REMINDERS_PER_PERSON_PER_DAY = 1000


@pytest.fixture
def sent_sms(outbox_dir):
    """Call it to read the text messages sent so far in this test."""
    return lambda: read_sms_outbox(outbox_dir)


@pytest.fixture(autouse=True)
def _fresh_cache():
    # Pages that keep numbers in the cache (the conversations dashboard) must not carry
    # them from one test to the next.
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


# --- Personas ---------------------------------------------------------------


@pytest.fixture
def campaign(db):
    return CampaignFactory(name="Eastside Tenants United", slug="eastside-tenants")


@pytest.fixture
def organizer(campaign):
    user = UserFactory(username="olivia", first_name="Olivia")
    MembershipFactory(user=user, campaign=campaign, role=Membership.Role.ORGANIZER)
    return user


@pytest.fixture
def field_lead(campaign):
    user = UserFactory(username="farid", first_name="Farid")
    MembershipFactory(user=user, campaign=campaign, role=Membership.Role.FIELD_LEAD)
    return user


@pytest.fixture
def volunteer(campaign):
    return VolunteerFactory(
        campaign=campaign, first_name="Vera", last_name="Lopez", phone="+15125550101"
    )


@pytest.fixture
def outsider(db):
    """An organizer, but of another campaign: must see nothing of `campaign`."""
    user = UserFactory(username="oscar", first_name="Oscar")
    other = CampaignFactory(name="Northside Neighbors", slug="northside")
    MembershipFactory(user=user, campaign=other, role=Membership.Role.ORGANIZER)
    return user


@pytest.fixture
def assignment(campaign, volunteer, organizer):
    """(assignment, token): `volunteer` walks a three-door turf for an upcoming shift."""
    return assignment_create(
        turf=TurfFactory(campaign=campaign, name="Maple blocks", doors=3),
        volunteers=[volunteer],
        shift=ShiftFactory(campaign=campaign),
        created_by=organizer,
    )


# --- Geocoding ----------------------------------------------------------------


@pytest.fixture(autouse=True)
def _no_internet_geocoder(settings):
    # Nothing under test reaches the real geocoder: the default points at a port on this
    # machine where nothing listens, and tests that geocode start the local fake.
    settings.GEOCODER = "census"
    settings.GEOCODER_URL = "http://127.0.0.1:9/geocoder"
    settings.GEOCODER_RETRIES = 0


@pytest.fixture
def fake_census(settings):
    """The local fake of the Census batch geocoder, with the settings pointing at it."""
    from tests.fake_census import FakeCensus

    fake = FakeCensus().start()
    settings.GEOCODER = "census"
    settings.GEOCODER_URL = fake.url
    yield fake
    fake.stop()
