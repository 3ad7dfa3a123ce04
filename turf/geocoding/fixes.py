"""The organizer's hand fixes for a household the geocoder could not place: put it on the
map by hand, or correct its address and look it up again at once."""

import math

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from canvass.models import AuditEvent
from turf.geocoding.backends import GeocoderUnavailable, geocoder_get
from turf.geocoding.services import GEOCODE_FIELDS, _query, geocode_key
from turf.models import GeocodeCache, Household

# A hand correction waits at most this long for the geocoder, in the organizer's request.
LOOKUP_TIMEOUT_S = 30


def _coordinate(value, name, limit):
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValidationError(f"The {name} must be a number, not “{str(value)[:20]}”.") from None
    if not math.isfinite(number) or not -limit <= number <= limit:
        raise ValidationError(f"The {name} must be between −{limit} and {limit} (got {value}).")
    return number


def household_place(*, household: Household, lat, lng, placed_by=None) -> Household:
    """Put a household on the map where the organizer says it is.

    Marked as placed by hand ("manual"), never written to the shared cache: another
    campaign's geocoder answer for the address stays its own.
    """
    lat = _coordinate(lat, "latitude", 90)
    lng = _coordinate(lng, "longitude", 180)
    with transaction.atomic():
        household = Household.objects.select_for_update().get(pk=household.pk)
        before = (household.lat, household.lng, household.geocoder)
        household.lat, household.lng = lat, lng
        household.geocoder = "manual"
        household.location_quality = Household.Quality.EXACT
        household.location_detail = "Placed on the map by hand"
        household.geocoded_at = timezone.now()
        household.save(update_fields=GEOCODE_FIELDS)
        AuditEvent.objects.create(
            campaign_id=household.campaign_id,
            actor=placed_by,
            action="household.place",
            target=f"household:{household.pk}",
            detail={"lat": lat, "lng": lng, "before": list(before)},
        )
    return household


def _address_key(*, house_number, street, unit, city, zip_code):
    # The import's own parser and key, so a corrected door matches the next re-import.
    from turf import imports

    try:
        parsed = imports.address_parse(f"{house_number} {street}")
        key = imports.household_key(
            house_number=house_number, street=street, unit=unit, zip_code=zip_code, city=city
        )
    except imports.RowError as error:
        raise ValidationError(f"That address cannot be read: {error.reason}.") from None
    return parsed, key


def household_address_correct(
    *,
    household: Household,
    house_number: str,
    street: str,
    unit: str = "",
    city: str = "",
    state: str = "",
    zip_code: str = "",
    corrected_by=None,
    geocoder=None,
) -> Household:
    """Correct a household's address and look it up again at once. Returns the household.

    The address is parsed and keyed as an import would; one that another household of the
    campaign already has is refused (they would be one door). The new address is looked
    up in the cache, else asked of the geocoder (the same one as the geocoding jobs);
    whatever it answers is kept. When the geocoder cannot be reached the correction is
    still saved and the household waits for the next geocoding run.
    """
    fields = {
        "house_number": (house_number or "").strip(),
        "street": " ".join((street or "").split()),
        "unit": (unit or "").strip(),
        "city": (city or "").strip(),
        "state": (state or "").strip(),
        "zip_code": (zip_code or "").strip(),
    }
    if not fields["house_number"] or not fields["street"]:
        raise ValidationError("Give at least a house number and a street.")
    for name, value in fields.items():
        limit = Household._meta.get_field(name).max_length
        if len(value) > limit:
            raise ValidationError(
                f"The {name.replace('_', ' ')} can be at most {limit} characters."
            )
    zip5 = fields["zip_code"].split("-")[0][:5]
    parsed, key = _address_key(
        house_number=fields["house_number"],
        street=fields["street"],
        unit=fields["unit"],
        city=fields["city"],
        zip_code=zip5,
    )
    with transaction.atomic():
        household = Household.objects.select_for_update().get(pk=household.pk)
        twin = (
            Household.objects.filter(campaign_id=household.campaign_id, address_key=key)
            .exclude(pk=household.pk)
            .first()
        )
        if twin:
            raise ValidationError(
                f"Another household of this campaign already has that address "
                f"({twin.address_line}). Correct this one to a different address."
            )
        before = {name: getattr(household, name) for name in fields}
        for name, value in fields.items():
            setattr(household, name, value)
        household.address_key = key
        household.address_parts = {
            **parsed.parts,
            "unit": parsed.parts.get("unit") or fields["unit"],
            "city": fields["city"],
            "state": fields["state"],
            "zip": zip5,
        }
        household.lat = household.lng = None
        household.geocoder = household.location_quality = household.location_detail = ""
        household.geocoded_at = None
        household.save()
        AuditEvent.objects.create(
            campaign_id=household.campaign_id,
            actor=corrected_by,
            action="household.address_correct",
            target=f"household:{household.pk}",
            detail={"before": before, "after": fields},
        )
    return household_locate(household=household, geocoder=geocoder)


def household_locate(*, household: Household, geocoder=None) -> Household:
    """Look one household up now: the shared cache, else the geocoder. Returns it, updated.

    An answer (found or not) is written to the household and the cache; a geocoder that
    does not answer leaves the household waiting, its `location_detail` saying so.
    """
    geocoder = geocoder if geocoder is not None else geocoder_get()
    key = geocode_key(household)
    answer = GeocodeCache.objects.filter(key=key).first()
    name = answer.geocoder if answer else ""
    if answer is None and geocoder is not None:
        if hasattr(geocoder, "timeout"):
            geocoder.timeout = min(geocoder.timeout, LOOKUP_TIMEOUT_S)
        try:
            # One try, no pauses between retries: an organizer is waiting for the page.
            (found,) = geocoder.geocode([_query("0", household)])
        except (GeocoderUnavailable, ValueError) as error:
            Household.objects.filter(pk=household.pk).update(
                location_detail=f"Waiting: the geocoder did not answer ({str(error)[:120]})"
            )
            household.refresh_from_db()
            return household
        name = geocoder.name
        answer, _ = GeocodeCache.objects.get_or_create(
            key=key,
            defaults={
                "geocoder": name,
                "quality": found.quality,
                "lat": found.lat,
                "lng": found.lng,
                "detail": found.detail,
            },
        )
    if answer is None:  # GEOCODER=none: it waits to be placed by hand
        return household
    household.geocoder = name
    household.location_quality = answer.quality
    household.location_detail = answer.detail
    household.lat, household.lng = answer.lat, answer.lng
    household.geocoded_at = timezone.now()
    household.save(update_fields=GEOCODE_FIELDS)
    return household
