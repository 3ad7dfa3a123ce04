"""The door screen's sync API: the walk list for a phone, and the visits it sends back.

The assignment link's token is the only credential (no password, no session, no CSRF):
every view starts with `assignment_for_token`. The contract is in docs/sync-api.md.
"""

import copy
import time
from dataclasses import dataclass
from datetime import timedelta
from functools import cache

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache as django_cache
from django.core.exceptions import RequestDataTooBig, ValidationError
from django.db.models import Count, Q
from django.utils.dateparse import parse_datetime
from django.utils.decorators import method_decorator
from django.utils.timezone import is_naive
from django.views.decorators.gzip import gzip_page
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import serializers, status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import JSONParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from canvass.access import LEADS
from canvass.models import Membership, Shift, Volunteer
from canvass.services.ladder import ladder_shifts
from conversations.models import Channel, HeldVisit, Visit
from conversations.services import (
    EARLIEST,
    LATEST,
    OUT_OF_RANGE,
    VisitConflict,
    VisitInvalid,
    visits_record,
)
from conversations.services.visits import (
    MAX_MINUTES,
    PERSON_NOT_ON_LIST,
    HeldVisitRefused,
    held_visit_record,
)
from turf.models import Assignment, Household, Person, TurfStop

MAX_VISITS_PER_BATCH = 200
# Each commitment can queue up to three texts to one person (MAX_PERSON_MESSAGES): a
# visit that names more than a handful is a mistake or an attempt to flood someone.
MAX_COMMITMENTS_PER_VISIT = 5
# Times a phone may send (a visit's, a commitment's): a wider range is a clock or a typo,
# and dates near the ends of Python's range break the arithmetic of reminder plans.
LINK_ENDED = (
    "This assignment link has ended. Your notes are safe on your phone — "
    "please reach your organizer."
)


# --- Access -------------------------------------------------------------------


class LinkUnknown(APIException):
    status_code = status.HTTP_404_NOT_FOUND
    default_code = "unknown_link"

    def __init__(self):
        super().__init__({"detail": "No such assignment link.", "code": self.default_code})


class LinkEnded(APIException):
    status_code = status.HTTP_403_FORBIDDEN
    default_code = "link_ended"

    def __init__(self):
        super().__init__({"detail": LINK_ENDED, "code": self.default_code})


def assignment_for_token(token, *, for_write, ended_too=False):
    """The live assignment behind a link token: 404 for a token nobody issued, 403
    (code "link_ended") once the link has expired or been revoked.

    Reads are refused on an ended link as well as writes: the phone already holds its
    walk list, and an ended link must stop showing people's names. `for_write` also
    loads the assignment's volunteers, whom visits are stamped with. `ended_too` lets an
    ended link through (handing a visit to the organizers needs no live link).
    """
    assignments = Assignment.objects.for_token(token).select_related("turf__campaign")
    if for_write:
        assignments = assignments.prefetch_related("volunteers")
    assignment = assignments.first()
    if assignment is None:
        raise LinkUnknown()
    if not assignment.is_live and not ended_too:
        raise LinkEnded()
    return assignment


# A phone's clock may run a little fast: visits stamped up to this long after their link
# was replaced still count as made under it.
REPLACED_GRACE = timedelta(minutes=10)


def assignment_for_visits(token):
    """The assignment whose visits a phone sends, and the time after which it may not
    record any (None while the link is live).

    A link the organizer replaced (reissued, or the turf reassigned) still takes the notes
    made under it before that: they belong to its turf and to the volunteer who made them.
    A link revoked for good or expired answers 403 as usual.
    """
    assignment = assignment_for_token(token, for_write=True, ended_too=True)
    if assignment.is_live:
        return assignment, None
    revoked = assignment.revoked_at
    if (
        revoked is not None
        and revoked < assignment.expires_at
        and Assignment.objects.filter(turf_id=assignment.turf_id, created_at__gte=revoked)
        .exclude(pk=assignment.pk)
        .exists()
    ):
        return assignment, revoked + REPLACED_GRACE
    raise LinkEnded()


# A phone sends at most a few batches a minute, even coming back into signal with a day's
# visits (200 a batch); a link far above that is broken or abused. Settings may lower it.
SYNC_REQUESTS_PER_MINUTE = 120


class SyncThrottled(APIException):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "too_many_requests"

    def __init__(self, limit, wait):
        self.wait = wait
        super().__init__(
            {
                "detail": f"Too many requests from this link: at most {limit} a minute. "
                f"The phone tries again in {wait} s; nothing is lost.",
                "code": self.default_code,
            }
        )


@cache
def _redis():
    import redis

    return redis.Redis.from_url(settings.REDIS_URL)


def _count_this_minute(key):
    """How many times `key` was counted in this minute, this time included, shared by
    every process: Redis when there is one, else the configured cache."""
    if settings.REDIS_URL:
        import redis

        pipe = _redis().pipeline()
        pipe.incr(key)
        pipe.expire(key, 120)
        try:
            return pipe.execute()[0]
        except redis.RedisError:
            return 0  # a limiter outage never stops a phone from delivering
    django_cache.add(key, 0, 120)
    return django_cache.incr(key)


def link_rate_check(assignment):
    """Count a sync request against its link; SyncThrottled (429) past the minute's limit."""
    limit = getattr(settings, "SYNC_REQUESTS_PER_MINUTE", SYNC_REQUESTS_PER_MINUTE)
    now = time.time()
    key = f"porchlight:sync:{assignment.token_hash[:24]}:{int(now // 60)}"
    if _count_this_minute(key) > limit:
        raise SyncThrottled(limit, max(1, 60 - int(now % 60)))


# A phone's request is a few levels deep (visits → a visit → its commitments → one);
# anything much deeper is not from the door screen, and what the parser accepts could
# still be too deep for what walks it next (validation, a JSON column).
MAX_JSON_DEPTH = 32


def _json_depth_over(value, limit):
    """True when `value` nests lists and objects more than `limit` deep (no recursion)."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict | list):
            if depth > limit:
                return True
            children = node.values() if isinstance(node, dict) else node
            stack.extend((child, depth + 1) for child in children)
    return False


class BoundedJSONParser(JSONParser):
    """JSON nested deeper than MAX_JSON_DEPTH is bad input (400), not a crash."""

    def parse(self, stream, media_type=None, parser_context=None):
        too_deep = ParseError(
            f"JSON parse error - nested too deeply (more than {MAX_JSON_DEPTH} levels)."
        )
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise too_deep from None
        if _json_depth_over(data, MAX_JSON_DEPTH):
            raise too_deep
        return data


class RequestTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"

    def __init__(self):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        super().__init__(
            {
                "detail": f"This request is larger than {limit:,} bytes. Send fewer visits "
                "at once; a single visit this large has text longer than its limits.",
                "code": self.default_code,
            }
        )


class TokenAPIView(APIView):
    """A view opened by an assignment link: no session, so no CSRF; no DRF throttling but a
    per-link limit (link_rate_check) that a phone coming back into signal stays well under."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = []
    parser_classes = [BoundedJSONParser]

    def handle_exception(self, exc):
        response = super().handle_exception(exc)
        if isinstance(exc, SyncThrottled):
            response["Retry-After"] = str(exc.wait)
        return response

    def request_data(self, request):
        try:
            return request.data
        except RequestDataTooBig:
            raise RequestTooLarge() from None


class LinkErrorOut(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.ChoiceField(choices=["unknown_link", "link_ended"])


TOKEN = OpenApiParameter(
    "token", str, OpenApiParameter.PATH, description="The secret of the assignment link."
)
LINK_ERRORS = {
    403: OpenApiResponse(LinkErrorOut, description="The link has expired or was revoked."),
    404: OpenApiResponse(LinkErrorOut, description="No such assignment link."),
}


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


# --- POST /api/a/<token>/visits -----------------------------------------------


class DeviceTimeField(serializers.DateTimeField):
    """A time from the phone's clock, which must carry its offset: a bare local time
    would be read in the server's zone, not the volunteer's."""

    default_error_messages = {
        "naive": "Give the time with its offset, e.g. 2024-10-05T14:03:00-05:00.",
        "impossible": "“{input}” is not a real date and time: check the day and the clock.",
        "range": OUT_OF_RANGE,
    }

    def to_internal_value(self, value):
        if isinstance(value, str):
            try:
                parsed = parse_datetime(value.strip())
            except ValueError:  # well formed, but 30 February or 23:59:60
                self.fail("impossible", input=value.strip()[:40])
            if parsed is not None and is_naive(parsed):
                self.fail("naive")
            if parsed is not None and not EARLIEST.year - 1 <= parsed.year <= LATEST.year:
                self.fail("range")  # before converting: year 9999 at -12:00 overflows
        moment = super().to_internal_value(value)
        if not EARLIEST <= moment < LATEST:
            self.fail("range")
        return moment


@extend_schema_field(OpenApiTypes.INT)
class CampaignObjectField(serializers.PrimaryKeyRelatedField):
    """An id of something in the assignment's campaign. Ids from elsewhere get the same
    answer as ids that do not exist, so nothing outside the campaign can be probed."""

    def __init__(self, *, scope, not_found, by_link=False, **kwargs):
        # `by_link`: `scope` is given the assignment rather than its campaign.
        self.scope = scope
        self.by_link = by_link
        kwargs.setdefault("allow_null", True)
        kwargs.setdefault("required", False)
        kwargs.setdefault("default", None)
        kwargs["error_messages"] = {"does_not_exist": not_found}
        super().__init__(**kwargs)

    def get_queryset(self):
        assignment = self.context["assignment"]
        return self.scope(assignment if self.by_link else assignment.turf.campaign)

    def to_internal_value(self, data):
        # A batch reads each kind of object once for all its items (objects_prefetch).
        found = self.context.get("objects", {}).get(self.scope)
        key = _object_key(self, data)
        if found is None or key is None or key not in found:
            return super().to_internal_value(data)
        if found[key] is None:
            self.fail("does_not_exist", pk_value=data)
        return found[key]


# The primary key field of each CampaignObjectField's scope, found once per process.
_SCOPE_PKS = {}


def _object_key(field, value):
    """The id `value` names for `field`, or None when it is no id (left to DRF's checks)."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        return None
    pk = _SCOPE_PKS.get(field.scope)
    if pk is None:
        pk = _SCOPE_PKS[field.scope] = field.get_queryset().model._meta.pk
    try:
        return pk.to_python(value)
    except ValidationError:
        return None


def objects_prefetch(serializer, items):
    """Read every object the items name through a CampaignObjectField, one query per
    field, into the serializer's context: validating a batch then costs no query per item.
    Call before validating the items."""
    sent = {}

    def collect(fields, data):
        if not isinstance(data, dict):
            return
        for name, field in fields.items():
            value = data.get(name)
            if isinstance(field, CampaignObjectField):
                key = _object_key(field, value)
                if key is not None:
                    sent.setdefault(field.scope, (field, set()))[1].add(key)
            elif isinstance(field, serializers.ListSerializer) and isinstance(value, list):
                for element in value:
                    collect(field.child.fields, element)
            elif isinstance(field, serializers.Serializer):
                collect(field.fields, value)

    for item in items:
        collect(serializer.fields, item)
    objects = serializer.context.setdefault("objects", {})
    for scope, (field, keys) in sent.items():
        found = field.get_queryset().in_bulk(keys)
        objects[scope] = {key: found.get(key) for key in keys}


def people_for_link(assignment):
    """The people a link may name: those at its walk list's doors and those its own
    visits added. Anyone else gets the answer an id that does not exist gets."""
    return (
        Person.objects.filter(campaign=assignment.turf.campaign)
        .filter(
            Q(household__stops__turf=assignment.turf_id)
            | Q(pk__in=Visit.objects.filter(assignment=assignment).values("person_id"))
        )
        .distinct()
    )


class NewPersonIn(serializers.Serializer):
    first_name = serializers.CharField(max_length=100, allow_blank=True)
    last_name = serializers.CharField(max_length=100, allow_blank=True, default="")
    phone = serializers.CharField(max_length=40, allow_blank=True, default="")
    email = serializers.CharField(max_length=254, allow_blank=True, default="")


def _rating(help_text):
    return serializers.IntegerField(
        min_value=0, max_value=10, allow_null=True, default=None, help_text=help_text
    )


class StoryNoteIn(serializers.Serializer):
    rating_before = _rating("0–10 on the campaign's question, before the conversation.")
    rating_after = _rating("0–10 again at the end: the shift is canvasser-reported.")
    why = serializers.CharField(max_length=2000, allow_blank=True, default="")
    themes = serializers.ListField(
        child=serializers.CharField(max_length=100), default=list, max_length=50
    )
    story = serializers.CharField(max_length=10000, allow_blank=True, default="")
    canvasser_shared_story = serializers.BooleanField(default=False)
    values_feelings = serializers.CharField(max_length=2000, allow_blank=True, default="")
    sensitive = serializers.BooleanField(default=False)
    self_rating = _rating("How well the volunteer listened, 0–10.")
    minutes = serializers.IntegerField(
        min_value=0,
        max_value=MAX_MINUTES,
        required=False,
        allow_null=True,
        help_text="How long the conversation lasted, in minutes (the door screen measures it "
        "from opening the form; the volunteer can change it).",
    )


class CommitmentIn(serializers.Serializer):
    kind = serializers.CharField(max_length=40)
    what = serializers.CharField(max_length=300, allow_blank=True)
    when = DeviceTimeField(allow_null=True, default=None)
    owner_id = CampaignObjectField(
        source="owner",
        scope=lambda campaign: get_user_model().objects.filter(memberships__campaign=campaign),
        not_found="Choose one of this campaign's organizers or field leads.",
    )
    channel = serializers.ChoiceField(
        choices=Channel.choices,
        default=Channel.NONE,
        error_messages={"invalid_choice": "“{input}” is not a channel: use sms, email or none."},
    )
    phone = serializers.CharField(max_length=40, allow_blank=True, default="")
    email = serializers.CharField(max_length=254, allow_blank=True, default="")
    shift_id = CampaignObjectField(
        source="shift",
        scope=lambda campaign: Shift.objects.filter(campaign=campaign),
        not_found="That shift is not one of this campaign's. Pick one listed.",
        default=serializers.empty,
        help_text="“Volunteer a shift”: one of the bundle's `shifts`; they are signed up for it.",
    )


class VisitItemIn(serializers.Serializer):
    client_id = serializers.UUIDField(help_text="Made on the phone; the same for every resend.")
    happened_at = DeviceTimeField(help_text="The time on the device, with its offset.")
    outcome = serializers.ChoiceField(
        choices=Visit.Outcome.choices,
        error_messages={
            "invalid_choice": "“{input}” is not an outcome: use "
            + ", ".join(Visit.Outcome.values)
            + "."
        },
    )
    household_id = CampaignObjectField(
        source="household",
        scope=lambda campaign: Household.objects.filter(campaign=campaign),
        not_found="This door is not on your walk list.",
        help_text="A door on the walk list; null for a conversation away from the list.",
    )
    person_id = CampaignObjectField(
        source="person",
        scope=people_for_link,
        by_link=True,
        not_found=PERSON_NOT_ON_LIST,
    )
    new_person = NewPersonIn(allow_null=True, default=None, help_text="Someone added on the spot.")
    volunteer_id = CampaignObjectField(
        source="volunteer",
        scope=lambda campaign: Volunteer.objects.filter(campaign=campaign),
        not_found="This volunteer is not on this assignment.",
        help_text="Default: the assignment's first volunteer.",
    )
    note = serializers.CharField(max_length=500, allow_blank=True, default="")
    place = serializers.CharField(
        max_length=200,
        allow_blank=True,
        default="",
        help_text="Where a conversation away from the walk list happened.",
    )
    story_note = StoryNoteIn(allow_null=True, default=None)
    commitments = CommitmentIn(
        many=True,
        default=list,
        max_length=MAX_COMMITMENTS_PER_VISIT,
        error_messages={
            "max_length": f"At most {MAX_COMMITMENTS_PER_VISIT} commitments per visit: "
            "keep the ones they chose most clearly."
        },
    )


@dataclass
class ValidItem:
    client_id: str | None  # as sent, to be echoed in its result
    data: dict


@dataclass
class InvalidItem:
    client_id: str | None
    errors: dict


@extend_schema_field(VisitItemIn(many=True))
class EachOnItsOwnField(serializers.ListField):
    """A list whose items pass or fail one by one: each becomes a ValidItem or an
    InvalidItem with its errors, instead of one bad item failing the whole list."""

    def run_child_validation(self, data):
        if self.max_length is not None and len(data) > self.max_length:
            self.fail("max_length", max_length=self.max_length)
        objects_prefetch(self.child, data)
        validated = []
        for item in data:
            client_id = item.get("client_id") if isinstance(item, dict) else None
            client_id = client_id if isinstance(client_id, str) else None
            try:
                validated.append(ValidItem(client_id, self.child.run_validation(item)))
            except serializers.ValidationError as exc:
                errors = _one_message_each(exc.detail, item)
                if not isinstance(errors, dict):  # the item as a whole, e.g. null
                    errors = {"non_field_errors": errors}
                validated.append(InvalidItem(client_id, errors))
        return validated


def _one_message_each(detail, sent):
    """DRF's errors in the contract's shape: one string per field, nested like the item,
    and for a list of objects (commitments) one entry per object sent, {} for a good one."""
    if isinstance(detail, dict):
        if detail and all(isinstance(key, int) for key in detail):  # errors by list index
            if isinstance(sent, list) and any(isinstance(v, dict) for v in detail.values()):
                return [
                    _one_message_each(detail.get(index, {}), sent[index])
                    for index in range(len(sent))
                ]
            return " ".join(_one_message_each(value, None) for value in detail.values())
        if isinstance(sent, list) and set(detail) == {"non_field_errors"}:
            # About a list as a whole (too many commitments): one message, not an object.
            return _one_message_each(detail["non_field_errors"], None)
        sent = sent if isinstance(sent, dict) else {}
        return {str(key): _one_message_each(value, sent.get(key)) for key, value in detail.items()}
    if isinstance(detail, list):
        if all(isinstance(value, str) for value in detail):
            return " ".join(detail)
        sent = sent if isinstance(sent, list) and len(sent) == len(detail) else [None] * len(detail)
        return [_one_message_each(value, item) for value, item in zip(detail, sent, strict=True)]
    return str(detail)


class VisitBatchIn(serializers.Serializer):
    visits = EachOnItsOwnField(
        child=VisitItemIn(),
        min_length=1,
        max_length=MAX_VISITS_PER_BATCH,
        error_messages={
            "max_length": f"Send at most {MAX_VISITS_PER_BATCH} visits at once.",
            "min_length": "Send at least one visit.",
            "empty": "Send at least one visit.",
        },
    )


def _max_lengths(serializer):
    return {
        name: field.max_length
        for name, field in serializer.fields.items()
        if isinstance(field, serializers.CharField) and field.max_length
    }


@cache
def _serializer_limits():
    # Building the serializers' fields costs more than the rest of sync_limits: once.
    item = VisitItemIn()
    note = item.fields["story_note"]
    return {
        **_max_lengths(item),
        "new_person": _max_lengths(item.fields["new_person"]),
        "story_note": {
            **_max_lengths(note),
            "themes": note.fields["themes"].max_length,
            "minutes": note.fields["minutes"].max_value,
        },
        "commitment": _max_lengths(item.fields["commitments"].child),
    }


def sync_limits():
    """What the server accepts, sent with the walk list so that the phone checks the same
    limits before it saves (one place for them: the input serializers above)."""
    return {
        **copy.deepcopy(_serializer_limits()),
        "commitments_per_visit": MAX_COMMITMENTS_PER_VISIT,
        "visits_per_batch": MAX_VISITS_PER_BATCH,
        "request_bytes": settings.DATA_UPLOAD_MAX_MEMORY_SIZE,
        "requests_per_minute": getattr(
            settings, "SYNC_REQUESTS_PER_MINUTE", SYNC_REQUESTS_PER_MINUTE
        ),
        "earliest": EARLIEST.isoformat(),
        "latest": LATEST.isoformat(),
    }


class VisitResultOut(serializers.Serializer):
    client_id = serializers.CharField(allow_null=True, help_text="As sent.")
    status = serializers.ChoiceField(
        choices=[
            (201, "Stored now"),
            (200, "Already stored with the same content"),
            (409, "This client_id is already another visit"),
            (400, "Invalid: nothing of it was stored"),
        ]
    )
    visit_id = serializers.IntegerField(required=False, help_text="With 201 and 200.")
    detail = serializers.CharField(required=False, help_text="With 409 and 400.")
    errors = serializers.DictField(
        required=False,
        help_text=(
            "With 400: one message per item field; nested objects for new_person and "
            "story_note, one object per commitment for commitments."
        ),
    )


class VisitBatchOut(serializers.Serializer):
    results = VisitResultOut(many=True, help_text="One per visit sent, in the same order.")


REPLACED_LINK = (
    "This link was replaced before this visit's time: record it from the new link, "
    "or send it to your organizer."
)


def _refused(result, errors):
    return {**result, "status": 400, "detail": VisitInvalid.message_for_people, "errors": errors}


def _visit_results(assignment, items, until=None):
    """One result per item sent, in order: the items that passed the serializer are
    recorded together (visits_record), each answered on its own."""
    results = [{"client_id": item.client_id} for item in items]
    valid = []
    for index, item in enumerate(items):
        if isinstance(item, InvalidItem):
            results[index] = _refused(results[index], item.errors)
        elif until is not None and item.data["happened_at"] > until:
            results[index] = _refused(results[index], {"happened_at": REPLACED_LINK})
        else:
            valid.append(index)
    answers = visits_record(assignment=assignment, visits=[items[i].data for i in valid])
    for index, answer in zip(valid, answers, strict=True):
        result = results[index]
        if isinstance(answer, VisitConflict):
            results[index] = {**result, "status": 409, "detail": str(answer)}
        elif isinstance(answer, VisitInvalid):
            results[index] = _refused(result, answer.errors)
        else:
            status_code = 201 if answer.created else 200
            results[index] = {**result, "status": status_code, "visit_id": answer.visit_id}
    return results


class VisitBatchView(TokenAPIView):
    @extend_schema(
        operation_id="visits_record",
        summary="Record visits made on a phone",
        description=(
            "Each visit is checked and written on its own, idempotently on its client_id: "
            "201 stored now, 200 already stored with the same content, 409 the client_id "
            "is already a different visit, 400 invalid (nothing of it stored)."
        ),
        parameters=[TOKEN],
        request=VisitBatchIn,
        responses={
            200: VisitBatchOut,
            400: OpenApiResponse(description='The body is not {"visits": [1–200 objects]}.'),
            413: OpenApiResponse(
                description="The body is over the size limit (`limits.request_bytes`)."
            ),
            **LINK_ERRORS,
        },
        tags=["door screen"],
    )
    def post(self, request, token):
        assignment, until = assignment_for_visits(token)
        link_rate_check(assignment)
        batch = VisitBatchIn(data=self.request_data(request), context={"assignment": assignment})
        batch.is_valid(raise_exception=True)
        results = _visit_results(assignment, batch.validated_data["visits"], until)
        # The results are already in their documented shape (VisitBatchOut).
        return Response({"results": results})


# --- POST /api/a/<token>/held -------------------------------------------------


class HeldVisitIn(serializers.Serializer):
    client_id = serializers.UUIDField(help_text="The visit's own client_id.")
    visit = serializers.DictField(help_text="The visit exactly as the phone holds it.")
    problem = serializers.ChoiceField(choices=HeldVisit.Problem.choices)
    detail = serializers.CharField(max_length=2000, allow_blank=True, default="")


class HeldVisitOut(serializers.Serializer):
    client_id = serializers.CharField()
    status = serializers.ChoiceField(choices=[(201, "Held now"), (200, "Already held")])


def _has_nul(value):
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


class HeldVisitView(TokenAPIView):
    @extend_schema(
        operation_id="visit_hold",
        summary="Hand a visit the server would not take to the organizers",
        description=(
            "For a visit refused (400), in conflict (409) or failing: it is stored as it is, "
            "as needing review, and listed on the campaign's organizer page; nothing of it "
            "reaches people or turf until an organizer records it. Idempotent on client_id. "
            "An ended link may still hand its visits over."
        ),
        parameters=[TOKEN],
        request=HeldVisitIn,
        responses={
            200: HeldVisitOut,
            201: HeldVisitOut,
            400: OpenApiResponse(description="Not a held visit; the errors say why."),
            404: OpenApiResponse(LinkErrorOut, description="No such assignment link."),
        },
        tags=["door screen"],
    )
    def post(self, request, token):
        assignment = assignment_for_token(token, for_write=False, ended_too=True)
        link_rate_check(assignment)
        given = HeldVisitIn(data=self.request_data(request))
        given.is_valid(raise_exception=True)
        data = given.validated_data
        if str(data["visit"].get("client_id", data["client_id"])) != str(data["client_id"]):
            raise serializers.ValidationError({"client_id": "It must be the visit's client_id."})
        if _has_nul(data["visit"]):  # PostgreSQL's JSON cannot hold it
            raise serializers.ValidationError({"visit": "Remove the NUL characters from it."})
        try:
            _, created = held_visit_record(
                assignment=assignment,
                client_id=data["client_id"],
                payload=data["visit"],
                problem=data["problem"],
                detail=data["detail"],
            )
        except HeldVisitRefused:
            raise serializers.ValidationError(
                {"client_id": "This client_id is already held elsewhere: record it as new."}
            ) from None
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response(
            HeldVisitOut({"client_id": str(data["client_id"]), "status": code}).data, status=code
        )
