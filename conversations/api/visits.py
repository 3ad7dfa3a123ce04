"""POST /api/a/<token>/visits: the visits a phone sends, each answered on its own."""

import copy
from dataclasses import dataclass
from functools import cache

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.dateparse import parse_datetime
from django.utils.timezone import is_naive
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import serializers
from rest_framework.response import Response

from canvass.models import Shift, Volunteer
from conversations.api.access import (
    LINK_ERRORS,
    MAX_COMMITMENTS_PER_VISIT,
    MAX_VISITS_PER_BATCH,
    SYNC_REQUESTS_PER_MINUTE,
    TOKEN,
    TokenAPIView,
    assignment_for_visits,
    link_rate_check,
)
from conversations.models import Channel, Visit
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
)
from turf.models import Household, Person

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
