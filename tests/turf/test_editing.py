"""Editing turf by hand (turf.editing and the map's endpoints): make, move, split, merge."""

import json

import pytest
from django.urls import reverse

from canvass.models import AuditEvent
from conversations.models import Visit
from tests.factories import (
    HouseholdFactory,
    PersonFactory,
    TurfFactory,
    TurfStopFactory,
    VisitFactory,
)
from turf import editing
from turf.cutting import walk_order
from turf.models import Assignment, Turf, TurfStop
from turf.views import turf_progress

pytestmark = pytest.mark.django_db

LAT, LNG = 30.26, -97.73
STEP = 0.0002  # about 22 m between doors


def door(campaign, number, street="Elm St", *, row=0, located=True, **extra):
    """A household at `number` on `street`; located ones along the street, a row per street."""
    at = {}
    if located:
        n = int(number)
        # Odd doors on one side of the street, even ones across it; a gap between blocks.
        at = {
            "lat": LAT + row * STEP * 10 + (0 if n % 2 else STEP),
            "lng": LNG + (n % 100) * STEP / 2 + (n // 100) * STEP * 30,
        }
    return HouseholdFactory(
        campaign=campaign, house_number=str(number), street=street, **at, **extra
    )


def turf_of(campaign, name, households, **kwargs):
    turf = TurfFactory(campaign=campaign, name=name, **kwargs)
    for position, household in enumerate(households):
        TurfStopFactory(turf=turf, household=household, position=position)
    return turf


def box(west, south, east, north):
    return {
        "type": "Polygon",
        "coordinates": [
            [[west, south], [east, south], [east, north], [west, north], [west, south]]
        ],
    }


def around(households, pad=STEP / 4):
    lats = [h.lat for h in households]
    lngs = [h.lng for h in households]
    return box(min(lngs) - pad, min(lats) - pad, max(lngs) + pad, max(lats) + pad)


def walk(turf):
    return list(
        TurfStop.objects.filter(turf=turf).order_by("position").values_list("position", "household")
    )


def post(client, name, body, *args):
    url = reverse(name, args=[*args])
    return client.post(url, json.dumps(body), content_type="application/json")


@pytest.fixture
def town(campaign):
    """Elm St 101-109 (odd side) and 102-108 (even) on turf A, 201-205 on turf B."""
    elm_100 = [door(campaign, n) for n in (101, 103, 105, 107, 109, 102, 104, 106, 108)]
    elm_200 = [door(campaign, n) for n in (201, 203, 205)]
    a = turf_of(campaign, "A", elm_100)
    b = turf_of(campaign, "B", elm_200)
    return {"a": a, "b": b, "elm_100": elm_100, "elm_200": elm_200}


@pytest.fixture
def organizer_client(client, organizer):
    client.force_login(organizer)
    return client


def handed_out(turf, volunteer, organizer):
    from turf.services import assignment_create

    assignment, _token = assignment_create(turf=turf, volunteers=[volunteer], created_by=organizer)
    return assignment


# --- Picking -------------------------------------------------------------------------


def test_an_outline_picks_the_located_doors_inside_it(campaign, town):
    odd = town["elm_100"][:3]
    door(campaign, 111, located=False)  # not on the map: a drawing cannot pick it
    picked = editing.households_pick(campaign=campaign, polygon=around(odd))
    assert [h.pk for h in picked] == sorted(h.pk for h in odd)


def test_a_hole_in_the_outline_leaves_its_doors_out(campaign, town):
    doors = town["elm_100"][:5]
    outer = around(doors)["coordinates"][0]
    middle = doors[2]
    pad = STEP / 8
    hole = [
        [middle.lng - pad, middle.lat - pad],
        [middle.lng - pad, middle.lat + pad],
        [middle.lng + pad, middle.lat + pad],
        [middle.lng + pad, middle.lat - pad],
        [middle.lng - pad, middle.lat - pad],
    ]
    picked = editing.households_pick(
        campaign=campaign, polygon={"type": "Polygon", "coordinates": [outer, hole]}
    )
    assert middle.pk not in {h.pk for h in picked}
    assert len(picked) == 4


def test_whole_faces_take_one_side_of_one_block_with_its_unlocated_doors(campaign, town):
    hidden = door(campaign, 111, located=False)
    other_side = door(campaign, 110, located=False)
    picked = editing.households_pick(
        campaign=campaign, household_ids=[town["elm_100"][0].pk], whole_faces=True
    )
    numbers = sorted(int(h.house_number) for h in picked)
    assert numbers == [101, 103, 105, 107, 109, 111]
    assert hidden.pk in {h.pk for h in picked} and other_side.pk not in {h.pk for h in picked}


@pytest.mark.parametrize(
    "polygon, says",
    [
        ({"type": "Point", "coordinates": [LNG, LAT]}, "GeoJSON Polygon"),
        ("not geojson", "GeoJSON Polygon"),
        ({"type": "Polygon", "coordinates": []}, "no coordinates"),
        ({"type": "Polygon", "coordinates": [[[LNG, LAT], [LNG, LAT + 1]]]}, "three corners"),
        ({"type": "Polygon", "coordinates": [[[LNG, 95], [LNG, 1], [1, 1]]]}, "off the globe"),
        ({"type": "Polygon", "coordinates": [[["a", 1], [2, 1], [1, 2]]]}, "numbers"),
        ({"type": "Polygon", "coordinates": [[[float("nan"), 1], [2, 1], [1, 2]]]}, "numbers"),
    ],
)
def test_a_bad_outline_is_refused_with_what_is_wrong(campaign, polygon, says):
    with pytest.raises(editing.ValidationError, match=says):
        editing.polygon_parse(polygon)


def test_the_pick_endpoint_says_what_the_pick_would_take(organizer_client, campaign, town):
    response = post(
        organizer_client,
        "turf_edit_select",
        {"polygon": around(town["elm_100"][:2])},
        campaign.slug,
    )
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["doors"] == 2
    assert data["turfs"] == [
        {"id": town["a"].pk, "name": "A", "picked": 2, "doors": 9, "handed_out": False}
    ]


def test_an_empty_pick_is_a_clear_400_and_changes_nothing(organizer_client, campaign, town):
    before = walk(town["a"])
    far = box(LNG + 1, LAT + 1, LNG + 1.001, LAT + 1.001)
    response = post(
        organizer_client, "turf_edit_create", {"polygon": far, "name": "Nowhere"}, campaign.slug
    )
    assert response.status_code == 400
    assert "No households are inside that outline" in response.json()["error"]
    assert not Turf.objects.filter(name="Nowhere").exists()
    assert walk(town["a"]) == before


@pytest.mark.parametrize(
    "body, says",
    [
        (b"not json", "JSON object"),
        (b"[1, 2]", "JSON object"),
        (b"{}", "Draw an outline"),
        (b'{"households": "1,2"}', "list of household numbers"),
        (b'{"households": [1], "whole_faces": "yes"}', "true or false"),
    ],
)
def test_a_bad_body_is_a_400(organizer_client, campaign, body, says):
    url = reverse("turf_edit_select", args=[campaign.slug])
    response = organizer_client.post(url, body, content_type="application/json")
    assert response.status_code == 400
    assert says in response.json()["error"]


def test_another_campaigns_households_cannot_be_picked(organizer_client, campaign, outsider):
    theirs = door(outsider.memberships.get().campaign, 101)
    response = post(
        organizer_client, "turf_edit_select", {"households": [theirs.pk]}, campaign.slug
    )
    assert response.status_code == 400
    assert "not in this campaign" in response.json()["error"]


# --- Making a turf and moving doors ------------------------------------------------------


def test_a_drawn_turf_takes_its_doors_off_their_turf_in_walk_order(
    organizer_client, campaign, town, organizer
):
    elm_200 = town["elm_200"]
    response = post(
        organizer_client,
        "turf_edit_create",
        {"polygon": around(elm_200[:2]), "name": "Elm 200s"},
        campaign.slug,
    )
    assert response.status_code == 200, response.content
    new = Turf.objects.get(name="Elm 200s")
    assert [h for _, h in walk(new)] == [elm_200[0].pk, elm_200[1].pk]
    assert walk(town["b"]) == [(0, elm_200[2].pk)]
    doors = {t["name"]: t["doors"] for t in response.json()["turfs"]}
    assert doors == {"A": 9, "B": 1, "Elm 200s": 2}
    event = AuditEvent.objects.get(action="turf.create_drawn")
    assert event.actor == organizer and event.detail["households"] == 2


def test_a_drawn_turf_that_empties_an_open_turf_deletes_it(organizer_client, campaign, town):
    response = post(
        organizer_client,
        "turf_edit_create",
        {"polygon": around(town["elm_200"]), "name": "All of B"},
        campaign.slug,
    )
    assert response.status_code == 200
    assert "Left empty and deleted: “B”" in response.json()["message"]
    assert not Turf.objects.filter(pk=town["b"].pk).exists()


def test_a_taken_name_is_refused_and_nothing_moves(organizer_client, campaign, town):
    before = walk(town["b"])
    response = post(
        organizer_client,
        "turf_edit_create",
        {"polygon": around(town["elm_200"]), "name": "A"},
        campaign.slug,
    )
    assert response.status_code == 400
    assert "already exists" in response.json()["error"]
    assert walk(town["b"]) == before


def test_moving_doors_rewrites_both_walk_lists(organizer_client, campaign, town):
    moving = town["elm_100"][-2:]  # 106 and 108
    response = post(
        organizer_client,
        "turf_edit_move",
        {"households": [h.pk for h in moving], "to_turf": town["b"].pk},
        campaign.slug,
    )
    assert response.status_code == 200, response.content
    a, b = walk(town["a"]), walk(town["b"])
    assert [p for p, _ in a] == list(range(7)) and [p for p, _ in b] == list(range(5))
    assert {h.pk for h in moving} <= {h for _, h in b}
    # Both walk lists are in the order the cutter's walk order gives those doors.
    for turf in (town["a"], town["b"]):
        held = [stop.household for stop in TurfStop.objects.filter(turf=turf)]
        assert [h for _, h in walk(turf)] == [h.pk for h in walk_order(held)]


def test_moving_whole_block_faces(organizer_client, campaign, town):
    response = post(
        organizer_client,
        "turf_edit_move",
        {"households": [town["elm_100"][-1].pk], "whole_faces": True, "to_turf": town["b"].pk},
        campaign.slug,
    )
    assert response.status_code == 200
    even = {h.pk for h in town["elm_100"] if int(h.house_number) % 2 == 0}
    assert {h for _, h in walk(town["b"])} >= even
    assert {h for _, h in walk(town["a"])}.isdisjoint(even)


def test_moving_to_another_campaigns_turf_is_404(organizer_client, campaign, town, outsider):
    theirs = TurfFactory(campaign=outsider.memberships.get().campaign, doors=1)
    response = post(
        organizer_client,
        "turf_edit_move",
        {"households": [town["elm_100"][0].pk], "to_turf": theirs.pk},
        campaign.slug,
    )
    assert response.status_code == 404
    assert TurfStop.objects.filter(turf=theirs).count() == 1


# --- Handed-out turfs: ask first, keep every visit -----------------------------------------


def test_a_handed_out_turf_changes_only_when_confirmed_and_keeps_its_visits(
    organizer_client, campaign, town, volunteer, organizer
):
    a = town["a"]
    link = handed_out(a, volunteer, organizer)
    moving = town["elm_100"][0]
    person = PersonFactory(campaign=campaign, household=moving)
    visit = VisitFactory(
        campaign=campaign, household=moving, person=person, assignment=link, volunteer=volunteer
    )
    body = {"households": [moving.pk], "to_turf": town["b"].pk}

    refused = post(organizer_client, "turf_edit_move", body, campaign.slug)
    assert refused.status_code == 409
    assert refused.json()["handed_out"] == [{"id": a.pk, "name": "A"}]
    assert "every visit already recorded stays" in refused.json()["confirm"]
    assert moving.pk in {h for _, h in walk(a)}

    done = post(organizer_client, "turf_edit_move", {**body, "confirm": True}, campaign.slug)
    assert done.status_code == 200, done.content
    visit.refresh_from_db()
    assert (visit.household, visit.person, visit.assignment) == (moving, person, link)
    assert Visit.objects.count() == 1
    # The knocked door counts where it is now: on B, no longer on A.
    progress = turf_progress([a.pk, town["b"].pk])
    assert progress[town["b"].pk]["knocked"] == 1
    assert a.pk not in progress or progress[a.pk]["knocked"] == 0
    a.refresh_from_db()
    assert a.status == Turf.Status.ASSIGNED and len(walk(a)) == 8


def test_an_assigned_turf_emptied_by_a_move_stays_with_its_link(
    campaign, town, volunteer, organizer
):
    link = handed_out(town["b"], volunteer, organizer)
    deleted = editing.turf_households_move(
        campaign=campaign, households=town["elm_200"], to_turf=town["a"], confirm=True
    )
    assert deleted == []
    assert Assignment.objects.get(pk=link.pk).turf_id == town["b"].pk


# --- Split and merge ---------------------------------------------------------------------


def test_split_cuts_the_walk_list_between_block_faces(organizer_client, campaign, town):
    response = post(organizer_client, "turf_edit_split", {}, campaign.slug, town["a"].pk)
    assert response.status_code == 200, response.content
    new = Turf.objects.get(name="A (2)")
    kept = {h for _, h in walk(town["a"])}
    split_off = {h for _, h in walk(new)}
    odd = {h.pk for h in town["elm_100"] if int(h.house_number) % 2}
    # 9 doors: the odd face (5) and the even face (4) each stay whole.
    assert {frozenset(kept), frozenset(split_off)} == {
        frozenset(odd),
        frozenset({h.pk for h in town["elm_100"]} - odd),
    }
    assert [p for p, _ in walk(new)] == list(range(len(split_off)))


def test_split_off_a_pick_of_the_turfs_doors(organizer_client, campaign, town):
    picked = town["elm_100"][:2]
    response = post(
        organizer_client,
        "turf_edit_split",
        {"households": [h.pk for h in picked], "name": "A north"},
        campaign.slug,
        town["a"].pk,
    )
    assert response.status_code == 200
    assert {h for _, h in walk(Turf.objects.get(name="A north"))} == {h.pk for h in picked}

    foreign = post(
        organizer_client,
        "turf_edit_split",
        {"households": [town["elm_200"][0].pk]},
        campaign.slug,
        town["a"].pk,
    )
    assert foreign.status_code == 400 and "not on “A”" in foreign.json()["error"]


def test_a_one_door_turf_cannot_be_split(organizer_client, campaign):
    one = turf_of(campaign, "Lone", [door(campaign, 5)])
    response = post(organizer_client, "turf_edit_split", {}, campaign.slug, one.pk)
    assert response.status_code == 400
    assert "nothing to split" in response.json()["error"]


def test_merge_moves_the_links_and_keeps_every_visit(
    organizer_client, campaign, town, volunteer, organizer
):
    a, b = town["a"], town["b"]
    link = handed_out(b, volunteer, organizer)
    visits = [
        VisitFactory(campaign=campaign, household=h, assignment=link, outcome="not_home")
        for h in town["elm_200"][:2]
    ]
    body = {"turfs": [a.pk, b.pk], "name": "Elm St"}
    assert post(organizer_client, "turf_edit_merge", body, campaign.slug).status_code == 409
    assert Turf.objects.filter(pk=b.pk).exists()

    response = post(organizer_client, "turf_edit_merge", {**body, "confirm": True}, campaign.slug)
    assert response.status_code == 200, response.content
    assert not Turf.objects.filter(pk=b.pk).exists()
    a.refresh_from_db()
    assert a.name == "Elm St" and a.status == Turf.Status.ASSIGNED
    assert [p for p, _ in walk(a)] == list(range(12))
    link.refresh_from_db()
    assert link.turf_id == a.pk
    for visit in visits:
        visit.refresh_from_db()
        assert visit.assignment_id == link.pk
    assert turf_progress([a.pk])[a.pk]["knocked"] == 2


def test_merge_needs_two_turfs_of_this_campaign(organizer_client, campaign, town, outsider):
    one = post(organizer_client, "turf_edit_merge", {"turfs": [town["a"].pk]}, campaign.slug)
    assert one.status_code == 400 and "at least two" in one.json()["error"]
    theirs = TurfFactory(campaign=outsider.memberships.get().campaign, doors=1)
    response = post(
        organizer_client, "turf_edit_merge", {"turfs": [town["a"].pk, theirs.pk]}, campaign.slug
    )
    assert response.status_code == 404
    assert Turf.objects.filter(pk=theirs.pk).exists()


# --- Who may edit ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["turf_edit_select", "turf_edit_create", "turf_edit_move", "turf_edit_merge"]
)
def test_only_the_campaigns_organizers_edit(client, campaign, town, field_lead, outsider, name):
    body = {
        "polygon": around(town["elm_200"]),
        "name": "X",
        "to_turf": town["a"].pk,
        "turfs": [town["a"].pk, town["b"].pk],
    }
    client.force_login(field_lead)
    assert post(client, name, body, campaign.slug).status_code == 403
    client.force_login(outsider)
    assert post(client, name, body, campaign.slug).status_code == 404
    assert set(Turf.objects.values_list("name", flat=True)) == {"A", "B"}
    assert len(walk(town["b"])) == 3


def test_the_map_shows_the_editing_panel_to_organizers_only(
    client, campaign, town, field_lead, organizer
):
    url = reverse("turf_map", args=[campaign.slug])
    client.force_login(field_lead)
    assert b'id="turf-edit"' not in client.get(url).content
    client.force_login(organizer)
    html = client.get(url).content.decode()
    assert 'id="turf-edit"' in html and "leaflet/draw/leaflet.draw.js" in html
    assert 'id="edit-turfs-data"' in html
