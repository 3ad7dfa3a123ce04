"""Typing a paper sheet back in with the keyboard only, in a real headless Chromium."""

import pytest

from conversations.models import StoryNote, Visit
from tests.browser import browser, log_in, page  # noqa: F401 (fixtures)
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_sheet_is_typed_in_without_the_mouse(page, live_server, organizer, assignment):  # noqa: F811
    made, _ = assignment
    log_in(page, live_server, organizer.username, PASSWORD)
    page.goto(f"{live_server.url}/c/{made.turf.campaign.slug}/assignments/{made.pk}/paper/")

    # The first door's result box has the focus; letters and digits move on by themselves.
    page.keyboard.type("c36")
    page.keyboard.type("1")
    page.keyboard.press("Enter")  # next door
    page.keyboard.type("n")
    page.keyboard.press("Enter")
    page.keyboard.press("Enter")  # past the last door: the save button
    page.keyboard.press("Enter")
    page.wait_for_selector("text=Saved 2 doors from the paper sheet.")

    visits = list(Visit.objects.filter(assignment=made).order_by("household__house_number"))
    assert [v.outcome for v in visits] == ["conversation", "not_home"]
    assert all(v.from_paper for v in visits)
    note = StoryNote.objects.get(visit=visits[0])
    assert (note.rating_before, note.rating_after) == (3, 6)
    assert visits[0].commitments.count() == 1
