"""The door screen: the page an assignment link opens, its service worker and manifest.

The page is a shell with no one's data in it: the walk list comes from the sync
API and lives in the phone's IndexedDB. That keeps the shell the same for every
link, so the service worker can cache one copy and open any link with no signal.
"""

import hashlib
import json
from functools import cache

from django.conf import settings
from django.contrib.staticfiles import finders
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from conversations.models import Channel, Visit
from turf.models import Assignment

# The files the door screen needs, all cached by the service worker on install.
DOOR_ASSETS = (
    "door/door.css",
    "door/app.js",
    "door/store.js",
    "door/sync.js",
    "door/form.js",
    "door/shifts.js",
    "door/finder.js",
)

# Every string the door screen shows, translated here so that the page ships
# them in the visitor's language with no second request.
STRINGS = {
    "knocked": _("{knocked} of {total} doors knocked"),
    "all_sent": _("Everything is sent"),
    "sync_now": _("Sync now"),
    "syncing": _("Sending…"),
    "saved": _("Saved on this phone"),
    "offline": _("No signal: safe on this phone."),
    "retry_in": _("Will try again in {s} s."),
    "ended_title": _("This link has ended"),
    "ended_clear": _("Everything was delivered. This phone no longer holds anyone's details."),
    "unknown_link": _("This link is not known. Check it with your organizer."),
    "unknown_title": _("This link is not known"),
    "door_gone": _("A door no longer on your walk list"),
    "no_list": _("The walk list has not reached this phone yet. Try again when you have signal."),
    "finish": _("Finish"),
    "recording_as": _("Recording as"),
    "finish_done": _("All sent. This phone no longer holds anyone's details. Thank you!"),
    "finish_confirm": _(
        "Finish this walk list? Everything is sent, so the list will be removed from this phone."
    ),
    "finish_yes": _("Yes, remove it"),
    "note": _("Short note (optional)"),
    "note_for": _("Note for {address}"),
    "conversation": _("Conversation"),
    "event": _("Conversation away from the list"),
    "earlier": _("Earlier visits"),
    "waiting_mark": _("waiting to sync"),
    "needs_fix": _("Needs fixing"),
    "conflict": _("Already saved differently"),
    "conflict_hint": _(
        "The server already has a different version of this visit. Save this one as a new "
        "visit, or send it to your organizer as it is."
    ),
    "fix": _("Fix"),
    "who": _("Who did you talk with?"),
    "someone_new": _("Someone new"),
    "first_name": _("First name"),
    "last_name": _("Last name"),
    "phone": _("Phone"),
    "email": _("Email"),
    "place": _("Where (event, table, place)"),
    "rating_before": _("Rating before"),
    "rating_after": _("Rating after"),
    "not_asked": _("Not asked"),
    "why": _("Why that number?"),
    "themes": _("Story themes"),
    "story": _("Their story, in your words"),
    "story_hint": _("Write it as if they could read it."),
    "shared": _("I shared a story of my own"),
    "values": _("Values and feelings you heard"),
    "self_rating": _("How well did you listen? (0–10)"),
    "sensitive": _("Sensitive (health, immigration, abuse…): only organizers see it"),
    "shift": _("Shift: {shift} (canvasser-reported)"),
    "commitments": _("Commitments"),
    "add_commitment": _("Add a commitment"),
    "remove": _("Remove"),
    "kind": _("Kind"),
    "what": _("What exactly"),
    "when": _("When"),
    "owner": _("Who follows up"),
    "nobody": _("Not decided"),
    "channel": _("Reminders by"),
    "commitment_n": _("Commitment {n}"),
    "save": _("Save"),
    "draft_back": _("Here is the note you were writing. Nothing was lost."),
    "unsaved_form": _("Tap “Save” to keep this note on the phone, or “Cancel” to drop it."),
    "cancel": _("Cancel"),
    "required_name": _("Give at least a first name, or pick someone on the list."),
    "required_place": _("Say where this conversation happened."),
    "required_what": _("Say what exactly they committed to."),
    "bad_phone": _(
        "“{raw}” does not look like a phone number. Enter it with its area code, e.g. 512-555-0123."
    ),
    "bad_email": _("“{raw}” is not an email address."),
    "need_phone": _("Text reminders need the phone number they agreed to."),
    "need_email": _("Email reminders need the email address they agreed to."),
    "fix_below": _("Something needs fixing below. Nothing is lost: it is all on this phone."),
    "lang_needs_signal": _("Changing the language needs a connection."),
    "no_people": _("No one listed"),
    "too_long": _("At most {max} characters here; this has {n}. Shorten it to save."),
    "too_many_themes": _("Pick at most {max} themes."),
    "too_many_commitments": _(
        "At most {max} commitments per visit: keep the ones they chose most clearly."
    ),
    "bad_year": _("Give a date from {from} to {to}."),
    "too_big": _("This visit is too large to send. Shorten the longest text."),
    "server_trouble": _("Not yet accepted"),
    "server_said": _(
        "The server had a problem with this visit ({reason}). It keeps trying; "
        "your other visits are not held back."
    ),
    "door": _("Door"),
    "drop_confirm": _("Drop what you wrote? It cannot be brought back."),
    "keep_writing": _("Keep writing"),
    "drop_it": _("Drop it"),
    "do_not_contact": _("do not contact"),
    "do_not_knock": _("Do not knock."),
    "do_not_knock_hint": _("Everyone here asked not to be contacted. Walk on to the next door."),
    "away": _("Away from the walk list"),
    "choose_door": _("Choose the door"),
    "hand_over": _("Send to organizer"),
    "handed_over": _("Sent to your organizer as it is. It is no longer on this phone."),
    "hand_over_failed": _("Could not reach the server: it stays on this phone. Try again."),
    "record_new": _("Save as a new visit"),
    "outcome": _("Outcome"),
    "minutes": _("Minutes talking"),
    "minutes_hint": _("Counted from when you opened this form. Change it if that is not right."),
    "bad_minutes": _("Give the length in whole minutes, from 0 to {max}."),
    "find": _("Find a door"),
    "find_hint": _("House number or street"),
    "next_door": _("Next door not knocked"),
    "all_knocked": _("Every door on this walk list has been knocked."),
    # The ladder (static/door/shifts.js).
    "shift_pick": _("Which shift? They are signed up when this syncs."),
    "shift_later": _("Not yet: follow up about a shift"),
    "shift_full": _("full: the waitlist"),
    "no_shifts": _("No shifts are planned yet: the follow-up owner will find them one."),
}


# Strings with a count: both forms go to the phone, which picks one with Intl.PluralRules
# (Spanish, like English, says "1 nota" and "2 notas"). Each is an ngettext call on
# literal text, so that makemessages finds both forms.
PLURALS = {
    "waiting": lambda n: ngettext("{n} visit waiting to sync", "{n} visits waiting to sync", n),
    "conversations": lambda n: ngettext("{n} conversation", "{n} conversations", n),
    "problems": lambda n: ngettext(
        "{n} visit needs your attention", "{n} visits need your attention", n
    ),
    "find_count": lambda n: ngettext("{n} door matches", "{n} doors match", n),
    "others": lambda n: ngettext(
        "Also on this phone: {n} note from another walk list. It is sent whenever there is signal.",
        "Also on this phone: {n} notes from another walk list. They are sent whenever there "
        "is signal.",
        n,
    ),
    "ended_unsent": lambda n: ngettext(
        "Please reach your organizer: {n} unsent note is kept on this phone until it is "
        "delivered. Do not clear this browser's data.",
        "Please reach your organizer: {n} unsent notes are kept on this phone until they "
        "are delivered. Do not clear this browser's data.",
        n,
    ),
    "finish_unsent": lambda n: ngettext(
        "{n} note has not been sent yet. It stays on this phone: keep this page and tap "
        "“Sync now” when you have signal.",
        "{n} notes have not been sent yet. They stay on this phone: keep this page and tap "
        "“Sync now” when you have signal.",
        n,
    ),
    "shift_free": lambda n: ngettext("{n} spot left", "{n} spots left", n),
}


def _strings():
    strings = {key: str(value) for key, value in STRINGS.items()}
    for key, forms in PLURALS.items():
        strings[key] = {"one": forms(1), "other": forms(2)}
    return strings


def _get_assignment_for_token(token):
    """The assignment behind a link, or 404. Expired or revoked links are returned
    too: the page still opens so that notes kept on the phone can be shown and sent."""
    assignment = Assignment.objects.for_token(token).only("expires_at", "revoked_at").first()
    if assignment is None:
        raise Http404("No such assignment link.")
    return assignment


def _shell(request, status=200):
    language = request.GET.get("lang")
    if language in dict(settings.LANGUAGES):
        # The toggle: remember the choice the way LocaleMiddleware reads it.
        response = HttpResponseRedirect(request.path)
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            language,
            max_age=365 * 24 * 3600,
            samesite="Lax",
            secure=settings.SESSION_COOKIE_SECURE,
        )
        return response
    context = {
        "strings": _strings(),
        "outcomes": [{"code": code, "label": str(label)} for code, label in Visit.Outcome.choices],
        "channels": {code: str(label) for code, label in Channel.choices},
        "languages": settings.LANGUAGES,
        "language": translation.get_language(),
        "config": {"sw": reverse("door_service_worker"), "shell": reverse("door_shell")},
    }
    response = render(request, "door/shell.html", context, status=status)
    response["Cache-Control"] = "no-cache"
    return response


@require_GET
def assignment_open(request, token):
    """The door screen for one assignment link. Needs no password: the link is the key.

    An ended link still gets the page (with 410): the phone may hold notes it has
    not sent, and the page tells the volunteer to reach their organizer.
    """
    assignment = _get_assignment_for_token(token)
    return _shell(request, status=200 if assignment.is_live else 410)


@require_GET
def door_shell(request):
    """The same page with no link behind it: what the service worker caches."""
    return _shell(request)


@cache
def _assets_version():
    digest = hashlib.sha256()
    for name in DOOR_ASSETS:
        digest.update(static(name).encode())
        path = finders.find(name)
        if path:
            with open(path, "rb") as handle:
                digest.update(handle.read())
    return digest.hexdigest()[:16]


def _precache(shell_url):
    urls = [shell_url]
    for name in DOOR_ASSETS:
        urls.append(static(name))
        # With hashed file names in production the modules still import one another
        # by their plain names, so both must be on the phone.
        plain = settings.STATIC_URL + name
        if plain != urls[-1]:
            urls.append(plain)
    return urls


@require_GET
@never_cache
def service_worker(request):
    """The service worker, served under /a/ so that its scope covers every link."""
    shell_url = reverse("door_shell")
    body = render(
        request,
        "door/sw.js",
        {
            "version": _assets_version(),
            "shell_url_json": json.dumps(shell_url),
            "assets_json": json.dumps(_precache(shell_url)),
        },
    ).content
    return HttpResponse(body, content_type="text/javascript; charset=utf-8")


@require_GET
def manifest(request, token):
    """Lets a volunteer put their walk list on the home screen; `start_url` is the link."""
    data = {
        "name": "Porchlight",
        "short_name": "Porchlight",
        "start_url": ".",
        "scope": reverse("door_shell").rsplit("/", 2)[0] + "/",
        "display": "standalone",
        "background_color": "#fffdf8",
        "theme_color": "#2b1d0e",
    }
    response = HttpResponse(json.dumps(data), content_type="application/manifest+json")
    response["Cache-Control"] = "max-age=86400"
    return response
