"""A small campaign with something to export, and helpers to read files back."""

import csv
import io
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from canvass.models import Membership
from conversations.models import OptOut
from exports.services import export_create, export_start
from tests.factories import (
    CommitmentFactory,
    HouseholdFactory,
    MembershipFactory,
    PersonFactory,
    StoryNoteFactory,
    UserFactory,
    VisitFactory,
)
from turf.services import assignment_create

CHICAGO = ZoneInfo("America/Chicago")


def at(day, hour=18):
    return datetime(2026, 11, day, hour, 0, tzinfo=CHICAGO)


@pytest.fixture
def member_volunteer(campaign):
    """A user who is only a volunteer of the campaign: may not export."""
    user = UserFactory(username="vince")
    MembershipFactory(user=user, campaign=campaign, role=Membership.Role.VOLUNTEER)
    return user


@pytest.fixture
def other_lead(campaign):
    """A second field lead of the same campaign."""
    user = UserFactory(username="fiona")
    MembershipFactory(user=user, campaign=campaign, role=Membership.Role.FIELD_LEAD)
    return user


@pytest.fixture
def doors(campaign, volunteer, organizer):
    """Five people who said yes at the door on one turf, one of each case a call list meets.

    - Ana: consented, phone and email with the commitment — the plain case;
    - Ben: marked do not contact;
    - Cora: her phone replied STOP;
    - Dev: gave nothing and did not agree to be contacted;
    - “=HYPERLINK…”: a name a spreadsheet would run, with a phone.
    """
    from tests.factories import TurfFactory

    turf = TurfFactory(campaign=campaign, name="Maple blocks")
    assignment, _token = assignment_create(turf=turf, volunteers=[volunteer], created_by=organizer)
    household = HouseholdFactory(
        campaign=campaign, house_number="12", street="Maple Ave", city="Austin", zip_code="78702"
    )

    def said_yes(first, *, day, kind="meeting", themes=(), person_kw=None, **commitment_kw):
        person = PersonFactory(
            campaign=campaign,
            household=household,
            first_name=first,
            last_name="Neighbor",
            **(person_kw or {}),
        )
        visit = VisitFactory(
            campaign=campaign,
            household=household,
            person=person,
            assignment=assignment,
            volunteer=volunteer,
            happened_at=at(day),
        )
        StoryNoteFactory(visit=visit, themes=list(themes), story="SECRET STORY of " + first)
        commitment_kw.setdefault("phone", "")
        return CommitmentFactory(
            campaign=campaign,
            person=person,
            visit=visit,
            kind=kind,
            owner=organizer,
            created_at=at(day),
            when=at(day + 7),
            **commitment_kw,
        )

    ana = said_yes(
        "Ana",
        day=3,
        themes=["Housing", "Family"],
        person_kw={"language": "es", "contact_consent": True, "external_id": "V100"},
        phone="+15125550123",
        email="ana@example.org",
    )
    ben = said_yes("Ben", day=4, person_kw={"do_not_contact": True}, phone="+15125550124")
    cora = said_yes("Cora", day=5, kind="support_group", phone="+15125550125")
    OptOut.objects.create(address="+15125550125", campaign=campaign)
    dev = said_yes("Dev", day=6, person_kw={"phone": "+15125550126"})
    evil = said_yes(
        '=HYPERLINK("http://evil.example","x")', day=7, kind="vote_plan", phone="+15125550127"
    )
    return {"turf": turf, "ana": ana, "ben": ben, "cora": cora, "dev": dev, "evil": evil}


def run_export(campaign, user, kind="calls", fmt="csv", filters=None, columns=None, **kwargs):
    job = export_create(
        campaign=campaign,
        kind=kind,
        fmt=fmt,
        filters=filters or {},
        columns=columns,
        user=user,
        **kwargs,
    )
    return export_start(job=job)


def read_rows(job):
    """The file of `job` as a list of rows (header first), whatever its format."""
    with job.file.open("rb") as handle:
        data = handle.read()
    if job.format == "csv":
        return list(csv.reader(io.StringIO(data.decode("utf-8"))))
    sheet = load_workbook(io.BytesIO(data), read_only=True).worksheets[0]
    return [["" if v is None else v for v in row] for row in sheet.iter_rows(values_only=True)]


def as_dicts(rows):
    header, *body = rows
    return [dict(zip(header, row, strict=True)) for row in body]
