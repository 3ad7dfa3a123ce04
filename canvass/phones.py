"""Phone numbers: parsed and stored in E.164 through phonenumbers, never by hand."""

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from phonenumbers import timezone as phone_timezone


def phone_normalize(raw, *, region=None):
    """Return `raw` as an E.164 string ("+15125550123"), or "" when blank.

    Raises ValidationError with a message a volunteer can act on when the
    number cannot be parsed or is not a valid number.
    """
    raw = (raw or "").strip()
    if not raw:
        return ""
    region = region or settings.PHONE_DEFAULT_REGION
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        raise ValidationError(
            "“%(raw)s” is not a phone number. Enter it with its area code, e.g. 512-555-0123.",
            code="invalid_phone",
            params={"raw": raw},
        ) from None
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(
            "“%(raw)s” is not a valid phone number. Check the digits and the area code.",
            code="invalid_phone",
            params={"raw": raw},
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phone_timezones(e164):
    """The time zones phonenumbers knows for a number ("" or unknown → [])."""
    if not e164:
        return []
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return []
    zones = [z for z in phone_timezone.time_zones_for_number(number) if z != "Etc/Unknown"]
    return zones


class PhoneNumberField(models.CharField):
    """A CharField that stores E.164 and refuses invalid numbers on full_clean()."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 16)
        kwargs.setdefault("blank", True)
        super().__init__(*args, **kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        return phone_normalize(value) if value else ""

    def pre_save(self, model_instance, add):
        value = getattr(model_instance, self.attname)
        normalized = phone_normalize(value) if value else ""
        setattr(model_instance, self.attname, normalized)
        return normalized
