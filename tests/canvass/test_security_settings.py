"""Headers on every answer, and production refusing settings that would leak or lose data."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from tests.conversations.door import bundle

ROOT = Path(__file__).resolve().parents[2]
GOOD_KEY = "a-real-production-key-" + "x7Qp2" * 10


def _start(**env):
    """Load the settings as `manage.py check` would, under PRODUCTION=1 and `env`."""
    base = {k: v for k, v in os.environ.items() if k not in ("EMAIL_BACKEND", "SMS_BACKEND")}
    base.update(PRODUCTION="1", ALLOWED_HOSTS="porchlight.example.org", SECRET_KEY=GOOD_KEY)
    base.update(env)
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings;"
            "print(settings.EMAIL_BACKEND, settings.SMS_BACKEND)",
        ],
        cwd=ROOT,
        env={**base, "DJANGO_SETTINGS_MODULE": "canvass.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_starts_with_real_backends_by_default():
    started = _start()
    assert started.returncode == 0, started.stderr
    assert started.stdout.split() == ["django.core.mail.backends.smtp.EmailBackend", "twilio"]


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SECRET_KEY": settings.DEVELOPMENT_SECRET_KEY}, "development key published"),
        ({"EMAIL_BACKEND": "canvass.messaging.ConsoleAndFileEmailBackend"}, "EMAIL_BACKEND="),
        ({"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}, "EMAIL_BACKEND="),
        ({"EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend"}, "EMAIL_BACKEND="),
        ({"SMS_BACKEND": "console"}, "SMS_BACKEND=console"),
        ({"SMS_BACKEND": "file"}, "SMS_BACKEND=file"),
    ],
    ids=["demo-key", "outbox-mail", "console-mail", "file-mail", "console-sms", "file-sms"],
)
def test_production_refuses_to_start(env, message):
    started = _start(**env)
    assert started.returncode != 0
    assert "ImproperlyConfigured" in started.stderr
    assert message in started.stderr


# --- Headers ------------------------------------------------------------------------


def _policy(response):
    return dict(
        (part.split()[0], part.split()[1:])
        for part in response["Content-Security-Policy"].split(";")
        if part.strip()
    )


@pytest.mark.django_db
def test_pages_and_api_answers_are_never_stored_and_carry_a_strict_policy(
    client, campaign, organizer, assignment
):
    _assignment, token = assignment
    client.force_login(organizer)
    answers = {
        "dashboard": client.get(reverse("campaign_dashboard", args=[campaign.slug])),
        "follow-ups": client.get(reverse("followups_campaign", args=[campaign.slug])),
        "households": client.get(reverse("households_geojson", args=[campaign.slug])),
        "login": client.get(reverse("login")),
        "bundle": bundle(client, token),
        "not found": client.get(reverse("turf_detail", args=[campaign.slug, 99999])),
    }
    for name, response in answers.items():
        assert "no-store" in response["Cache-Control"], name
        policy = _policy(response)
        assert policy["script-src"] == ["'self'"], name
        assert policy["style-src"] == ["'self'"], name
        assert policy["object-src"] == ["'none'"], name
        assert policy["frame-ancestors"] == ["'none'"], name


def test_the_map_tiles_are_allowed_as_images_from_their_server_only():
    from canvass.settings import _tiles_source

    assert _tiles_source("https://tile.openstreetmap.org/{z}/{x}/{y}.png") == [
        "https://tile.openstreetmap.org"
    ]
    assert _tiles_source("https://{s}.tiles.example.org/{z}/{x}/{y}.png") == [
        "https://*.tiles.example.org"
    ]
    assert _tiles_source("") == []


INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
EVENT_ATTRIBUTE = re.compile(r"<[^>]+\son[a-z]+\s*=", re.IGNORECASE)
STYLE_ATTRIBUTE = re.compile(r"<[^>]+\sstyle\s*=|<style\b", re.IGNORECASE)


# Rendered into a PDF on the server (turf/paper.py), never served to a browser as a page.
NOT_PAGES = {"templates/turf/walk_sheet_pdf.html"}


def test_no_template_has_inline_script_or_style():
    """The policy allows none: one would silently stop working in the browser."""
    found = []
    for path in (ROOT / "templates").rglob("*.html"):
        if str(path.relative_to(ROOT)) in NOT_PAGES:
            continue
        text = path.read_text(encoding="utf-8")
        for pattern in (INLINE_SCRIPT, EVENT_ATTRIBUTE, STYLE_ATTRIBUTE):
            found += [f"{path.relative_to(ROOT)}: {m.group(0)}" for m in pattern.finditer(text)]
    assert found == []
