"""Upgrading a database that already holds volunteers and shifts."""

import pytest
from django.core.management.base import CommandError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("canvass", "0002_campaign_walk_order_settings")]
SHIFTS = [("canvass", "0003_shifts_signups_and_volunteer_identity")]


@pytest.fixture
def old_schema():
    """The database as it was before shifts had rules; put back at the latest after."""
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    yield MigrationExecutor(connection).loader.project_state(BEFORE).apps
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


def test_shared_phones_and_emails_are_named_before_anything_changes(old_schema):
    from datetime import timedelta

    from django.utils import timezone

    Campaign = old_schema.get_model("canvass", "Campaign")
    Volunteer = old_schema.get_model("canvass", "Volunteer")
    Shift = old_schema.get_model("canvass", "Shift")
    campaign = Campaign.objects.create(name="Harbor", slug="harbor")
    other = Campaign.objects.create(name="Hills", slug="hills")
    first = Volunteer.objects.create(campaign=campaign, first_name="Ana", phone="+15125550142")
    again = Volunteer.objects.create(campaign=campaign, first_name="Ana R", phone="+15125550142")
    Volunteer.objects.create(campaign=campaign, first_name="Bo", email="bo@example.org")
    Volunteer.objects.create(campaign=campaign, first_name="Bo L", email="BO@example.org")
    # The same phone in another campaign is another campaign's volunteer: fine.
    Volunteer.objects.create(campaign=other, first_name="Ana", phone="+15125550142")
    start = timezone.now() + timedelta(days=2)
    empty = Shift.objects.create(
        campaign=campaign, starts_at=start, ends_at=start + timedelta(hours=2), capacity=0
    )

    with pytest.raises(CommandError) as refused:
        MigrationExecutor(connection).migrate(SHIFTS)

    message = str(refused.value)
    assert f"volunteers {first.pk}, {again.pk} of campaign {campaign.pk} share the phone" in message
    assert "share the email bo@example.org" in message
    assert f"shift {empty.pk} has a capacity of 0" in message
    assert "then run migrate again" in message
    # Nothing half-done: still before the migration, every row as it was.
    assert MigrationExecutor(connection).loader.applied_migrations.keys() >= set(BEFORE)
    assert SHIFTS[0] not in MigrationExecutor(connection).loader.applied_migrations
    assert Volunteer.objects.count() == 5

    # Fixed as the message says, the upgrade goes through.
    Volunteer.objects.filter(pk=again.pk).update(phone="")
    Volunteer.objects.filter(email="BO@example.org").update(email="")
    Shift.objects.filter(pk=empty.pk).update(capacity=1)
    MigrationExecutor(connection).migrate(SHIFTS)
    assert SHIFTS[0] in MigrationExecutor(connection).loader.applied_migrations
