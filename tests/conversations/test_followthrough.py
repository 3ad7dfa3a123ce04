"""A commitment's follow-up plan: what is written, to whom, when, in whose words."""

import zoneinfo
from datetime import datetime, time, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError

from conversations import services
from conversations.models import (
    Channel,
    Commitment,
    MessageTemplate,
    OptOut,
    Reminder,
    Step,
    template_render,
)
from conversations.services import (
    commitment_cancel,
    commitment_change,
    commitment_record,
    plans,
    reminder_send,
)
from tests.factories import PersonFactory, VisitFactory

pytestmark = pytest.mark.django_db

CHICAGO = zoneinfo.ZoneInfo("America/Chicago")
LOS_ANGELES = zoneinfo.ZoneInfo("America/Los_Angeles")
AUSTIN_PHONE = "+15125550123"
OAKLAND_PHONE = "+14155550132"
# Tuesday noon, well away from daylight-saving changes.
NOW = datetime(2024, 10, 8, 12, 0, tzinfo=CHICAGO)
NEXT_THURSDAY_7PM = datetime(2024, 10, 17, 19, 0, tzinfo=CHICAGO)
THIS_THURSDAY_7PM = datetime(2024, 10, 10, 19, 0, tzinfo=CHICAGO)
PLEDGE = "The tenants' meeting at the library"

frozen = time_machine.travel(NOW, tick=False)


@pytest.fixture
def maria(campaign):
    campaign.sender_name = "the tenants' campaign"
    campaign.save()
    return PersonFactory(campaign=campaign, first_name="Maria", last_name="Reyes")


@pytest.fixture
def visit(campaign, volunteer, maria):
    return VisitFactory(campaign=campaign, volunteer=volunteer, person=maria)


def record(campaign, person, *, when=NEXT_THURSDAY_7PM, channel=Channel.SMS, **kwargs):
    fields = dict(
        campaign=campaign,
        kind="meeting",
        what=PLEDGE,
        person=person,
        when=when,
        channel=channel,
        phone=AUSTIN_PHONE if channel == Channel.SMS else "",
        email="maria@example.org" if channel == Channel.EMAIL else "",
    )
    fields.update(kwargs)
    return commitment_record(**fields)


def plan(commitment, recipient=Reminder.Recipient.PERSON, status=Reminder.Status.PENDING):
    rows = commitment.reminders.filter(recipient_kind=recipient, status=status)
    return [(r.step, r.send_at) for r in rows.order_by("send_at", "pk")]


# --- The plan's shape ----------------------------------------------------------


@frozen
def test_all_four_ahead_keeps_three_and_drops_the_two_hour_one(campaign, maria, visit, organizer):
    commitment = record(campaign, maria, visit=visit, owner=organizer)

    assert plan(commitment) == [
        (Step.CONFIRM, NOW),
        (Step.FOUR_DAYS, datetime(2024, 10, 13, 19, 0, tzinfo=CHICAGO)),
        (Step.DAY_BEFORE, datetime(2024, 10, 16, 11, 0, tzinfo=CHICAGO)),
    ]
    assert plan(commitment, Reminder.Recipient.OWNER) == [
        (Step.OWNER_BEFORE, datetime(2024, 10, 16, 9, 0, tzinfo=CHICAGO)),
        (Step.OWNER_AFTER, datetime(2024, 10, 18, 9, 0, tzinfo=CHICAGO)),
    ]
    owner_rows = commitment.reminders.filter(recipient_kind=Reminder.Recipient.OWNER)
    assert {(r.channel, r.to) for r in owner_rows} == {(Channel.EMAIL, organizer.email)}


@frozen
def test_the_confirmation_names_the_pledge_the_person_and_the_canvasser(campaign, maria, visit):
    commitment = record(campaign, maria, visit=visit)
    confirm = commitment.reminders.get(step=Step.CONFIRM)

    assert confirm.body == (
        "Hi Maria, it's Vera from the tenants' campaign: thanks for saying yes! "
        "The tenants' meeting at the library, Thursday Oct 17 at 7pm. "
        "Reply YES to confirm or NO if you can't make it. Reply STOP to opt out."
    )
    for row in commitment.reminders.all():
        assert PLEDGE in row.body
        assert "Thursday Oct 17 at 7pm" in row.body
        assert row.body.endswith("Reply STOP to opt out.")


@frozen
def test_a_meeting_this_week_gets_confirmation_day_before_and_two_hours(campaign, maria):
    commitment = record(campaign, maria, when=THIS_THURSDAY_7PM)
    assert plan(commitment) == [
        (Step.CONFIRM, NOW),
        (Step.DAY_BEFORE, datetime(2024, 10, 9, 11, 0, tzinfo=CHICAGO)),
        (Step.TWO_HOURS, datetime(2024, 10, 10, 17, 0, tzinfo=CHICAGO)),
    ]


@frozen
def test_past_steps_and_ones_right_after_the_confirmation_are_left_out(campaign, maria):
    # Tonight at 7: the day-before is past, and 5pm is too close to a confirmation at noon.
    tonight = NOW.replace(hour=19)
    assert plan(record(campaign, maria, when=tonight)) == [(Step.CONFIRM, NOW)]
    # Tomorrow at 7pm: "the day before at 11:00" was this morning; 5pm tomorrow is ahead.
    tomorrow = tonight + timedelta(days=1)
    assert [step for step, _ in plan(record(campaign, maria, when=tomorrow))] == [
        Step.CONFIRM,
        Step.TWO_HOURS,
    ]


@frozen
@pytest.mark.parametrize("days", [1, 2, 3, 4, 5, 9, 30])
def test_never_more_than_three_messages_to_the_person(campaign, maria, days):
    commitment = record(campaign, maria, when=NOW + timedelta(days=days, hours=7))
    steps = [step for step, _ in plan(commitment)]
    assert 1 <= len(steps) <= services.MAX_PERSON_MESSAGES
    assert steps[0] == Step.CONFIRM


@frozen
def test_the_day_before_is_at_eleven_in_the_recipients_own_zone(campaign, maria):
    commitment = record(campaign, maria, phone=OAKLAND_PHONE)
    day_before = commitment.reminders.get(step=Step.DAY_BEFORE)
    assert day_before.send_at == datetime(2024, 10, 16, 11, 0, tzinfo=LOS_ANGELES)
    # And the time in the text is their time: 7pm in Chicago is 5pm in Oakland.
    assert "Thursday Oct 17 at 5pm" in day_before.body


@frozen
def test_no_date_means_a_thank_you_and_a_nudge_for_the_owner(campaign, maria, organizer):
    commitment = record(campaign, maria, when=None, owner=organizer)
    assert plan(commitment) == [(Step.THANKS, NOW)]
    assert plan(commitment, Reminder.Recipient.OWNER) == [
        (Step.OWNER_CALL, datetime(2024, 10, 9, 9, 0, tzinfo=CHICAGO))
    ]


@frozen
def test_talk_again_reminds_the_owner_not_the_person(campaign, maria, organizer):
    commitment = record(campaign, maria, kind="follow_up", owner=organizer)
    assert plan(commitment) == [(Step.CONFIRM, NOW)]
    assert plan(commitment, Reminder.Recipient.OWNER) == [
        (Step.OWNER_CALL, datetime(2024, 10, 17, 9, 0, tzinfo=CHICAGO))
    ]


@frozen
def test_a_kind_can_have_its_own_schedule(campaign, maria):
    campaign.commitment_kinds = [
        {"code": "meeting", "label": "Come to a meeting", "steps": ["confirm", "two_hours"]}
    ]
    campaign.save()
    commitment = record(campaign, maria)
    assert [step for step, _ in plan(commitment)] == [Step.CONFIRM, Step.TWO_HOURS]


# --- Only the channel they agreed to -------------------------------------------


@frozen
def test_channel_none_sends_the_person_nothing_but_still_reminds_the_owner(
    campaign, maria, organizer
):
    commitment = record(campaign, maria, channel=Channel.NONE, owner=organizer)
    assert plan(commitment) == []
    assert len(plan(commitment, Reminder.Recipient.OWNER)) == 2


@frozen
def test_email_channel_writes_emails_with_subjects(campaign, maria):
    commitment = record(campaign, maria, channel=Channel.EMAIL)
    rows = commitment.reminders.filter(recipient_kind=Reminder.Recipient.PERSON)
    assert {(r.channel, r.to) for r in rows} == {(Channel.EMAIL, "maria@example.org")}
    assert rows.get(step=Step.CONFIRM).subject == f"You said yes: {PLEDGE}, Thursday Oct 17 at 7pm"
    assert all("STOP" not in r.body for r in rows)


@frozen
@pytest.mark.parametrize("why", ["do_not_contact", "opted_out"])
def test_people_who_must_not_be_messaged_get_no_plan(campaign, maria, organizer, why):
    if why == "do_not_contact":
        maria.do_not_contact = True
        maria.save()
    else:
        OptOut.objects.create(address=AUSTIN_PHONE, keyword="STOP")
    commitment = record(campaign, maria, owner=organizer)
    assert plan(commitment) == []
    assert len(plan(commitment, Reminder.Recipient.OWNER)) == 2


@frozen
def test_the_plan_is_written_with_the_commitment_or_not_at_all(campaign, maria, monkeypatch):
    def broken(**kwargs):
        raise KeyError("no wording")

    monkeypatch.setattr(plans, "message_render", broken)
    with pytest.raises(KeyError):
        record(campaign, maria)
    assert not Commitment.objects.exists()
    assert not Reminder.objects.exists()


def test_bad_input_is_refused_with_nothing_written(campaign, maria):
    with pytest.raises(ValidationError) as caught:
        record(campaign, maria, kind="karaoke", phone="not a phone")
    assert set(caught.value.message_dict) == {"kind", "phone"}
    assert not Commitment.objects.exists() and not Reminder.objects.exists()


# --- Templates a campaign can edit -----------------------------------------------


@frozen
def test_a_campaigns_template_replaces_the_default(campaign, maria, visit):
    MessageTemplate.objects.create(
        campaign=campaign,
        step=Step.CONFIRM,
        channel=Channel.SMS,
        body="{first_name}! {canvasser} here. {what}: {when}. Reply STOP to opt out.",
    )
    MessageTemplate.objects.create(
        campaign=campaign,
        kind="meeting",
        step=Step.DAY_BEFORE,
        channel=Channel.SMS,
        body="Tomorrow: {what}. Reply STOP to opt out.",
    )
    MessageTemplate.objects.create(
        campaign=campaign,
        kind="vote_plan",
        step=Step.DAY_BEFORE,
        channel=Channel.SMS,
        body="Vote tomorrow! Reply STOP to opt out.",
    )
    commitment = record(campaign, maria, visit=visit)
    bodies = dict(commitment.reminders.values_list("step", "body"))
    assert bodies[Step.CONFIRM] == (
        f"Maria! Vera here. {PLEDGE}: Thursday Oct 17 at 7pm. Reply STOP to opt out."
    )
    assert bodies[Step.DAY_BEFORE] == f"Tomorrow: {PLEDGE}. Reply STOP to opt out."
    # Another campaign keeps the defaults.
    assert (
        "thanks for saying yes"
        in services.message_render(
            campaign=PersonFactory().campaign,
            kind="meeting",
            step=Step.CONFIRM,
            channel=Channel.SMS,
            values={},
        )[1]
    )


@pytest.mark.parametrize(
    "body, complaint",
    [
        ("Hi {name}", "Unknown placeholder {name}"),
        ("Hi {first_name.__class__}", "Unknown placeholder {first_name.__class__}"),
        ("Hi {first_name!r}", "Unknown placeholder {first_name!r}"),
        ("Hi {first_name:>40}", "Unknown placeholder {first_name:>40}"),
        ("Hi {first_name", "lone { or }"),
    ],
)
def test_unknown_placeholders_are_refused_on_save(campaign, body, complaint):
    template = MessageTemplate(campaign=campaign, step=Step.CONFIRM, channel=Channel.SMS, body=body)
    with pytest.raises(ValidationError) as caught:
        template.full_clean()
    assert complaint in caught.value.message_dict["body"][0]
    if "Unknown" in complaint:
        assert "{first_name}, {sender}, {what}, {when}, {canvasser}" in str(caught.value)
    with pytest.raises(ValidationError):
        template.save()
    assert not MessageTemplate.objects.exists()


def test_every_default_template_renders(campaign):
    for (step, channel), (subject, body) in plans.DEFAULT_MESSAGE_TEMPLATES.items():
        values = {"first_name": "Maria", "what": PLEDGE, "when": "Thursday", "sender": "Us"}
        assert template_render(body, values), (step, channel)
        template_render(subject, values)
        if channel == Channel.SMS and step in (Step.CONFIRM, Step.FOUR_DAYS, Step.DAY_BEFORE):
            assert "Reply STOP to opt out." in body


def test_literal_braces_are_allowed():
    assert template_render("{{not a field}} {what}", {"what": "x"}) == "{not a field} x"


# --- Changing and cancelling ---------------------------------------------------------


@frozen
def test_moving_the_date_cancels_pending_reminders_and_writes_a_new_plan(
    campaign, maria, organizer, sent_sms
):
    commitment = record(campaign, maria, owner=organizer)
    confirm = commitment.reminders.get(step=Step.CONFIRM)
    assert reminder_send(reminder_id=confirm.pk) == Reminder.Status.SENT
    old_pending = set(
        commitment.reminders.filter(status=Reminder.Status.PENDING).values_list("pk", flat=True)
    )

    later = NEXT_THURSDAY_7PM + timedelta(days=7)
    commitment = commitment_change(commitment=commitment, when=later)

    assert commitment.plan_version == 2
    confirm.refresh_from_db()
    assert confirm.status == Reminder.Status.SENT, "a sent reminder is never touched"
    cancelled = commitment.reminders.filter(status=Reminder.Status.CANCELLED)
    assert set(cancelled.values_list("pk", flat=True)) == old_pending
    # They were told once already: a change notice, then the one that matters most.
    assert plan(commitment) == [
        (Step.CHANGED, NOW),
        (Step.DAY_BEFORE, datetime(2024, 10, 23, 11, 0, tzinfo=CHICAGO)),
    ]
    assert "is now Thursday Oct 24 at 7pm" in commitment.reminders.get(step=Step.CHANGED).body
    assert plan(commitment, Reminder.Recipient.OWNER) == [
        (Step.OWNER_BEFORE, datetime(2024, 10, 23, 9, 0, tzinfo=CHICAGO)),
        (Step.OWNER_AFTER, datetime(2024, 10, 25, 9, 0, tzinfo=CHICAGO)),
    ]


@frozen
def test_a_change_before_anything_was_sent_just_replans(campaign, maria):
    commitment = record(campaign, maria)
    commitment = commitment_change(commitment=commitment, what="The rent strike meeting")
    pending = commitment.reminders.filter(status=Reminder.Status.PENDING)
    assert [r.step for r in pending.order_by("send_at", "pk")] == [
        Step.CONFIRM,
        Step.FOUR_DAYS,
        Step.DAY_BEFORE,
    ]
    assert all("The rent strike meeting" in r.body for r in pending)
    assert commitment.reminders.filter(status=Reminder.Status.CANCELLED).count() == 3


@frozen
def test_switching_to_no_reminders_cancels_the_persons_and_keeps_the_owners(
    campaign, maria, organizer
):
    commitment = record(campaign, maria, owner=organizer)
    commitment = commitment_change(commitment=commitment, channel=Channel.NONE)
    assert plan(commitment) == []
    assert len(plan(commitment, Reminder.Recipient.OWNER)) == 2


@frozen
def test_a_bad_change_changes_nothing(campaign, maria):
    commitment = record(campaign, maria)
    with pytest.raises(ValidationError):
        commitment_change(commitment=commitment, channel=Channel.EMAIL)  # no email given
    commitment.refresh_from_db()
    assert (commitment.channel, commitment.plan_version) == (Channel.SMS, 1)
    assert len(plan(commitment)) == 3


@frozen
def test_cancelling_cancels_every_pending_reminder_and_they_never_go_out(
    campaign, maria, organizer, sent_sms
):
    commitment = record(campaign, maria, owner=organizer)
    confirm = commitment.reminders.get(step=Step.CONFIRM)
    reminder_send(reminder_id=confirm.pk)

    commitment = commitment_cancel(commitment=commitment, reason="The meeting was called off.")

    assert commitment.status == Commitment.Status.CANCELLED
    statuses = dict(commitment.reminders.values_list("step", "status"))
    assert statuses.pop(Step.CONFIRM) == Reminder.Status.SENT
    assert set(statuses.values()) == {Reminder.Status.CANCELLED}
    for reminder in commitment.reminders.exclude(step=Step.CONFIRM):
        with time_machine.travel(reminder.send_at, tick=False):
            assert reminder_send(reminder_id=reminder.pk) is None
    assert len(sent_sms()) == 1


@frozen
def test_rescheduling_a_missed_commitment_reopens_it(campaign, maria):
    commitment = record(campaign, maria, when=THIS_THURSDAY_7PM)
    commitment_cancel(commitment=commitment)
    commitment = commitment_change(commitment=commitment, when=NEXT_THURSDAY_7PM)
    assert commitment.status == Commitment.Status.OPEN
    assert plan(commitment)[0] == (Step.CONFIRM, NOW)


def test_day_before_time_is_eleven():
    assert plans.DAY_BEFORE_AT == time(11, 0)


def test_a_text_template_must_say_how_to_opt_out(campaign):
    template = MessageTemplate(
        campaign=campaign, step=Step.DAY_BEFORE, channel=Channel.SMS, body="See you {when}!"
    )
    with pytest.raises(ValidationError, match="Reply STOP to opt out"):
        template.full_clean()
    # An email, or a note to the owner, needs no STOP line.
    MessageTemplate(
        campaign=campaign, step=Step.DAY_BEFORE, channel=Channel.EMAIL, body="See you {when}!"
    ).full_clean()


def test_the_admin_add_form_starts_from_the_default_wording(client, django_user_model):
    admin_user = django_user_model.objects.create_superuser("root", "root@example.org", "pw")
    client.force_login(admin_user)
    response = client.get(
        "/admin/conversations/messagetemplate/add/", {"step": "confirm", "channel": "sms"}
    )
    assert response.status_code == 200
    default_body = plans.DEFAULT_MESSAGE_TEMPLATES[(Step.CONFIRM, Channel.SMS)][1]
    assert response.context["adminform"].form.initial["body"] == default_body


@frozen
def test_the_owner_is_told_who_how_to_reach_them_and_where_to_mark_it(
    campaign, maria, visit, organizer
):
    commitment = record(campaign, maria, visit=visit, owner=organizer)
    before = commitment.reminders.get(step=Step.OWNER_BEFORE)
    assert before.subject == f"Tomorrow: Maria Reyes — {PLEDGE}"
    assert "Vera had the conversation" in before.body
    assert AUSTIN_PHONE in before.body
    assert before.body.endswith(f"/follow-ups/{commitment.pk}/")
