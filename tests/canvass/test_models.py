"""Rules the database itself enforces for campaigns, memberships and shifts.

Each write bypasses full_clean() on purpose: the constraint must hold even for
code that forgets to validate (bulk imports, QuerySet.update, raw admin actions).
"""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction

from canvass.models import Membership, Shift
from tests.factories import CampaignFactory, MembershipFactory, ShiftFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("length", [timedelta(hours=-1), timedelta(0)], ids=["before", "same"])
def test_shift_must_end_after_it_starts(campaign, length):
    shift = ShiftFactory.build(campaign=campaign)
    shift.ends_at = shift.starts_at + length
    with pytest.raises(IntegrityError), transaction.atomic():
        shift.save()
    assert not Shift.objects.exists()


def test_shift_end_cannot_be_moved_before_start_by_update(campaign):
    shift = ShiftFactory(campaign=campaign)
    with pytest.raises(IntegrityError), transaction.atomic():
        Shift.objects.filter(pk=shift.pk).update(ends_at=shift.starts_at - timedelta(minutes=1))
    shift.refresh_from_db()
    assert shift.ends_at > shift.starts_at


def test_a_user_has_one_membership_per_campaign(organizer, campaign):
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.bulk_create(
            [Membership(user=organizer, campaign=campaign, role=Membership.Role.VOLUNTEER)]
        )
    assert (
        Membership.objects.get(user=organizer, campaign=campaign).role == Membership.Role.ORGANIZER
    )


def test_a_user_may_belong_to_several_campaigns(campaign):
    user = UserFactory()
    MembershipFactory(user=user, campaign=campaign)
    MembershipFactory(user=user, campaign=CampaignFactory())
    assert user.memberships.count() == 2


def test_every_model_is_in_the_admin():
    from django.apps import apps
    from django.contrib import admin

    ours = [
        model
        for app in ("canvass", "turf", "conversations")
        for model in apps.get_app_config(app).get_models()
    ]
    missing = [model.__name__ for model in ours if model not in admin.site._registry]
    assert missing == []
