"""Inbound webhooks from the SMS provider."""

import base64
import hashlib
import hmac
import logging

from django import forms
from django.conf import settings
from django.http import HttpResponse, HttpResponseBadRequest, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from conversations.models import InboundSms
from conversations.services import sms_inbound_handle

log = logging.getLogger(__name__)

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
# Twilio joins a long text into one message of at most 1,600 characters.
BODY_MAX_LENGTH = 1600


def _limit(name):
    return InboundSms._meta.get_field(name).max_length


class InboundTextForm(forms.Form):
    """What a signed request may carry: a signature proves who sent it, not that every
    field fits (forms.CharField also refuses a NUL character, which PostgreSQL cannot
    store)."""

    MessageSid = forms.CharField(max_length=_limit("provider_id"), required=False)
    SmsSid = forms.CharField(max_length=_limit("provider_id"), required=False)
    From = forms.CharField(max_length=_limit("from_number"))
    To = forms.CharField(max_length=_limit("to_number"), required=False)
    Body = forms.CharField(max_length=BODY_MAX_LENGTH, required=False, strip=False)

    def clean(self):
        data = super().clean()
        if not self.errors and not (data.get("MessageSid") or data.get("SmsSid")):
            raise forms.ValidationError("MessageSid is required.")
        return data

    def problems(self):
        return "; ".join(
            f"{name}: {' '.join(errors)}" if name != "__all__" else " ".join(errors)
            for name, errors in self.errors.items()
        )


def twilio_signature(*, auth_token, url, params):
    """Twilio's X-Twilio-Signature for a form POST: HMAC-SHA1 over the full URL followed by
    each POST parameter's name and value, sorted by name (a repeated name: its distinct
    values, sorted, as Twilio's own libraries do), keyed with the account's auth token,
    base64-encoded."""
    data = url
    for name in sorted(set(params.keys())):
        values = params.getlist(name) if hasattr(params, "getlist") else [params[name]]
        for value in sorted(set(values)):
            data += name + value
    digest = hmac.new(auth_token.encode(), data.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


@csrf_exempt
@require_POST
def twilio_sms(request):
    """Twilio posts every text sent to our number here. Replies go through the outbox
    (like every message we send), so the answer is always an empty TwiML document."""
    token = settings.TWILIO_AUTH_TOKEN
    if not token:
        log.error("TWILIO_AUTH_TOKEN is not set: every inbound text is refused")
        return HttpResponseForbidden("The SMS webhook is not configured.")
    expected = twilio_signature(
        auth_token=token, url=request.build_absolute_uri(), params=request.POST
    )
    given = request.headers.get("X-Twilio-Signature", "")
    if not hmac.compare_digest(expected.encode(), given.encode()):
        log.warning("refused an inbound text with a bad X-Twilio-Signature")
        return HttpResponseForbidden("Bad X-Twilio-Signature.")
    given = InboundTextForm(request.POST)
    if not given.is_valid():
        log.warning("refused a signed inbound text: %s", given.problems())
        return HttpResponseBadRequest(given.problems(), content_type="text/plain")
    data = given.cleaned_data
    sms_inbound_handle(
        provider_id=data["MessageSid"] or data["SmsSid"],
        from_number=data["From"],
        to_number=data["To"],
        body=data["Body"],
    )
    return HttpResponse(EMPTY_TWIML, content_type="text/xml")
