"""The kinds of export, by code."""

from exports.kinds.calls import FollowUpCalls

KINDS = {kind.code: kind for kind in (FollowUpCalls(),)}


def kind_get(code):
    """The kind `code`, or ValueError naming the kinds there are."""
    try:
        return KINDS[code]
    except KeyError:
        raise ValueError(
            f"“{code}” is not a kind of export. Choose one of: {', '.join(KINDS)}."
        ) from None
