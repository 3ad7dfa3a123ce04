"""The organizer's shift pages and the admin: times in the campaign's zone, every write
through the services, every bad input named."""

import re
from datetime import datetime, time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from canvass import services
from canvass.models import Shift, ShiftSignup
from tests.factories import (
    PASSWORD,
    CampaignFactory,
    MembershipFactory,
    ShiftFactory,
    ShiftSignupFactory,
    TurfFactory,
    UserFactory,
    VolunteerFactory,
)

pytestmark = pytest.mark.django_db
Status = ShiftSignup.Status


@pytest.fixture
def eastern(db):
    """A campaign an hour ahead of the server's zone (America/Chicago)."""
    campaign = CampaignFactory(name="Harbor Tenants", slug="harbor", timezone="America/New_York")
    user = UserFactory(username="hana", first_name="Hana", is_staff=True, is_superuser=True)
    MembershipFactory(user=user, campaign=campaign, role="organizer")
    return campaign, user


def log_in(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client


def in_days(n):
    return timezone.localdate() + timedelta(days=n)


def form_data(day, **extra):
    data = {
        "name": "Saturday canvass",
        "date": day.isoformat(),
        "start_time": "10:00",
        "end_time": "13:00",
        "place": "Union hall, 12 Elm St",
        "place_lat": "",
        "place_lng": "",
        "capacity": "8",
        "notes": "",
        "contact": "",
        "public": "on",
    }
    data.update(extra)
    return data


def text(response):
    return re.sub(r"\s+", " ", response.content.decode())


# --- Access -------------------------------------------------------------------


def test_field_leads_look_organizers_change_outsiders_see_nothing(
    client, campaign, organizer, field_lead, outsider
):
    shift = ShiftFactory(campaign=campaign)
    pages = [
        reverse("shift_list", args=[campaign.slug]),
        reverse("shift_detail", args=[campaign.slug, shift.pk]),
        reverse("shift_numbers", args=[campaign.slug]),
    ]
    changes = [
        reverse("shift_new", args=[campaign.slug]),
        reverse("shift_edit", args=[campaign.slug, shift.pk]),
        reverse("shift_checkin", args=[campaign.slug, shift.pk]),
    ]
    log_in(client, field_lead)
    assert [client.get(url).status_code for url in pages] == [200] * 3
    assert [client.get(url).status_code for url in changes] == [403] * 3
    log_in(client, outsider)
    assert [client.get(url).status_code for url in pages + changes] == [404] * 6
    client.logout()
    assert client.get(pages[0]).status_code == 302


# --- Times in the campaign's zone, everywhere ---------------------------------


def test_a_shift_typed_at_10_is_10_on_every_page_of_a_campaign_in_another_zone(client, eastern):
    campaign, user = eastern
    log_in(client, user)
    day = in_days(5)
    response = client.post(reverse("shift_new", args=[campaign.slug]), form_data(day))
    assert response.status_code == 302
    shift = Shift.objects.get()
    assert shift.starts_at == datetime.combine(day, time(10), tzinfo=campaign.tz)

    listing = text(client.get(reverse("shift_list", args=[campaign.slug])))
    assert "10:00–13:00" in listing
    detail = text(client.get(reverse("shift_detail", args=[campaign.slug, shift.pk])))
    assert "10:00–13:00" in detail and "America/New_York" in detail
    overview = text(client.get(reverse("campaign_dashboard", args=[campaign.slug])))
    assert "10:00–13:00" in overview
    edit = client.get(reverse("shift_edit", args=[campaign.slug, shift.pk]))
    assert 'value="10:00"' in edit.content.decode()
    public = text(client.get(reverse("signup_page", args=[campaign.slug])))
    assert "10:00–13:00" in public


def test_the_admin_reads_and_shows_times_in_the_campaigns_zone(client, eastern):
    campaign, user = eastern
    log_in(client, user)
    day = in_days(6)
    response = client.post(
        reverse("admin:canvass_shift_add"),
        {
            "campaign": campaign.pk,
            "name": "Admin shift",
            "starts_at_0": day.isoformat(),
            "starts_at_1": "10:00:00",
            "ends_at_0": day.isoformat(),
            "ends_at_1": "12:00:00",
            "place": "Library",
            "capacity": "5",
            "notes": "",
            "public": "on",
            "signups-TOTAL_FORMS": "0",
            "signups-INITIAL_FORMS": "0",
            "signups-MIN_NUM_FORMS": "0",
            "signups-MAX_NUM_FORMS": "1000",
        },
    )
    assert response.status_code == 302, text(response)[:3000]
    shift = Shift.objects.get()
    # Typed as 10:00 in the admin, 10:00 on the dashboard: not the server's 10:00 (11:00 there).
    assert shift.local_start().time() == time(10)
    assert "10:00–12:00" in text(client.get(reverse("campaign_dashboard", args=[campaign.slug])))
    change = client.get(reverse("admin:canvass_shift_change", args=[shift.pk])).content.decode()
    assert 'value="10:00:00"' in change
    listing = text(client.get(reverse("admin:canvass_shift_changelist")))
    assert "10:00 EDT" in listing or "10:00 EST" in listing


# --- Create, repeat, edit, copy, cancel -----------------------------------------


def test_a_repeating_shift_from_the_form_makes_one_shift_per_date(client, campaign, organizer):
    log_in(client, organizer)
    first = in_days(1)
    first += timedelta(days=(5 - first.weekday()) % 7)  # a Saturday
    data = form_data(
        first, repeat_weekdays=["5"], repeat_until=(first + timedelta(days=28)).isoformat()
    )
    response = client.post(reverse("shift_new", args=[campaign.slug]), data)
    assert response.status_code == 302
    shifts = list(Shift.objects.order_by("starts_at"))
    assert len(shifts) == 5
    assert all(
        s.local_start().weekday() == 5 and s.local_start().time() == time(10) for s in shifts
    )


@pytest.mark.parametrize(
    "change, words",
    [
        ({"end_time": "09:00"}, "ends before it starts"),
        ({"date": "2020-01-04"}, "is in the past"),
        ({"capacity": "0"}, "greater than or equal to 1"),
        ({"place_lat": "30.1"}, "both the latitude and the longitude"),
        ({"repeat_weekdays": ["5"]}, "until which day"),
    ],
    ids=["end-before-start", "past", "no-room", "half-pin", "repeat-without-end"],
)
def test_a_bad_shift_form_says_what_is_wrong_and_saves_nothing(
    client, campaign, organizer, change, words
):
    log_in(client, organizer)
    response = client.post(
        reverse("shift_new", args=[campaign.slug]), form_data(in_days(3), **change)
    )
    assert response.status_code == 200
    body = text(response)
    assert words in body and "Nothing was saved yet" in body
    assert 'aria-invalid="true"' in body
    assert not Shift.objects.exists()


def test_editing_below_the_signups_or_a_cancelled_shift_is_refused(client, campaign, organizer):
    shift = ShiftFactory(campaign=campaign, capacity=3)
    for _ in range(2):
        ShiftSignupFactory(shift=shift)
    log_in(client, organizer)
    day = shift.local_start().date()
    url = reverse("shift_edit", args=[campaign.slug, shift.pk])
    start = shift.local_start().strftime("%H:%M")
    end = shift.local_end().strftime("%H:%M")
    response = client.post(url, form_data(day, capacity="1", start_time=start, end_time=end))
    assert "cannot go below 2" in text(response)
    assert Shift.objects.get(pk=shift.pk).capacity == 3

    services.shift_cancel(shift=shift)
    response = client.post(
        url, form_data(day, capacity="5", start_time=start, end_time=end), follow=True
    )
    assert "cancelled, so it cannot be changed" in text(response)
    assert Shift.objects.get(pk=shift.pk).capacity == 3


def test_copy_fills_the_form_a_week_later_and_saves_a_new_shift(client, campaign, organizer):
    turf = TurfFactory(campaign=campaign, name="Maple blocks")
    start = (timezone.now() + timedelta(days=2)).replace(minute=30, second=0, microsecond=0)
    source = ShiftFactory(
        campaign=campaign, name="Weeknight doors", capacity=6, contact=organizer, starts_at=start
    )
    source.turfs.add(turf)
    log_in(client, organizer)
    page = client.get(reverse("shift_copy", args=[campaign.slug, source.pk]))
    form = page.context["form"]
    assert form.initial["date"] == source.local_start().date() + timedelta(days=7)
    assert form.initial["capacity"] == 6 and form.initial["turfs"] == [turf.pk]
    assert form.initial["contact"] == organizer.pk
    data = form_data(
        form.initial["date"],
        name="Weeknight doors",
        capacity="6",
        contact=str(organizer.pk),
        turfs=[str(turf.pk)],
        start_time=form.initial["start_time"].strftime("%H:%M"),
        end_time=form.initial["end_time"].strftime("%H:%M"),
    )
    assert client.post(page.context["action"], data).status_code == 302
    copy = Shift.objects.exclude(pk=source.pk).get()
    assert copy.starts_at == source.starts_at + timedelta(days=7)
    assert list(copy.turfs.all()) == [turf] and copy.contact == organizer


def test_cancelling_from_the_page_asks_first_then_cancels(client, campaign, organizer):
    shift = ShiftFactory(campaign=campaign)
    ShiftSignupFactory(shift=shift)
    log_in(client, organizer)
    url = reverse("shift_cancel", args=[campaign.slug, shift.pk])
    assert "1 person is signed up" in text(client.get(url))
    assert not Shift.objects.get(pk=shift.pk).is_cancelled
    client.post(url)
    assert Shift.objects.get(pk=shift.pk).is_cancelled
    assert "already cancelled" in text(client.post(url, follow=True))


# --- List, week, detail, numbers ------------------------------------------------


def test_the_list_counts_signups_and_filters_by_date_and_place(client, campaign, organizer):
    library = ShiftFactory(
        campaign=campaign, place="Library", capacity=2, starts_at=timezone.now() + timedelta(days=2)
    )
    hall = ShiftFactory(
        campaign=campaign, place="Union hall", starts_at=timezone.now() + timedelta(days=9)
    )
    signups = [ShiftSignupFactory(shift=library) for _ in range(3)]
    services.signup_confirm(signup=signups[0])
    services.signup_check_in(signup=signups[1])
    log_in(client, organizer)
    url = reverse("shift_list", args=[campaign.slug])

    body = client.get(url).content.decode()
    row = re.search(rf'<tr data-shift="{library.pk}".*?</tr>', body, re.S).group(0)
    counts = dict(re.findall(r'data-count="(\w+)">([^<]+)<', row))
    assert counts == {"signed_up": "2 / 2", "waitlisted": "1", "confirmed": "1", "checked_in": "1"}
    assert f'data-shift="{hall.pk}"' in body

    by_place = client.get(url, {"place": "Union hall"}).content.decode()
    assert f'data-shift="{hall.pk}"' in by_place and f'data-shift="{library.pk}"' not in by_place
    until = (timezone.localdate() + timedelta(days=5)).isoformat()
    by_date = client.get(url, {"end": until}).content.decode()
    assert f'data-shift="{library.pk}"' in by_date and f'data-shift="{hall.pk}"' not in by_date
    swapped = client.get(url, {"start": until, "end": timezone.localdate().isoformat()})
    assert "Swap them" in text(swapped)


def test_the_list_shares_the_signup_page_as_a_link_and_a_qr_code(
    client, campaign, organizer, settings
):
    import segno

    settings.SITE_URL = "https://doors.example.org"
    url = f"https://doors.example.org/join/{campaign.slug}/"
    log_in(client, organizer)
    body = client.get(reverse("shift_list", args=[campaign.slug])).content.decode()
    assert f'id="signup-url" type="text" readonly value="{url}"' in body
    assert "<svg" in body and 'aria-label="QR code of the signup page"' in body

    flyer = client.get(reverse("signup_qr", args=[campaign.slug]))
    assert flyer["Content-Type"] == "image/svg+xml"
    assert flyer["Content-Disposition"] == f'attachment; filename="signup-{campaign.slug}.svg"'
    # The code is the signup page's address, module for module.
    expected = segno.make(url, error="m").svg_inline(scale=8, light="#fff")
    assert flyer.content.decode() == expected
    assert client.get(url.removeprefix("https://doors.example.org")).status_code == 200


def test_the_week_calendar_puts_each_shift_on_its_local_day(client, campaign, organizer):
    monday = timezone.localdate() + timedelta(days=7 - timezone.localdate().weekday())
    late = datetime.combine(monday + timedelta(days=2), time(22, 30), tzinfo=campaign.tz)
    shift = ShiftFactory(
        campaign=campaign, name="Late doors", starts_at=late, ends_at=late + timedelta(minutes=60)
    )
    log_in(client, organizer)
    response = client.get(
        reverse("shift_list", args=[campaign.slug]), {"view": "week", "week": monday.isoformat()}
    )
    days = response.context["days"]
    assert [len(d["shifts"]) for d in days] == [0, 0, 1, 0, 0, 0, 0]
    assert days[2]["shifts"][0].pk == shift.pk
    assert "22:30–23:30" in text(response)


def test_the_numbers_page_counts_per_shift_and_per_volunteer(client, campaign, organizer):
    from tests.factories import HouseholdFactory, VisitFactory

    shift = ShiftFactory(campaign=campaign, capacity=2)
    turf = TurfFactory(campaign=campaign, doors=2)
    shift.turfs.add(turf)
    vera = VolunteerFactory(campaign=campaign, first_name="Vera")
    came = ShiftSignupFactory(shift=shift, volunteer=vera)
    flaked = ShiftSignupFactory(shift=shift)
    waiting = ShiftSignupFactory(shift=shift)
    services.signup_confirm(signup=came)
    services.signup_check_in(signup=came)
    assignment, _ = services.shift_hand_out(shift=shift, turf=turf, volunteers=[vera])
    for outcome in ("conversation", "not_home"):
        VisitFactory(
            campaign=campaign,
            assignment=assignment,
            volunteer=vera,
            outcome=outcome,
            household=HouseholdFactory(campaign=campaign),
        )
    services.signup_cancel(signup=ShiftSignupFactory(shift=ShiftFactory(campaign=campaign)))
    services.signups_no_show_sweep(now=shift.ends_at + timedelta(hours=1))
    log_in(client, organizer)

    response = client.get(reverse("shift_numbers", args=[campaign.slug]))
    numbers = next(s for s in response.context["shift_page"] if s.pk == shift.pk).numbers
    assert (numbers.signups, numbers.confirmations, numbers.checked_in, numbers.no_shows) == (
        2,
        1,
        1,
        1,
    )
    assert (
        numbers.waitlisted,
        numbers.show_rate_percent,
        numbers.doors,
        numbers.conversations,
    ) == (1, 50, 2, 1)
    volunteer = next(v for v in response.context["volunteer_page"] if v.pk == vera.pk).numbers
    assert (
        volunteer.signups,
        volunteer.checked_in,
        volunteer.show_rate_percent,
        volunteer.doors,
    ) == (1, 1, 100, 2)
    flaked_numbers = next(
        v for v in response.context["volunteer_page"] if v.pk == flaked.volunteer_id
    ).numbers
    assert flaked_numbers.no_shows == 1 and flaked_numbers.show_rate_percent == 0
    assert waiting.status == Status.WAITLISTED
    # And on the shift's own page.
    detail = client.get(reverse("shift_detail", args=[campaign.slug, shift.pk]))
    assert detail.context["numbers"] == numbers


def test_a_promotion_on_the_numbers(client, campaign, organizer):
    shift = ShiftFactory(campaign=campaign, capacity=1)
    first = ShiftSignupFactory(shift=shift)
    ShiftSignupFactory(shift=shift)
    services.signup_cancel(signup=first)
    log_in(client, organizer)
    detail = client.get(reverse("shift_detail", args=[campaign.slug, shift.pk]))
    assert detail.context["numbers"].promotions == 1
    assert "from the waitlist" in text(detail)


def test_an_organizer_adds_a_volunteer_and_makes_a_new_personal_link(client, campaign, organizer):
    shift = ShiftFactory(campaign=campaign, capacity=1)
    vera, sam = (
        VolunteerFactory(campaign=campaign, first_name="Vera"),
        VolunteerFactory(campaign=campaign, first_name="Sam"),
    )
    log_in(client, organizer)
    add = reverse("shift_signup_add", args=[campaign.slug, shift.pk])
    assert "is signed up" in text(client.post(add, {"volunteer": vera.pk}, follow=True))
    assert "on the waitlist" in text(client.post(add, {"volunteer": sam.pk}, follow=True))
    signup = ShiftSignup.objects.get(volunteer=vera)
    page = client.post(
        reverse("shift_signup_change", args=[campaign.slug, shift.pk, signup.pk]),
        {"action": "new_link"},
    )
    link = page.context["link"]
    token = link.rstrip("/").rsplit("/", 1)[-1]
    assert ShiftSignup.objects.for_token(token).get() == signup
    assert page["Cache-Control"].startswith("max-age=0")


# --- The admin keeps capacity -----------------------------------------------------


def _inline_rows(rows):
    data = {
        "signups-TOTAL_FORMS": str(len(rows)),
        "signups-INITIAL_FORMS": "0",
        "signups-MIN_NUM_FORMS": "0",
        "signups-MAX_NUM_FORMS": "1000",
    }
    for n, (volunteer, status) in enumerate(rows):
        data.update(
            {
                f"signups-{n}-volunteer": volunteer.pk,
                f"signups-{n}-status": status,
                f"signups-{n}-source": "organizer",
            }
        )
    return data


def _admin_shift_post(shift):
    start, end = shift.local_start(), shift.local_end()
    return {
        "name": shift.name,
        "starts_at_0": start.date().isoformat(),
        "starts_at_1": start.strftime("%H:%M:%S"),
        "ends_at_0": end.date().isoformat(),
        "ends_at_1": end.strftime("%H:%M:%S"),
        "place": shift.place,
        "capacity": str(shift.capacity),
        "notes": "",
        "public": "on",
    }


def test_three_signups_on_a_capacity_one_shift_are_refused_in_the_admin(client, eastern):
    campaign, user = eastern
    shift = ShiftFactory(campaign=campaign, capacity=1)
    volunteers = [VolunteerFactory(campaign=campaign) for _ in range(3)]
    log_in(client, user)
    url = reverse("admin:canvass_shift_change", args=[shift.pk])
    data = {**_admin_shift_post(shift), **_inline_rows([(v, "signed_up") for v in volunteers])}
    response = client.post(url, data)
    assert response.status_code == 200
    assert "3 signups would hold a spot on a shift for 1" in text(response)
    assert not ShiftSignup.objects.exists()

    rows = [
        (volunteers[0], "signed_up"),
        (volunteers[1], "waitlisted"),
        (volunteers[2], "waitlisted"),
    ]
    assert client.post(url, {**_admin_shift_post(shift), **_inline_rows(rows)}).status_code == 302
    assert sorted(ShiftSignup.objects.values_list("status", flat=True)) == [
        "signed_up",
        "waitlisted",
        "waitlisted",
    ]


def test_the_signup_admin_refuses_a_spot_on_a_full_shift_and_promotes_on_delete(client, eastern):
    campaign, user = eastern
    shift = ShiftFactory(campaign=campaign, capacity=1)
    held = ShiftSignupFactory(shift=shift)
    newcomer = VolunteerFactory(campaign=campaign)
    log_in(client, user)
    data = {
        "shift": shift.pk,
        "volunteer": newcomer.pk,
        "status": "signed_up",
        "source": "organizer",
    }
    response = client.post(reverse("admin:canvass_shiftsignup_add"), data)
    assert "This shift is full" in text(response)
    assert ShiftSignup.objects.count() == 1

    data["status"] = "waitlisted"
    assert client.post(reverse("admin:canvass_shiftsignup_add"), data).status_code == 302
    waiting = ShiftSignup.objects.get(volunteer=newcomer)
    assert waiting.status == Status.WAITLISTED and waiting.token_hash

    client.post(reverse("admin:canvass_shiftsignup_delete", args=[held.pk]), {"post": "yes"})
    waiting.refresh_from_db()
    assert waiting.status == Status.SIGNED_UP and waiting.promoted_at is not None


def test_the_admin_refuses_a_capacity_below_the_signups(client, eastern):
    campaign, user = eastern
    shift = ShiftFactory(campaign=campaign, capacity=2)
    for _ in range(2):
        ShiftSignupFactory(shift=shift)
    log_in(client, user)
    data = {**_admin_shift_post(shift), "capacity": "1", **_inline_rows([])}
    # The two existing signups come back as initial forms of the inline.
    signups = list(shift.signups.order_by("pk"))
    data.update({"signups-TOTAL_FORMS": "2", "signups-INITIAL_FORMS": "2"})
    for n, signup in enumerate(signups):
        data.update(
            {
                f"signups-{n}-id": signup.pk,
                f"signups-{n}-shift": shift.pk,
                f"signups-{n}-volunteer": signup.volunteer_id,
                f"signups-{n}-status": signup.status,
                f"signups-{n}-source": signup.source,
            }
        )
    response = client.post(reverse("admin:canvass_shift_change", args=[shift.pk]), data)
    assert "cannot go below 2" in text(response)
    assert Shift.objects.get(pk=shift.pk).capacity == 2


def test_the_admin_names_a_foreign_turf_and_a_reminder_with_nowhere_to_go(client, eastern):
    campaign, user = eastern
    shift = ShiftFactory(campaign=campaign)
    elsewhere = TurfFactory(campaign=CampaignFactory())
    no_phone = VolunteerFactory(campaign=campaign, phone="", email="")
    log_in(client, user)
    url = reverse("admin:canvass_shift_change", args=[shift.pk])
    response = client.post(
        url, {**_admin_shift_post(shift), "turfs": [elsewhere.pk], **_inline_rows([])}
    )
    assert "Every turf in the pool must belong to the campaign" in text(response)
    assert not shift.turfs.exists()

    data = {
        "shift": shift.pk,
        "volunteer": no_phone.pk,
        "status": "signed_up",
        "source": "organizer",
        "remind_by_sms": "on",
    }
    response = client.post(reverse("admin:canvass_shiftsignup_add"), data)
    assert response.status_code == 200 and "Text reminders need a phone number" in text(response)
    rows = _inline_rows([(no_phone, "signed_up")])
    rows["signups-0-remind_by_email"] = "on"
    response = client.post(url, {**_admin_shift_post(shift), **rows})
    assert response.status_code == 200 and "Email reminders need an email address" in text(response)
    assert not ShiftSignup.objects.exists()


def test_the_overview_counts_spots_taken_not_the_waitlist(client, campaign, organizer):
    shift = ShiftFactory(campaign=campaign, name="Tiny table", capacity=2)
    for _ in range(3):
        ShiftSignupFactory(shift=shift)
    cancelled = ShiftFactory(campaign=campaign, name="Rained out")
    services.shift_cancel(shift=cancelled)
    log_in(client, organizer)
    body = text(client.get(reverse("campaign_dashboard", args=[campaign.slug])))
    assert "<td>2 / 2</td>" in body
    assert "Rained out" not in body


def test_the_admin_names_a_volunteer_added_twice(client, eastern):
    campaign, user = eastern
    VolunteerFactory(campaign=campaign, first_name="Ana", phone="+15125550142", email="ana@ex.org")
    log_in(client, user)
    url = reverse("admin:canvass_volunteer_add")
    base = {"campaign": campaign.pk, "first_name": "Ana", "language": "en", "active": "on"}

    same_phone = text(client.post(url, {**base, "phone": "(512) 555-0142", "email": ""}))
    assert "Another volunteer of this campaign has this phone number" in same_phone
    same_email = text(client.post(url, {**base, "phone": "", "email": "ANA@ex.org"}))
    assert "Another volunteer of this campaign has this email address" in same_email
    assert campaign.volunteers.count() == 1


def test_the_admin_names_a_signup_moved_to_another_volunteer(client, eastern):
    campaign, user = eastern
    shift = ShiftFactory(campaign=campaign, capacity=3)
    signup = ShiftSignupFactory(shift=shift)
    other = VolunteerFactory(campaign=campaign)
    log_in(client, user)
    data = {
        **_admin_shift_post(shift),
        "signups-TOTAL_FORMS": "1",
        "signups-INITIAL_FORMS": "1",
        "signups-MIN_NUM_FORMS": "0",
        "signups-MAX_NUM_FORMS": "1000",
        "signups-0-id": signup.pk,
        "signups-0-shift": shift.pk,
        "signups-0-volunteer": other.pk,
        "signups-0-status": "signed_up",
        "signups-0-source": "walk_in",
    }
    response = client.post(reverse("admin:canvass_shift_change", args=[shift.pk]), data)
    assert response.status_code == 200
    assert "A signup stays with its volunteer" in text(response)
    assert "where it came from" in text(response)
    signup.refresh_from_db()
    assert signup.volunteer != other and signup.source == "organizer"
