"""factory_boy factories: one per model, each valid on its own, all in one campaign.

Related objects follow the parent's campaign (SelfAttribute), so a test that
asks for a Person in campaign A never gets a Household in campaign B by accident.
"""

from datetime import timedelta

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from canvass.models import Campaign, Membership, Shift, ShiftSignup, Volunteer
from conversations.models import Channel, Commitment, Reminder, StoryNote, Visit
from turf.models import Assignment, Household, Person, Turf, TurfStop
from turf.services import assignment_create

PASSWORD = "door-knocker-2024"


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Campaign

    name = factory.Sequence(lambda n: f"Campaign {n}")
    slug = factory.Sequence(lambda n: f"campaign-{n}")
    timezone = "America/Chicago"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.org")
    password = factory.django.Password(PASSWORD)


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    campaign = factory.SubFactory(CampaignFactory)
    role = Membership.Role.VOLUNTEER


class VolunteerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Volunteer

    campaign = factory.SubFactory(CampaignFactory)
    first_name = factory.Sequence(lambda n: f"Volunteer{n}")
    last_name = "Canvasser"


class ShiftFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Shift

    campaign = factory.SubFactory(CampaignFactory)
    name = factory.Sequence(lambda n: f"Saturday canvass {n}")
    starts_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=1))
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + timedelta(hours=3))
    place = "Union hall"


class HouseholdFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Household

    campaign = factory.SubFactory(CampaignFactory)
    house_number = factory.Sequence(lambda n: str(100 + n))
    street = "Elm Street"
    unit = ""
    city = "Austin"
    state = "TX"
    zip_code = "78702"
    address_key = factory.LazyAttribute(
        lambda o: f"{o.house_number} {o.street} {o.unit} {o.city} {o.zip_code}".lower()
    )


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Person

    campaign = factory.SubFactory(CampaignFactory)
    household = factory.SubFactory(HouseholdFactory, campaign=factory.SelfAttribute("..campaign"))
    first_name = factory.Sequence(lambda n: f"Resident{n}")
    last_name = "Neighbor"


class TurfFactory(factory.django.DjangoModelFactory):
    """`TurfFactory(doors=3)` also puts three households on the walk list, in order."""

    class Meta:
        model = Turf
        skip_postgeneration_save = True

    campaign = factory.SubFactory(CampaignFactory)
    name = factory.Sequence(lambda n: f"Turf {n}")

    @factory.post_generation
    def doors(self, create, extracted, **kwargs):
        for position in range(1, (extracted or 0) + 1):
            TurfStopFactory(turf=self, position=position)


class TurfStopFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TurfStop

    turf = factory.SubFactory(TurfFactory)
    household = factory.SubFactory(
        HouseholdFactory, campaign=factory.SelfAttribute("..turf.campaign")
    )
    position = factory.Sequence(lambda n: n + 1)


class AssignmentFactory(factory.django.DjangoModelFactory):
    """Made through assignment_create, as the app makes them.

    The link token exists only at creation time, so it is kept on the
    instance as `token` for the test to use.
    """

    class Meta:
        model = Assignment

    turf = factory.SubFactory(TurfFactory, doors=2)
    shift = factory.SubFactory(ShiftFactory, campaign=factory.SelfAttribute("..turf.campaign"))
    volunteers = factory.LazyAttribute(lambda o: [VolunteerFactory(campaign=o.turf.campaign)])

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        assignment, token = assignment_create(**kwargs)
        assignment.token = token
        return assignment


class VisitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Visit

    campaign = factory.SubFactory(CampaignFactory)
    household = factory.SubFactory(HouseholdFactory, campaign=factory.SelfAttribute("..campaign"))
    outcome = Visit.Outcome.CONVERSATION
    happened_at = factory.LazyFunction(timezone.now)


class StoryNoteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StoryNote

    visit = factory.SubFactory(VisitFactory)
    rating_before = 4
    rating_after = 6
    why = "Her rent went up twice this year."
    story = "She works two jobs and still falls behind."


class CommitmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Commitment

    campaign = factory.SubFactory(CampaignFactory)
    person = factory.SubFactory(PersonFactory, campaign=factory.SelfAttribute("..campaign"))
    kind = "meeting"
    what = "Tenants' meeting at the library"
    when = factory.LazyFunction(lambda: timezone.now() + timedelta(days=5))
    channel = Channel.SMS
    phone = "+15125550123"


class ReminderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Reminder

    campaign = factory.SubFactory(CampaignFactory)
    channel = Channel.SMS
    to = "+15125550123"
    body = "See you at the tenants' meeting on Thursday at 6pm. Reply STOP to opt out."
    send_at = factory.LazyFunction(timezone.now)
    idempotency_key = factory.Sequence(lambda n: f"reminder-{n}")


class ShiftSignupFactory(factory.django.DjangoModelFactory):
    """Made through signup_create, as every path makes them (capacity and the waitlist
    apply). The personal link's token is kept on the instance as `token`."""

    class Meta:
        model = ShiftSignup

    shift = factory.SubFactory(ShiftFactory)
    volunteer = factory.SubFactory(
        VolunteerFactory, campaign=factory.SelfAttribute("..shift.campaign")
    )

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        from canvass.services import signup_create

        signup, token = signup_create(**kwargs)
        signup.token = token
        return signup
