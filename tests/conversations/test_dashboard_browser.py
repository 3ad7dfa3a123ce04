"""The dashboard's charts load in a real Chromium under the page's strict policy, and are
pictures (nothing in them runs)."""

import pytest

from tests.browser import browser, log_in, page  # noqa: F401 (fixtures)
from tests.factories import PASSWORD, StoryNoteFactory, VisitFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_charts_are_drawn(page, live_server, campaign, organizer):  # noqa: F811
    for before, after in ((3, 6), (5, 5), (7, 9)):
        StoryNoteFactory(
            visit=VisitFactory(campaign=campaign),
            rating_before=before,
            rating_after=after,
            themes=["Housing"],
            minutes=15,
        )
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    log_in(page, live_server, organizer.username, PASSWORD)
    page.goto(f"{live_server.url}/c/{campaign.slug}/conversations/")

    images = page.locator(".chart img")
    assert images.count() == 3
    for i in range(3):
        # A broken image has no width; an SVG without its own size reports 300 px.
        assert images.nth(i).evaluate("img => img.complete && img.naturalWidth") > 0
    assert "Ratings before and after (canvasser-reported)" in page.locator(".charts").inner_text()
    assert not [e for e in errors if "Content Security Policy" in e]
    page.screenshot(path="/tmp/porchlight-dashboard.png", full_page=True)
