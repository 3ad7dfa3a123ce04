"""A universe to cut turf from: the voter-file columns as filters, on the page and the command.

"Unaffiliated voters under 40 in precinct 12": only the doors where an active voter matches
every filter are cut, and the page says how many doors that is before cutting.
"""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from tests.factories import CampaignFactory, HouseholdFactory, PersonFactory
from turf.cutting.universe import Universe, universe_doors, universe_households
from turf.models import Household, TurfStop

pytestmark = pytest.mark.django_db
YEAR = timezone.localdate().year


def _door(campaign, number, precinct, *people):
    household = HouseholdFactory(
        campaign=campaign,
        house_number=str(number),
        street="Cardinal Glen Run",
        precinct=precinct,
        lat=35.9 + number * 0.0002,
        lng=-78.9,
    )
    for extra, status in people:
        PersonFactory(
            campaign=campaign,
            household=household,
            extra=extra,
            voter_status=status,
            inactive_since=timezone.now() if status == "inactive" else None,
        )
    return household


def _nc(party, age, gender="F", **more):
    return {"party_cd": party, "birth_year": str(YEAR - age), "gender_code": gender, **more}


@pytest.fixture
def county(campaign):
    """Precinct 12: doors 1–6 have a young unaffiliated voter (door 6 only an inactive
    one), doors 7–10 do not; precinct 7: doors 11–14 have one."""
    doors = {}
    for n in range(1, 6):
        doors[n] = _door(campaign, n, "12", (_nc("UNA", 25, cong_dist_abbrv="4"), "active"))
    doors[6] = _door(campaign, 6, "12", (_nc("UNA", 30), "inactive"))
    doors[7] = _door(campaign, 7, "12", (_nc("DEM", 25), "active"))
    doors[8] = _door(campaign, 8, "12", (_nc("UNA", 40), "active"), (_nc("REP", 20), "active"))
    doors[9] = _door(campaign, 9, "12", (_nc("UNA", 61, "M"), "active"))
    doors[10] = _door(campaign, 10, "12", (_nc("UNA", 70), "active"))
    for n in range(11, 15):
        doors[n] = _door(campaign, n, "7", (_nc("UNA", 22, "M"), "active"))
    return doors


def _numbers(households):
    return sorted(int(h.house_number) for h in households)


def test_unaffiliated_voters_under_40_in_precinct_12(campaign, county):
    picked = Universe(parties=["UNA"], age_max=39, precinct="12")
    assert _numbers(universe_households(campaign, picked)) == [1, 2, 3, 4, 5]
    # Door 8: the under-40 voter is Republican and the unaffiliated one is 40: no one
    # there is both, so the door is not in.
    assert universe_doors(campaign, picked) == (5, 5)


def test_every_filter_of_a_universe(campaign, county):
    def doors(**filters):
        return _numbers(universe_households(campaign, Universe(**filters)))

    assert doors(parties=["una"], gender="m") == [9, 11, 12, 13, 14]
    assert doors(age_min=60) == [9, 10]
    assert doors(age_min=20, age_max=22) == [8, 11, 12, 13, 14]
    assert doors(where={"cong_dist_abbrv": ["4"]}) == [1, 2, 3, 4, 5]
    assert doors(parties=["DEM", "REP"]) == [7, 8]
    assert doors(voter_status="active", precinct="7") == [11, 12, 13, 14]


def test_a_birth_date_column_gives_the_age(campaign):
    other = CampaignFactory()
    _door(other, 1, "", ({"Birth Date": f"05/02/{YEAR - 30}", "Party Affiliation": "NPA"}, ""))
    _door(other, 2, "", ({"Birth Date": f"05/02/{YEAR - 50}", "Party Affiliation": "NPA"}, ""))
    _door(other, 3, "", ({"DATE_OF_BIRTH": f"{YEAR - 30}-05-02"}, ""))
    picked = Universe(parties=["NPA"], age_max=39)
    assert _numbers(universe_households(other, picked)) == [1]


# --- The page -------------------------------------------------------------------


def _post(client, organizer, campaign, **fields):
    client.force_login(organizer)
    data = {"mode": "auto", "auto-name_prefix": "Young", "auto-doors": 5}
    data.update({f"auto-{name}": value for name, value in fields.items() if name != "action"})
    if "action" in fields:
        data["action"] = fields["action"]
    return client.post(reverse("turf_cut", args=[campaign.slug]), data)


def test_the_page_counts_the_universe_doors_before_cutting(client, organizer, campaign, county):
    response = _post(
        client,
        organizer,
        campaign,
        action="count",
        party="UNA",
        age_max=39,
        precinct="12",
        doors="",
    )
    assert response.status_code == 200
    assert "These filters pick 5 doors, 5 of them not on a turf yet." in response.content.decode()
    assert not TurfStop.objects.exists()


def test_the_page_cuts_only_the_universe(client, organizer, campaign, county):
    response = _post(
        client, organizer, campaign, party="UNA", age_max=39, precinct="12", action="cut"
    )
    assert response.status_code == 302
    cut = Household.objects.filter(stops__isnull=False)
    assert _numbers(cut) == [1, 2, 3, 4, 5]


def test_the_page_cuts_by_any_column_and_says_when_no_one_matches(
    client, organizer, campaign, county
):
    response = _post(client, organizer, campaign, where="cong_dist_abbrv=4")
    assert response.status_code == 302
    assert _numbers(Household.objects.filter(stops__isnull=False)) == [1, 2, 3, 4, 5]

    response = _post(client, organizer, campaign, where="cong_dist_abbrv=9", action="count")
    assert "No active voter" in response.content.decode()
    response = _post(client, organizer, campaign, where="nonsense")
    assert "is not a filter" in response.content.decode()
    response = _post(client, organizer, campaign, where="ward=3")
    assert "No voter-file column called ward" in response.content.decode()
    assert TurfStop.objects.count() == 5


# --- The command ----------------------------------------------------------------


def test_cut_turf_command_with_a_universe(campaign, county):
    out = StringIO()
    call_command(
        "cut_turf",
        "--campaign",
        campaign.slug,
        "--doors",
        "5",
        "--party",
        "UNA",
        "--age-max",
        "39",
        "--precinct",
        "12",
        stdout=out,
    )
    assert "Universe (party UNA, age 39 or under, precinct 12): 5 doors" in out.getvalue()
    assert _numbers(Household.objects.filter(stops__isnull=False)) == [1, 2, 3, 4, 5]

    call_command(
        "cut_turf",
        "--campaign",
        campaign.slug,
        "--doors",
        "4",
        "--where",
        "gender_code=M",
        "--age-max",
        "25",
        stdout=StringIO(),
    )
    assert _numbers(Household.objects.filter(stops__isnull=False)) == [1, 2, 3, 4, 5] + [
        11,
        12,
        13,
        14,
    ]


def test_cut_turf_command_universe_errors(campaign, county):
    with pytest.raises(CommandError, match="No active voter"):
        call_command("cut_turf", "--campaign", campaign.slug, "--doors", "5", "--party", "GRN")
    with pytest.raises(CommandError, match="not a filter"):
        call_command("cut_turf", "--campaign", campaign.slug, "--doors", "5", "--where", "party_cd")
    assert not TurfStop.objects.exists()
