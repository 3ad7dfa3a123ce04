"""The demo's campaign, its staff (organizer and field lead) and its volunteers."""

from django.contrib.auth import get_user_model

from canvass.demo.common import DEMO_PASSWORD, DEMO_SLUG, _ascii, _phone_pool
from canvass.demo.data import (
    CAMPAIGN,
    STAFF,
    VOLUNTEERS,
)
from canvass.models import Campaign, Membership, Volunteer


def _campaign_ensure(*, created):
    campaign, was_created = Campaign.objects.get_or_create(slug=DEMO_SLUG, defaults=CAMPAIGN)
    created["campaign"] += was_created
    return campaign


def _staff_ensure(*, campaign, created):
    """The organizer and the field lead; returns them and the usernames made just now.

    An existing user is left as it is: a rerun never resets a password.
    """
    User = get_user_model()
    staff, fresh = [], set()
    for username, first, last, email, role, superuser in STAFF:
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User(
                username=username,
                first_name=first,
                last_name=last,
                email=email,
                is_staff=superuser,
                is_superuser=superuser,
            )
            user.set_password(DEMO_PASSWORD)
            user.save()
            created["users"] += 1
            fresh.add(username)
        _, was_created = Membership.objects.get_or_create(
            user=user, campaign=campaign, defaults={"role": role}
        )
        created["memberships"] += was_created
        staff.append(user)
    return staff, fresh


def _volunteers_ensure(*, campaign, created):
    phones = _phone_pool()
    volunteers = []
    for index, (first, last, language) in enumerate(VOLUNTEERS):
        volunteer = campaign.volunteers.filter(first_name=first, last_name=last).first()
        if volunteer is None:
            volunteer = Volunteer.objects.create(
                campaign=campaign,
                first_name=first,
                last_name=last,
                # The first numbers of the pool are kept for volunteers, see _town_people.
                phone=phones[index],
                email=f"{_ascii(first)}.{_ascii(last)}@example.org".lower(),
                language=language,
            )
            created["volunteers"] += 1
        volunteers.append(volunteer)
    return volunteers
