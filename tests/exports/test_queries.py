"""Every kind's export reads a fixed number of queries however many rows go out: a column
reading a field the query did not fetch would cost a query a row."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from exports.kinds import KINDS
from exports.models import ExportJob
from exports.services import export_create, export_start
from tests.factories import (
    CommitmentFactory,
    HouseholdFactory,
    PersonFactory,
    ShiftFactory,
    ShiftSignupFactory,
    StoryNoteFactory,
    TurfFactory,
    VisitFactory,
    VolunteerFactory,
)
from turf.services import assignment_create

pytestmark = pytest.mark.django_db


def _grow(campaign, organizer, start, count):
    turf = TurfFactory(campaign=campaign)
    shift = ShiftFactory(campaign=campaign)
    for i in range(start, start + count):
        volunteer = VolunteerFactory(campaign=campaign, first_name=f"Walker{i}")
        ShiftSignupFactory(shift=shift, volunteer=volunteer)
        assignment, _token = assignment_create(
            turf=turf, volunteers=[volunteer], created_by=organizer
        )
        household = HouseholdFactory(campaign=campaign, house_number=str(i), unit="2B")
        person = PersonFactory(
            campaign=campaign, household=household, external_id=f"V{i}", contact_consent=True
        )
        visit = VisitFactory(
            campaign=campaign,
            household=household,
            person=person,
            assignment=assignment,
            volunteer=volunteer,
        )
        StoryNoteFactory(visit=visit, themes=["Housing"], story="Words", minutes=10)
        CommitmentFactory(campaign=campaign, visit=visit, person=person, owner=organizer)


def _queries(campaign, organizer, kind, fmt):
    with CaptureQueriesContext(connection) as captured:
        job = export_create(
            campaign=campaign,
            kind=kind,
            fmt=fmt,
            filters={},
            columns=[column.key for column in KINDS[kind].columns(campaign)],
            user=organizer,
        )
        job = export_start(job=job)
    assert job.status == ExportJob.Status.DONE, job.error
    return len(captured), job.rows_done


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_the_queries_do_not_grow_with_the_rows(campaign, organizer, kind, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    _grow(campaign, organizer, 0, 3)
    few, rows = _queries(campaign, organizer, kind, "csv")
    assert rows >= 3
    _grow(campaign, organizer, 3, 12)
    many, more_rows = _queries(campaign, organizer, kind, "csv")
    assert more_rows >= rows + 12
    assert many == few
    assert _queries(campaign, organizer, kind, "xlsx")[0] == few


def test_the_export_form_offers_turfs_by_name_in_fixed_queries(campaign, organizer, client):
    from django.urls import reverse

    from tests.factories import PASSWORD

    client.login(username=organizer.username, password=PASSWORD)
    url = reverse("export_new", args=[campaign.slug, "calls"])

    def read():
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
        assert response.status_code == 200
        return len(captured), response.content.decode()

    TurfFactory(campaign=campaign, name="Alder blocks")
    few, page = read()
    assert 'list="turf-names"' in page and '<option value="Alder blocks">' in page
    for i in range(30):
        TurfFactory(campaign=campaign, name=f"Turf {i:02d}")
    many, page = read()
    assert many == few and page.count('<option value="Turf ') == 30
