"""The organizer dashboard: overview, turf list and live progress, cutting, the map,
assigning turf and its links, the walk sheet, and who may see or do each."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.contrib.staticfiles import finders
from django.urls import reverse
from django.utils import timezone

from canvass.models import AuditEvent, Membership
from conversations.models import Visit
from tests.factories import (
    PASSWORD,
    CommitmentFactory,
    HouseholdFactory,
    MembershipFactory,
    PersonFactory,
    ShiftFactory,
    TurfFactory,
    TurfStopFactory,
    UserFactory,
    VisitFactory,
    VolunteerFactory,
)
from turf.models import Assignment, Turf, TurfStop
from turf.services import assignment_create, assignment_revoke, turf_assign
from turf.views import convex_hull, segno_svg

pytestmark = pytest.mark.django_db


# --- Personas and a small campaign -------------------------------------------


@pytest.fixture
def volunteer_user(campaign):
    """Someone who logs in but is only a volunteer of the campaign."""
    user = UserFactory(username="val", first_name="Val")
    MembershipFactory(user=user, campaign=campaign, role=Membership.Role.VOLUNTEER)
    return user


@pytest.fixture
def maple(campaign):
    """A three-door turf with coordinates, a resident, and a shift to walk it in."""
    turf = TurfFactory(campaign=campaign, name="Maple blocks")
    for position, (number, lat, lng) in enumerate(
        [("12", 30.2601, -97.7301), ("14", 30.2605, -97.7302), ("16", 30.2603, -97.7309)],
        start=1,
    ):
        household = HouseholdFactory(
            campaign=campaign,
            house_number=number,
            street="Maple Street",
            lat=lat,
            lng=lng,
            precinct="101",
        )
        TurfStopFactory(turf=turf, household=household, position=position)
    return turf


@pytest.fixture
def shift(campaign):
    return ShiftFactory(campaign=campaign, name="Saturday morning")


def as_user(client, user):
    if user is not None:
        client.force_login(user)
    return client


def door_link(token):
    return reverse("assignment_open", args=[token])


def token_in(html):
    match = re.search(r"/a/([A-Za-z0-9_-]+)/", html)
    assert match, "no assignment link on the page"
    return match.group(1)


# --- Who may see and do what --------------------------------------------------

READ_PAGES = [
    ("campaign_dashboard", False),
    ("turf_list", False),
    ("turf_progress", False),
    ("turf_map", False),
    ("turfs_geojson", False),
    ("households_geojson", False),
    ("turf_detail", True),
    ("walk_sheet", True),
]
ORGANIZER_PAGES = [("turf_cut", False), ("assign", False)]


def page_url(name, campaign, turf, needs_turf):
    args = [campaign.slug, turf.pk] if needs_turf else [campaign.slug]
    return reverse(name, args=args)


@pytest.mark.parametrize("name,needs_turf", READ_PAGES + ORGANIZER_PAGES)
def test_organizer_sees_every_page(client, organizer, maple, name, needs_turf):
    response = as_user(client, organizer).get(page_url(name, maple.campaign, maple, needs_turf))
    assert response.status_code == 200


@pytest.mark.parametrize("name,needs_turf", READ_PAGES)
def test_field_lead_may_look(client, field_lead, maple, name, needs_turf):
    response = as_user(client, field_lead).get(page_url(name, maple.campaign, maple, needs_turf))
    assert response.status_code == 200


@pytest.mark.parametrize("name,needs_turf", ORGANIZER_PAGES)
def test_field_lead_may_not_cut_or_assign(client, field_lead, maple, name, needs_turf):
    response = as_user(client, field_lead).get(page_url(name, maple.campaign, maple, needs_turf))
    assert response.status_code == 403


@pytest.mark.parametrize("name,needs_turf", READ_PAGES + ORGANIZER_PAGES)
def test_volunteer_login_is_refused(client, volunteer_user, maple, name, needs_turf):
    response = as_user(client, volunteer_user).get(
        page_url(name, maple.campaign, maple, needs_turf)
    )
    assert response.status_code == 403


@pytest.mark.parametrize("name,needs_turf", READ_PAGES + ORGANIZER_PAGES)
def test_outsider_does_not_learn_the_campaign_exists(client, outsider, maple, name, needs_turf):
    response = as_user(client, outsider).get(page_url(name, maple.campaign, maple, needs_turf))
    assert response.status_code == 404


@pytest.mark.parametrize("name,needs_turf", READ_PAGES + ORGANIZER_PAGES)
def test_anonymous_is_sent_to_log_in(client, maple, name, needs_turf):
    url = page_url(name, maple.campaign, maple, needs_turf)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_organizer_of_another_campaign_cannot_reach_this_turf_through_their_own(
    client, outsider, maple
):
    own = outsider.memberships.get().campaign
    response = as_user(client, outsider).get(reverse("turf_detail", args=[own.slug, maple.pk]))
    assert response.status_code == 404


@pytest.mark.parametrize("persona", ["field_lead", "volunteer_user", "outsider"])
def test_only_organizers_assign_revoke_or_reissue(
    client, request, maple, volunteer, shift, persona
):
    live, token = assignment_create(turf=maple, volunteers=[volunteer], shift=shift)
    user = request.getfixturevalue(persona)
    expected = 404 if persona == "outsider" else 403
    slug = maple.campaign.slug
    as_user(client, user)

    posted = client.post(
        reverse("assign", args=[slug]),
        {"turf": maple.pk, "volunteer": volunteer.pk, "shift": shift.pk},
    )
    revoked = client.post(reverse("assignment_revoke", args=[slug, live.pk]))
    reissued = client.post(reverse("assignment_reissue", args=[slug, live.pk]))
    marked = client.post(reverse("turf_status", args=[slug, maple.pk]), {"status": "done"})
    cut = client.post(reverse("turf_cut", args=[slug]), {"mode": "auto", "auto-doors": 10})

    assert [r.status_code for r in (posted, revoked, reissued, marked, cut)] == [expected] * 5
    assert Assignment.objects.count() == 1
    assert client.get(door_link(token)).status_code == 200
    assert Turf.objects.get(pk=maple.pk).status == Turf.Status.ASSIGNED
    assert not Turf.objects.exclude(pk=maple.pk).exists()


def test_home_links_leads_to_their_dashboards(client, organizer, campaign, volunteer_user):
    html = as_user(client, organizer).get(reverse("home")).content.decode()
    assert reverse("campaign_dashboard", args=[campaign.slug]) in html
    html = as_user(client, volunteer_user).get(reverse("home")).content.decode()
    assert campaign.name in html
    assert reverse("campaign_dashboard", args=[campaign.slug]) not in html


# --- Overview -----------------------------------------------------------------


def test_overview_counts(client, organizer, campaign, maple, volunteer, shift):
    person = PersonFactory(campaign=campaign, household=maple.households.first())
    HouseholdFactory(campaign=campaign, street="Uncut Lane")
    TurfFactory(campaign=campaign, name="Done turf", status=Turf.Status.DONE)
    live, _ = assignment_create(turf=maple, volunteers=[volunteer], shift=shift)
    first, second = maple.households.order_by("stops__position")[:2]
    VisitFactory(campaign=campaign, household=first, assignment=live, outcome="not_home")
    VisitFactory(campaign=campaign, household=first, assignment=live, outcome="conversation")
    conversation = VisitFactory(campaign=campaign, household=second, assignment=live)
    CommitmentFactory(campaign=campaign, visit=conversation, person=person)

    response = as_user(client, organizer).get(reverse("campaign_dashboard", args=[campaign.slug]))

    counts = response.context["counts"]
    assert counts["households"] == 4
    assert counts["people"] == 1
    assert counts["uncut"] == 1
    assert (counts["turfs_open"], counts["turfs_assigned"], counts["turfs_done"]) == (0, 1, 1)
    assert (counts["visits"], counts["doors"], counts["conversations"]) == (3, 2, 2)
    assert (counts["commitments"], counts["commitments_open"]) == (1, 1)
    html = response.content.decode()
    assert "Saturday morning" in html
    assert "/c/eastside-tenants/import/" in html


# --- Turf list, filters and live progress -----------------------------------


@pytest.fixture
def three_turfs(campaign, maple, volunteer, shift):
    """Maple (assigned to Vera), Oak (open, precinct 202) and Pine (done)."""
    assignment_create(turf=maple, volunteers=[volunteer], shift=shift)
    oak = TurfFactory(campaign=campaign, name="Oak corner")
    TurfStopFactory(
        turf=oak,
        household=HouseholdFactory(campaign=campaign, street="Oak Avenue", precinct="202"),
        position=1,
    )
    pine = TurfFactory(campaign=campaign, name="Pine loop", status=Turf.Status.DONE, doors=2)
    return maple, oak, pine


@pytest.mark.parametrize(
    "params,expected",
    [
        ({}, ["Maple blocks", "Oak corner", "Pine loop"]),
        ({"status": "open"}, ["Oak corner"]),
        ({"status": "assigned"}, ["Maple blocks"]),
        ({"status": "done"}, ["Pine loop"]),
        ({"precinct": "202"}, ["Oak corner"]),
        ({"q": "oak ave"}, ["Oak corner"]),
        ({"q": "elm"}, ["Pine loop"]),
        ({"q": "birch"}, []),
        ({"q": "oak"}, ["Oak corner"]),
        ({"q": "maple street"}, ["Maple blocks"]),
        ({"status": "open", "q": "maple"}, []),
    ],
)
def test_turf_filters(client, organizer, campaign, three_turfs, params, expected):
    response = as_user(client, organizer).get(reverse("turf_list", args=[campaign.slug]), params)
    assert [turf.name for turf in response.context["page"]] == expected


def test_turf_filter_by_assignee(client, organizer, campaign, three_turfs, volunteer):
    maple, oak, _ = three_turfs
    someone_else = VolunteerFactory(campaign=campaign)
    assignment_create(turf=oak, volunteers=[someone_else])
    url = reverse("turf_list", args=[campaign.slug])
    as_user(client, organizer)
    names = [t.name for t in client.get(url, {"assignee": volunteer.pk}).context["page"]]
    assert names == ["Maple blocks"]
    names = [t.name for t in client.get(url, {"assignee": someone_else.pk}).context["page"]]
    assert names == ["Oak corner"]


def test_turf_list_shows_size_assignee_and_progress(client, organizer, campaign, three_turfs):
    maple = three_turfs[0]
    live = maple.assignments.get()
    VisitFactory(
        campaign=campaign, household=maple.households.first(), assignment=live, outcome="refused"
    )
    response = as_user(client, organizer).get(reverse("turf_list", args=[campaign.slug]))
    row = next(t for t in response.context["page"] if t.pk == maple.pk)
    assert row.doors == 3
    assert row.progress == {"knocked": 1, "conversations": 0}
    html = response.content.decode()
    assert "Vera Lopez" in html
    assert "1 / 3" in html
    assert reverse("turf_progress", args=[campaign.slug]) in html
    assert "js/turf_progress.js" in html


def test_progress_json_counts_doors_and_conversations(client, field_lead, campaign, three_turfs):
    maple, oak, _ = three_turfs
    live = maple.assignments.get()
    first, second = maple.households.order_by("stops__position")[:2]
    VisitFactory(campaign=campaign, household=first, assignment=live, outcome="not_home")
    VisitFactory(campaign=campaign, household=first, assignment=live, outcome="conversation")
    VisitFactory(campaign=campaign, household=second, assignment=live, outcome="conversation")
    # A conversation away from any turf counts for no turf.
    VisitFactory(campaign=campaign, household=None, place="Flea market")

    response = as_user(client, field_lead).get(
        reverse("turf_progress", args=[campaign.slug]), {"ids": f"{maple.pk},{oak.pk}"}
    )

    assert response.status_code == 200
    turfs = {row["id"]: row for row in response.json()["turfs"]}
    assert set(turfs) == {maple.pk, oak.pk}
    assert turfs[maple.pk] | {"status_label": None} == {
        "id": maple.pk,
        "status": "assigned",
        "status_label": None,
        "doors": 3,
        "knocked": 2,
        "conversations": 2,
    }
    assert (turfs[oak.pk]["knocked"], turfs[oak.pk]["doors"]) == (0, 1)


def test_progress_json_refuses_bad_ids(client, organizer, campaign):
    response = as_user(client, organizer).get(
        reverse("turf_progress", args=[campaign.slug]), {"ids": "1,two"}
    )
    assert response.status_code == 400
    assert "ids" in response.json()["error"]


def test_progress_json_never_shows_another_campaigns_turfs(client, outsider, maple):
    own = outsider.memberships.get().campaign
    TurfFactory(campaign=own, name="Their turf")
    response = as_user(client, outsider).get(
        reverse("turf_progress", args=[own.slug]), {"ids": str(maple.pk)}
    )
    assert response.json()["turfs"] == []


# --- Assigning through the dashboard ------------------------------------------


def assign(client, campaign, **data):
    return client.post(reverse("assign", args=[campaign.slug]), data)


def test_assign_shows_link_and_qr_once(client, organizer, campaign, maple, volunteer, shift):
    response = assign(
        as_user(client, organizer), campaign, turf=maple.pk, volunteer=volunteer.pk, shift=shift.pk
    )

    assert response.status_code == 200
    html = response.content.decode()
    token = token_in(html)
    assert f"{settings.SITE_URL}/a/{token}/" in html
    assert re.search(r'<div class="qr"[^>]*>\s*<svg', html), "no inline SVG QR code"
    assert "Vera Lopez" in html
    assert "no-store" in response["Cache-Control"]
    assignment = Assignment.objects.get()
    assert list(assignment.volunteers.all()) == [volunteer]
    assert assignment.shift == shift
    assert assignment.created_by == organizer
    assert Turf.objects.get(pk=maple.pk).status == Turf.Status.ASSIGNED
    # The token opens the walk list on a phone, and is not on any later page.
    assert client.get(door_link(token)).status_code == 200
    detail = client.get(reverse("turf_detail", args=[campaign.slug, maple.pk]))
    assert token not in detail.content.decode()
    event = AuditEvent.objects.get(action="assignment.create")
    assert (event.actor, event.campaign) == (organizer, campaign)
    assert event.detail["volunteers"] == [volunteer.pk]


def test_qr_code_encodes_the_link(client, organizer, campaign, maple, volunteer):
    response = assign(as_user(client, organizer), campaign, turf=maple.pk, volunteer=volunteer.pk)
    html = response.content.decode()
    token = token_in(html)
    assert segno_svg(f"{settings.SITE_URL}/a/{token}/") in html
    assert segno_svg(f"{settings.SITE_URL}/a/{token}x/") not in html


def test_assign_a_pair(client, organizer, campaign, maple, volunteer):
    partner = VolunteerFactory(campaign=campaign, first_name="Pat", last_name="Okafor")
    response = assign(
        as_user(client, organizer),
        campaign,
        turf=maple.pk,
        volunteer=volunteer.pk,
        partner=partner.pk,
    )
    assert response.status_code == 200
    assert set(Assignment.objects.get().volunteers.all()) == {volunteer, partner}
    assert "Pat Okafor" in response.content.decode()


def test_assign_refuses_a_pair_of_one(client, organizer, campaign, maple, volunteer):
    response = assign(
        as_user(client, organizer),
        campaign,
        turf=maple.pk,
        volunteer=volunteer.pk,
        partner=volunteer.pk,
    )
    assert response.status_code == 200
    assert "Pick someone else" in response.content.decode()
    assert not Assignment.objects.exists()


def test_assign_refuses_another_campaigns_volunteer_or_turf(
    client, organizer, campaign, maple, volunteer, outsider
):
    other = outsider.memberships.get().campaign
    stranger = VolunteerFactory(campaign=other)
    their_turf = TurfFactory(campaign=other, doors=1)
    as_user(client, organizer)
    first = assign(client, campaign, turf=maple.pk, volunteer=stranger.pk)
    second = assign(client, campaign, turf=their_turf.pk, volunteer=volunteer.pk)
    assert "Select a valid choice" in first.content.decode()
    assert "Select a valid choice" in second.content.decode()
    assert not Assignment.objects.exists()


def test_assign_form_offers_only_coming_shifts_and_unfinished_turfs(
    client, organizer, campaign, maple, shift
):
    past = ShiftFactory(
        campaign=campaign,
        name="Last week",
        starts_at=timezone.now() - timedelta(days=7),
        ends_at=timezone.now() - timedelta(days=7) + timedelta(hours=3),
    )
    TurfFactory(campaign=campaign, name="Finished turf", status=Turf.Status.DONE)
    form = as_user(client, organizer).get(reverse("assign", args=[campaign.slug])).context["form"]
    assert list(form.fields["shift"].queryset) == [shift]
    assert past not in form.fields["shift"].queryset
    assert [t.name for t in form.fields["turf"].queryset] == ["Maple blocks"]


@pytest.fixture
def live_link(client, organizer, campaign, maple, volunteer, shift):
    """An assignment made through the dashboard: (assignment, token)."""
    html = assign(
        as_user(client, organizer), campaign, turf=maple.pk, volunteer=volunteer.pk, shift=shift.pk
    ).content.decode()
    return Assignment.objects.get(), token_in(html)


def test_revoke_button_ends_the_link_at_once(client, organizer, campaign, maple, live_link):
    assignment, token = live_link
    response = client.post(reverse("assignment_revoke", args=[campaign.slug, assignment.pk]))
    assert response.status_code == 302
    ended = client.get(door_link(token))
    assert ended.status_code == 410
    assert "This link has ended" in ended.content.decode()
    assignment.refresh_from_db()
    assert assignment.revoked_at is not None
    # With no live link left, the turf shows up as open for assigning again.
    assert Turf.objects.get(pk=maple.pk).status == Turf.Status.OPEN
    event = AuditEvent.objects.get(action="assignment.revoke")
    assert (event.actor, event.target) == (organizer, f"assignment:{assignment.pk}")
    # A second press changes nothing and writes no second audit event.
    client.post(reverse("assignment_revoke", args=[campaign.slug, assignment.pk]))
    assert AuditEvent.objects.filter(action="assignment.revoke").count() == 1


def test_link_ends_twelve_hours_after_the_shift(client, live_link, shift):
    assignment, token = live_link
    assert assignment.expires_at == shift.ends_at + timedelta(hours=12)
    with time_machine.travel(shift.ends_at + timedelta(hours=11, minutes=59)):
        assert client.get(door_link(token)).status_code == 200
    with time_machine.travel(shift.ends_at + timedelta(hours=12, seconds=1)):
        assert client.get(door_link(token)).status_code == 410


def test_turf_page_shows_expired_and_revoked_links(client, organizer, campaign, maple, live_link):
    assignment, _ = live_link
    url = reverse("turf_detail", args=[campaign.slug, maple.pk])
    with time_machine.travel(assignment.expires_at + timedelta(minutes=1)):
        assert "Expired" in client.get(url).content.decode()
    assignment_revoke(assignment=assignment)
    assert "Turned off" in client.get(url).content.decode()


def test_new_link_replaces_a_lost_one(client, organizer, campaign, maple, live_link, volunteer):
    old, old_token = live_link
    response = client.post(reverse("assignment_reissue", args=[campaign.slug, old.pk]))
    assert response.status_code == 200
    new_token = token_in(response.content.decode())
    assert new_token != old_token
    assert client.get(door_link(old_token)).status_code == 410
    assert client.get(door_link(new_token)).status_code == 200
    new = Assignment.objects.exclude(pk=old.pk).get()
    assert (list(new.volunteers.all()), new.shift, new.turf) == ([volunteer], old.shift, maple)
    assert Turf.objects.get(pk=maple.pk).status == Turf.Status.ASSIGNED
    # A revoked link cannot be reissued: the turf is assigned again instead.
    again = client.post(reverse("assignment_reissue", args=[campaign.slug, old.pk]), follow=True)
    assert "already ended" in again.content.decode()
    assert Assignment.objects.count() == 2


def test_reassigning_mid_shift_keeps_every_visit(
    client, organizer, campaign, maple, live_link, shift
):
    old, old_token = live_link
    doors = list(maple.households.order_by("stops__position"))
    visits = [
        VisitFactory(campaign=campaign, household=doors[0], assignment=old, outcome="not_home"),
        VisitFactory(campaign=campaign, household=doors[1], assignment=old),
    ]
    relief = VolunteerFactory(campaign=campaign, first_name="Rae")

    html = assign(
        client, campaign, turf=maple.pk, volunteer=relief.pk, shift=shift.pk
    ).content.decode()

    new_token = token_in(html)
    assert "earlier link for this turf and shift is turned off" in html
    assert client.get(door_link(old_token)).status_code == 410
    assert client.get(door_link(new_token)).status_code == 200
    old.refresh_from_db()
    assert old.revoked_at is not None
    assert Visit.objects.filter(pk__in=[v.pk for v in visits], assignment=old).count() == 2
    new = Assignment.objects.exclude(pk=old.pk).get()
    VisitFactory(campaign=campaign, household=doors[2], assignment=new, outcome="refused")
    progress = client.get(reverse("turf_progress", args=[campaign.slug])).json()["turfs"]
    assert progress[0]["knocked"] == 3
    assert progress[0]["conversations"] == 1


def test_assigning_for_another_shift_leaves_the_first_link_live(campaign, maple, volunteer):
    saturday = ShiftFactory(campaign=campaign)
    sunday = ShiftFactory(campaign=campaign, starts_at=saturday.starts_at + timedelta(days=1))
    first, _ = turf_assign(turf=maple, volunteers=[volunteer], shift=saturday)
    second, _ = turf_assign(turf=maple, volunteers=[volunteer], shift=sunday)
    assert set(Assignment.objects.live()) == {first, second}


def test_a_finished_turf_is_not_assigned(campaign, maple, volunteer):
    from django.core.exceptions import ValidationError

    Turf.objects.filter(pk=maple.pk).update(status=Turf.Status.DONE)
    with pytest.raises(ValidationError, match="marked done"):
        turf_assign(turf=maple, volunteers=[volunteer])
    assert not Assignment.objects.exists()


def test_mark_done_and_reopen(client, organizer, campaign, maple, live_link):
    url = reverse("turf_status", args=[campaign.slug, maple.pk])
    client.post(url, {"status": "done"})
    assert Turf.objects.get(pk=maple.pk).status == Turf.Status.DONE
    client.post(url, {"status": "open"})
    # Its link is still live, so it is assigned rather than open.
    assert Turf.objects.get(pk=maple.pk).status == Turf.Status.ASSIGNED
    response = client.post(url, {"status": "assigned"}, follow=True)
    assert "can only be marked done or reopened" in response.content.decode()


# --- Walk sheet -----------------------------------------------------------------


def test_walk_sheet_lists_doors_in_walk_order_with_outcome_boxes(client, field_lead, campaign):
    turf = TurfFactory(campaign=campaign, name="Pecan Street blocks")
    # Made out of walking order, so an ordering by id or address would show.
    numbers = {3: "101", 1: "909", 2: "505"}
    households = {}
    for position, number in numbers.items():
        households[position] = HouseholdFactory(
            campaign=campaign, house_number=number, street="Pecan Street"
        )
        TurfStopFactory(turf=turf, household=households[position], position=position)
    PersonFactory(campaign=campaign, household=households[2], first_name="Rosa", last_name="Diaz")
    PersonFactory(
        campaign=campaign,
        household=households[2],
        first_name="Sam",
        last_name="Diaz",
        do_not_contact=True,
    )

    response = as_user(client, field_lead).get(reverse("walk_sheet", args=[campaign.slug, turf.pk]))

    assert response.status_code == 200
    html = response.content.decode()
    offsets = [html.index(f"{numbers[p]} Pecan Street") for p in sorted(numbers)]
    assert offsets == sorted(offsets)
    assert html.index("Rosa Diaz") > offsets[1]
    assert html.index("Rosa Diaz") < offsets[2]
    assert "Sam Diaz <em>(do not contact)</em>" in html
    for label in [
        "Not home",
        "Refused",
        "Moved",
        "Inaccessible",
        "Come back later",
        "Conversation",
    ]:
        assert f'<th class="box-col">{label}</th>' in html
    assert html.count('<span class="box"') == 3 * 6
    assert html.count('<td class="notes">') == 3
    assert "css/dashboard.css" in html


def test_walk_sheet_names_who_walks_it(client, organizer, campaign, maple, live_link):
    html = client.get(reverse("walk_sheet", args=[campaign.slug, maple.pk])).content.decode()
    assert "Vera Lopez" in html
    assert "Saturday morning" in html


def test_dashboard_css_prints_the_walk_sheet_without_the_page_chrome():
    css = open(finders.find("css/dashboard.css"), encoding="utf-8").read()
    print_rules = css[css.index("@media print") :]
    assert ".top" in print_rules
    assert "display: none" in print_rules


# --- Map -----------------------------------------------------------------------


def test_map_page_loads_leaflet_from_the_app(client, organizer, campaign, maple):
    html = as_user(client, organizer).get(reverse("turf_map", args=[campaign.slug])).content
    html = html.decode()
    for asset in ["leaflet/leaflet.js", "leaflet/leaflet.css", "js/turf_map.js"]:
        assert f"{settings.STATIC_URL}{asset}" in html
        assert finders.find(asset), f"{asset} is not among the static files"
    assert "//" not in re.sub(r"https?://[^\"']*openstreetmap[^\"']*", "", html.split("<main>")[1])
    assert reverse("turfs_geojson", args=[campaign.slug]) in html
    assert reverse("households_geojson", args=[campaign.slug]) in html


def test_map_tiles_are_a_setting(client, organizer, campaign, settings):
    settings.MAP_TILES_URL = "https://tiles.example.org/{z}/{x}/{y}.png"
    html = as_user(client, organizer).get(reverse("turf_map", args=[campaign.slug])).content
    assert b'data-tiles-url="https://tiles.example.org/{z}/{x}/{y}.png"' in html
    settings.MAP_TILES_URL = ""
    html = client.get(reverse("turf_map", args=[campaign.slug])).content
    assert b'data-tiles-url=""' in html


def test_turfs_geojson_outlines_each_turf(client, organizer, campaign, maple):
    line = TurfFactory(campaign=campaign, name="Two doors")
    for position, lat in enumerate([30.27, 30.28], start=1):
        TurfStopFactory(
            turf=line,
            household=HouseholdFactory(campaign=campaign, lat=lat, lng=-97.74),
            position=position,
        )
    TurfFactory(campaign=campaign, name="No coordinates", doors=2)

    data = as_user(client, organizer).get(reverse("turfs_geojson", args=[campaign.slug])).json()

    assert data["type"] == "FeatureCollection"
    features = {f["properties"]["name"]: f for f in data["features"]}
    assert set(features) == {"Maple blocks", "Two doors"}
    outline = features["Maple blocks"]["geometry"]
    assert outline["type"] == "Polygon"
    ring = outline["coordinates"][0]
    assert ring[0] == ring[-1]
    assert len(ring) == 4
    assert features["Maple blocks"]["properties"]["doors"] == 3
    assert features["Maple blocks"]["properties"]["url"] == reverse(
        "turf_detail", args=[campaign.slug, maple.pk]
    )
    assert features["Two doors"]["geometry"]["type"] == "LineString"


def test_households_geojson_returns_points_with_their_turf(client, organizer, campaign, maple):
    HouseholdFactory(campaign=campaign, lat=30.3, lng=-97.8, precinct="202")
    HouseholdFactory(campaign=campaign)  # not geocoded: not on the map
    url = reverse("households_geojson", args=[campaign.slug])
    as_user(client, organizer)

    data = client.get(url).json()
    assert data["truncated"] is False
    assert len(data["features"]) == 4
    point = next(f for f in data["features"] if f["properties"]["address"] == "12 Maple Street")
    assert point["geometry"] == {"type": "Point", "coordinates": [-97.7301, 30.2601]}
    assert point["properties"]["turf"] == maple.pk

    assert len(client.get(url, {"turf": maple.pk}).json()["features"]) == 3
    assert len(client.get(url, {"precinct": "202"}).json()["features"]) == 1
    assert client.get(url, {"turf": "x"}).status_code == 400


def test_households_geojson_is_capped(client, organizer, campaign, maple, monkeypatch):
    monkeypatch.setattr("turf.views.MAP_HOUSEHOLD_LIMIT", 2)
    data = (
        as_user(client, organizer).get(reverse("households_geojson", args=[campaign.slug])).json()
    )
    assert data["truncated"] is True
    assert len(data["features"]) == 2


def test_convex_hull_drops_inner_points():
    square = [(0, 0), (2, 0), (2, 2), (0, 2)]
    inner = [(1, 1), (0.5, 1.5), (1, 0)]
    assert sorted(convex_hull(square + inner)) == sorted(square)
    assert convex_hull([(1, 1), (1, 1)]) == [(1, 1)]


# --- Cutting --------------------------------------------------------------------


@pytest.fixture
def street_of_households(campaign):
    return [
        HouseholdFactory(
            campaign=campaign,
            house_number=str(100 + 2 * i),
            street="Cedar Street" if i < 12 else "Birch Road",
            precinct="301" if i < 12 else "302",
            lat=30.25 + i * 0.0005,
            lng=-97.75,
        )
        for i in range(20)
    ]


def test_auto_cut_form_cuts_turfs(client, organizer, campaign, street_of_households):
    response = as_user(client, organizer).post(
        reverse("turf_cut", args=[campaign.slug]),
        {"mode": "auto", "auto-doors": 10, "auto-name_prefix": "East", "auto-precinct": ""},
    )
    assert response.status_code == 302
    turfs = Turf.objects.filter(campaign=campaign)
    assert turfs.count() == 2
    assert all(t.name.startswith("East") for t in turfs)
    assert TurfStop.objects.filter(turf__campaign=campaign).count() == 20


def test_auto_cut_of_one_precinct(client, organizer, campaign, street_of_households):
    as_user(client, organizer).post(
        reverse("turf_cut", args=[campaign.slug]),
        {"mode": "auto", "auto-doors": 12, "auto-name_prefix": "Turf", "auto-precinct": "301"},
    )
    stops = TurfStop.objects.filter(turf__campaign=campaign)
    assert stops.count() == 12
    assert set(stops.values_list("household__precinct", flat=True)) == {"301"}


def test_manual_cut_by_street(client, organizer, campaign, street_of_households):
    response = as_user(client, organizer).post(
        reverse("turf_cut", args=[campaign.slug]),
        {"mode": "manual", "manual-name": "Birch walk", "manual-street": "birch road"},
    )
    assert response.status_code == 302
    turf = Turf.objects.get(name="Birch walk")
    assert set(turf.households.values_list("street", flat=True)) == {"Birch Road"}
    assert turf.households.count() == 8


def test_manual_cut_needs_a_street_or_precinct(client, organizer, campaign, street_of_households):
    response = as_user(client, organizer).post(
        reverse("turf_cut", args=[campaign.slug]), {"mode": "manual", "manual-name": "Nowhere"}
    )
    assert response.status_code == 200
    assert "Pick a street, a precinct or both." in response.content.decode()
    assert not Turf.objects.exists()


def test_cut_errors_are_shown_and_nothing_is_written(client, organizer, campaign):
    response = as_user(client, organizer).post(
        reverse("turf_cut", args=[campaign.slug]),
        {"mode": "auto", "auto-doors": 50, "auto-name_prefix": "Turf"},
    )
    assert response.status_code == 200
    assert "no households" in response.content.decode()
    assert not Turf.objects.exists()


def test_login_then_dashboard(client, organizer, campaign):
    response = client.post(
        reverse("login"), {"username": organizer.username, "password": PASSWORD}, follow=True
    )
    assert reverse("campaign_dashboard", args=[campaign.slug]) in response.content.decode()


# --- Queries do not grow with the number of turfs ------------------------------


def _queries(client, url):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def _assigned_turfs(campaign, count):
    for _ in range(count):
        turf = TurfFactory(campaign=campaign, doors=2)
        shift = ShiftFactory(campaign=campaign)
        pair = VolunteerFactory.create_batch(2, campaign=campaign)
        assignment, _ = assignment_create(turf=turf, volunteers=pair, shift=shift)
        VisitFactory(campaign=campaign, household=turf.households.first(), assignment=assignment)


@pytest.mark.parametrize("name", ["turf_list", "campaign_dashboard", "turf_progress"])
def test_dashboard_queries_do_not_grow_with_turfs(client, organizer, campaign, name):
    url = reverse(name, args=[campaign.slug])
    as_user(client, organizer)
    _assigned_turfs(campaign, 2)
    few = _queries(client, url)
    _assigned_turfs(campaign, 8)
    assert _queries(client, url) == few


def test_turf_list_says_whose_link_ended(client, organizer, campaign, maple, live_link):
    assignment, _ = live_link
    url = reverse("turf_list", args=[campaign.slug])
    with time_machine.travel(assignment.expires_at + timedelta(minutes=1)):
        html = client.get(url).content.decode()
    assert "Vera Lopez · link ended" in html
    assert "Vera Lopez · link ended" not in client.get(url).content.decode()


def test_field_lead_sees_no_buttons_that_change_things(client, field_lead, organizer, campaign):
    url = reverse("campaign_dashboard", args=[campaign.slug])
    cut = reverse("turf_cut", args=[campaign.slug])
    assert cut not in as_user(client, field_lead).get(url).content.decode()
    assert cut in as_user(client, organizer).get(url).content.decode()


def test_turf_outline_holds_every_household(client, organizer, campaign):
    import random

    rng = random.Random(7)
    turf = TurfFactory(campaign=campaign, name="Scattered")
    doors = [(30.26 + rng.uniform(0, 0.004), -97.74 + rng.uniform(0, 0.004)) for _ in range(40)]
    for position, (lat, lng) in enumerate(doors, start=1):
        household = HouseholdFactory(campaign=campaign, lat=lat, lng=lng)
        TurfStopFactory(turf=turf, household=household, position=position)

    data = as_user(client, organizer).get(reverse("turfs_geojson", args=[campaign.slug])).json()

    ring = data["features"][0]["geometry"]["coordinates"][0]
    for lat, lng in doors:
        # Counter-clockwise ring: every door is left of (or on) every edge, give or take rounding.
        for (x1, y1), (x2, y2) in zip(ring, ring[1:], strict=False):
            assert (x2 - x1) * (lat - y1) - (y2 - y1) * (lng - x1) >= -1e-8
    # And the outline stays close: no corner is more than a band (about 22 m) outside the doors.
    lats = [lat for lat, _ in doors]
    assert min(y for _, y in ring) >= min(lats) - 1e-6
    assert max(y for _, y in ring) <= max(lats) + 1e-6


def test_an_expired_link_is_not_reissued(client, organizer, campaign, live_link):
    assignment, _ = live_link
    with time_machine.travel(assignment.expires_at + timedelta(minutes=1)):
        response = client.post(
            reverse("assignment_reissue", args=[campaign.slug, assignment.pk]), follow=True
        )
    assert "already ended" in response.content.decode()
    assert Assignment.objects.count() == 1


@pytest.mark.parametrize(
    "params",
    [
        {"turf": "²"},
        {"turf": "١٢"},
        {"turf": "99999999999999999999999"},
        {"turf": "-1"},
        {"precinct": "\x00"},
        {"precinct": "P" * 61},
    ],
)
def test_households_geojson_refuses_odd_filters_with_a_400(
    client, organizer, campaign, maple, params
):
    response = as_user(client, organizer).get(
        reverse("households_geojson", args=[campaign.slug]), params
    )
    assert response.status_code == 400
    assert next(iter(params)) in response.json()["error"]


@pytest.mark.parametrize("ids", ["²", "1,²", "99999999999999999999", ",".join(["1"] * 101)])
def test_progress_json_refuses_odd_ids_with_a_400(client, organizer, campaign, maple, ids):
    response = as_user(client, organizer).get(
        reverse("turf_progress", args=[campaign.slug]), {"ids": ids}
    )
    assert response.status_code == 400
    assert "turf numbers" in response.json()["error"]


def test_a_partly_located_cut_says_which_turfs_go_by_street(client, organizer, campaign):
    located = [
        HouseholdFactory(
            campaign=campaign, street="Cedar Street", lat=30.25 + i * 0.0005, lng=-97.75
        )
        for i in range(10)
    ]
    waiting = [HouseholdFactory(campaign=campaign, street="Birch Road") for _ in range(10)]
    client = as_user(client, organizer)

    response = client.post(
        reverse("turf_cut", args=[campaign.slug]),
        {"mode": "auto", "auto-doors": 10, "auto-name_prefix": "East", "auto-precinct": ""},
        follow=True,
    )

    page = response.content.decode()
    assert "Cut 2 turfs. 1 turf is cut on the map; 1 turf holds the households not on the map" in (
        page
    )
    by_street = Turf.objects.get(stops__household=waiting[0])
    on_map = Turf.objects.get(stops__household=located[0])
    assert set(by_street.households.all()) == set(waiting)
    row = re.search(rf'data-turf-id="{by_street.pk}".*?</tr>', page, re.S).group()
    assert "by street" in row
    row = re.search(rf'data-turf-id="{on_map.pk}".*?</tr>', page, re.S).group()
    assert "by street" not in row and "not on the map" not in row
