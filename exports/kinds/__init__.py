"""The kinds of export, by code."""

from exports.kinds.calls import FollowUpCalls
from exports.kinds.canvass_results import CanvassResults
from exports.kinds.conversations import Conversations
from exports.kinds.roster import Roster

KINDS = {kind.code: kind for kind in (FollowUpCalls(), CanvassResults(), Conversations(), Roster())}


def kind_get(code):
    """The kind `code`, or ValueError naming the kinds there are."""
    try:
        return KINDS[code]
    except KeyError:
        raise ValueError(
            f"“{code}” is not a kind of export. Choose one of: {', '.join(KINDS)}."
        ) from None
