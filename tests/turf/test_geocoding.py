"""Geocoding against the local fake of the Census batch geocoder: matches, ties,
no-match, a failed batch tried again, no network at all, and the shared cache."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from canvass.models import AuditEvent
from tests.factories import CampaignFactory, HouseholdFactory
from tests.fake_census import grid_point
from turf import imports, tasks
from turf.geocoding import services
from turf.geocoding.backends import AddressQuery, CensusGeocoder, GeocoderUnavailable
from turf.geocoding.services import geocode_job_create, geocode_key
from turf.models import GeocodeCache, GeocodeJob, Household, ImportJob

pytestmark = pytest.mark.django_db


def _house(campaign, number, street, **extra):
    return HouseholdFactory(
        campaign=campaign,
        house_number=str(number),
        street=street,
        city="Raleigh",
        state="NC",
        zip_code="27601",
        **extra,
    )


def _run(campaign):
    job = geocode_job_create(campaign=campaign)
    assert tasks.geocode_job_run(job.pk) in ("done", "failed")
    job.refresh_from_db()
    return job


def test_census_backend_reads_matches_ties_and_no_match_in_any_order(fake_census):
    geocoder = CensusGeocoder(fake_census.url)
    answers = {
        a.id: a
        for a in geocoder.geocode(
            [
                AddressQuery("0", "120 Oak St", "Raleigh", "NC", "27601"),
                AddressQuery("1", "5 Nowhere Ln", "Raleigh", "NC", "27601"),
                AddressQuery("2", "9 Twin Oaks Dr", "Raleigh", "NC", "27601"),
                AddressQuery("3", "44 Fuzzy Rd", "Raleigh", "NC", "27601"),
                AddressQuery("10", '1, "Comma" St', "Raleigh", "NC", "27601"),
            ]
        )
    }
    assert set(answers) == {"0", "1", "2", "3", "10"}
    oak = answers["0"]
    assert (oak.lng, oak.lat) == pytest.approx(grid_point("Oak St", 120))
    assert oak.quality == Household.Quality.EXACT
    assert oak.detail == "Matched 120 OAK ST, RALEIGH, NC, 27601"
    assert answers["1"].quality == Household.Quality.FAILED and not answers["1"].located
    assert "No match" in answers["1"].detail
    assert answers["2"].quality == Household.Quality.FAILED and "tie" in answers["2"].detail
    assert answers["3"].quality == Household.Quality.INTERPOLATED and answers["3"].located
    assert fake_census.requests == 1


def test_census_backend_refuses_a_reply_that_leaves_addresses_out(fake_census, monkeypatch):
    monkeypatch.setattr(fake_census, "answer", lambda row: [])
    with pytest.raises(GeocoderUnavailable, match="left out 1 of 1"):
        CensusGeocoder(fake_census.url).geocode([AddressQuery("0", "1 Oak St")])


def test_job_locates_households_and_says_how(campaign, fake_census):
    oak = _house(campaign, 120, "Oak St")
    nowhere = _house(campaign, 5, "Nowhere Ln")
    tie = _house(campaign, 9, "Twin Oaks Dr")
    fuzzy = _house(campaign, 44, "Fuzzy Rd")
    from_file = _house(campaign, 1, "Elm St", lat=35.1, lng=-78.1)

    job = _run(campaign)

    assert job.status == GeocodeJob.Status.DONE
    assert (job.households_total, job.households_done) == (4, 4)
    assert (job.located, job.not_found, job.from_cache, job.still_pending) == (2, 2, 0, 0)
    assert job.percent == 100
    for h in (oak, nowhere, tie, fuzzy, from_file):
        h.refresh_from_db()
    assert (oak.geocoder, oak.location_quality) == ("census", "exact")
    assert (oak.lng, oak.lat) == pytest.approx(grid_point("Oak St", 120))
    assert fuzzy.location_quality == "interpolated"
    assert nowhere.lat is None and nowhere.location_quality == "failed"
    assert tie.lat is None and "tie" in tie.location_detail
    assert (from_file.geocoder, from_file.lat) == ("file", 35.1)
    assert AuditEvent.objects.get(action="households.geocode").detail["located"] == 2


def test_units_of_a_building_and_other_campaigns_share_one_lookup(campaign, fake_census):
    for unit in ("Apt 1", "Apt 2", "Apt 3"):
        _house(campaign, 300, "Pine St", unit=unit)
    _house(campaign, 5, "Nowhere Ln")
    _run(campaign)
    assert fake_census.addresses == 2
    assert GeocodeCache.objects.count() == 2

    other = CampaignFactory(slug="westside")
    again = _house(other, 300, "Pine St", unit="Apt 9")
    _house(other, 5, "Nowhere Ln")
    job = _run(other)
    assert fake_census.addresses == 2  # nothing new was sent
    assert (job.from_cache, job.located, job.not_found) == (2, 1, 1)
    again.refresh_from_db()
    assert again.geocoder == "census" and again.lat is not None


def test_geocode_key_reads_the_parsed_parts_and_drops_the_unit(campaign):
    parsed = imports.address_parse("120 North Main Street Apt 4")
    a = Household(
        house_number="120",
        street="North Main Street",
        unit="Apt 4",
        zip_code="27601",
        address_parts=parsed.parts,
    )
    b = Household(
        house_number="120",
        street="N Main St",
        zip_code="27601-1234",
        address_parts=imports.address_parse("120 N Main St").parts,
    )
    assert geocode_key(a) == geocode_key(b) == "120 N MAIN ST 27601"
    c = Household(house_number="7", street="Elm St", city="Cary", state="nc")
    assert geocode_key(c) == "7 ELM ST CARY NC"


def test_batches_go_out_in_parallel_and_a_failed_one_is_tried_again(
    campaign, fake_census, settings, monkeypatch
):
    settings.GEOCODER_BATCH_SIZE = 2
    settings.GEOCODER_RETRIES = 2
    monkeypatch.setattr(services, "RETRY_WAIT", (0,))
    for n in range(1, 6):
        _house(campaign, n * 10, "Cedar St")
    fake_census.fail_next(1)

    job = _run(campaign)

    assert job.status == GeocodeJob.Status.DONE and job.located == 5
    assert fake_census.requests == 4  # three batches, one of them twice
    assert Household.objects.filter(campaign=campaign, lat__isnull=True).count() == 0


def test_without_network_households_wait_and_the_job_says_so(campaign):
    # The default test settings point at a port where nothing listens.
    house = _house(campaign, 12, "Birch St")
    job = _run(campaign)
    assert job.status == GeocodeJob.Status.FAILED
    assert job.still_pending == 1
    assert "1 households are still waiting" in job.error
    house.refresh_from_db()
    assert house.geocoder == "" and house.lat is None
    assert not GeocodeCache.objects.exists()


def test_a_geocoder_that_fails_every_try_leaves_the_rest_located(
    campaign, fake_census, settings, monkeypatch
):
    settings.GEOCODER_BATCH_SIZE = 1
    settings.GEOCODER_PARALLEL = 1
    settings.GEOCODER_RETRIES = 1
    monkeypatch.setattr(services, "RETRY_WAIT", (0,))
    _house(campaign, 10, "Ash St")
    _house(campaign, 20, "Ash St")
    fake_census.fail_next(2)  # the first batch, and its one retry
    job = _run(campaign)
    assert job.status == GeocodeJob.Status.FAILED
    assert (job.located, job.still_pending) == (1, 1)
    assert GeocodeCache.objects.count() == 1
    # Once it answers again, the next run picks up only what is left.
    job = _run(campaign)
    assert (job.status, job.households_total, job.located) == ("done", 1, 1)


def test_one_job_at_a_time_and_a_redelivery_does_nothing(campaign, fake_census):
    _house(campaign, 10, "Ash St")
    first = geocode_job_create(campaign=campaign)
    assert geocode_job_create(campaign=campaign) == first
    assert tasks.geocode_job_run(first.pk) == "done"
    assert tasks.geocode_job_run(first.pk) is None
    assert fake_census.requests == 1


def test_sweep_sends_a_job_whose_publish_was_lost(campaign, django_capture_on_commit_callbacks):
    from datetime import timedelta

    from django.utils import timezone

    job = GeocodeJob.objects.create(campaign=campaign)
    assert services.geocode_jobs_sweep() == []
    GeocodeJob.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(minutes=5))
    with django_capture_on_commit_callbacks() as callbacks:
        assert services.geocode_jobs_sweep() == [job.pk]
    assert len(callbacks) == 1


def test_geocoder_none_leaves_households_waiting(campaign, settings):
    settings.GEOCODER = "none"
    _house(campaign, 10, "Ash St")
    job = _run(campaign)
    assert job.status == "failed" and "GEOCODER=none" in job.error


def test_an_import_without_network_completes_and_queues_geocoding(
    client, campaign, organizer, tmp_path, django_capture_on_commit_callbacks
):
    text = "VANID,LastName,FirstName,Address,City,State,Zip5,Phone\n"
    text += "1,Lee,Ann,1 Elm St,Raleigh,NC,27601,\n"
    job = imports.import_job_create(
        campaign=campaign,
        created_by=organizer,
        upload=SimpleUploadedFile("van.csv", text.encode()),
        preset="van-export",
    )
    with django_capture_on_commit_callbacks() as callbacks:
        assert tasks.import_job_run(job.pk) == "done"
    assert ImportJob.objects.get(pk=job.pk).status == "done"
    geocode = GeocodeJob.objects.get(campaign=campaign)
    assert geocode.status == "pending" and geocode.created_by == organizer
    assert len(callbacks) == 1
    # The worker runs it with no network: the doors stay, waiting.
    assert tasks.geocode_job_run(geocode.pk) == "failed"
    assert Household.objects.get(campaign=campaign).geocoder == ""
    assert reverse("import_detail", args=[campaign.slug, job.pk])
