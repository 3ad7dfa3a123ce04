"""GET /api/a/<token>/bundle: the walk list a phone keeps, built as plain dicts."""

from django.db.models import Count, Q
from django.utils.decorators import method_decorator
from django.views.decorators.gzip import gzip_page
from drf_spectacular.utils import (
    extend_schema,
)
from rest_framework import serializers
from rest_framework.response import Response

from canvass.access import LEADS
from canvass.models import Membership
from canvass.services.ladder import ladder_shifts
from conversations.api.access import (
    LINK_ERRORS,
    TOKEN,
    TokenAPIView,
    assignment_for_token,
    link_rate_check,
)
from conversations.api.visits import sync_limits
from conversations.models import Channel, Visit
from turf.models import Person, TurfStop

# --- GET /api/a/<token>/bundle ------------------------------------------------


class NamedOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class AssignmentOut(serializers.Serializer):
    id = serializers.IntegerField()
    expires_at = serializers.DateTimeField()
    turf = NamedOut()
    volunteers = NamedOut(many=True, help_text="Visits are stamped with the first by default.")


class CommitmentKindOut(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()


class CampaignOut(serializers.Serializer):
    name = serializers.CharField()
    slug = serializers.SlugField()
    rating_question = serializers.CharField()
    scale_labels = serializers.DictField(child=serializers.CharField())
    story_themes = serializers.ListField(child=serializers.CharField())
    script_translations = serializers.DictField(
        child=serializers.DictField(),
        help_text="Per language, the question and the words for each theme there: "
        '{"es": {"rating_question": …, "story_themes": {"Housing": "Vivienda"}}}. '
        "A visit sends the campaign's own theme names.",
    )
    commitment_kinds = CommitmentKindOut(many=True)
    phone_region = serializers.CharField()
    channels = serializers.ListField(
        child=serializers.CharField(), help_text="The reminder channels a commitment can use."
    )


class PersonOut(serializers.Serializer):
    id = serializers.IntegerField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    do_not_contact = serializers.BooleanField(
        required=False, help_text="Present (true) only for someone who asked not to be contacted."
    )


class EarlierVisitOut(serializers.Serializer):
    client_id = serializers.CharField(
        required=False, help_text="Only for visits recorded through this assignment."
    )
    happened_at = serializers.DateTimeField()
    outcome = serializers.ChoiceField(choices=Visit.Outcome.choices)
    themes = serializers.ListField(
        child=serializers.CharField(),
        help_text="The themes of its story note; empty when the note is sensitive.",
    )


class HouseholdOut(serializers.Serializer):
    id = serializers.IntegerField()
    address = serializers.CharField(help_text="House number and street.")
    unit = serializers.CharField()
    people = PersonOut(many=True)
    visits = EarlierVisitOut(many=True, help_text="Every visit at this door, newest first.")


class ProgressOut(serializers.Serializer):
    knocked = serializers.IntegerField(help_text="Doors with a visit through this assignment.")
    total = serializers.IntegerField(help_text="Doors on the walk list.")
    conversations = serializers.IntegerField(help_text="Conversations through this assignment.")


# BundleOut documents the bundle's shape; walk_list_bundle builds the same dicts directly,
# because running 500 doors through nested serializers alone takes about 30 ms of the
# 100 ms budget (bench/walk_list_bundle.py).
class BundleOut(serializers.Serializer):
    assignment = AssignmentOut()
    campaign = CampaignOut()
    households = HouseholdOut(many=True, help_text="In walking order.")
    progress = ProgressOut()
    owners = NamedOut(many=True, help_text="Organizers and field leads who can own a follow-up.")
    shifts = serializers.ListField(
        child=serializers.DictField(),
        help_text="The campaign's next shifts (id, label, starts_at, place, free): a "
        "“volunteer a shift” commitment picks one as its shift_id.",
    )
    limits = serializers.DictField(
        help_text="What the server accepts (lengths, counts, dates, request size): "
        "the phone checks them before it saves."
    )


def walk_list_bundle(assignment):
    """Everything a phone needs to walk `assignment`'s turf offline, in eight queries
    whatever the turf's size.

    Earlier visits carry only their date, outcome and story themes — never a story's
    words — and a sensitive note's themes are left out too.
    """
    turf = assignment.turf
    campaign = turf.campaign
    doors = TurfStop.objects.filter(turf=turf).values("household_id")

    households = {}
    for stop in (
        TurfStop.objects.filter(turf=turf)
        .order_by("position")
        .values(
            "household_id",
            "household__house_number",
            "household__street",
            "household__unit",
        )
    ):
        households[stop["household_id"]] = {
            "id": stop["household_id"],
            "address": f"{stop['household__house_number']} {stop['household__street']}".strip(),
            "unit": stop["household__unit"],
            "people": [],
            "visits": [],
        }
    people = (
        Person.objects.filter(household__in=doors)
        .order_by("last_name", "first_name", "pk")
        .values_list("household_id", "pk", "first_name", "last_name", "do_not_contact")
    )
    for household_id, pk, first_name, last_name, do_not_contact in people:
        person = {"id": pk, "first_name": first_name, "last_name": last_name}
        if do_not_contact:
            person["do_not_contact"] = True
        households[household_id]["people"].append(person)
    visits = (
        Visit.objects.filter(campaign=campaign, household__in=doors)
        .order_by("-happened_at", "-pk")
        .values_list(
            "household_id",
            "happened_at",
            "outcome",
            "story_note__themes",
            "story_note__sensitive",
            "assignment_id",
            "client_id",
        )
    )
    for household_id, happened_at, outcome, themes, sensitive, through, client_id in visits:
        earlier = {
            "happened_at": happened_at,
            "outcome": outcome,
            "themes": [] if sensitive or not themes else themes,
        }
        if through == assignment.pk:
            # The phone merges what it delivered with a fresh walk list by these ids.
            earlier["client_id"] = str(client_id)
        households[household_id]["visits"].append(earlier)
    progress = Visit.objects.filter(assignment=assignment).aggregate(
        knocked=Count("household", distinct=True, filter=Q(household__in=doors)),
        conversations=Count("pk", filter=Q(outcome=Visit.Outcome.CONVERSATION)),
    )
    return {
        "assignment": {
            "id": assignment.pk,
            "expires_at": assignment.expires_at,
            "turf": {"id": turf.pk, "name": turf.name},
            "volunteers": [{"id": v.pk, "name": str(v)} for v in assignment.volunteers.all()],
        },
        "campaign": {
            "name": campaign.name,
            "slug": campaign.slug,
            "rating_question": campaign.rating_question,
            "scale_labels": campaign.scale_labels,
            "story_themes": campaign.story_themes,
            "script_translations": campaign.script_translations,
            "commitment_kinds": campaign.commitment_kinds,
            "phone_region": campaign.phone_region,
            "channels": list(Channel.values),
        },
        "households": list(households.values()),
        "progress": {
            "knocked": progress["knocked"],
            "total": len(households),
            "conversations": progress["conversations"],
        },
        "owners": [
            {"id": user_id, "name": f"{first} {last}".strip() or username}
            for user_id, first, last, username in Membership.objects.filter(
                campaign=campaign, role__in=LEADS
            )
            .order_by("user__first_name", "user__last_name", "user__username")
            .values_list("user_id", "user__first_name", "user__last_name", "user__username")
        ],
        "limits": sync_limits(),
        # The ladder: a "volunteer a shift" at the door picks one of these.
        "shifts": ladder_shifts(campaign),
    }


class BundleView(TokenAPIView):
    # Repetitive JSON: gzip takes a 250-door walk list to a fraction on a phone's slow link.
    @method_decorator(gzip_page)
    @extend_schema(
        operation_id="walk_list_bundle",
        summary="The walk list behind an assignment link",
        description=(
            "The turf's households in walking order with their people and earlier visits "
            "(date, outcome and story themes only — never a story's words; no themes for a "
            "sensitive note), the campaign's question, scale, themes and commitment kinds, "
            "progress through this assignment, and who can own a follow-up."
        ),
        parameters=[TOKEN],
        responses={200: BundleOut, **LINK_ERRORS},
        tags=["door screen"],
    )
    def get(self, request, token):
        assignment = assignment_for_token(token, for_write=False)
        link_rate_check(assignment)
        # People's names and addresses: kept by the door screen itself, never by a cache.
        return Response(walk_list_bundle(assignment), headers={"Cache-Control": "no-store"})
