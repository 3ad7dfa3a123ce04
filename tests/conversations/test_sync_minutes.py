"""A story note's length (StoryNote.minutes) as the door screen sends it."""

import pytest

from conversations.models import StoryNote
from tests.conversations.door import conversation, results

pytestmark = pytest.mark.django_db


def test_the_conversations_length_is_stored(phone, door):
    token = door["token"]
    first = door["households"][0]
    item = conversation(first)
    item["story_note"]["minutes"] = 17
    assert [r["status"] for r in results(phone, token, item)] == [201]
    assert StoryNote.objects.get(visit__client_id=item["client_id"]).minutes == 17
    # Sent again as it was: the same visit, nothing new.
    assert [r["status"] for r in results(phone, token, item)] == [200]


def test_a_length_out_of_range_is_refused_with_a_reason(phone, door):
    token = door["token"]
    too_long = conversation(door["households"][0])
    too_long["story_note"]["minutes"] = 241
    negative = conversation(door["households"][1])
    negative["story_note"]["minutes"] = -1
    answers = results(phone, token, too_long, negative)
    assert [a["status"] for a in answers] == [400, 400]
    assert "240" in str(answers[0]["errors"]["story_note"]["minutes"])
    assert not StoryNote.objects.filter(
        visit__client_id__in=[too_long["client_id"], negative["client_id"]]
    ).exists()


def test_a_note_without_a_length_keeps_its_content_hash(phone, door):
    """A visit queued before the door sent a length is the same visit when it arrives again."""
    token = door["token"]
    item = conversation(door["households"][0])
    assert [r["status"] for r in results(phone, token, item)] == [201]
    item["story_note"]["minutes"] = None
    assert [r["status"] for r in results(phone, token, item)] == [200]
    assert StoryNote.objects.get(visit__client_id=item["client_id"]).minutes is None
