import pytest
from django.core.exceptions import ValidationError
from django.db import transaction

from canvass.models import Volunteer
from canvass.phones import phone_normalize, phone_timezones
from tests.factories import PersonFactory, VolunteerFactory
from turf.models import Person

AUSTIN = "+15125550123"


@pytest.mark.parametrize(
    "raw",
    [
        "(512) 555-0123",
        "512-555-0123",
        "512.555.0123",
        "5125550123",
        "1 512 555 0123",
        "+1 512 555 0123",
        "  512 555 0123  ",
    ],
)
def test_us_formats_normalise_to_e164(raw):
    assert phone_normalize(raw) == AUSTIN


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+44 20 7946 0958", "+442079460958"),
        ("+52 55 1234 5678", "+525512345678"),
        ("+49 30 123456", "+4930123456"),
    ],
)
def test_plus_country_wins_over_the_default_region(raw, expected):
    assert phone_normalize(raw, region="US") == expected


def test_explicit_region_reads_national_numbers():
    assert phone_normalize("020 7946 0958", region="GB") == "+442079460958"


def test_default_region_comes_from_settings(settings):
    settings.PHONE_DEFAULT_REGION = "GB"
    assert phone_normalize("020 7946 0958") == "+442079460958"
    # With +country the default region plays no part.
    assert phone_normalize("+1 512 555 0123") == AUSTIN


@pytest.mark.parametrize("raw", ["", "   ", None])
def test_blank_is_empty_string(raw):
    assert phone_normalize(raw) == ""


@pytest.mark.parametrize(
    "raw",
    [
        "call me maybe",  # letters only
        "555-0123",  # no area code
        "512-555-01",  # too short
        "123-555-0123",  # area codes never start with 1
        "999-555-0123",  # unassigned area code
    ],
)
def test_bad_numbers_are_refused_naming_the_number(raw):
    with pytest.raises(ValidationError) as caught:
        phone_normalize(raw)
    assert caught.value.code == "invalid_phone"
    message = caught.value.messages[0]
    assert raw in message
    # The message must tell the volunteer what to do, not just that it failed.
    assert "area code" in message


@pytest.mark.django_db
def test_person_saved_with_e164(campaign):
    person = PersonFactory(campaign=campaign, phone="(512) 555-0123")
    assert Person.objects.values_list("phone", flat=True).get(pk=person.pk) == AUSTIN
    assert person.phone == AUSTIN


@pytest.mark.django_db
@pytest.mark.parametrize("factory", [PersonFactory, VolunteerFactory], ids=["person", "volunteer"])
def test_invalid_phone_is_refused_on_save_and_nothing_is_written(campaign, factory):
    model = factory._meta.model
    before = model.objects.count()
    # The error is raised inside save(), which marks an enclosing transaction for
    # rollback: callers that carry on after it (an import skipping a bad row)
    # need a savepoint of their own, as here.
    with pytest.raises(ValidationError) as caught, transaction.atomic():
        factory(campaign=campaign, phone="512-555-01")
    assert "512-555-01" in caught.value.messages[0]
    assert model.objects.count() == before


@pytest.mark.django_db
def test_invalid_phone_is_a_field_error_on_full_clean(campaign):
    volunteer = Volunteer(campaign=campaign, first_name="Sam", phone="not a phone")
    with pytest.raises(ValidationError) as caught:
        volunteer.full_clean()
    assert "phone" in caught.value.message_dict
    assert "not a phone" in caught.value.message_dict["phone"][0]


@pytest.mark.parametrize(
    ("e164", "zones"),
    [
        (AUSTIN, ["America/Chicago"]),
        ("+14155550132", ["America/Los_Angeles"]),
        ("+442079460958", ["Europe/London"]),
    ],
)
def test_phone_timezones_for_one_zone_numbers(e164, zones):
    assert phone_timezones(e164) == zones


def test_phone_timezones_lists_every_zone_of_a_split_area_code():
    # Alaska's one area code spans two zones; the caller must not pick one blindly.
    assert sorted(phone_timezones("+19075550100")) == ["America/Adak", "America/Anchorage"]


@pytest.mark.parametrize("value", ["", "garbage", "+11235550123"])
def test_phone_timezones_unknown_is_empty(value):
    assert phone_timezones(value) == []
