from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from tests.factories import (
    HouseholdFactory,
    PersonFactory,
    ShiftFactory,
    TurfFactory,
    TurfStopFactory,
    VolunteerFactory,
)
from turf.models import Assignment, Turf, hash_token
from turf.services import LINK_GRACE, MAX_LINK_LIFE, assignment_create, assignment_revoke

pytestmark = pytest.mark.django_db

NOW = datetime(2024, 10, 5, 14, 0, tzinfo=UTC)


def link(token):
    return reverse("assignment_open", args=[token])


@time_machine.travel(NOW, tick=False)
def test_link_lives_until_shift_end_plus_grace(campaign, volunteer):
    shift = ShiftFactory(campaign=campaign, starts_at=NOW, ends_at=NOW + timedelta(hours=3))
    assignment, _ = assignment_create(
        turf=TurfFactory(campaign=campaign), volunteers=[volunteer], shift=shift
    )
    assert assignment.expires_at == shift.ends_at + LINK_GRACE


@time_machine.travel(NOW, tick=False)
def test_link_without_shift_lives_for_the_grace_period(campaign, volunteer):
    assignment, _ = assignment_create(turf=TurfFactory(campaign=campaign), volunteers=[volunteer])
    assert assignment.expires_at == NOW + LINK_GRACE


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize("source", ["shift", "explicit"])
def test_link_never_lives_longer_than_the_cap(campaign, volunteer, source):
    far = NOW + MAX_LINK_LIFE + timedelta(days=10)
    kwargs = (
        {"shift": ShiftFactory(campaign=campaign, starts_at=far, ends_at=far + timedelta(hours=2))}
        if source == "shift"
        else {"expires_at": far}
    )
    assignment, _ = assignment_create(
        turf=TurfFactory(campaign=campaign), volunteers=[volunteer], **kwargs
    )
    assert assignment.expires_at == NOW + MAX_LINK_LIFE


def test_only_the_tokens_hash_is_stored(assignment):
    assignment, token = assignment
    row = Assignment.objects.filter(pk=assignment.pk).values().get()
    assert row["token_hash"] == hash_token(token)
    assert token not in {str(value) for value in row.values()}
    assert not Assignment.objects.filter(token_hash=token).exists()
    assert Assignment.objects.for_token(token).get() == assignment


def test_each_assignment_gets_its_own_token(campaign, volunteer):
    tokens = {
        assignment_create(turf=TurfFactory(campaign=campaign), volunteers=[volunteer])[1]
        for _ in range(3)
    }
    assert len(tokens) == 3


def test_live_link_shows_the_walk_list_in_walk_order(client, campaign, volunteer):
    turf = TurfFactory(campaign=campaign, name="Pecan Street blocks")
    # Created out of walking order, so that any ordering by id or address would show.
    households = {
        3: HouseholdFactory(campaign=campaign, house_number="101", street="Pecan Street"),
        1: HouseholdFactory(campaign=campaign, house_number="909", street="Pecan Street"),
        2: HouseholdFactory(campaign=campaign, house_number="505", street="Pecan Street"),
    }
    for position, household in households.items():
        TurfStopFactory(turf=turf, household=household, position=position)
    PersonFactory(campaign=campaign, household=households[1], first_name="Rosa", last_name="Diaz")
    _, token = assignment_create(turf=turf, volunteers=[volunteer])

    # The link opens the door screen, which draws the walk list from the sync API's
    # bundle (and keeps it on the phone); the page itself holds no one's data.
    response = client.get(link(token))
    assert response.status_code == 200
    assert "door/app.js" in response.content.decode()

    bundle = client.get(f"/api/a/{token}/bundle").json()
    assert bundle["assignment"]["turf"]["name"] == "Pecan Street blocks"
    walk_order = [households[position].address_line for position in sorted(households)]
    assert [h["address"] for h in bundle["households"]] == walk_order
    assert bundle["households"][0]["people"][0]["first_name"] == "Rosa"


def test_revoked_link_is_gone(client, assignment):
    assignment, token = assignment
    assignment_revoke(assignment=assignment)
    response = client.get(link(token))
    assert response.status_code == 410
    assert assignment.turf.name not in response.content.decode()


def test_expired_link_is_gone(client, assignment):
    assignment, token = assignment
    assert client.get(link(token)).status_code == 200
    with time_machine.travel(assignment.expires_at + timedelta(seconds=1)):
        response = client.get(link(token))
    assert response.status_code == 410
    assert assignment.turf.name not in response.content.decode()


def test_unknown_token_is_not_found(client, assignment):
    _, token = assignment
    assert client.get(link(token[::-1])).status_code == 404


def test_a_pair_may_share_a_turf(campaign, volunteer):
    partner = VolunteerFactory(campaign=campaign)
    assignment, _ = assignment_create(
        turf=TurfFactory(campaign=campaign), volunteers=[volunteer, partner]
    )
    assert set(assignment.volunteers.all()) == {volunteer, partner}
    assert Turf.objects.get(pk=assignment.turf_id).status == Turf.Status.ASSIGNED


@pytest.mark.parametrize("count", [0, 3])
def test_a_turf_goes_to_one_volunteer_or_a_pair(campaign, count):
    turf = TurfFactory(campaign=campaign)
    volunteers = VolunteerFactory.create_batch(count, campaign=campaign)
    with pytest.raises(ValidationError, match="one volunteer or a pair"):
        assignment_create(turf=turf, volunteers=volunteers)
    assert not Assignment.objects.exists()
    assert Turf.objects.get(pk=turf.pk).status == Turf.Status.OPEN


def test_volunteer_from_another_campaign_is_refused(campaign, volunteer, outsider):
    stranger = VolunteerFactory(campaign=outsider.memberships.get().campaign)
    turf = TurfFactory(campaign=campaign)
    with pytest.raises(ValidationError, match="turf's campaign"):
        assignment_create(turf=turf, volunteers=[volunteer, stranger])
    assert not Assignment.objects.exists()
    assert Turf.objects.get(pk=turf.pk).status == Turf.Status.OPEN
