"""Never when it should not: what changes while a batch is being sent is read again before
each provider call (the commitment, do-not-contact, the opt-outs, the clock)."""

import zoneinfo
from datetime import datetime, timedelta

import pytest
import time_machine

from conversations.models import Commitment, OptOut, Reminder
from conversations.services import commitment_cancel, commitment_change, reminders_send
from tests.factories import CommitmentFactory, ReminderFactory

pytestmark = pytest.mark.django_db

CHICAGO = zoneinfo.ZoneInfo("America/Chicago")
NOON = datetime(2024, 10, 8, 12, 0, tzinfo=CHICAGO)
FIRST, SECOND = "+15125550111", "+15125550122"


class HookedSms:
    """Records each text; after the first one, runs `after_first` (what lands mid-batch)."""

    sent = []
    after_first = None

    def send(self, *, to, body, idempotency_key=""):
        type(self).sent.append(to)
        if len(type(self).sent) == 1 and type(self).after_first:
            type(self).after_first()
        return f"hooked-{len(type(self).sent)}"


@pytest.fixture
def hooked(settings, monkeypatch):
    monkeypatch.setattr(HookedSms, "sent", [])
    monkeypatch.setattr(HookedSms, "after_first", None)
    settings.SMS_BACKEND = f"{__name__}.HookedSms"
    return HookedSms


def planned(campaign, commitment, to):
    return ReminderFactory(
        campaign=campaign,
        commitment=commitment,
        to=to,
        step="day_before",
        idempotency_key=f"commitment:{commitment.pk}:v{commitment.plan_version}:day_before",
    )


def _cancel(c):
    commitment_cancel(commitment=c)


def _no_reply(c):
    commitment_cancel(commitment=c, reason="They replied NO.")


def _kept(c):
    Commitment.objects.filter(pk=c.pk).update(status=Commitment.Status.KEPT)


def _do_not_contact(c):
    type(c.person).objects.filter(pk=c.person_id).update(do_not_contact=True)


def _stop(c):
    OptOut.objects.create(address=SECOND, keyword="STOP")


def _moved(c):
    commitment_change(commitment=c, when=c.when + timedelta(days=2))


@time_machine.travel(NOON, tick=False)
@pytest.mark.parametrize(
    "event, reason",
    [
        (_cancel, "Commitment cancelled."),
        (_no_reply, "Commitment cancelled."),
        (_kept, "Commitment kept."),
        (_do_not_contact, "Do not contact."),
        (_stop, "Recipient opted out."),
        (_moved, "a newer plan replaces this message"),
    ],
    ids=["cancel", "no-reply", "kept", "do-not-contact", "stop", "date-changed"],
)
def test_what_lands_while_a_batch_is_claimed_stops_the_rest(campaign, hooked, event, reason):
    first = CommitmentFactory(campaign=campaign, phone=FIRST)
    second = CommitmentFactory(campaign=campaign, phone=SECOND)
    rows = [planned(campaign, first, FIRST), planned(campaign, second, SECOND)]
    hooked.after_first = lambda: event(second)

    outcomes = reminders_send(reminder_ids=[r.pk for r in rows])

    assert hooked.sent == [FIRST]
    assert outcomes[rows[1].pk] == Reminder.Status.SUPPRESSED
    rows[1].refresh_from_db()
    assert reason in rows[1].last_error


def test_the_quiet_hours_clock_is_read_before_each_text(campaign, hooked):
    claimed_at = datetime(2024, 10, 8, 20, 59, 45, tzinfo=CHICAGO)
    with time_machine.travel(claimed_at, tick=False) as traveller:
        rows = [ReminderFactory(campaign=campaign, to=FIRST) for _ in range(3)]
        # The first text takes 20 seconds: it is 21:00:05 when the second one is due to go.
        hooked.after_first = lambda: traveller.move_to(claimed_at + timedelta(seconds=20))
        outcomes = reminders_send(reminder_ids=[r.pk for r in rows])

    assert hooked.sent == [FIRST]
    assert [outcomes[r.pk] for r in rows] == [
        Reminder.Status.SENT,
        Reminder.Status.PENDING,
        Reminder.Status.PENDING,
    ]
    for row in rows[1:]:
        row.refresh_from_db()
        assert row.send_at == datetime(2024, 10, 9, 8, 0, tzinfo=CHICAGO)
