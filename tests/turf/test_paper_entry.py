"""Typing a paper walk sheet back in: visits through the phone's idempotent path, marked
from paper with who typed them, exactly once however often the sheet is submitted."""

import pytest
from django.urls import reverse

from conversations.models import Commitment, StoryNote, Visit
from tests.factories import PASSWORD, PersonFactory
from turf.paper import PaperInvalid, paper_results_record

pytestmark = pytest.mark.django_db


def as_user(client, user):
    client.login(username=user.username, password=PASSWORD)
    return client


def url(made):
    return reverse("paper_entry", args=[made.turf.campaign.slug, made.pk])


@pytest.fixture
def sheet(assignment):
    """The three-door Maple turf; the first door has one resident."""
    made, _ = assignment
    stops = list(made.turf.stops.order_by("position"))
    PersonFactory(campaign=made.turf.campaign, household=stops[0].household, first_name="Ana")
    return made, [s.household for s in stops]


def form(**rows):
    data = {"walked_at": "2026-12-05T10:00", "walk": "1"}
    for key, value in rows.items():
        data[key] = value
    return data


def test_a_sheet_typed_in_twice_records_each_door_once(client, organizer, sheet):
    made, doors = sheet
    volunteer = made.volunteers.get()
    data = form(
        result_1="c", before_1="3", after_1="6", commitments_1="13",
        result_2="N", result_3="",
    )  # fmt: skip
    client = as_user(client, organizer)

    first = client.post(url(made), data, follow=True)
    second = client.post(url(made), data, follow=True)

    assert "Saved 2 doors from the paper sheet." in first.content.decode()
    assert "Saved 0 doors" in second.content.decode()
    assert "2 had been typed in already" in second.content.decode()
    visits = Visit.objects.filter(assignment=made).order_by("household__house_number")
    assert [(v.household, v.outcome) for v in visits] == [
        (doors[0], Visit.Outcome.CONVERSATION),
        (doors[1], Visit.Outcome.NOT_HOME),
    ]
    assert all(v.from_paper and v.entered_by == organizer for v in visits)
    assert all(v.volunteer == volunteer for v in visits)
    conversation = visits[0]
    assert conversation.person.first_name == "Ana"
    note = StoryNote.objects.get(visit=conversation)
    assert (note.rating_before, note.rating_after) == (3, 6)
    kinds = list(Commitment.objects.filter(visit=conversation).values_list("kind", "owner"))
    codes = [k["code"] for k in made.turf.campaign.commitment_kinds]
    assert kinds == [(codes[0], organizer.pk), (codes[2], organizer.pk)]
    assert visits[0].happened_at.isoformat().startswith("2026-12-05T16:00")  # 10:00 Chicago


def test_a_bad_row_saves_nothing_and_says_which_door(client, organizer, sheet):
    made, _ = sheet
    data = form(result_1="C", before_1="11", result_2="X", result_3="N", after_3="4")
    page = as_user(client, organizer).post(url(made), data).content.decode()
    assert "3 doors need fixing" in page
    assert "The rating before must be a number from 0 to 10, not “11”." in page
    assert "“X” is not a result code" in page
    assert "Ratings and commitments go with a conversation (C) only." in page
    # What was typed stays in the boxes, to be fixed.
    assert 'value="X"' in page
    assert not Visit.objects.exists()


def test_a_door_typed_differently_the_second_time_is_refused_not_overwritten(organizer, sheet):
    made, doors = sheet
    paper_results_record(
        assignment=made, rows={1: {"result": "N"}}, walked_at=_when(), entered_by=organizer
    )
    with pytest.raises(PaperInvalid) as raised:
        paper_results_record(
            assignment=made,
            rows={1: {"result": "R"}, 2: {"result": "N"}},
            walked_at=_when(),
            entered_by=organizer,
        )
    assert "already typed in for walk 1 with something else" in raised.value.errors[1]
    assert list(Visit.objects.values_list("household", "outcome")) == [(doors[0].pk, "not_home")]


def test_the_next_walk_of_a_sheet_is_new_visits(organizer, sheet):
    made, _ = sheet
    for walk, code in ((1, "N"), (2, "C")):
        assert paper_results_record(
            assignment=made,
            rows={1: {"result": code}},
            walked_at=_when(),
            entered_by=organizer,
            walk=walk,
        ) == (1, 0)
    assert Visit.objects.count() == 2


def test_nothing_typed_and_doors_not_on_the_sheet_are_refused(organizer, sheet):
    made, _ = sheet
    with pytest.raises(PaperInvalid, match="nothing was saved"):
        paper_results_record(assignment=made, rows={}, walked_at=_when(), entered_by=organizer)
    with pytest.raises(PaperInvalid) as raised:
        paper_results_record(
            assignment=made, rows={9: {"result": "N"}}, walked_at=_when(), entered_by=organizer
        )
    assert raised.value.errors[9] == "The sheet has doors 1 to 3."


def test_a_phone_visit_and_a_paper_visit_at_one_door_are_both_kept(organizer, sheet):
    from conversations.services.visits import visit_record

    made, doors = sheet
    visit_record(
        assignment=made,
        client_id="9b2f6d7e-0000-4000-8000-000000000001",
        happened_at=_when(),
        outcome="not_home",
        household=doors[0],
    )
    paper_results_record(
        assignment=made, rows={1: {"result": "C"}}, walked_at=_when(), entered_by=organizer
    )
    assert sorted(Visit.objects.values_list("from_paper", flat=True)) == [False, True]


def test_a_field_lead_may_type_in_results_another_campaign_may_not(
    client, field_lead, outsider, sheet
):
    made, _ = sheet
    response = as_user(client, field_lead).post(url(made), form(result_2="B"), follow=True)
    assert "Saved 1 door from the paper sheet." in response.content.decode()
    assert Visit.objects.get().entered_by == field_lead
    client.logout()
    assert as_user(client, outsider).get(url(made)).status_code == 404


def test_the_page_lists_the_doors_in_the_sheets_order(client, organizer, sheet):
    made, doors = sheet
    page = as_user(client, organizer).get(url(made)).content.decode()
    positions = [page.index(d.address_line) for d in doors]
    assert positions == sorted(positions)
    assert 'name="result_1"' in page and 'name="result_3"' in page


def _when():
    from datetime import UTC, datetime

    return datetime(2026, 12, 5, 16, 0, tzinfo=UTC)
