"""The map's turf editing endpoints: JSON in, JSON out, organizers only.

Each takes a JSON body with the pick ("polygon": GeoJSON and/or "households": [ids], and
"whole_faces": true to take whole block faces) and calls one service of turf.editing.
A bad body or an empty pick is a 400 saying what was wrong; an edit of a turf already
handed out without "confirm": true is a 409 whose "confirm" text the page asks about.
"""

import json

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import JsonResponse
from django.views.decorators.http import require_POST

from canvass.access import ORGANIZERS, campaign_for_user
from canvass.json_input import JSONTooDeep, json_parse
from turf import editing
from turf.views import _turf_for

# A drawn outline and a few thousand ids fit in far less.
MAX_BODY = 2_000_000


class _BadRequest(Exception):
    pass


def _body(request):
    if len(request.body) > MAX_BODY:
        raise _BadRequest("The edit is too large; draw a smaller outline.")
    try:
        data = json_parse(request.body or b"null")
    except JSONTooDeep as error:
        raise _BadRequest(str(error)) from None
    except (UnicodeDecodeError, json.JSONDecodeError):
        data = None
    if not isinstance(data, dict):
        raise _BadRequest(
            'Send the edit as a JSON object, e.g. {"polygon": {…}, "name": "Elm St north"}.'
        )
    return data


def _flag(data, key):
    value = data.get(key, False)
    if not isinstance(value, bool):
        raise _BadRequest(f"{key} must be true or false.")
    return value


def _pick(campaign, data):
    return editing.households_pick(
        campaign=campaign,
        polygon=data.get("polygon"),
        household_ids=data.get("households"),
        whole_faces=_flag(data, "whole_faces"),
    )


def _turf_id(data, key):
    value = data.get(key)
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 19:
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise _BadRequest(f"{key} must be a turf number.")
    return value


def _edit(view):
    """Loads the campaign (organizers only), parses the body, and turns the services'
    refusals into 400 / 409 answers."""

    @login_required
    @require_POST
    def wrapped(request, slug, **kwargs):
        campaign = campaign_for_user(request.user, slug, roles=ORGANIZERS)
        if "turf_id" in kwargs:
            # Found (or 404) before the body is read: another campaign's turf is never there.
            kwargs["turf"] = _turf_for(campaign, kwargs.pop("turf_id"))
        try:
            return view(request, campaign, _body(request), **kwargs)
        except _BadRequest as error:
            return JsonResponse({"error": str(error)}, status=400)
        except ValidationError as error:
            return JsonResponse({"error": " ".join(error.messages)}, status=400)
        except editing.NeedsConfirm as error:
            return JsonResponse(
                {
                    "error": str(error),
                    "confirm": str(error),
                    "handed_out": [{"id": t.pk, "name": t.name} for t in error.turfs],
                },
                status=409,
            )

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


def _done(campaign, message, **extra):
    return JsonResponse({"message": message, "turfs": editing.turfs_with_doors(campaign), **extra})


@_edit
def turf_edit_select(request, campaign, data):
    """What a pick holds (its doors, the turfs it takes them from), before any change."""
    households = _pick(campaign, data)
    return JsonResponse(editing.selection_summary(campaign=campaign, households=households))


@_edit
def turf_edit_create(request, campaign, data):
    households = _pick(campaign, data)
    turf, deleted = editing.turf_create_drawn(
        campaign=campaign,
        name=data.get("name") if isinstance(data.get("name"), str) else "",
        households=households,
        confirm=_flag(data, "confirm"),
        edited_by=request.user,
    )
    return _done(
        campaign,
        f"Made “{turf.name}” of {len(households)} doors." + _deleted_note(deleted),
        turf={"id": turf.pk, "name": turf.name},
    )


@_edit
def turf_edit_move(request, campaign, data):
    to_turf = _turf_for(campaign, _turf_id(data, "to_turf"))
    households = _pick(campaign, data)
    deleted = editing.turf_households_move(
        campaign=campaign,
        households=households,
        to_turf=to_turf,
        confirm=_flag(data, "confirm"),
        edited_by=request.user,
    )
    return _done(
        campaign,
        f"Moved {len(households)} doors to “{to_turf.name}”." + _deleted_note(deleted),
    )


@_edit
def turf_edit_split(request, campaign, data, turf):
    households = _pick(campaign, data) if ("polygon" in data or "households" in data) else None
    new = editing.turf_split(
        turf=turf,
        name=data.get("name") if isinstance(data.get("name"), str) else None,
        households=households,
        confirm=_flag(data, "confirm"),
        edited_by=request.user,
    )
    return _done(
        campaign,
        f"Split “{turf.name}”: “{new.name}” is new.",
        turf={"id": new.pk, "name": new.name},
    )


@_edit
def turf_edit_merge(request, campaign, data):
    ids = data.get("turfs")
    if not isinstance(ids, list) or not ids:
        raise _BadRequest("turfs must be a list of the turf numbers to merge, the kept one first.")
    turfs = [_turf_for(campaign, _turf_id({"turf": i}, "turf")) for i in ids]
    merged = editing.turf_merge(
        campaign=campaign,
        turfs=turfs,
        name=data.get("name") if isinstance(data.get("name"), str) else None,
        confirm=_flag(data, "confirm"),
        edited_by=request.user,
    )
    return _done(
        campaign,
        f"Merged {len(set(ids))} turfs into “{merged.name}”.",
        turf={"id": merged.pk, "name": merged.name},
    )


def _deleted_note(deleted):
    if not deleted:
        return ""
    return " Left empty and deleted: " + ", ".join(f"“{n}”" for n in deleted) + "."
