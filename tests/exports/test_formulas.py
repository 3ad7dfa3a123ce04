"""No file Porchlight writes for a spreadsheet can run a formula: every kind of export, in
CSV and XLSX, with every text a person typed or a voter file carried starting like one."""

import pytest
from django.test import Client
from django.urls import reverse

from canvass.spreadsheets import FORMULA_STARTS, cell_safe
from conversations.models import Visit
from exports.kinds import KINDS
from tests.exports.conftest import read_rows, run_export
from tests.factories import (
    PASSWORD,
    ShiftFactory,
    ShiftSignupFactory,
    StoryNoteFactory,
    VolunteerFactory,
)
from turf.models import Household, Person

pytestmark = pytest.mark.django_db

FORMULAS = ["=1+2", "+SUM(A1)", "-2+3+cmd|' /C calc'!A0", "@SUM(A1)", "\t=1", "\r=1"]


@pytest.fixture
def hostile(campaign, doors, volunteer):
    """Every text field the exports read starts like a formula."""
    for n, person in enumerate(Person.objects.filter(campaign=campaign)):
        bad = FORMULAS[n % len(FORMULAS)]
        Person.objects.filter(pk=person.pk).update(
            first_name=bad, last_name=bad, email="", external_id=bad[:20]
        )
    Household.objects.filter(campaign=campaign).update(
        street="=HYPERLINK(1)", unit="+1", city="@x", precinct="-x+1"
    )
    doors["turf"].__class__.objects.filter(pk=doors["turf"].pk).update(name="=turf()")
    for commitment in doors.values():
        if hasattr(commitment, "what"):
            commitment.__class__.objects.filter(pk=commitment.pk).update(what="=what()")
    VolunteerFactory._meta.model.objects.filter(pk=volunteer.pk).update(
        first_name="=vol()", last_name="@vol"
    )
    shift = ShiftFactory(campaign=campaign, name="=shift()", place="+place()")
    ShiftSignupFactory(shift=shift, volunteer=volunteer)
    for visit in Visit.objects.filter(campaign=campaign):
        Visit.objects.filter(pk=visit.pk).update(note="=note()", place="-place+1")
    StoryNoteFactory._meta.model.objects.filter(visit__campaign=campaign).update(
        story="=story()", why="+why()", values_feelings="@values", themes=["=theme()"]
    )


def runs_as_formula(cell):
    return isinstance(cell, str) and cell != cell_safe(cell) and cell.startswith(FORMULA_STARTS)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_no_cell_of_any_export_starts_a_formula(campaign, organizer, hostile, kind, fmt):
    job = run_export(campaign, organizer, kind=kind, fmt=fmt)

    rows = read_rows(job)
    cells = [cell for row in rows for cell in row]
    assert len(rows) > 1, f"{kind} wrote no rows to check"
    assert [c for c in cells if runs_as_formula(c)] == []
    assert any(isinstance(c, str) and c.startswith("'") for c in cells), "nothing was hostile"
    if fmt == "xlsx":
        from openpyxl import load_workbook

        with job.file.open("rb") as handle:
            sheet = load_workbook(handle).worksheets[0]
        assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)


def test_a_downloaded_csv_says_its_charset(campaign, organizer, doors):
    job = run_export(campaign, organizer, kind="calls", fmt="csv")
    client = Client()
    assert client.login(username=organizer.username, password=PASSWORD)

    response = client.get(reverse("export_download", args=[campaign.slug, job.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
