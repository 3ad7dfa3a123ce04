"""Outbound messages: email through Django's mail system, SMS through a small backend.

Development backends write every message to the console and append it to a
file under settings.OUTBOX_DIR (email.log, sms.log), the "development outbox".
"""

import base64
import http.client
import json
import os
import smtplib
import socket
import sys
import threading
import time
import urllib.parse
import uuid
from datetime import UTC, datetime

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.smtp import EmailBackend as SmtpEmailBackend
from django.core.mail.message import sanitize_address
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


class NotSent(Exception):
    """The message provably never reached the provider, or the provider answered that it did
    not take it. `permanent` ones (a bad number, an unsubscribed one) are not retried."""

    def __init__(self, message, *, permanent=False):
        super().__init__(message)
        self.permanent = permanent


class OutcomeUnknown(Exception):
    """The request left this machine and no clear answer came back (a reset, a 5xx, a
    deadline): the provider may have sent it. Never resend blindly; a person decides."""


# The names the SMS backends have always raised; email raises the same two.
SmsError = NotSent
SmsOutcomeUnknown = OutcomeUnknown


class CallDeadline:
    """A bound on a whole provider call, however slowly the other end trickles its answer.

    Socket timeouts bound each read, so an answer sent one byte a second never times out.
    This timer shuts the call's socket down when the deadline passes; the blocked read then
    fails and `expired` says why. Use as a context manager around the call:

        with CallDeadline(seconds, sockets=lambda: [conn.sock]) as deadline: ...
    """

    def __init__(self, seconds, *, sockets):
        self.seconds, self._sockets, self.expired = seconds, sockets, False
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def _expire(self):
        self.expired = True
        for sock in self._sockets():
            if sock is None:
                continue
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # already closed: the call is ending anyway

    def __enter__(self):
        self._timer.start()
        return self

    def __exit__(self, *exc_info):
        self._timer.cancel()
        return False


class FileSmsBackend:
    echo = False

    def send(self, *, to, body, idempotency_key=""):
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

    def send(self, *, to, body, idempotency_key=""):
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
    """Twilio's Messages API over plain HTTPS (no SDK needed for one POST).

    Which failures may be retried is decided by how far the call got (docs/reminders.md):
    the connection (TCP and TLS) is opened first, on its own, and a failure there never
    sent a byte of the message. Once the request is being written, any error, any 5xx and
    running out of time are "unknown": Twilio may have taken the message. A 4xx is Twilio
    saying it did not take it (429: not now, retried; the others: never). SMS_TIMEOUT
    bounds the whole call, not each socket read.
    """

    def send(self, *, to, body, idempotency_key=""):
        sid, token = settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN
        base = urllib.parse.urlsplit(getattr(settings, "TWILIO_API_URL", TWILIO_API_URL))
        path = f"{base.path.rstrip('/')}/2010-04-01/Accounts/{sid}/Messages.json"
        data = urllib.parse.urlencode({"To": to, "From": settings.SMS_FROM_NUMBER, "Body": body})
        auth = base64.b64encode(f"{sid}:{token}".encode()).decode()
        headers = {
            "Authorization": f"Basic {auth}",
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json",
        }
        if idempotency_key:
            # Twilio's Messages API documents no idempotency header today; these are the
            # names its platform and common gateways honour. Sent so that any layer that
            # does dedupe by key will, and harmless where none does.
            headers["I-Twilio-Idempotency-Token"] = idempotency_key
            headers["Idempotency-Key"] = idempotency_key
        seconds = settings.SMS_TIMEOUT
        connection_class = (
            http.client.HTTPSConnection if base.scheme == "https" else http.client.HTTPConnection
        )
        conn = connection_class(base.hostname, base.port, timeout=seconds)
        with CallDeadline(seconds, sockets=lambda: [conn.sock]) as deadline:
            try:
                try:
                    conn.connect()
                except OSError as exc:
                    if deadline.expired:
                        raise NotSent(f"Could not reach Twilio within {seconds} s.") from exc
                    raise NotSent(f"Could not reach Twilio: {exc}") from exc
                try:
                    conn.request("POST", path, body=data, headers=headers)
                    response = conn.getresponse()
                    payload = response.read()
                except (OSError, http.client.HTTPException) as exc:
                    if deadline.expired:
                        raise OutcomeUnknown(
                            f"Twilio took the request but gave no complete answer within "
                            f"{seconds} s."
                        ) from exc
                    raise OutcomeUnknown(
                        f"The connection to Twilio failed after the message was sent "
                        f"({type(exc).__name__}: {exc})."
                    ) from exc
            finally:
                conn.close()
        if deadline.expired:
            raise OutcomeUnknown(f"Twilio gave no complete answer within {seconds} s.")
        status = response.status
        if 200 <= status < 300:
            try:
                return json.loads(payload).get("sid", "")
            except ValueError:
                return ""  # taken: the answer's body is only for our records
        detail = _twilio_error(payload)
        if status == 429:
            raise NotSent(f"Twilio answered 429 (too many requests){detail}")
        if 400 <= status < 500:
            raise NotSent(f"Twilio answered {status}{detail}", permanent=True)
        raise OutcomeUnknown(f"Twilio answered {status} after the message was sent{detail}")


TWILIO_API_URL = "https://api.twilio.com"


def _twilio_error(payload):
    try:
        answer = json.loads(payload)
    except ValueError:
        return ""
    if not isinstance(answer, dict) or not answer.get("message"):
        return ""
    code = f" {answer['code']}" if answer.get("code") else ""
    return f":{code} {answer['message']}"


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


# --- Email ---------------------------------------------------------------------------


def _message_id(idempotency_key):
    """A Message-ID made from the outbox key: the same reminder always carries the same one,
    so a mail system that dedupes on Message-ID (and any person reading headers) can tell a
    copy from a second message."""
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2].strip(" >") or "localhost"
    local = "".join(c if c.isalnum() or c in "-._" else "." for c in idempotency_key)
    return f"<{local}@{domain}>"


def email_send(*, to, subject, body, idempotency_key=""):
    """Send one email through EMAIL_BACKEND; raises NotSent or OutcomeUnknown on failure.

    With Django's SMTP backend the conversation is taken step by step, so a failure is
    judged by where it happened: before DATA nothing was handed over (NotSent); a clear
    refusal code after the message is NotSent too; a connection dropped or timed out
    during or after DATA, before the server's 250, is OutcomeUnknown. EMAIL_TIMEOUT bounds
    the whole conversation. Other backends cannot say how far they got: only a refused
    connection counts as not sent.
    """
    headers = {"Message-ID": _message_id(idempotency_key)} if idempotency_key else {}
    connection = get_connection()
    message = EmailMessage(subject, body, to=[to], headers=headers, connection=connection)
    if isinstance(connection, SmtpEmailBackend):
        return _smtp_send(connection, message)
    try:
        connection.send_messages([message])
    except (NotSent, OutcomeUnknown):
        raise
    except (ConnectionRefusedError, socket.gaierror) as exc:
        raise NotSent(f"Could not reach the mail server: {exc}") from exc
    except Exception as exc:
        raise OutcomeUnknown(str(exc) or type(exc).__name__) from exc


def _smtp_send(backend, message):
    seconds = backend.timeout or settings.EMAIL_TIMEOUT

    def sockets():
        smtp = backend.connection or backend._partial_connection
        return [getattr(smtp, "sock", None)]

    with CallDeadline(seconds, sockets=sockets) as deadline:
        try:
            try:
                backend.open()
            except (OSError, smtplib.SMTPException) as exc:
                raise NotSent(f"Could not reach the mail server: {exc}") from exc
            smtp = backend.connection
            encoding = message.encoding or settings.DEFAULT_CHARSET
            sender = sanitize_address(message.from_email, encoding)
            recipients = [sanitize_address(a, encoding) for a in message.recipients()]
            content = message.message().as_bytes(linesep="\r\n")
            try:
                code, answer = smtp.mail(sender)
                if code != 250:
                    raise NotSent(f"The mail server refused the sender: {code} {answer!r}")
                for recipient in recipients:
                    code, answer = smtp.rcpt(recipient)
                    if code not in (250, 251):
                        raise NotSent(
                            f"The mail server refused {recipient}: {code} {answer!r}",
                            permanent=code >= 500,
                        )
            except (OSError, smtplib.SMTPException) as exc:
                raise NotSent(f"The mail server failed before the message: {exc}") from exc
            try:
                code, answer = smtp.data(content)
            except smtplib.SMTPDataError as exc:
                # DATA itself was refused (no 354): the message was never handed over.
                raise NotSent(
                    f"The mail server refused the message: {exc.smtp_code} {exc.smtp_error!r}",
                    permanent=exc.smtp_code >= 500,
                ) from exc
            except (OSError, smtplib.SMTPException) as exc:
                why = f"within {seconds} s" if deadline.expired else f"({exc})"
                raise OutcomeUnknown(
                    f"The mail server took the message and gave no answer {why}."
                ) from exc
            if code != 250:
                # An explicit refusal of the message we sent: the server did not take it.
                raise NotSent(
                    f"The mail server refused the message: {code} {answer!r}",
                    permanent=code >= 500,
                )
        finally:
            try:
                backend.close()
            except (OSError, smtplib.SMTPException):
                pass  # the answer is already known; a failed QUIT changes nothing
