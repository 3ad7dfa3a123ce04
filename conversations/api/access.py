"""The sync API's door: the assignment link's token as the only credential, the
per-link rate limit, and the bounded JSON parser every view reads with."""

import time
from datetime import timedelta
from functools import cache

from django.conf import settings
from django.core.cache import cache as django_cache
from django.core.exceptions import RequestDataTooBig
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
)
from rest_framework import serializers, status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import JSONParser
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from canvass.json_input import TOO_DEEP, JSONTooDeep, json_bounded
from turf.models import Assignment

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


class BoundedJSONParser(JSONParser):
    """JSON nested deeper than MAX_JSON_DEPTH is bad input (400), not a crash."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return json_bounded(super().parse(stream, media_type, parser_context))
        except (RecursionError, JSONTooDeep):
            raise ParseError(TOO_DEEP) from None


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
