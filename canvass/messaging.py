"""Outbound messages: email through Django's mail system, SMS through a small backend.

Development backends write every message to the console and append it to a
file under settings.OUTBOX_DIR (email.log, sms.log), the "development outbox".
"""

import base64
import json
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
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
            # 4xx: the request itself is wrong (bad number, unsubscribed) — retrying won't help.
            raise SmsError(f"Twilio answered {exc.code}", permanent=400 <= exc.code < 500) from exc
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
}


def sms_backend():
    name = settings.SMS_BACKEND
    backend = SMS_BACKENDS.get(name) or import_string(name)
    return backend()
