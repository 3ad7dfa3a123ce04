"""The Django admin is for superusers only; organizers change their campaign's message
wording on a campaign-scoped page instead (README, "The admin")."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from conversations.models import Channel, MessageTemplate, Step
from tests.factories import PersonFactory, StoryNoteFactory, VisitFactory

pytestmark = pytest.mark.django_db


def _staff_with_every_view_permission(user):
    user.is_staff = True
    user.save()
    user.user_permissions.add(*Permission.objects.filter(codename__startswith="view_"))
    return user


def test_another_campaigns_organizer_with_admin_rights_reads_nothing(client, campaign, outsider):
    person = PersonFactory(campaign=campaign, first_name="Maria", last_name="Reyes")
    note = StoryNoteFactory(
        visit=VisitFactory(campaign=campaign, person=person),
        story="My brother's immigration case",
        sensitive=True,
    )
    client.force_login(_staff_with_every_view_permission(outsider))
    for url in [
        reverse("admin:index"),
        reverse("admin:turf_person_changelist"),
        reverse("admin:turf_person_change", args=[person.pk]),
        reverse("admin:conversations_storynote_changelist"),
        reverse("admin:conversations_storynote_change", args=[note.pk]),
    ]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("admin:login")), url
        assert b"immigration" not in response.content


def test_even_the_campaigns_own_organizer_is_not_let_into_the_admin(client, organizer):
    client.force_login(_staff_with_every_view_permission(organizer))
    assert client.get(reverse("admin:index")).status_code == 302


def test_a_superuser_uses_the_admin(client, django_user_model, campaign):
    root = django_user_model.objects.create_superuser("root", "root@example.org", "pw")
    person = PersonFactory(campaign=campaign, first_name="Maria")
    client.force_login(root)
    response = client.get(reverse("admin:turf_person_changelist"))
    assert response.status_code == 200
    assert person in response.context["cl"].queryset


# --- The message wording page ---------------------------------------------------------


def test_an_organizer_writes_their_campaigns_wording(client, campaign, organizer):
    client.force_login(organizer)
    new = reverse("message_template_new", args=[campaign.slug])
    page = client.get(new, {"step": "confirm", "channel": "sms"})
    assert page.status_code == 200
    assert "Reply STOP to opt out" in page.context["form"].initial["body"]

    response = client.post(
        new,
        {
            "step": Step.DAY_BEFORE,
            "channel": Channel.SMS,
            "kind": "",
            "body": "Tomorrow: {what}, {when}. Reply STOP to opt out.",
        },
    )
    assert response.status_code == 302
    template = MessageTemplate.objects.get()
    assert template.campaign == campaign
    listing = client.get(reverse("message_templates", args=[campaign.slug]))
    assert template in listing.context["templates"]


def test_bad_wording_is_refused_with_the_reason_and_nothing_saved(client, campaign, organizer):
    client.force_login(organizer)
    new = reverse("message_template_new", args=[campaign.slug])
    data = {"step": Step.DAY_BEFORE, "channel": Channel.SMS, "kind": ""}
    response = client.post(new, {**data, "body": "Hi {first_name.__class__} Reply STOP"})
    assert response.status_code == 400
    assert "Unknown placeholder" in response.content.decode()
    response = client.post(new, {**data, "body": "See you {when}!"})
    assert response.status_code == 400
    assert "Reply STOP to opt out" in response.content.decode()
    assert not MessageTemplate.objects.exists()

    MessageTemplate.objects.create(
        campaign=campaign, step=Step.DAY_BEFORE, channel=Channel.SMS, body="x Reply STOP"
    )
    response = client.post(new, {**data, "body": "Again. Reply STOP to opt out."})
    assert response.status_code == 400
    assert "already has wording" in response.content.decode()
    assert MessageTemplate.objects.count() == 1


def test_another_campaigns_organizer_cannot_see_or_change_the_wording(
    client, campaign, outsider, field_lead
):
    template = MessageTemplate.objects.create(
        campaign=campaign, step=Step.DAY_BEFORE, channel=Channel.SMS, body="Ours. Reply STOP"
    )
    client.force_login(outsider)
    assert client.get(reverse("message_templates", args=[campaign.slug])).status_code == 404
    edit = reverse("message_template_edit", args=[campaign.slug, template.pk])
    assert client.get(edit).status_code == 404
    assert client.post(edit, {"body": "Theirs"}).status_code == 404
    delete = reverse("message_template_delete", args=[campaign.slug, template.pk])
    assert client.post(delete).status_code == 404
    # Through their own campaign's address, the other campaign's row is not found either.
    own = outsider.memberships.get().campaign.slug
    assert client.get(reverse("message_template_edit", args=[own, template.pk])).status_code == 404
    other_delete = reverse("message_template_delete", args=[own, template.pk])
    assert client.post(other_delete).status_code == 404
    client.force_login(field_lead)
    assert client.get(reverse("message_templates", args=[campaign.slug])).status_code == 403
    template.refresh_from_db()
    assert template.body == "Ours. Reply STOP"
