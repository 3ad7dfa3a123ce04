"""Outbound messages: email through Django's mail system, SMS through a small backend.

Development backends write every message to the console and append it to a
file under settings.OUTBOX_DIR (email.log, sms.log), the "development outbox".
"""

import base64
import json
import os
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from datetime import UTC, datetime

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend
from django.utils.module_loading import import_string

_outbox_lock = threading.Lock()


def outbox_write(filename, text):
    """Append one message to the development outbox file (and create the folder)."""
    settings.OUTBOX_DIR.mkdir(parents=True, exist_ok=True)
    with _outbox_lock, open(settings.OUTBOX_DIR / filename, "a", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()


class ConsoleAndFileEmailBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        for message in email_messages:
            text = (
                f"----- email {datetime.now(UTC):%Y-%m-%dT%H:%M:%SZ} -----\n"
                f"{message.message().as_string()}\n"
            )
            sys.stdout.write(text)
            sys.stdout.flush()
            outbox_write("email.log", text)
        return len(email_messages)


class SmsError(Exception):
    """A provider refused or failed the message. `permanent` ones are not retried."""

    def __init__(self, message, *, permanent=False):
        super().__init__(message)
        self.permanent = permanent


class SmsOutcomeUnknown(Exception):
    """We cannot tell whether the provider sent it (e.g. a timeout). Never resend blindly."""


class FileSmsBackend:
    echo = False

    def send(self, *, to, body):
        stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        text = f"----- sms {stamp} -----\nTo: {to}\n\n{body}\n"
        if self.echo:
            sys.stdout.write(text)
            sys.stdout.flush()
        outbox_write("sms.log", text)
        return f"dev-{stamp}"


class ConsoleSmsBackend(FileSmsBackend):
    echo = True


class FakeSmsBackend:
    """Instant, for benchmarks and fault tests: one line per call in sms-fake.log.

    Every call is recorded, so duplicates show up even when the database says "sent"
    once. SMS_FAKE_DELAY (seconds, environment) makes each call hang after it is
    recorded: a provider that took the message but never answered.
    """

    def send(self, *, to, body):
        line = to + "\t" + body.replace("\n", " ") + "\n"
        settings.OUTBOX_DIR.mkdir(parents=True, exist_ok=True)
        # One write() on an O_APPEND file: lines from many worker processes never interleave.
        fd = os.open(settings.OUTBOX_DIR / "sms-fake.log", os.O_WRONLY | os.O_APPEND | os.O_CREAT)
        try:
            os.write(fd, line.encode())
        finally:
            os.close(fd)
        delay = float(os.environ.get("SMS_FAKE_DELAY") or 0)
        if delay:
            time.sleep(delay)
        return f"fake-{uuid.uuid4().hex[:12]}"


class TwilioSmsBackend:
    """Twilio's Messages API over plain HTTPS (no SDK needed for one POST)."""

    def send(self, *, to, body):
        sid, token = settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN
        url = f"https://api.twilio.com/2010-04-01/Accounts/{sid}/Messages.json"
        data = urllib.parse.urlencode({"To": to, "From": settings.SMS_FROM_NUMBER, "Body": body})
        request = urllib.request.Request(url, data=data.encode(), method="POST")
        auth = base64.b64encode(f"{sid}:{token}".encode()).decode()
        request.add_header("Authorization", f"Basic {auth}")
        try:
            with urllib.request.urlopen(request, timeout=settings.SMS_TIMEOUT) as response:
                return json.load(response).get("sid", "")
        except urllib.error.HTTPError as exc:
            # 4xx: the request itself is wrong (bad number, unsubscribed) — retrying won't help,
            # except 429 (too many requests), which is Twilio asking us to slow down.
            permanent = 400 <= exc.code < 500 and exc.code != 429
            raise SmsError(f"Twilio answered {exc.code}", permanent=permanent) from exc
        except TimeoutError as exc:
            raise SmsOutcomeUnknown("Twilio did not answer in time") from exc
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, TimeoutError):
                raise SmsOutcomeUnknown("Twilio did not answer in time") from exc
            # The connection never opened: nothing was sent, safe to retry.
            raise SmsError(f"Could not reach Twilio: {exc.reason}") from exc


SMS_BACKENDS = {
    "console": ConsoleSmsBackend,
    "file": FileSmsBackend,
    "twilio": TwilioSmsBackend,
    "fake": FakeSmsBackend,
}


def sms_backend():
    name = settings.SMS_BACKEND
    backend = SMS_BACKENDS.get(name) or import_string(name)
    return backend()
