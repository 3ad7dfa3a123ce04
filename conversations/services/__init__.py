"""Writes for conversations, one room per subdomain:

- `visits`: what the door screen sends (a visit, its story note, its commitments);
- `plans`: commitments and the follow-up plan each one writes into the outbox;
- `delivery`: the outbox itself, claimed and sent at most once (docs/reminders.md);
- `needs_person`: reminders waiting for a person, and what an organizer does with them;
- `inbound`: texts people send back (STOP, HELP, YES / NO) and the replies inbox.

Callers import from `conversations.services`; the names below are its public surface.
"""

from conversations.services.delivery import (
    DISPATCH_BATCH,
    person_messages_count,
    quiet_until,
    quiet_until_everywhere,
    recipient_timezone,
    recipient_timezones,
    reminder_create,
    reminder_send,
    reminders_dispatch,
    reminders_due_ids,
    reminders_recover_stale,
    reminders_send,
)
from conversations.services.inbound import (
    inbound_answer,
    inbound_mark_handled,
    sms_inbound_handle,
    sms_intent,
    sms_keyword,
)
from conversations.services.needs_person import (
    reminder_current_next,
    reminder_current_plan,
    reminder_resend_refusal,
    reminder_resolve,
    reminder_send_current_instead,
)
from conversations.services.plans import (
    EARLIEST,
    LATEST,
    MAX_PERSON_MESSAGES,
    OUT_OF_RANGE,
    commitment_cancel,
    commitment_change,
    commitment_plan_trim,
    commitment_plan_write,
    commitment_record,
    commitment_reminders_cancel,
    message_render,
    owner_timezone,
    plan_owner_times,
    plan_person_times,
    when_in_range,
    when_text,
)
from conversations.services.visits import (
    VISIT_CONFLICT_MESSAGE,
    VisitConflict,
    VisitInvalid,
    VisitStored,
    visit_content_hash,
    visit_record,
    visits_record,
)

__all__ = [
    "DISPATCH_BATCH",
    "EARLIEST",
    "LATEST",
    "MAX_PERSON_MESSAGES",
    "OUT_OF_RANGE",
    "VISIT_CONFLICT_MESSAGE",
    "VisitConflict",
    "VisitInvalid",
    "VisitStored",
    "commitment_cancel",
    "commitment_change",
    "commitment_plan_trim",
    "commitment_plan_write",
    "commitment_record",
    "commitment_reminders_cancel",
    "inbound_answer",
    "inbound_mark_handled",
    "message_render",
    "owner_timezone",
    "person_messages_count",
    "plan_owner_times",
    "plan_person_times",
    "quiet_until",
    "quiet_until_everywhere",
    "recipient_timezone",
    "recipient_timezones",
    "reminder_create",
    "reminder_current_next",
    "reminder_current_plan",
    "reminder_resend_refusal",
    "reminder_resolve",
    "reminder_send",
    "reminder_send_current_instead",
    "reminders_dispatch",
    "reminders_due_ids",
    "reminders_recover_stale",
    "reminders_send",
    "sms_inbound_handle",
    "sms_intent",
    "sms_keyword",
    "visit_content_hash",
    "visit_record",
    "visits_record",
    "when_in_range",
    "when_text",
]
