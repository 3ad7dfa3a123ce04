"""The follow-up call list: content in both formats, who is left out and why, formulas,
filters, columns and layouts, and who may export at all."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from canvass.models import AuditEvent
from conversations.models import Commitment
from exports.models import ExportJob, ExportLayout
from tests.exports.conftest import as_dicts, at, read_rows, run_export
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_call_list_has_whom_to_call_and_what_about(campaign, field_lead, doors, fmt):
    job = run_export(campaign, field_lead, fmt=fmt)

    assert job.status == ExportJob.Status.DONE, job.error
    rows = read_rows(job)
    assert rows[0] == [
        "First name",
        "Last name",
        "Phone",
        "Phone (E.164)",
        "Email",
        "Address",
        "Language",
        "Commitment",
        "What",
        "When",
        "Follow-up owner",
        "Status",
        "Last contact",
        "Story themes",
        "Volunteer",
        "Turf",
    ]
    by_name = {row["First name"]: row for row in as_dicts(rows)}
    ana = by_name["Ana"]
    assert ana["Phone"] == "(512) 555-0123"
    assert ana["Phone (E.164)"] == "+15125550123"
    assert ana["Email"] == "ana@example.org"
    assert ana["Address"] == "12 Maple Ave, Austin, TX, 78702"
    assert ana["Language"] == "es"
    assert ana["Commitment"] == "Come to a meeting"
    assert ana["What"] == "Tenants' meeting at the library"
    assert ana["When"] == "2026-11-10 18:00"
    assert ana["Follow-up owner"] == "Olivia"
    assert ana["Status"] == "Open"
    assert ana["Last contact"] == "2026-11-03 18:00"
    assert ana["Story themes"] == "Housing; Family"
    assert ana["Volunteer"] == "Vera Lopez"
    assert ana["Turf"] == "Maple blocks"
    # Never story text.
    flat = repr(rows)
    assert "SECRET STORY" not in flat and "rent went up" not in flat


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_do_not_contact_opted_out_and_unreachable_people_are_left_out_and_counted(
    campaign, organizer, doors, fmt, client
):
    job = run_export(campaign, organizer, fmt=fmt)

    names = [row["First name"] for row in as_dicts(read_rows(job))]
    assert names == ["Ana", "'" + doors["evil"].person.first_name]
    assert job.rows_done == 2
    assert job.left_out == {"do_not_contact": 1, "opted_out": 1, "no_consent": 1}

    client.login(username="olivia", password=PASSWORD)
    page = client.get(reverse("export_job", args=[campaign.slug, job.pk])).content.decode()
    assert "2 rows" in page
    assert "3 left out" in page
    assert "1 marked do not contact" in page
    assert "1 opted out (replied STOP or unsubscribed)" in page
    assert "1 gave no phone or email for it and did not agree to be contacted" in page


def test_an_opted_out_email_leaves_the_person_out_too(campaign, organizer, doors):
    from conversations.models import OptOut

    OptOut.objects.create(address="ANA@example.org")

    job = run_export(campaign, organizer)

    assert job.left_out["opted_out"] == 2
    assert "Ana" not in [row["First name"] for row in as_dicts(read_rows(job))]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_name_that_would_run_as_a_formula_is_written_as_text(campaign, organizer, doors, fmt):
    job = run_export(campaign, organizer, fmt=fmt)

    cell = as_dicts(read_rows(job))[1]["First name"]
    assert cell == '\'=HYPERLINK("http://evil.example","x")'
    if fmt == "xlsx":
        from openpyxl import load_workbook

        with job.file.open("rb") as handle:
            sheet = load_workbook(handle).worksheets[0]
        assert sheet["A3"].data_type == "s"


def test_filters_by_kind_status_turf_volunteer_and_dates(campaign, organizer, doors, volunteer):
    Commitment.objects.filter(pk=doors["ana"].pk).update(status=Commitment.Status.KEPT)

    def names(**filters):
        job = run_export(campaign, organizer, filters=filters)
        return [row["First name"] for row in as_dicts(read_rows(job))]

    evil = "'" + doors["evil"].person.first_name
    assert names() == [evil]
    assert names(status="kept") == ["Ana"]
    assert names(status="any", kind="meeting") == ["Ana"]
    assert names(status="any", kind="vote_plan") == [evil]
    assert names(status="any", turf="Maple blocks") == ["Ana", evil]
    assert names(status="any", volunteer=str(volunteer.pk)) == ["Ana", evil]
    assert names(status="any", date_from="2026-11-04") == [evil]
    assert names(status="any", date_to="2026-11-06") == ["Ana"]
    # Left-out counts follow the filters too.
    job = run_export(campaign, organizer, filters={"status": "any", "date_to": "2026-11-04"})
    assert job.left_out == {"do_not_contact": 1, "opted_out": 0, "no_consent": 0}


@pytest.mark.parametrize(
    "filters, message",
    [
        ({"turf": "Nowhere"}, "There is no turf of that name in this campaign."),
        ({"date_from": "2026-13-01"}, "Enter a valid date."),
        ({"date_from": "2026-11-09", "date_to": "2026-11-01"}, "“From” is after “To”"),
        ({"kind": "bake_sale"}, "Select a valid choice."),
        ({"colour": "red"}, "Unknown filter colour"),
    ],
)
def test_a_bad_filter_is_named_and_nothing_is_written(campaign, organizer, doors, filters, message):
    with pytest.raises(ValidationError) as caught:
        run_export(campaign, organizer, filters=filters)

    assert message in " ".join(caught.value.messages)
    assert not ExportJob.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="export").exists()


def test_columns_are_chosen_ordered_and_saved_as_a_layout(campaign, organizer, doors):
    job = run_export(
        campaign,
        organizer,
        columns=["phone_e164", "first_name", "voter_id"],
        layout_name="Phone bank",
    )

    assert read_rows(job)[:2] == [
        ["Phone (E.164)", "First name", "Voter id"],
        ["+15125550123", "Ana", "V100"],
    ]
    layout = ExportLayout.objects.get(campaign=campaign, kind="calls", name="Phone bank")
    assert layout.columns == ["phone_e164", "first_name", "voter_id"]


def test_an_unknown_column_is_named(campaign, organizer, doors):
    with pytest.raises(ValidationError, match="Unknown column story"):
        run_export(campaign, organizer, columns=["first_name", "story"])


def test_the_page_orders_columns_by_the_numbers_typed_and_reuses_a_layout(
    campaign, organizer, doors, client
):
    client.login(username="olivia", password=PASSWORD)
    url = reverse("export_new", args=[campaign.slug, "calls"])
    response = client.post(
        url,
        {
            "col": ["first_name", "phone", "what"],
            "pos-first_name": "2",
            "pos-phone": "3",
            "pos-what": "1",
            "format": "csv",
            "save_layout": "Short",
        },
    )
    job = ExportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("export_job", args=[campaign.slug, job.pk])
    assert read_rows(job)[0] == ["What", "First name", "Phone"]

    layout = ExportLayout.objects.get(name="Short")
    page = client.get(url, {"layout": layout.pk}).content.decode()
    assert page.index('value="what" checked') < page.index('value="first_name" checked')

    download = client.get(reverse("export_download", args=[campaign.slug, job.pk]))
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith('attachment; filename="call-list-')
    body = b"".join(download.streaming_content).decode()
    assert body.splitlines()[0] == "What,First name,Phone"


def test_a_bad_filter_on_the_page_is_shown_with_the_form(campaign, organizer, doors, client):
    client.login(username="olivia", password=PASSWORD)
    response = client.post(
        reverse("export_new", args=[campaign.slug, "calls"]),
        {"col": ["first_name"], "date_from": "2026-11-09", "date_to": "2026-11-01"},
    )
    assert response.status_code == 400
    assert "“From” is after “To”: swap the dates." in response.content.decode()
    assert not ExportJob.objects.exists()


# --- Who may export ----------------------------------------------------------------


def test_organizers_and_field_leads_export(campaign, organizer, field_lead, doors, client):
    for username in ("olivia", "farid"):
        client.login(username=username, password=PASSWORD)
        assert client.get(reverse("export_new", args=[campaign.slug, "calls"])).status_code == 200


def test_a_volunteer_never_exports(campaign, member_volunteer, doors, client):
    client.login(username="vince", password=PASSWORD)
    assert client.get(reverse("export_index", args=[campaign.slug])).status_code == 403
    response = client.post(
        reverse("export_new", args=[campaign.slug, "calls"]), {"col": ["first_name"]}
    )
    assert response.status_code == 403
    with pytest.raises(PermissionDenied):
        run_export(campaign, member_volunteer)
    assert not ExportJob.objects.exists()


def test_another_campaigns_lead_gets_404_for_pages_and_files(
    campaign, organizer, outsider, doors, client
):
    job = run_export(campaign, organizer)
    client.login(username="oscar", password=PASSWORD)
    for url in (
        reverse("export_index", args=[campaign.slug]),
        reverse("export_new", args=[campaign.slug, "calls"]),
        reverse("export_job", args=[campaign.slug, job.pk]),
        reverse("export_download", args=[campaign.slug, job.pk]),
    ):
        assert client.get(url).status_code == 404, url
    # Their own campaign's slug does not open this campaign's file either.
    other = outsider.memberships.get().campaign
    assert client.get(reverse("export_download", args=[other.slug, job.pk])).status_code == 404


def test_a_field_lead_sees_only_their_own_files_an_organizer_sees_all(
    campaign, organizer, field_lead, other_lead, doors, client
):
    job = run_export(campaign, field_lead)
    url = reverse("export_download", args=[campaign.slug, job.pk])
    client.login(username="fiona", password=PASSWORD)
    assert client.get(url).status_code == 404
    client.login(username="farid", password=PASSWORD)
    assert client.get(url).status_code == 200
    client.login(username="olivia", password=PASSWORD)
    assert client.get(url).status_code == 200


def test_when_is_shown_in_the_campaign_time_zone(campaign, organizer, doors):
    Commitment.objects.filter(pk=doors["ana"].pk).update(when=at(20, hour=23))
    job = run_export(campaign, organizer, columns=["first_name", "when"])
    assert ["Ana", "2026-11-20 23:00"] in read_rows(job)


@pytest.mark.parametrize(
    "e164, region",
    [
        ("+15125550123", "US"),
        ("+14165550123", "CA"),
        ("+12125550000", "US"),
        ("+447911123456", "US"),
        ("+447911123456", "GB"),
        ("+15125550123", "GB"),
    ],
)
def test_the_national_form_is_what_phonenumbers_gives(e164, region):
    import phonenumbers

    from exports.kinds.base import phone_national

    number = phonenumbers.parse(e164)
    national = number.country_code == phonenumbers.country_code_for_region(region)
    form = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if national
        else (phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    )
    assert phone_national(e164, region) == phonenumbers.format_number(number, form)
