"""The export flow in a real headless Chromium: choose the columns and the format, see what
was left out and why, download the file and read it back."""

import pytest
from openpyxl import load_workbook

from exports.models import ExportJob
from tests.browser import browser, log_in, page  # noqa: F401 (fixtures)
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_field_lead_exports_a_call_list_and_downloads_it(
    page,  # noqa: F811
    live_server,
    campaign,
    field_lead,
    doors,
    tmp_path,
):
    log_in(page, live_server, field_lead.username, PASSWORD)
    page.goto(f"{live_server.url}/c/{campaign.slug}/")
    page.get_by_role("link", name="Exports").click()
    page.get_by_role("link", name="Follow-up call list").click()

    # Keep three columns, phone number first.
    for box in page.locator("input[name=col]").all():
        if box.get_attribute("value") not in ("first_name", "phone_e164", "what"):
            box.uncheck()
    page.fill("input[name=pos-phone_e164]", "1")
    page.fill("input[name=pos-first_name]", "2")
    page.fill("input[name=pos-what]", "3")
    page.check("input[name=format][value=xlsx]")
    page.fill("input[name=save_layout]", "Phone bank")
    page.get_by_role("button", name="Export").click()

    assert page.locator("#export-rows").inner_text() == "2 rows"
    left_out = page.locator("#export-summary").inner_text()
    assert "3 left out" in left_out
    assert "1 marked do not contact" in left_out
    assert "1 opted out (replied STOP or unsubscribed)" in left_out

    with page.expect_download() as caught:
        page.get_by_role("link", name="Download the file").click()
    target = tmp_path / caught.value.suggested_filename
    caught.value.save_as(target)
    assert target.name.startswith("call-list-eastside-tenants-") and target.suffix == ".xlsx"
    rows = list(load_workbook(target, read_only=True).worksheets[0].iter_rows(values_only=True))
    assert rows[0] == ("Phone (E.164)", "First name", "What")
    assert rows[1] == ("+15125550123", "Ana", "Tenants' meeting at the library")
    assert ExportJob.objects.get().created_by == field_lead

    # The layout comes back for the next export.
    page.goto(f"{live_server.url}/c/{campaign.slug}/exports/new/calls/")
    page.get_by_role("button", name="Use this layout").click()
    checked = page.locator("input[name=col]:checked")
    assert [checked.nth(i).get_attribute("value") for i in range(checked.count())] == [
        "phone_e164",
        "first_name",
        "what",
    ]
