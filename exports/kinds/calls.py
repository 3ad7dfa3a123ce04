"""The follow-up call list: one row per commitment, with whom to call and what about.

Never story text: only the themes heard. People marked do-not-contact, those whose phone
or email opted out, and those who gave no way to reach them and did not agree to be
contacted are left out, and counted.
"""

from django import forms
from django.db.models import Exists, OuterRef, Q, Subquery
from django.db.models.functions import Lower

from conversations.models import Commitment, OptOut, Visit
from exports.kinds.base import (
    Column,
    FilterForm,
    Kind,
    Reason,
    choice_labels,
    date_filter,
    local_text,
    phone_national,
)

ANY = "any"
# The only fields the call list reads: each row builds six small instances, not six
# whole ones (and story text is never even fetched).
FIELDS = (
    "kind",
    "what",
    "when",
    "status",
    "phone",
    "email",
    "campaign_id",
    "person__first_name",
    "person__last_name",
    "person__phone",
    "person__email",
    "person__language",
    "person__external_id",
    "person__contact_consent",
    "person__household__house_number",
    "person__household__street",
    "person__household__unit",
    "person__household__city",
    "person__household__state",
    "person__household__zip_code",
    "owner__username",
    "owner__first_name",
    "owner__last_name",
    "visit__place",
    "visit__story_note__themes",
    "visit__volunteer__first_name",
    "visit__volunteer__last_name",
    "visit__assignment__turf__name",
)


class CallsFilterForm(FilterForm):
    kind = forms.ChoiceField(required=False, label="Commitment kind")
    status = forms.ChoiceField(required=False, label="Status", initial=Commitment.Status.OPEN)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [("", "Every kind")] + [
            (k["code"], k["label"]) for k in self.campaign.commitment_kinds
        ]
        self.fields["status"].choices = [
            ("", "Open (the default)"),
            *Commitment.Status.choices,
            (ANY, "Any status"),
        ]
        self.fields["date_from"].help_text = "The day the commitment was made."


def _contact(commitment):
    """(phone, email) they agreed to be reached at: those given with the commitment, else the
    voter file's when they consented to contact (as My follow-ups shows them)."""
    person = commitment.person
    consent = bool(person and person.contact_consent)
    phone = commitment.phone or (person.phone if consent else "")
    email = commitment.email or (person.email if consent else "")
    return phone, email


def _phone(obj, ctx):
    return _contact(obj)[0]


def _phone_national(obj, ctx):
    return phone_national(_contact(obj)[0], ctx.campaign.phone_region)


def _address(obj, ctx):
    household = obj.person.household if obj.person else None
    if household is None:
        return obj.visit.place if obj.visit else ""
    parts = [household.address_line, household.city, household.state, household.zip_code]
    return ", ".join(part for part in parts if part)


def _themes(obj, ctx):
    note = getattr(obj.visit, "story_note", None) if obj.visit else None
    return "; ".join(note.themes) if note else ""


def _person(attr):
    return lambda obj, ctx: getattr(obj.person, attr) if obj.person else ""


def _owner(obj, ctx):
    owner = obj.owner
    return (owner.get_full_name() or owner.get_username()) if owner else ""


class FollowUpCalls(Kind):
    code = "calls"
    label = "Follow-up call list"
    description = (
        "One row per commitment: whom to call, how to reach them, and what they said yes to. "
        "Story themes only, never story text."
    )
    filename = "call-list"
    filter_form = CallsFilterForm

    reasons = (
        Reason("do_not_contact", "marked do not contact", Q(person__do_not_contact=True)),
        Reason("opted_out", "opted out (replied STOP or unsubscribed)", Q(opted_out=True)),
        Reason(
            "no_consent",
            "gave no phone or email for it and did not agree to be contacted",
            Q(phone="", email="") & (Q(person__isnull=True) | Q(person__contact_consent=False)),
        ),
    )

    def columns(self, campaign):
        kinds = {k["code"]: k["label"] for k in campaign.commitment_kinds}
        statuses = choice_labels(Commitment.Status)
        return [
            Column("first_name", "First name", _person("first_name")),
            Column("last_name", "Last name", _person("last_name")),
            Column("phone", "Phone", _phone_national),
            Column("phone_e164", "Phone (E.164)", _phone),
            Column("email", "Email", lambda o, c: _contact(o)[1]),
            Column("address", "Address", _address),
            Column("language", "Language", _person("language")),
            Column("voter_id", "Voter id", _person("external_id")),
            Column("kind", "Commitment", lambda o, c: kinds.get(o.kind, o.kind)),
            Column("what", "What", lambda o, c: o.what),
            Column("when", "When", lambda o, c: local_text(c.campaign, o.when)),
            Column("owner", "Follow-up owner", _owner),
            Column("status", "Status", lambda o, c: statuses.get(o.status, o.status)),
            Column(
                "last_contact", "Last contact", lambda o, c: local_text(c.campaign, o.last_contact)
            ),
            Column("themes", "Story themes", _themes),
            Column(
                "volunteer",
                "Volunteer",
                lambda o, c: str(o.visit.volunteer) if o.visit and o.visit.volunteer else "",
            ),
            Column(
                "turf",
                "Turf",
                lambda o, c: o.visit.assignment.turf.name if o.visit and o.visit.assignment else "",
            ),
        ]

    def default_columns(self, campaign):
        return [key for key in (c.key for c in self.columns(campaign)) if key != "voter_id"]

    def queryset(self, campaign, filters, ctx):
        opted_out = OptOut.objects.filter(
            Q(address=OuterRef("phone"))
            | Q(address=Lower(OuterRef("email")))
            | Q(address=OuterRef("person__phone"))
            | Q(address=Lower(OuterRef("person__email")))
        )
        last_contact = (
            Visit.objects.filter(person=OuterRef("person"))
            .order_by("-happened_at")
            .values("happened_at")[:1]
        )
        qs = (
            Commitment.objects.filter(campaign=campaign)
            .select_related(
                "person__household",
                "owner",
                "visit__story_note",
                "visit__volunteer",
                "visit__assignment__turf",
            )
            .only(*FIELDS)
            .annotate(opted_out=Exists(opted_out), last_contact=Subquery(last_contact))
            .order_by("when", "created_at", "pk")
        )
        status = filters.get("status") or Commitment.Status.OPEN
        if status != ANY:
            qs = qs.filter(status=status)
        if filters.get("kind"):
            qs = qs.filter(kind=filters["kind"])
        if filters.get("turf"):
            qs = qs.filter(visit__assignment__turf=filters["turf"])
        if filters.get("volunteer"):
            qs = qs.filter(visit__volunteer=filters["volunteer"])
        return qs.filter(date_filter(campaign, filters, "created_at"))
