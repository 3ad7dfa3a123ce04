"""Telling a volunteer what happened to their signup: the one seam.

Every write that a volunteer should hear about calls `signup_notify` inside its own
transaction. The shift reminders (docs/shifts.md) fill it in; callers look it up on
this module (`notify.signup_notify(...)`), so there is exactly one function to change.
"""

from django.db import models


class SignupEvent(models.TextChoices):
    SIGNED_UP = "signed_up"
    WAITLISTED = "waitlisted"
    PROMOTED = "promoted"
    CANCELLED = "cancelled"
    # Given up for another shift (signup_move): the new signup is told SIGNED_UP or WAITLISTED.
    MOVED = "moved"
    CHANGED = "changed"
    SHIFT_MOVED = "shift_moved"
    SHIFT_CANCELLED = "shift_cancelled"


def signup_notify(*, signup, event):
    """Tell the volunteer what just happened to their signup (`event`, a SignupEvent).

    This is the one place a signup, a waitlist place, a promotion, a cancellation, a move
    to another shift, a change of reminders, or a moved or cancelled shift is told to the
    volunteer. For now it writes nothing: the confirmation and the reminders through the
    outbox (with the personal link from `signup_link_token`) are the next step and fill
    this function in. Callers call it inside the transaction that made the change, so
    whatever it writes commits with it.
    """
    return None
