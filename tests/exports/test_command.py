"""python manage.py export: the same file, counts, checks and audit as the pages."""

import csv

import pytest
from django.core.management import CommandError, call_command
from openpyxl import load_workbook

from canvass.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_the_command_writes_the_file_and_says_what_was_left_out(campaign, doors, tmp_path, capsys):
    out = tmp_path / "calls.csv"
    call_command(
        "export",
        "calls",
        "--campaign",
        campaign.slug,
        "--format",
        "csv",
        "--filter",
        "turf=Maple blocks",
        "--columns",
        "first_name,phone_e164",
        "-o",
        str(out),
    )

    with open(out, newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["First name", "Phone (E.164)"]
    assert rows[1] == ["Ana", "+15125550123"]
    said = capsys.readouterr().out
    assert "Wrote 2 rows to" in said
    assert "Left out 3:" in said and "1 marked do not contact" in said
    event = AuditEvent.objects.get(action="export")
    assert event.actor is None and event.detail["filters"] == {"turf": "Maple blocks"}


def test_the_command_writes_xlsx_as_a_named_user(campaign, field_lead, doors, tmp_path):
    out = tmp_path / "calls.xlsx"
    call_command(
        "export", "calls", "--campaign", campaign.slug, "--format", "xlsx", "--user", "farid",
        "-o", str(out),
    )  # fmt: skip
    sheet = load_workbook(out, read_only=True).worksheets[0]
    assert next(sheet.iter_rows(values_only=True))[0] == "First name"
    assert AuditEvent.objects.get(action="export").actor == field_lead


@pytest.mark.parametrize(
    "args, message",
    [
        (["calls", "--campaign", "nope"], "There is no campaign with the slug “nope”."),
        (["lists", "--campaign", "eastside-tenants"], "“lists” is not a kind of export."),
        (["calls", "--campaign", "eastside-tenants", "--filter", "turf"], "write it as NAME=VALUE"),
        (
            ["calls", "--campaign", "eastside-tenants", "--filter", "turf=Nowhere"],
            "There is no turf of that name",
        ),
        (["calls", "--campaign", "eastside-tenants", "--user", "vince"], "Only the campaign's"),
    ],
)
def test_bad_arguments_are_named_and_no_file_is_written(
    campaign, doors, member_volunteer, tmp_path, args, message
):
    out = tmp_path / "out.csv"
    with pytest.raises(CommandError, match=message):
        call_command("export", *args, "-o", str(out))
    assert not out.exists()


def test_a_short_export_from_the_command_line_fails_and_writes_nothing(
    campaign, doors, tmp_path, monkeypatch
):
    from exports.kinds.calls import FollowUpCalls

    monkeypatch.setattr(FollowUpCalls, "rows", lambda self, qs, ctx, cols: iter([]))
    out = tmp_path / "out.csv"
    with pytest.raises(CommandError, match="The file came out with 0 rows"):
        call_command("export", "calls", "--campaign", campaign.slug, "-o", str(out))
    assert not out.exists()
