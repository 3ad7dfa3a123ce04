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
# The only values a row reads, as one flat dict a row (no model instances: a million rows
# would build six million of them).
FIELDS = (
    "kind",
    "what",
    "when",
    "status",
    "phone",
    "email",
    "last_contact",
    "person_id",
    "person__first_name",
    "person__last_name",
    "person__phone",
    "person__email",
    "person__language",
    "person__external_id",
    "person__contact_consent",
    "person__household_id",
    "person__household__house_number",
    "person__household__street",
    "person__household__unit",
    "person__household__city",
    "person__household__state",
    "person__household__zip_code",
    "owner__username",
    "owner__first_name",
    "owner__last_name",
    "visit_id",
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


def _contact(row):
    """(phone, email) they agreed to be reached at: those given with the commitment, else the
    voter file's when they consented to contact (as My follow-ups shows them)."""
    consent = bool(row["person_id"] and row["person__contact_consent"])
    phone = row["phone"] or (row["person__phone"] if consent else "")
    email = row["email"] or (row["person__email"] if consent else "")
    return phone, email


def _phone(row, ctx):
    return _contact(row)[0]


def _phone_national(row, ctx):
    return phone_national(_contact(row)[0], ctx.campaign.phone_region)


def _address(row, ctx):
    if row["person__household_id"] is None:
        return (row["visit__place"] or "") if row["visit_id"] else ""
    # Household.address_line, then the city, state and ZIP.
    line = f"{row['person__household__house_number']} {row['person__household__street']}".strip()
    unit = row["person__household__unit"]
    parts = [
        f"{line}, {unit}" if unit else line,
        row["person__household__city"],
        row["person__household__state"],
        row["person__household__zip_code"],
    ]
    return ", ".join(part for part in parts if part)


def _themes(row, ctx):
    return "; ".join(row["visit__story_note__themes"] or ())


def _value(key):
    return lambda row, ctx: row[key] or ""


def _full_name(row, prefix):
    return f"{row[prefix + 'first_name'] or ''} {row[prefix + 'last_name'] or ''}".strip()


def _owner(row, ctx):
    if row["owner__username"] is None:
        return ""
    return _full_name(row, "owner__") or row["owner__username"]


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
            Column("first_name", "First name", _value("person__first_name")),
            Column("last_name", "Last name", _value("person__last_name")),
            Column("phone", "Phone", _phone_national),
            Column("phone_e164", "Phone (E.164)", _phone),
            Column("email", "Email", lambda r, c: _contact(r)[1]),
            Column("address", "Address", _address),
            Column("language", "Language", _value("person__language")),
            Column("voter_id", "Voter id", _value("person__external_id")),
            Column("kind", "Commitment", lambda r, c: kinds.get(r["kind"], r["kind"])),
            Column("what", "What", _value("what")),
            Column("when", "When", lambda r, c: local_text(c.campaign, r["when"])),
            Column("owner", "Follow-up owner", _owner),
            Column("status", "Status", lambda r, c: statuses.get(r["status"], r["status"])),
            Column(
                "last_contact",
                "Last contact",
                lambda r, c: local_text(c.campaign, r["last_contact"]),
            ),
            Column("themes", "Story themes", _themes),
            Column("volunteer", "Volunteer", lambda r, c: _full_name(r, "visit__volunteer__")),
            Column("turf", "Turf", _value("visit__assignment__turf__name")),
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

    def rows(self, queryset, ctx, columns):
        for row in queryset.values(*FIELDS).iterator(chunk_size=2000):
            yield [column.get(row, ctx) for column in columns]
