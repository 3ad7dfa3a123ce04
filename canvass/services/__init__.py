"""Writes for shifts and their signups: the rules every path goes through, one room per
subdomain:

- `shifts`: planning shifts (create, repeat, edit, cancel) in the campaign's time zone;
- `volunteers`: checking what someone typed, and recognising a returning volunteer;
- `signups`: capacity under the shift's row lock, the waitlist and its promotions, and
  every change to a signup's status;
- `links`: the personal link to a signup, stored hashed;
- `checkin`: at the staging location — walk-ins, turf hand-out, the no-show sweep;
- `notify`: `signup_notify`, the one place a volunteer is told what happened, and the
  shift reminders it writes into the outbox;
- `ladder`: a "volunteer a shift" said at the door becomes a signup, and the signup
  decides the commitment (kept on check-in, missed on a no-show).

The organizer's shift pages, the public signup page, the personal link, the check-in
screen, the Django admin, the demo and the no-show sweep all change shifts and signups
through these functions, so capacity, the waitlist and the time rules hold the same
way on each path. Callers import from `canvass.services`; the names below are its
public surface.

Every function takes `now` for the demo and the tests, which replay what happened at
the time it happened; everyone else leaves it out.
"""

from canvass.services.checkin import (
    NO_SHOW_AFTER,
    shift_hand_out,
    signup_walk_in,
    signups_no_show_sweep,
)
from canvass.services.ladder import (
    commitment_shift_record,
    ladder_shifts,
    signup_commitments_follow,
)
from canvass.services.links import (
    signup_link,
    signup_link_reissue,
    signup_link_revoke,
    signup_link_token,
)
from canvass.services.notify import SignupEvent, signup_notify
from canvass.services.shifts import (
    MAX_SERIES,
    SHIFT_FIELDS,
    shift_cancel,
    shift_check,
    shift_create,
    shift_occurrences,
    shift_series_create,
    shift_update,
)
from canvass.services.signups import (
    signup_cancel,
    signup_check_in,
    signup_check_in_undo,
    signup_confirm,
    signup_create,
    signup_delete,
    signup_move,
    signup_preferences_set,
    signup_public,
    signup_rejoin,
    signup_reminders_check,
    signup_spot_check,
    signup_status_set,
)
from canvass.services.volunteers import volunteer_details_clean, volunteer_find_or_create

__all__ = [
    "MAX_SERIES",
    "NO_SHOW_AFTER",
    "SHIFT_FIELDS",
    "SignupEvent",
    "commitment_shift_record",
    "ladder_shifts",
    "shift_cancel",
    "shift_check",
    "shift_create",
    "shift_hand_out",
    "shift_occurrences",
    "shift_series_create",
    "shift_update",
    "signup_cancel",
    "signup_commitments_follow",
    "signup_check_in",
    "signup_check_in_undo",
    "signup_confirm",
    "signup_create",
    "signup_delete",
    "signup_move",
    "signup_link",
    "signup_link_reissue",
    "signup_link_revoke",
    "signup_link_token",
    "signup_notify",
    "signup_preferences_set",
    "signup_public",
    "signup_rejoin",
    "signup_reminders_check",
    "signup_spot_check",
    "signup_status_set",
    "signup_walk_in",
    "signups_no_show_sweep",
    "volunteer_details_clean",
    "volunteer_find_or_create",
]
