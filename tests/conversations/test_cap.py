"""At most three: every message to the person about a commitment counts, whatever its kind,
and two of them are never closer than the documented gap."""

import zoneinfo
from datetime import datetime, timedelta

import pytest
import time_machine
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conversations.models import Channel, Commitment, Reminder, Step
from conversations.services import (
    MAX_PERSON_MESSAGES,
    commitment_cancel,
    commitment_change,
    commitment_record,
    reminder_send,
    sms_inbound_handle,
)
from conversations.services.delivery import CAP_LEFT_OUT, MIN_GAP
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db

CHICAGO = zoneinfo.ZoneInfo("America/Chicago")
NOW = datetime(2024, 10, 8, 12, 0, tzinfo=CHICAGO)
MEETING = datetime(2024, 10, 17, 19, 0, tzinfo=CHICAGO)
MARIA = "+15125550123"


def record(campaign, *, when=MEETING, phone=MARIA):
    return commitment_record(
        campaign=campaign,
        kind="meeting",
        what="The tenants' meeting",
        person=PersonFactory(campaign=campaign, first_name="Maria"),
        when=when,
        channel=Channel.SMS,
        phone=phone,
    )


def run_outbox():
    """What the worker does at this moment: send every due pending row."""
    for pk in Reminder.objects.due().values_list("pk", flat=True):
        reminder_send(reminder_id=pk)


def texts_to_person(commitment):
    return list(
        commitment.reminders.filter(
            recipient_kind=Reminder.Recipient.PERSON, status=Reminder.Status.SENT
        ).order_by("sent_at", "pk")
    )


def live(traveller, moment):
    traveller.move_to(moment)
    run_outbox()


def test_five_reschedules_send_three_texts_and_keep_the_final_day_before(campaign, sent_sms):
    with time_machine.travel(NOW, tick=False) as traveller:
        commitment = record(campaign)
        run_outbox()
        when = MEETING
        for n in range(5):
            live(traveller, NOW + timedelta(hours=n + 1))
            when += timedelta(days=1)
            commitment = commitment_change(commitment=commitment, when=when)
            run_outbox()
        # Walk through to the event.
        moment = NOW + timedelta(hours=6)
        while moment < when:
            live(traveller, moment)
            moment += timedelta(hours=1)

    sent = texts_to_person(commitment)
    assert len(sent) <= MAX_PERSON_MESSAGES
    assert len(sent_sms()) == len(sent)
    assert sent[-1].step == Step.DAY_BEFORE
    assert sent[-1].idempotency_key.startswith(f"commitment:{commitment.pk}:v6:")
    assert "Tuesday Oct 22" in sent[-1].body, "the final date"
    # What the cap left out is written down, for the commitment's page.
    assert commitment.reminders.filter(last_error=CAP_LEFT_OUT).exists()


def test_cancel_and_reopen_three_times_sends_at_most_three(campaign, sent_sms):
    with time_machine.travel(NOW, tick=False) as traveller:
        commitment = record(campaign)
        run_outbox()
        when = MEETING
        for n in range(3):
            live(traveller, NOW + timedelta(hours=2 * n + 1))
            commitment = commitment_cancel(commitment=commitment)
            live(traveller, NOW + timedelta(hours=2 * n + 2))
            when += timedelta(days=1)
            commitment = commitment_change(commitment=commitment, when=when)
            run_outbox()
        moment = NOW + timedelta(hours=8)
        while moment < when:
            live(traveller, moment)
            moment += timedelta(hours=3)
    assert len(texts_to_person(commitment)) <= MAX_PERSON_MESSAGES
    assert len(sent_sms()) <= MAX_PERSON_MESSAGES


def test_a_yes_reply_counts_and_the_plan_makes_room_for_it(campaign, sent_sms):
    with time_machine.travel(NOW, tick=False) as traveller:
        commitment = record(campaign)
        run_outbox()
        live(traveller, NOW + timedelta(minutes=5))
        sms_inbound_handle(provider_id="SM-yes", from_number=MARIA, body="YES")
        run_outbox()
        moment = NOW + timedelta(hours=1)
        while moment < MEETING:
            live(traveller, moment)
            moment += timedelta(hours=1)
    steps = [r.step for r in texts_to_person(commitment)]
    assert steps == [Step.CONFIRM, Step.REPLY_YES, Step.DAY_BEFORE]
    assert len(sent_sms()) == 3


def test_after_a_quiet_hours_delay_the_next_text_keeps_the_gap(campaign, sent_sms):
    late = datetime(2024, 10, 8, 22, 0, tzinfo=CHICAGO)
    meeting = datetime(2024, 10, 10, 19, 0, tzinfo=CHICAGO)
    with time_machine.travel(late, tick=False) as traveller:
        commitment = record(campaign, when=meeting)
        run_outbox()  # the confirmation waits for the morning
        moment = late
        while moment < meeting:
            moment += timedelta(minutes=30)
            live(traveller, moment)
    sent = texts_to_person(commitment)
    assert [r.step for r in sent] == [Step.CONFIRM, Step.DAY_BEFORE, Step.TWO_HOURS]
    assert sent[0].sent_at == datetime(2024, 10, 9, 8, 0, tzinfo=CHICAGO)
    # The day-before one was due at 11:00, three hours after the late confirmation.
    assert sent[1].sent_at == datetime(2024, 10, 9, 14, 0, tzinfo=CHICAGO)
    assert all(b.sent_at - a.sent_at >= MIN_GAP for a, b in zip(sent, sent[1:], strict=False))


def test_a_change_past_the_cap_is_shown_not_sent(campaign, organizer, client, sent_sms):
    with time_machine.travel(NOW, tick=False) as traveller:
        commitment = record(campaign, when=datetime(2024, 10, 11, 19, 0, tzinfo=CHICAGO))
        moment = NOW
        while moment < commitment.when - timedelta(hours=1):
            live(traveller, moment)
            moment += timedelta(hours=1)
        assert len(texts_to_person(commitment)) == 3
        commitment = commitment_change(commitment=commitment, what="The meeting, room B")
        run_outbox()
    changed = commitment.reminders.get(step=Step.CHANGED)
    assert (changed.status, changed.last_error) == (Reminder.Status.SUPPRESSED, CAP_LEFT_OUT)
    assert len(sent_sms()) == 3
    # The commitment's page says what was left out and why.
    client.force_login(organizer)
    page = client.get(reverse("followup_mark", args=[commitment.pk]))
    assert page.status_code == 200
    assert "The date or details changed" in page.content.decode()
    assert "Left out: they would have had more than 3 messages" in page.content.decode()


# --- A property: whatever happens, at most three, and none after a cancel or opt-out ---------
# The same number also makes other commitments ("another"): across all of them, no day of
# theirs has more than the daily cap (STOP and HELP answers aside, which always go).

DAILY_CAP = 2

ACTIONS = st.lists(
    st.one_of(
        st.tuples(st.just("wait"), st.integers(min_value=1, max_value=40)),
        st.tuples(st.just("reschedule"), st.integers(min_value=-3, max_value=6)),
        st.tuples(st.just("edit"), st.integers(min_value=0, max_value=9)),
        st.tuples(st.just("reply"), st.sampled_from(["YES", "NO", "hola", "Sí", "STOP"])),
        st.tuples(st.just("cancel"), st.just(0)),
        st.tuples(st.just("another"), st.integers(min_value=1, max_value=12)),
    ),
    min_size=1,
    max_size=12,
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(actions=ACTIONS)
def test_whatever_happens_at_most_three_and_none_after_a_cancel_or_opt_out(
    campaign, actions, settings
):
    from collections import Counter

    from django.db import transaction

    from conversations.models import OptOut
    from conversations.services.delivery import ALWAYS_ANSWERED

    settings.REMINDERS_PER_PERSON_PER_DAY = DAILY_CAP

    with transaction.atomic():
        Reminder.objects.all().delete()
        OptOut.objects.all().delete()
        with time_machine.travel(NOW, tick=False) as traveller:
            commitment = record(campaign, phone=MARIA)
            clock, stopped, stopped_at = NOW, False, None
            run_outbox()
            for n, (action, value) in enumerate(actions):
                commitment.refresh_from_db()
                closed_before = commitment.status != Commitment.Status.OPEN
                seen = {r.pk for r in texts_to_person(commitment)}
                if action == "wait":
                    for _ in range(value):
                        clock += timedelta(hours=3)
                        live(traveller, clock)
                elif action == "reschedule":
                    when = max(clock + timedelta(hours=3), MEETING + timedelta(days=value))
                    commitment = commitment_change(commitment=commitment, when=when)
                elif action == "edit":
                    commitment = commitment_change(commitment=commitment, what=f"Meeting {value}")
                elif action == "reply":
                    sms_inbound_handle(provider_id=f"SM{n}", from_number=MARIA, body=value)
                elif action == "another":
                    commitment_record(
                        campaign=campaign,
                        kind="meeting",
                        what=f"Another meeting {n}",
                        person=commitment.person,
                        when=clock + timedelta(days=value),
                        channel=Channel.SMS,
                        phone=MARIA,
                    )
                else:
                    commitment = commitment_cancel(commitment=commitment)
                run_outbox()
                commitment.refresh_from_db()
                texts = texts_to_person(commitment)
                assert len(texts) <= MAX_PERSON_MESSAGES, [t.step for t in texts]
                new = [t for t in texts if t.pk not in seen]
                closed = closed_before and action != "reschedule"
                closed = closed or action == "cancel"
                if closed:
                    assert [t.step for t in new if t.step != Step.REPLY_NO] == [], (
                        "a text about a cancelled commitment"
                    )
                if stopped:
                    assert [t.step for t in new] == [], "a text after STOP"
                if not stopped and (action, value) == ("reply", "STOP"):
                    stopped, stopped_at = True, clock
                everything = Reminder.objects.filter(
                    to=MARIA, recipient_kind=Reminder.Recipient.PERSON
                )
                for other in Commitment.objects.filter(campaign=campaign):
                    assert len(texts_to_person(other)) <= MAX_PERSON_MESSAGES
                    if stopped:
                        assert (
                            not other.reminders.filter(
                                status=Reminder.Status.SENT, sent_at__gt=stopped_at
                            )
                            .exclude(step__in=ALWAYS_ANSWERED)
                            .exists()
                        ), "a text after STOP"
                per_day = Counter(
                    sent.sent_at.astimezone(CHICAGO).date()
                    for sent in everything.filter(status=Reminder.Status.SENT).exclude(
                        step__in=ALWAYS_ANSWERED
                    )
                )
                assert max(per_day.values(), default=0) <= DAILY_CAP, per_day
        transaction.set_rollback(True)
