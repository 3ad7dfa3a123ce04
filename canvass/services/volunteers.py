"""Volunteers as a signup form meets them: checked details, recognised when they return."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from canvass.models import Volunteer
from canvass.phones import phone_normalize


def volunteer_details_clean(
    *, campaign, first_name, phone="", email="", remind_by_sms=False, remind_by_email=False
):
    """(phone in E.164, email) from what someone typed, or one ValidationError naming every
    field that is wrong: a phone is checked with phonenumbers in the campaign's region."""
    errors = {}
    if not (first_name or "").strip():
        errors["first_name"] = _("Give at least a first name.")
    try:
        phone = phone_normalize(phone, region=campaign.phone_region)
    except ValidationError as error:
        errors["phone"] = error.messages[0]
    email = (email or "").strip()
    if email:
        try:
            validate_email(email)
        except ValidationError:
            errors["email"] = _("“%(email)s” is not an email address. Check it for typos.") % {
                "email": email
            }
    if "phone" not in errors and "email" not in errors:
        if not phone and not email:
            errors["phone"] = _("Give a phone number or an email address, so we can reach you.")
        if remind_by_sms and not phone:
            errors["remind_by_sms"] = _(
                "Text reminders need a phone number. Add one, or untick texts."
            )
        if remind_by_email and not email:
            errors["remind_by_email"] = _(
                "Email reminders need an email address. Add one, or untick email."
            )
    if errors:
        raise ValidationError(errors)
    return phone, email


def _volunteer_find(campaign, phone, email):
    volunteers = Volunteer.objects.filter(campaign=campaign)
    return volunteers.with_phone(phone).first() or volunteers.with_email(email).first()


def volunteer_find_or_create(
    *, campaign, first_name, last_name="", phone="", email="", language=""
):
    """The campaign's volunteer with this phone, else this email, else a new one.
    Returns (volunteer, created).

    Someone who comes back is recognised, never duplicated. What they typed fills only
    what the row lacks: a public form never overwrites a name, number or address
    already on file (anyone may type anyone's number).
    """
    first_name, last_name = (first_name or "").strip(), (last_name or "").strip()
    phone, email = volunteer_details_clean(
        campaign=campaign, first_name=first_name, phone=phone, email=email
    )
    language = language if language in dict(settings.LANGUAGES) else ""
    volunteer = _volunteer_find(campaign, phone, email)
    if volunteer is None:
        try:
            with transaction.atomic():
                volunteer = Volunteer.objects.create(
                    campaign=campaign,
                    first_name=first_name,
                    last_name=last_name,
                    phone=phone,
                    email=email,
                    language=language or settings.LANGUAGE_CODE,
                )
                return volunteer, True
        except IntegrityError:
            # The same person, a moment earlier, in another request.
            volunteer = _volunteer_find(campaign, phone, email)
            if volunteer is None:
                raise
    changed = []
    if (
        phone
        and not volunteer.phone
        and not Volunteer.objects.filter(campaign=campaign).with_phone(phone).exists()
    ):
        volunteer.phone = phone
        changed.append("phone")
    if (
        email
        and not volunteer.email
        and not Volunteer.objects.filter(campaign=campaign).with_email(email).exists()
    ):
        volunteer.email = email
        changed.append("email")
    if not volunteer.active:
        volunteer.active = True
        changed.append("active")
    if changed:
        volunteer.save(update_fields=changed)
    return volunteer, False
