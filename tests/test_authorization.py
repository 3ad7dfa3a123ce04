"""Every URL pattern, for every persona: who may open it and who is turned away.

The patterns are read from the URL configuration, so a new page without a rule here fails
`test_every_url_pattern_has_a_rule`. Each page is asked for with the method it answers (GET,
else POST with an empty form); a persona turned away gets the login page (anonymous), 403 or
404, and never the page; a persona let in gets anything else but a server error. Pages that
load an object by id are also asked for through another campaign's address with this
campaign's ids, by that campaign's organizer: always 404.

The Django admin is not walked here: its site lets in superusers only (tests/canvass/
test_admin.py), whatever the page.
"""

from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.files.base import ContentFile
from django.db import transaction
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.converters import IntConverter
from django.utils import timezone

from canvass.models import Membership
from conversations.models import (
    Commitment,
    HeldVisit,
    InboundSms,
    MessageTemplate,
    Reminder,
    Step,
)
from exports.models import ExportJob
from tests.factories import (
    CampaignFactory,
    MembershipFactory,
    PersonFactory,
    ReminderFactory,
    ShiftFactory,
    ShiftSignupFactory,
    TurfFactory,
    UserFactory,
    VolunteerFactory,
)
from turf.models import ImportJob
from turf.services import assignment_create

pytestmark = pytest.mark.django_db

ANYONE = "anyone"  # public pages
SIGNED_IN = "signed in"  # any logged-in user (each sees only their own)
LEADS = "organizers and field leads"
ORGANIZERS = "organizers"
LINK = "the link's holder"  # an assignment link: the token is the key
SIGNUP_LINK = "the signup link's holder"
SIGNED_REQUESTS = "signed requests only"  # the SMS provider's webhook

RULES = {
    "home": ANYONE,
    "healthz": ANYONE,
    "login": ANYONE,
    "logout": ANYONE,
    "password_reset": ANYONE,
    "password_reset_done": ANYONE,
    "password_reset_confirm": ANYONE,
    "password_reset_complete": ANYONE,
    "schema": ANYONE,
    "api-docs": ANYONE,
    "door_service_worker": ANYONE,
    "door_shell": ANYONE,
    "signup_page": ANYONE,
    "signup_shift": ANYONE,
    "webhook_sms_twilio": SIGNED_REQUESTS,
    "assignment_open": LINK,
    "door_manifest": ANYONE,  # the same for every link: it holds no one's details
    "sync_bundle": LINK,
    "sync_visits": LINK,
    "sync_held": LINK,
    "signup_manage": SIGNUP_LINK,
    "followups_mine": SIGNED_IN,
    "followup_mark": ORGANIZERS,  # and the commitment's owner
    "two_factor": SIGNED_IN,
    "campaign_dashboard": LEADS,
    "turf_list": LEADS,
    "turf_progress": LEADS,
    "turf_detail": LEADS,
    "walk_sheet": LEADS,
    "turf_map": LEADS,
    "turfs_geojson": LEADS,
    "households_geojson": LEADS,
    "followthrough": LEADS,
    "people_list": LEADS,
    "person_detail": LEADS,
    "shift_list": LEADS,
    "shift_detail": LEADS,
    "shift_numbers": LEADS,
    "signup_qr": LEADS,
    "export_index": LEADS,
    "export_new": LEADS,
    "export_job": LEADS,
    "export_job_status": LEADS,
    "export_download": LEADS,
    "import_upload": ORGANIZERS,
    "import_detail": ORGANIZERS,
    "import_map": ORGANIZERS,
    "import_status": ORGANIZERS,
    "import_retry": ORGANIZERS,
    "turf_sheets_pdf": LEADS,
    "shift_sheets_pdf": LEADS,
    "paper_entry": LEADS,
    "assignment_link": ORGANIZERS,
    "assignment_link_send": ORGANIZERS,
    "households_unlocated": LEADS,
    "geocode_status": LEADS,
    "geocode_start": ORGANIZERS,
    "household_locate": ORGANIZERS,
    "replies_inbox": ORGANIZERS,
    "reply_answer": ORGANIZERS,
    "reply_handled": ORGANIZERS,
    "reminders_needing_a_person": ORGANIZERS,
    "reminder_settle": ORGANIZERS,
    "reminder_current_instead": ORGANIZERS,
    "conversations_dashboard": LEADS,
    "coaching": LEADS,
    "import_report": ORGANIZERS,
    "turf_cut": ORGANIZERS,
    "turf_status": ORGANIZERS,
    "turf_edit_select": ORGANIZERS,
    "turf_edit_create": ORGANIZERS,
    "turf_edit_move": ORGANIZERS,
    "turf_edit_merge": ORGANIZERS,
    "turf_edit_split": ORGANIZERS,
    "assign": ORGANIZERS,
    "assignment_revoke": ORGANIZERS,
    "assignment_reissue": ORGANIZERS,
    "followups_campaign": ORGANIZERS,
    "held_visits": ORGANIZERS,
    "held_visit_done": ORGANIZERS,
    "message_templates": ORGANIZERS,
    "message_template_new": ORGANIZERS,
    "message_template_edit": ORGANIZERS,
    "message_template_delete": ORGANIZERS,
    "person_forget": ORGANIZERS,
    "person_details": ORGANIZERS,
    "membership_unlock": ORGANIZERS,
    "campaign_security": ORGANIZERS,
    "campaign_script": ORGANIZERS,
    "shift_new": ORGANIZERS,
    "shift_edit": ORGANIZERS,
    "shift_copy": ORGANIZERS,
    "shift_cancel": ORGANIZERS,
    "shift_signup_add": ORGANIZERS,
    "shift_signup_change": ORGANIZERS,
    "shift_checkin": ORGANIZERS,
    "shift_checkin_tap": ORGANIZERS,
    "shift_walk_in": ORGANIZERS,
    "shift_hand_out": ORGANIZERS,
    "result_codes": ORGANIZERS,
}

# Campaign personas, in the order they are tried: whoever may change something goes last.
PERSONAS = ["anonymous", "other_organizer", "volunteer_role", "field_lead", "organizer"]
ALLOWED = {
    ANYONE: set(PERSONAS),
    SIGNED_IN: set(PERSONAS) - {"anonymous"},
    LEADS: {"field_lead", "organizer"},
    ORGANIZERS: {"organizer"},
}


def url_patterns(resolver=None, namespace=None):
    """(name, pattern) for every named URL outside the admin."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            inner = entry.namespace or namespace
            if inner != "admin":
                yield from url_patterns(entry, inner)
        elif isinstance(entry, URLPattern):
            yield entry.name, entry


PATTERNS = sorted({name for name, _ in url_patterns()}, key=str)


def test_every_url_pattern_has_a_rule():
    unnamed = [str(p.pattern) for name, p in url_patterns() if not name]
    assert unnamed == [], "every page needs a name to have a rule"
    assert sorted(set(PATTERNS) - set(RULES)) == [], "add a rule to RULES for each new page"


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    """Built once for the module inside a transaction rolled back at the end (as Django's
    setUpTestData does); each test's own changes roll back to a savepoint."""
    media = override_settings(MEDIA_ROOT=tmp_path_factory.mktemp("media"))
    with django_db_blocker.unblock(), media:
        outer = transaction.atomic()
        outer.__enter__()
        try:
            yield _world()
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


def _world():
    """Campaign A with one of everything, campaign B (the outsider's), and the links."""
    campaign = CampaignFactory(name="Eastside Tenants United", slug="eastside-tenants")
    organizer = UserFactory(username="olivia")
    MembershipFactory(user=organizer, campaign=campaign, role=Membership.Role.ORGANIZER)
    field_lead = UserFactory(username="farid")
    MembershipFactory(user=field_lead, campaign=campaign, role=Membership.Role.FIELD_LEAD)
    outsider = UserFactory(username="oscar")
    MembershipFactory(
        user=outsider,
        campaign=CampaignFactory(name="Northside Neighbors", slug="northside"),
        role=Membership.Role.ORGANIZER,
    )
    volunteer_user = UserFactory(username="vic")
    MembershipFactory(user=volunteer_user, campaign=campaign, role=Membership.Role.VOLUNTEER)
    volunteer = VolunteerFactory(campaign=campaign, first_name="Vera", phone="+15125550101")
    shift = ShiftFactory(campaign=campaign)
    turf = TurfFactory(campaign=campaign, name="Maple", doors=3)
    assignment, token = assignment_create(
        turf=turf, volunteers=[volunteer], shift=shift, created_by=organizer
    )
    _other_turf_link, other_turf_token = assignment_create(
        turf=TurfFactory(campaign=campaign, name="Oak", doors=2), volunteers=[volunteer]
    )
    other_campaign = outsider.memberships.get().campaign
    _b_link, other_campaign_token = assignment_create(
        turf=TurfFactory(campaign=other_campaign, name="Elm", doors=2),
        volunteers=[VolunteerFactory(campaign=other_campaign)],
    )
    signup = ShiftSignupFactory(shift=shift, volunteer=volunteer)
    person = PersonFactory(campaign=campaign, household=turf.households.first())
    commitment = Commitment.objects.create(
        campaign=campaign,
        person=person,
        kind="meeting",
        what="Meeting",
        owner=organizer,
        when=timezone.now() + timedelta(days=3),
    )
    ids = {
        "slug": campaign.slug,
        "turf_id": turf.pk,
        "job_id": ImportJob.objects.create(
            campaign=campaign,
            created_by=organizer,
            status=ImportJob.Status.DONE,
            phase=ImportJob.Phase.DONE,
        ).pk,
        "shift_id": shift.pk,
        "signup_id": signup.pk,
        "kind": "roster",
        "volunteer_id": volunteer.pk,
    }
    by_name = {
        "assignment_revoke": assignment.pk,
        "assignment_reissue": assignment.pk,
        "followup_mark": commitment.pk,
        "message_template_edit": MessageTemplate.objects.create(
            campaign=campaign, step=Step.DAY_BEFORE, channel="sms", body="Hi. Reply STOP"
        ).pk,
        "person_detail": person.pk,
        "person_forget": person.pk,
        "person_details": person.pk,
        "held_visit_done": HeldVisit.objects.create(
            client_id="00000000-0000-4000-8000-000000000001",
            campaign=campaign,
            assignment=assignment,
            payload={},
            problem=HeldVisit.Problem.choices[0][0],
        ).pk,
        # The field lead's own export: they see theirs, organizers see every one.
        "export_job": _export_done(campaign, field_lead).pk,
        "membership_unlock": organizer.memberships.get().pk,
        "household_locate": turf.households.first().pk,
        "reply_answer": InboundSms.objects.create(
            provider_id="SM-authz",
            from_number="+15125550188",
            body="Can I bring my kids?",
            handled_as=InboundSms.Handling.OTHER,
            campaign=campaign,
        ).pk,
        "reminder_settle": ReminderFactory(
            campaign=campaign, commitment=commitment, status=Reminder.Status.UNKNOWN
        ).pk,
    }
    by_name["reply_handled"] = by_name["reply_answer"]
    by_name["reminder_current_instead"] = by_name["reminder_settle"]
    for name in ("paper_entry", "assignment_link", "assignment_link_send"):
        by_name[name] = assignment.pk
    for name in ("export_job_status", "export_download"):
        by_name[name] = by_name["export_job"]
    by_name["message_template_delete"] = by_name["message_template_edit"]
    return {
        "campaign": campaign,
        "other_campaign": other_campaign,
        "ids": ids,
        "pk": by_name,
        "shift_pk": shift.pk,
        "tokens": {
            "this turf": token,
            "another turf": other_turf_token,
            "another campaign": other_campaign_token,
        },
        "signup_token": signup.token,
        "this_turf_streets": [f"{h.house_number} {h.street}" for h in turf.households.all()],
        "users": {
            "anonymous": AnonymousUser(),
            "other_organizer": outsider,
            "volunteer_role": volunteer_user,
            "field_lead": field_lead,
            "organizer": organizer,
        },
    }


def _export_done(campaign, user):
    job = ExportJob.objects.create(
        campaign=campaign, kind="roster", created_by=user, status=ExportJob.Status.DONE
    )
    job.file.save("roster.csv", ContentFile(b"first_name\r\n"))
    return job


def _kwargs(name, pattern, world, *, slug=None, token=None):
    kwargs = {}
    for key in pattern.pattern.converters:
        if key == "slug":
            kwargs[key] = slug or world["ids"]["slug"]
        elif key == "token":
            kwargs[key] = token or "a-made-up-reset-token"
        elif key == "uidb64":
            kwargs[key] = "MQ"
        elif key == "pk":
            kwargs[key] = world["pk"].get(name, world["shift_pk"])
        elif key == "shift_id" and name == "signup_shift":
            kwargs[key] = world["shift_pk"]
        else:
            kwargs[key] = world["ids"][key]
    return kwargs


def _ask(client, url):
    """GET the page, or POST an empty form to a page that only takes POST."""
    response = client.get(url)
    if response.status_code == 405:
        response = client.post(url, {})
    return response


def _client(user):
    client = Client(raise_request_exception=False)
    if user.is_authenticated:
        client.force_login(user)
    return client


def _turned_away(response):
    if response.status_code == 302:
        return response["Location"].startswith(reverse("login"))
    return response.status_code in (403, 404)


@pytest.mark.parametrize("name", PATTERNS)
def test_each_persona_gets_only_what_its_role_allows(name, world, settings, db):
    settings.TWILIO_AUTH_TOKEN = "a-token-for-signatures"
    pattern = dict(url_patterns())[name]
    rule = RULES[name]

    if rule in (LINK, SIGNUP_LINK):
        tokens = world["tokens"] if rule == LINK else {"this signup": world["signup_token"]}
        anonymous = _client(AnonymousUser())
        bogus = reverse(name, kwargs=_kwargs(name, pattern, world, token="not-a-real-token"))
        assert _ask(anonymous, bogus).status_code in (404, 410), f"{name}: a made-up token"
        for holder, token in tokens.items():
            url = reverse(name, kwargs=_kwargs(name, pattern, world, token=token))
            response = _ask(anonymous, url)
            assert response.status_code < 500, f"{name} with the link of {holder}"
            assert response.status_code not in (403, 404), f"{name} with the link of {holder}"
            if name == "sync_bundle" and holder != "this turf":
                # Another link's walk list holds none of this turf's doors.
                for street in world["this_turf_streets"]:
                    assert street not in response.content.decode(), f"{holder} sees {street}"
        return

    for persona in PERSONAS:
        user = world["users"][persona]
        client = _client(user)
        url = reverse(name, kwargs=_kwargs(name, pattern, world))
        response = _ask(client, url)
        assert response.status_code < 500, f"{name} as {persona}: {response.status_code}"
        if rule == SIGNED_REQUESTS:
            assert response.status_code == 403, f"{name} unsigned, as {persona}"
        elif persona in ALLOWED[rule]:
            assert not _turned_away(response), f"{name} should open for {persona}"
        else:
            assert _turned_away(response), f"{name} opened for {persona}: {response.status_code}"

    # Another campaign's address with this campaign's ids: never found.
    converters = pattern.pattern.converters
    ids = [key for key, converter in converters.items() if isinstance(converter, IntConverter)]
    if "slug" in converters and ids and rule != ANYONE:
        client = _client(world["users"]["other_organizer"])
        other = world["other_campaign"].slug
        url = reverse(name, kwargs=_kwargs(name, pattern, world, slug=other))
        response = _ask(client, url)
        assert response.status_code == 404, f"{name} via {other}: {response.status_code}"
