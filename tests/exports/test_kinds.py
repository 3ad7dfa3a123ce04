"""The other kinds: VAN-style canvass results, conversations, and the roster."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from canvass.models import AuditEvent, ShiftSignup
from conversations.models import StoryNote, Visit
from exports.models import ResultCode
from exports.services import result_codes_save
from tests.exports.conftest import as_dicts, at, read_rows, run_export
from tests.factories import (
    PASSWORD,
    CommitmentFactory,
    HouseholdFactory,
    PersonFactory,
    ShiftFactory,
    ShiftSignupFactory,
    VisitFactory,
    VolunteerFactory,
)
from turf.services import assignment_create

pytestmark = pytest.mark.django_db

VAN_HEADER = [
    "VANID",
    "DateCanvassed",
    "Phone",
    "CanvassResult",
    "SQ: Rating before",
    "SQ: Rating after",
    "SQ: Health care costs",
    "SQ: Housing",
    "SQ: Work and wages",
    "SQ: Family",
    "SQ: Feeling judged",
    "SQ: Faith",
    "SQ: A loved one affected",
    "AC: Come to a meeting",
    "AC: Join a support group",
    "AC: Volunteer a shift",
    "AC: Make a vote plan",
    "AC: Talk again",
]


@pytest.fixture
def van_doors(campaign, doors, volunteer):
    """`doors` (only Ana has a voter id), plus Wes (V200) not home, and a door nobody
    answered with no person recorded."""
    wes = PersonFactory(
        campaign=campaign, first_name="Wes", external_id="V200", phone="+15125550199"
    )
    VisitFactory(
        campaign=campaign, person=wes, outcome=Visit.Outcome.NOT_HOME, happened_at=at(8, 10)
    )
    VisitFactory(
        campaign=campaign,
        household=HouseholdFactory(campaign=campaign),
        outcome=Visit.Outcome.NOT_HOME,
        happened_at=at(8, 11),
    )
    CommitmentFactory(
        campaign=campaign, person=doors["ana"].person, visit=doors["ana"].visit, kind="vote_plan"
    )
    return doors


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_canvass_results_come_in_vans_column_order_with_its_default_codes(
    campaign, organizer, van_doors, fmt
):
    job = run_export(campaign, organizer, kind="canvass_results", fmt=fmt)

    rows = read_rows(job)
    assert rows[0] == VAN_HEADER
    ana, wes = rows[1:]
    as_text = [str(cell) for cell in ana]
    assert as_text[:6] == ["V100", "11/03/2026", "5125550123", "14", "4", "6"]
    assert as_text[6:13] == ["", "Yes", "", "Yes", "", "", ""]
    assert as_text[13:] == ["Yes", "", "", "Yes", ""]
    assert [str(c) for c in wes[:6]] == ["V200", "11/08/2026", "5125550199", "1", "", ""]
    # No blank voter ids: the five visits without one are left out and counted.
    assert job.left_out == {"no_voter_id": 5}


def test_visits_without_a_voter_id_are_listed_apart(campaign, organizer, van_doors, client):
    job = run_export(
        campaign,
        organizer,
        kind="canvass_results",
        filters={"voter_id": "missing"},
        columns=["vanid", "name", "address", "outcome"],
    )
    rows = as_dicts(read_rows(job))
    assert len(rows) == 5 and {row["VANID"] for row in rows} == {""}
    assert job.left_out == {}

    client.login(username="olivia", password=PASSWORD)
    first = run_export(campaign, organizer, kind="canvass_results")
    page = client.get(reverse("export_job", args=[campaign.slug, first.pk])).content.decode()
    assert "5 had no voter id (listed apart)" in page
    assert "?voter_id=missing" in page


def test_result_codes_are_the_campaigns_own_once_changed(campaign, organizer, van_doors, client):
    client.login(username="olivia", password=PASSWORD)
    url = reverse("result_codes", args=[campaign.slug])
    assert 'name="conversation" value="14"' in client.get(url).content.decode()
    codes = {value: "1" for value in Visit.Outcome.values}
    response = client.post(url, {**codes, "conversation": "CV", "not_home": "NH"})
    assert response.status_code == 302

    job = run_export(campaign, organizer, kind="canvass_results", columns=["vanid", "result"])
    assert read_rows(job)[1:] == [["V100", "CV"], ["V200", "NH"]]
    assert AuditEvent.objects.filter(action="export.result_codes").count() == 1


def test_a_bad_result_code_is_named_and_nothing_is_saved(campaign, organizer, field_lead, client):
    with pytest.raises(ValidationError) as caught:
        result_codes_save(campaign=campaign, codes={"refused": "", "moved": "9"}, user=organizer)
    assert (
        "Refused: give a code of 1 to 20 letters or digits"
        in caught.value.message_dict["refused"][0]
    )
    assert not ResultCode.objects.exists()
    client.login(username="farid", password=PASSWORD)
    assert client.get(reverse("result_codes", args=[campaign.slug])).status_code == 403


def test_canvass_results_filter_by_outcome(campaign, organizer, van_doors):
    job = run_export(campaign, organizer, kind="canvass_results", filters={"outcome": "not_home"})
    assert [row[0] for row in read_rows(job)[1:]] == ["V200"]
    assert job.left_out == {"no_voter_id": 1}


# --- Conversations -------------------------------------------------------------------


@pytest.fixture
def sensitive(doors):
    """Cora's note is flagged sensitive."""
    StoryNote.objects.filter(visit=doors["cora"].visit).update(sensitive=True)
    return doors


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_conversations_without_story_text_by_default(campaign, field_lead, sensitive, fmt):
    job = run_export(campaign, field_lead, kind="conversations", fmt=fmt)

    rows = read_rows(job)
    assert rows[0] == [
        "Date",
        "Volunteer",
        "Turf",
        "Place",
        "Rating before (canvasser-reported)",
        "Rating after (canvasser-reported)",
        "Rating shift (canvasser-reported)",
        "Story themes",
        "Canvasser shared own story",
        "Listening (canvasser's self-rating)",
        "Flagged sensitive",
    ]
    first = [str(cell) for cell in rows[1]]
    assert first == ["2026-11-03 18:00", "Vera Lopez", "Maple blocks", "", "4", "6", "2"] + [
        "Housing; Family",
        "",
        "",
        "",
    ]
    assert len(rows) == 6
    assert "SECRET STORY" not in repr(rows)


def test_story_text_leaves_sensitive_notes_blank_and_says_so(
    campaign, field_lead, sensitive, client
):
    job = run_export(
        campaign, field_lead, kind="conversations", columns=["date", "sensitive", "story"]
    )

    stories = {row["Story"] for row in as_dicts(read_rows(job))}
    assert "SECRET STORY of Ana" in stories
    assert "SECRET STORY of Cora" not in stories
    assert job.withheld == {"sensitive story texts left blank": 1}
    client.login(username="farid", password=PASSWORD)
    page = client.get(reverse("export_job", args=[campaign.slug, job.pk])).content.decode()
    assert "1 sensitive story texts left blank." in page


def test_only_an_organizer_who_asks_gets_sensitive_text_and_it_is_audited(
    campaign, organizer, field_lead, sensitive
):
    with pytest.raises(PermissionDenied):
        run_export(
            campaign, field_lead, kind="conversations", columns=["story"], include_sensitive=True
        )

    job = run_export(
        campaign, organizer, kind="conversations", columns=["story"], include_sensitive=True
    )
    assert "SECRET STORY of Cora" in {row[0] for row in read_rows(job)}
    assert job.withheld == {}
    event = AuditEvent.objects.get(action="export")
    assert event.detail["include_sensitive"] is True and event.actor == organizer


def test_conversation_filters(campaign, organizer, sensitive, volunteer):
    other = VolunteerFactory(campaign=campaign)
    job = run_export(
        campaign, organizer, kind="conversations", filters={"volunteer": str(other.pk)}
    )
    assert len(read_rows(job)) == 1
    job = run_export(
        campaign,
        organizer,
        kind="conversations",
        filters={"date_from": "2026-11-05", "date_to": "2026-11-06", "turf": "Maple blocks"},
    )
    assert [row[0] for row in read_rows(job)[1:]] == ["2026-11-05 18:00", "2026-11-06 18:00"]


# --- Roster --------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_roster_has_signups_attendance_doors_and_conversations(
    campaign, organizer, volunteer, fmt
):
    shift = ShiftFactory(campaign=campaign)
    signup = ShiftSignupFactory(shift=shift, volunteer=volunteer)
    ShiftSignup.objects.filter(pk=signup.pk).update(status=ShiftSignup.Status.ATTENDED)
    from tests.factories import TurfFactory

    assignment, _ = assignment_create(
        turf=TurfFactory(campaign=campaign, doors=2),
        volunteers=[volunteer],
        shift=shift,
        created_by=organizer,
    )
    for outcome in (Visit.Outcome.CONVERSATION, Visit.Outcome.NOT_HOME):
        VisitFactory(campaign=campaign, assignment=assignment, volunteer=volunteer, outcome=outcome)
    VolunteerFactory(campaign=campaign, first_name="@SUM(A1)", last_name="", active=False)

    job = run_export(campaign, organizer, kind="roster", fmt=fmt)

    rows = as_dicts(read_rows(job))
    assert [row["First name"] for row in rows] == ["'@SUM(A1)", "Vera"]
    vera = {key: str(value) for key, value in rows[1].items()}
    assert vera["Phone"] == "(512) 555-0101"
    assert (vera["Signups"], vera["Checked in"], vera["Show rate (%)"]) == ("1", "1", "100")
    assert (vera["Doors knocked"], vera["Conversations"]) == ("2", "1")

    job = run_export(campaign, organizer, kind="roster", filters={"active": "yes"})
    assert [row[0] for row in read_rows(job)[1:]] == ["Vera"]
    with pytest.raises(ValidationError, match="Unknown filter turf"):
        run_export(campaign, organizer, kind="roster", filters={"turf": "Maple blocks"})
