"""The organizer's shift pages: the list and the week calendar, creating, editing,
copying and cancelling shifts, a shift's signups, the check-in screen with its turf
hand-out, and the shift numbers.

Field leads may look; only organizers change anything. Every time on these pages is
entered and shown in the campaign's time zone.
"""

from datetime import datetime, timedelta

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Avg, Count
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from canvass import services
from canvass.access import LEADS, ORGANIZERS, campaign_for_user
from canvass.forms import (
    HandOutForm,
    ShiftFilterForm,
    ShiftForm,
    SignupAddForm,
    WalkInForm,
    copy_date,
    today_in,
)
from canvass.models import Shift, ShiftSignup, Volunteer
from canvass.stats import campaign_shift_totals, shift_numbers, volunteer_numbers
from turf.models import Assignment, Household
from turf.services import assignment_link
from turf.views import segno_svg

Status = ShiftSignup.Status
SHIFTS_PER_PAGE = 50
VOLUNTEERS_PER_PAGE = 100


def _shift_for(campaign, pk):
    return get_object_or_404(
        Shift.objects.select_related("campaign", "contact"), pk=pk, campaign=campaign
    )


def _signup_for(shift, pk):
    return get_object_or_404(
        ShiftSignup.objects.select_related("volunteer", "shift__campaign"), pk=pk, shift=shift
    )


def _is_organizer(user, campaign):
    return user.memberships.filter(campaign=campaign, role__in=ORGANIZERS).exists()


def _context(request, campaign, **extra):
    return {
        "campaign": campaign,
        "section": "shifts",
        "can_edit": _is_organizer(request.user, campaign),
        **extra,
    }


def qr_svg(text, *, title):
    """A QR code of `text` as inline SVG. Safe: segno writes every tag, and `text` reaches
    the markup only as black and white modules."""
    return mark_safe(
        segno.make(text, error="m").svg_inline(omitsize=True, light="#fff", title=title)
    )


def signup_page_url(campaign):
    return f"{settings.SITE_URL}{reverse('signup_page', args=[campaign.slug])}"


def _map_center(campaign):
    """Where the staging-location map opens without a pin: the middle of the campaign's doors."""
    center = Household.objects.filter(campaign=campaign, lat__isnull=False).aggregate(
        lat=Avg("lat"), lng=Avg("lng")
    )
    if center["lat"] is None:
        return None
    return [round(center["lat"], 6), round(center["lng"], 6)]


# --- List and week ----------------------------------------------------------


@login_required
@require_GET
def shift_list(request, slug):
    """Shifts by date (from today on, unless the filters say otherwise), or one week as a
    calendar (?view=week&week=YYYY-MM-DD), each with its counts."""
    campaign = campaign_for_user(request.user, slug, roles=LEADS)
    tz = campaign.tz
    today = today_in(campaign)
    form = ShiftFilterForm(request.GET or None, campaign=campaign)
    data = form.cleaned_data if form.is_valid() else {}
    shifts = Shift.objects.filter(campaign=campaign).with_counts().select_related("campaign")
    if not data.get("cancelled"):
        shifts = shifts.filter(cancelled_at__isnull=True)
    if data.get("place"):
        shifts = shifts.filter(place=data["place"])
    view = "week" if request.GET.get("view") == "week" else "list"
    context = _context(
        request,
        campaign,
        form=form,
        view=view,
        signup_url=signup_page_url(campaign),
        signup_qr=qr_svg(signup_page_url(campaign), title=_("Signup page")),
    )
    if view == "week":
        try:
            day = datetime.strptime(request.GET.get("week", ""), "%Y-%m-%d").date()
        except ValueError:
            day = today
        monday = day - timedelta(days=day.weekday())
        start = datetime.combine(monday, datetime.min.time(), tzinfo=tz)
        end = datetime.combine(monday + timedelta(days=7), datetime.min.time(), tzinfo=tz)
        week = list(shifts.filter(starts_at__gte=start, starts_at__lt=end).order_by("starts_at"))
        days = [
            {
                "date": monday + timedelta(days=n),
                "today": monday + timedelta(days=n) == today,
                "shifts": [s for s in week if s.local_start().date() == monday + timedelta(days=n)],
            }
            for n in range(7)
        ]
        query = request.GET.copy()
        query.pop("week", None)
        context.update(
            days=days,
            monday=monday,
            sunday=monday + timedelta(days=6),
            previous=(monday - timedelta(days=7)).isoformat(),
            next=(monday + timedelta(days=7)).isoformat(),
            query=query.urlencode(),
        )
        return render(request, "shifts/week.html", context)
    start_day = data.get("start") or (None if data.get("end") else today)
    if start_day:
        shifts = shifts.filter(
            starts_at__gte=datetime.combine(start_day, datetime.min.time(), tzinfo=tz)
        )
    if data.get("end"):
        until = datetime.combine(data["end"] + timedelta(days=1), datetime.min.time(), tzinfo=tz)
        shifts = shifts.filter(starts_at__lt=until)
    page = Paginator(shifts.order_by("starts_at"), SHIFTS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    query = request.GET.copy()
    query.pop("page", None)
    context.update(page=page, start_day=start_day, query=query.urlencode())
    return render(request, "shifts/list.html", context)


@login_required
@require_GET
def signup_qr_download(request, slug):
    """The signup page's QR code as an SVG file, to print on a flyer."""
    campaign = campaign_for_user(request.user, slug, roles=LEADS)
    svg = segno.make(signup_page_url(campaign), error="m").svg_inline(scale=8, light="#fff")
    response = HttpResponse(svg, content_type="image/svg+xml")
    response["Content-Disposition"] = f'attachment; filename="signup-{campaign.slug}.svg"'
    return response


# --- Create, edit, copy, cancel ---------------------------------------------


def _form_page(request, campaign, form, *, title, action, shift=None):
    form.mark_invalid()
    return render(
        request,
        "shifts/form.html",
        _context(
            request,
            campaign,
            form=form,
            title=title,
            action=action,
            shift=shift,
            map_center=_map_center(campaign),
            tiles_url=settings.MAP_TILES_URL,
            tiles_attribution=settings.MAP_TILES_ATTRIBUTION,
        ),
    )


@login_required
def shift_new(request, slug):
    campaign = campaign_for_user(request.user, slug, roles=ORGANIZERS)
    form = ShiftForm(request.POST or None, campaign=campaign, repeat=True)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        fields = form.shift_fields()
        try:
            if data.get("repeat_until"):
                shifts = services.shift_series_create(
                    campaign=campaign,
                    weekdays=data["repeat_weekdays"],
                    until=data["repeat_until"],
                    created_by=request.user,
                    **fields,
                )
            else:
                shifts = [
                    services.shift_create(campaign=campaign, created_by=request.user, **fields)
                ]
        except ValidationError as error:
            form.service_error(error)
        else:
            if len(shifts) == 1:
                messages.success(request, _("The shift is planned."))
                return redirect("shift_detail", slug=campaign.slug, pk=shifts[0].pk)
            messages.success(
                request, _("%(n)s shifts are planned, one per date.") % {"n": len(shifts)}
            )
            start = shifts[0].local_start().date().isoformat()
            return redirect(reverse("shift_list", args=[campaign.slug]) + f"?start={start}")
    return _form_page(
        request, campaign, form, title=_("New shift"), action=reverse("shift_new", args=[slug])
    )


@login_required
def shift_copy(request, slug, pk):
    """The new-shift form filled in from another shift, a week later."""
    campaign = campaign_for_user(request.user, slug, roles=ORGANIZERS)
    source = _shift_for(campaign, pk)
    initial = ShiftForm.initial_from(source, date=copy_date(source, today=today_in(campaign)))
    form = ShiftForm(initial=initial, campaign=campaign, repeat=True)
    return _form_page(
        request,
        campaign,
        form,
        title=_("Copy of %(shift)s") % {"shift": source},
        action=reverse("shift_new", args=[slug]),
    )


@login_required
def shift_edit(request, slug, pk):
    campaign = campaign_for_user(request.user, slug, roles=ORGANIZERS)
    shift = _shift_for(campaign, pk)
    if shift.is_cancelled:
        messages.error(
            request,
            _("This shift is cancelled, so it cannot be changed. Copy it to plan a new one."),
        )
        return redirect("shift_detail", slug=slug, pk=pk)
    form = ShiftForm(request.POST or None, initial=ShiftForm.initial_from(shift), campaign=campaign)
    if request.method == "POST" and form.is_valid():
        try:
            fields = form.shift_fields()
            services.shift_update(shift=shift, changed_by=request.user, **fields)
        except ValidationError as error:
            form.service_error(error)
        else:
            messages.success(request, _("The shift is saved."))
            return redirect("shift_detail", slug=slug, pk=pk)
    return _form_page(
        request,
        campaign,
        form,
        title=_("Edit %(shift)s") % {"shift": shift},
        action=reverse("shift_edit", args=[slug, pk]),
        shift=shift,
    )


@login_required
def shift_cancel_view(request, slug, pk):
    """GET asks to be sure (and says how many people it touches); POST cancels."""
    campaign = campaign_for_user(request.user, slug, roles=ORGANIZERS)
    shift = _shift_for(campaign, pk)
    if request.method == "POST":
        try:
            cancelled = services.shift_cancel(shift=shift, cancelled_by=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            if cancelled:
                messages.success(
                    request, _("The shift is cancelled; everyone signed up is taken off it.")
                )
            else:
                messages.info(request, _("This shift was already cancelled."))
        return redirect("shift_detail", slug=slug, pk=pk)
    expected = shift.signups.filter(
        status__in=(Status.SIGNED_UP, Status.CONFIRMED, Status.WAITLISTED)
    ).count()
    return render(
        request, "shifts/cancel.html", _context(request, campaign, shift=shift, expected=expected)
    )


# --- One shift and its signups ----------------------------------------------


def _live_assignments(shift):
    return (
        Assignment.objects.live()
        .filter(shift=shift)
        .select_related("turf")
        .prefetch_related("volunteers")
        .order_by("turf__name")
    )


@login_required
@require_GET
def shift_detail(request, slug, pk):
    campaign = campaign_for_user(request.user, slug, roles=LEADS)
    shift = _shift_for(campaign, pk)
    signups = list(shift.signups.select_related("volunteer").order_by("joined_at", "pk"))
    groups = [
        (_("Signed up"), [s for s in signups if s.status in (Status.SIGNED_UP, Status.CONFIRMED)]),
        (_("Checked in"), [s for s in signups if s.status == Status.ATTENDED]),
        (
            _("Waitlist, first come first served"),
            [s for s in signups if s.status == Status.WAITLISTED],
        ),
        (_("No-shows"), [s for s in signups if s.status == Status.NO_SHOW]),
        (_("Cancelled"), [s for s in signups if s.status == Status.CANCELLED]),
    ]
    pool = shift.turfs.annotate(doors=Count("stops")).order_by("name")
    return render(
        request,
        "shifts/detail.html",
        _context(
            request,
            campaign,
            shift=shift,
            groups=groups,
            numbers=shift_numbers([shift.pk])[shift.pk],
            pool=pool,
            live_assignments=_live_assignments(shift),
            add_form=SignupAddForm(shift=shift),
            statuses=Status.choices,
            tiles_url=settings.MAP_TILES_URL,
            tiles_attribution=settings.MAP_TILES_ATTRIBUTION,
            now=timezone.now(),
        ),
    )


@login_required
@require_POST
def shift_signup_add(request, slug, pk):
    campaign = campaign_for_user(request.user, slug, roles=ORGANIZERS)
    shift = _shift_for(campaign, pk)
    form = SignupAddForm(request.POST, shift=shift)
    if form.is_valid():
        try:
            signup, _token = services.signup_create(
                shift=shift, volunteer=form.cleaned_data["volunteer"]
            )
        except ValidationError as error:
            form.service_error(error)
        else:
            if signup.status == Status.WAITLISTED:
                messages.info(
                    request,
                    _("The shift is full: %(name)s is on the waitlist.")
                    % {"name": signup.volunteer},
                )
            else:
                messages.success(request, _("%(name)s is signed up.") % {"name": signup.volunteer})
            return redirect("shift_detail", slug=slug, pk=pk)
    for error in form.non_field_errors() + form.errors.get("volunteer", []):
        messages.error(request, error)
    return redirect("shift_detail", slug=slug, pk=pk)


@never_cache
@login_required
@require_POST
def shift_signup_change(request, slug, pk, signup_id):
    """An organizer's change to one signup: cancel it, set its status, or make a new
    personal link (shown once, like an assignment link)."""
    campaign = campaign_for_user(request.user, slug, roles=ORGANIZERS)
    shift = _shift_for(campaign, pk)
    signup = _signup_for(shift, signup_id)
    action = request.POST.get("action")
    try:
        if action == "new_link":
            token = services.signup_link_reissue(signup=signup)
            link = services.signup_link(token)
            return render(
                request,
                "shifts/signup_link.html",
                _context(
                    request,
                    campaign,
                    shift=shift,
                    signup=signup,
                    link=link,
                    qr=qr_svg(link, title=_("Personal signup link")),
                ),
            )
        if action == "status" and request.POST.get("status") in Status.values:
            services.signup_status_set(
                signup=signup, status=request.POST["status"], changed_by=request.user
            )
        else:
            messages.error(request, _("Pick what to change: a status or a new link."))
            return redirect("shift_detail", slug=slug, pk=pk)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        signup.refresh_from_db()
        messages.success(
            request,
            _("%(name)s: %(status)s.")
            % {"name": signup.volunteer, "status": signup.get_status_display().lower()},
        )
    return redirect("shift_detail", slug=slug, pk=pk)


# --- Check-in ---------------------------------------------------------------


def _checkin_page(request, campaign, shift, walk_in_form=None, status=200):
    signups = list(
        shift.signups.exclude(status=Status.CANCELLED)
        .select_related("volunteer")
        .order_by("volunteer__first_name", "volunteer__last_name", "pk")
    )
    turfs = {}
    for assignment in _live_assignments(shift):
        for volunteer in assignment.volunteers.all():
            turfs[volunteer.pk] = assignment.turf.name
    for signup in signups:
        signup.turf_name = turfs.get(signup.volunteer_id)
    here = [s for s in signups if s.status == Status.ATTENDED]
    return render(
        request,
        "shifts/checkin.html",
        {
            "campaign": campaign,
            "shift": shift,
            "expected": [
                s
                for s in signups
                if s.status in (Status.SIGNED_UP, Status.CONFIRMED, Status.NO_SHOW)
            ],
            "here": here,
            "waitlist": [s for s in signups if s.status == Status.WAITLISTED],
            "walk_in_form": (walk_in_form or WalkInForm()).mark_invalid(),
            "pool_size": shift.turfs.count(),
        },
        status=status,
    )


@never_cache
@login_required
@require_GET
def shift_checkin(request, slug, pk):
    """The check-in screen, for a phone held in one hand at the staging location."""
    campaign = campaign_for_user(request.user, slug, roles=ORGANIZERS)
    return _checkin_page(request, campaign, _shift_for(campaign, pk))


@login_required
@require_POST
def shift_checkin_tap(request, slug, pk, signup_id):
    campaign = campaign_for_user(request.user, slug, roles=ORGANIZERS)
    shift = _shift_for(campaign, pk)
    signup = _signup_for(shift, signup_id)
    try:
        if request.POST.get("action") == "undo":
            services.signup_check_in_undo(signup=signup)
            messages.info(
                request, _("%(name)s is no longer checked in.") % {"name": signup.volunteer}
            )
        else:
            services.signup_check_in(signup=signup, checked_in_by=request.user)
            messages.success(request, _("%(name)s is checked in.") % {"name": signup.volunteer})
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect(reverse("shift_checkin", args=[slug, pk]) + f"#signup-{signup.pk}")


@never_cache
@login_required
@require_POST
def shift_walk_in(request, slug, pk):
    campaign = campaign_for_user(request.user, slug, roles=ORGANIZERS)
    shift = _shift_for(campaign, pk)
    form = WalkInForm(request.POST)
    if form.is_valid():
        try:
            signup = services.signup_walk_in(
                shift=shift, checked_in_by=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            form.service_error(error)
        else:
            messages.success(request, _("%(name)s is checked in.") % {"name": signup.volunteer})
            return redirect(reverse("shift_checkin", args=[slug, pk]) + f"#signup-{signup.pk}")
    return _checkin_page(request, campaign, shift, walk_in_form=form, status=400)


# The response carries a link's token: no browser or proxy may keep a copy.
@never_cache
@login_required
def shift_hand_out(request, slug, pk):
    """One more tap after check-in: a turf from the pool, alone or with a partner, and the
    assignment link with its QR code to scan."""
    campaign = campaign_for_user(request.user, slug, roles=ORGANIZERS)
    shift = _shift_for(campaign, pk)
    taken = {
        assignment.turf_id: " & ".join(str(v) for v in assignment.volunteers.all())
        for assignment in _live_assignments(shift)
    }
    form = HandOutForm(
        request.POST or None,
        shift=shift,
        taken=taken,
        initial={"volunteer": request.GET.get("volunteer")},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            assignment, token = services.shift_hand_out(
                shift=shift,
                turf=data["turf"],
                volunteers=[data["volunteer"], data["partner"]],
                handed_out_by=request.user,
            )
        except ValidationError as error:
            form.service_error(error)
        else:
            link = assignment_link(token)
            return render(
                request,
                "shifts/handed_out.html",
                {
                    "campaign": campaign,
                    "shift": shift,
                    "assignment": assignment,
                    "volunteers": list(assignment.volunteers.all()),
                    "link": link,
                    "qr_svg": segno_svg(link),
                },
            )
    volunteer_id = request.POST.get("volunteer") or request.GET.get("volunteer")
    volunteer = Volunteer.objects.filter(
        pk=volunteer_id if str(volunteer_id).isdigit() else None, campaign=campaign
    ).first()
    return render(
        request,
        "shifts/hand_out.html",
        {
            "campaign": campaign,
            "shift": shift,
            "form": form.mark_invalid(),
            "volunteer": volunteer,
            "taken": taken,
        },
        status=400 if form.is_bound else 200,
    )


# --- Numbers ----------------------------------------------------------------


@login_required
@require_GET
def shift_numbers_view(request, slug):
    """Per shift and per volunteer: signups, confirmations, show rate, no-shows, waitlist
    promotions, and the doors and conversations from the turfs handed out."""
    campaign = campaign_for_user(request.user, slug, roles=LEADS)
    shifts = (
        Shift.objects.filter(campaign=campaign).select_related("campaign").order_by("-starts_at")
    )
    shift_page = Paginator(shifts, SHIFTS_PER_PAGE).get_page(request.GET.get("shifts"))
    by_shift = shift_numbers([s.pk for s in shift_page])
    for shift in shift_page:
        shift.numbers = by_shift[shift.pk]
    volunteers = (
        Volunteer.objects.filter(campaign=campaign, signups__isnull=False)
        .distinct()
        .order_by("first_name", "last_name", "pk")
    )
    volunteer_page = Paginator(volunteers, VOLUNTEERS_PER_PAGE).get_page(
        request.GET.get("volunteers")
    )
    by_volunteer = volunteer_numbers(campaign, [v.pk for v in volunteer_page])
    for volunteer in volunteer_page:
        volunteer.numbers = by_volunteer[volunteer.pk]
    return render(
        request,
        "shifts/numbers.html",
        _context(
            request,
            campaign,
            totals=campaign_shift_totals(campaign),
            shift_page=shift_page,
            volunteer_page=volunteer_page,
        ),
    )
