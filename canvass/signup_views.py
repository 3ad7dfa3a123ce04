"""The public side of shifts: the campaign's signup page and the personal link.

No login: the signup page is meant to be shared (a link, a QR code on a flyer), and
the personal link is the key to one signup. Made for a phone first, in English and
Spanish (?lang=es switches and remembers, as the door screen does).
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from canvass import services
from canvass.forms import PreferencesForm, SignupForm
from canvass.models import Campaign, Shift, ShiftSignup

Status = ShiftSignup.Status


def _language_switch(request):
    """?lang=xx: remember the choice the way LocaleMiddleware reads it, and come back."""
    language = request.GET.get("lang")
    if language not in dict(settings.LANGUAGES):
        return None
    response = HttpResponseRedirect(request.path)
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=365 * 24 * 3600,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
    )
    return response


def _page(request, template, context, status=200):
    context = {
        "languages": settings.LANGUAGES,
        "language": translation.get_language(),
        **context,
    }
    return render(request, template, context, status=status)


def _free(shift):
    return max(shift.capacity - shift.signed_up, 0)


def signup_page(request, slug):
    """Every shift still to come on the public list, by day, with its free spots."""
    if switched := _language_switch(request):
        return switched
    campaign = get_object_or_404(Campaign, slug=slug)
    shifts = list(
        Shift.objects.open_for_signup()
        .filter(campaign=campaign)
        .with_counts()
        .select_related("campaign")
        .order_by("starts_at", "pk")
    )
    days = []
    for shift in shifts:
        shift.free = _free(shift)
        day = shift.local_start().date()
        if not days or days[-1]["date"] != day:
            days.append({"date": day, "shifts": []})
        days[-1]["shifts"].append(shift)
    return _page(request, "signup/page.html", {"campaign": campaign, "days": days})


def _shift_for_signup(campaign, shift_id):
    return get_object_or_404(
        Shift.objects.filter(campaign=campaign).with_counts().select_related("campaign", "contact"),
        pk=shift_id,
    )


@never_cache
def signup_shift(request, slug, shift_id):
    """One shift's details and the signup form. A good signup lands on the personal link."""
    if switched := _language_switch(request):
        return switched
    campaign = get_object_or_404(Campaign, slug=slug)
    shift = _shift_for_signup(campaign, shift_id)
    closed = None
    if shift.is_cancelled:
        closed = _("This shift was cancelled. Pick another one below.")
    elif shift.starts_at <= timezone.now():
        closed = _("This shift has already started. Pick a later one.")
    elif not shift.public:
        closed = _("This shift is not open for signups here. Ask your organizer.")
    if closed:
        return _page(
            request,
            "signup/closed.html",
            {"campaign": campaign, "shift": shift, "message": closed},
            status=410,
        )
    form = SignupForm(request.POST or None, language=translation.get_language())
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                signup, token, returning = services.signup_public(shift=shift, **form.cleaned_data)
            except ValidationError as error:
                form.service_error(error)
            else:
                if token is None:
                    # Already on this shift: their link went to them when they signed up.
                    return _page(
                        request,
                        "signup/already.html",
                        {"campaign": campaign, "shift": shift, "signup": signup},
                    )
                url = reverse("signup_manage", args=[token]) + "?new=1"
                if returning:
                    url += "&back=1"
                return redirect(url)
    shift.free = _free(shift)
    return _page(
        request,
        "signup/shift.html",
        {"campaign": campaign, "shift": shift, "form": form.mark_invalid()},
        status=status,
    )


# The personal link offers this many of the campaign's next shifts to move to.
MOVE_CHOICES = 12


def _int(value):
    return int(value) if str(value or "").isdigit() else None


def _move_choices(signup):
    """The shifts a signup may move to: the campaign's public ones still to come, but
    not its own, nor one the volunteer is already on."""
    return (
        Shift.objects.open_for_signup()
        .filter(campaign_id=signup.shift.campaign_id)
        .exclude(pk=signup.shift_id)
        .exclude(
            pk__in=ShiftSignup.objects.filter(volunteer_id=signup.volunteer_id)
            .exclude(status=Status.CANCELLED)
            .values("shift_id")
        )
        .with_counts()
        .select_related("campaign")
        .order_by("starts_at", "pk")
    )


def _ended(request, signup, message, status=410):
    campaign = signup.shift.campaign if signup else None
    title = _("This link has ended") if signup else _("Unknown link")
    return _page(
        request,
        "signup/ended.html",
        {"campaign": campaign, "message": message, "title": title},
        status=status,
    )


@never_cache
def signup_manage(request, token):
    """The personal link: see the signup, confirm it, change reminders, cancel, come back.

    It shows nothing of what the volunteer gave (name, phone, email): a public signup with
    someone else's number lands here too, recognised as them."""
    if switched := _language_switch(request):
        return switched
    signup = (
        ShiftSignup.objects.for_token(token)
        .select_related("shift__campaign", "shift__contact", "volunteer")
        .first()
    )
    if signup is None:
        return _ended(
            request,
            None,
            _("This link is not known. Check that it was copied whole, or sign up again."),
            status=404,
        )
    shift, campaign = signup.shift, signup.shift.campaign
    if signup.link_revoked_at is not None:
        return _ended(
            request,
            signup,
            _(
                "This link was turned off. Use the newest link we sent you, or sign up again "
                "on the campaign's page."
            ),
        )
    if shift.ends_at <= timezone.now():
        return _ended(
            request,
            signup,
            _("This shift is over, so this link can no longer change it. Thank you!"),
        )
    preferences = PreferencesForm(
        request.POST if request.POST.get("action") == "preferences" else None,
        initial={
            "remind_by_sms": signup.remind_by_sms,
            "remind_by_email": signup.remind_by_email,
            "language": signup.volunteer.language,
        },
    )
    error = None
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "confirm":
                services.signup_confirm(signup=signup)
                notice = "confirmed"
            elif action == "cancel":
                services.signup_cancel(signup=signup)
                notice = "cancelled"
            elif action == "rejoin":
                services.signup_rejoin(signup=signup)
                notice = "back"
            elif action == "move":
                target = _move_choices(signup).filter(pk=_int(request.POST.get("shift"))).first()
                if target is None:
                    raise ValidationError(_("Pick one of the shifts listed to move to."))
                _moved, new_token = services.signup_move(signup=signup, shift=target)
                return redirect(reverse("signup_manage", args=[new_token]) + "?new=1&moved=1")
            elif action == "preferences" and preferences.is_valid():
                services.signup_preferences_set(signup=signup, **preferences.cleaned_data)
                notice = "saved"
            elif action == "preferences":
                notice = None
            else:
                error = _("Pick one of the buttons below.")
                notice = None
        except ValidationError as problem:
            if action == "preferences":
                preferences.service_error(problem)
            else:
                error = " ".join(problem.messages)
            notice = None
        if notice:
            return redirect(reverse("signup_manage", args=[token]) + f"?done={notice}")
    signup.refresh_from_db()
    moves = []
    if signup.status in (Status.SIGNED_UP, Status.CONFIRMED, Status.WAITLISTED):
        moves = list(_move_choices(signup)[:MOVE_CHOICES])
        for choice in moves:
            choice.free = _free(choice)
    waitlist_place = None
    if signup.status == Status.WAITLISTED:
        waitlist_place = (
            shift.signups.waitlist()
            .filter(joined_at__lte=signup.joined_at)
            .exclude(joined_at=signup.joined_at, pk__gt=signup.pk)
            .count()
        )
    return _page(
        request,
        "signup/manage.html",
        {
            "campaign": campaign,
            "shift": shift,
            "signup": signup,
            "waitlist_place": waitlist_place,
            "moves": moves,
            "moved": request.GET.get("moved") == "1",
            "preferences": preferences.mark_invalid(),
            "error": error,
            "new": request.GET.get("new") == "1",
            "back": request.GET.get("back") == "1",
            "done": request.GET.get("done"),
            "link": services.signup_link(token),
        },
        status=400 if error or preferences.errors else 200,
    )
