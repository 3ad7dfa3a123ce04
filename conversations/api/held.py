"""POST /api/a/<token>/held: a visit the server refused, handed to the organizers as it is."""

from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
)
from rest_framework import serializers, status
from rest_framework.response import Response

from conversations.api.access import (
    TOKEN,
    LinkErrorOut,
    TokenAPIView,
    assignment_for_token,
    link_rate_check,
)
from conversations.models import HeldVisit
from conversations.services.visits import (
    HeldVisitRefused,
    held_visit_record,
)

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
