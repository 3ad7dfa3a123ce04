"""Canvass results for a VAN-style bulk upload: one row per visit, in the column order the
upload expects — voter id, date canvassed, phone, result code, then one column per survey
question (rating before, rating after, each story theme) and one per activist code (each
commitment kind).

No row goes out without a voter id: visits with nobody from the voter file are left out,
counted, and listed apart (the `voter_id=missing` filter exports just those).
"""

from django import forms
from django.db.models import Exists, OuterRef, Q, Subquery
from django.utils.text import slugify

from conversations.models import Commitment, Visit
from exports.kinds.base import (
    Column,
    FilterForm,
    Kind,
    Reason,
    choice_labels,
    date_filter,
    phone_national,
    yes,
)
from exports.models import result_codes

MISSING = "missing"
NO_VOTER_ID = Q(person__isnull=True) | Q(person__external_id="")
# The only values a row reads, one flat dict a row (besides the activist codes and the
# phone given at the door, annotated by the query).
FIELDS = (
    "outcome",
    "happened_at",
    "place",
    "door_phone",
    "person_id",
    "person__first_name",
    "person__last_name",
    "person__phone",
    "person__external_id",
    "household_id",
    "household__house_number",
    "household__street",
    "household__unit",
    "story_note__rating_before",
    "story_note__rating_after",
    "story_note__themes",
)


class ResultsFilterForm(FilterForm):
    outcome = forms.ChoiceField(
        required=False, choices=[("", "Every outcome"), *Visit.Outcome.choices], label="Outcome"
    )
    voter_id = forms.ChoiceField(
        required=False,
        choices=[("", "With a voter id (for the upload)"), (MISSING, "Only those without one")],
        label="Voter id",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["date_from"].help_text = "The day of the visit."


def _rating(attr):
    key = f"story_note__{attr}"
    return lambda row, ctx: "" if row[key] is None else row[key]


def _theme(theme):
    return lambda row, ctx: yes(theme in (row["story_note__themes"] or ()))


def _digits(e164, region):
    national = phone_national(e164, region)
    return "".join(ch for ch in national if ch.isdigit()) if national else ""


def _phone(row, ctx):
    e164 = row["door_phone"] or (row["person__phone"] if row["person_id"] else "")
    return _digits(e164 or "", ctx.campaign.phone_region)


def _address(row, ctx):
    if row["household_id"] is None:
        return row["place"]
    # Household.address_line.
    line = f"{row['household__house_number']} {row['household__street']}".strip()
    unit = row["household__unit"]
    return f"{line}, {unit}" if unit else line


def _name(row, ctx):
    if row["person_id"] is None:
        return ""
    return f"{row['person__first_name']} {row['person__last_name']}".strip()


class CanvassResults(Kind):
    code = "canvass_results"
    label = "Canvass results (VAN-style bulk upload)"
    description = (
        "One row per visit in the order VAN's bulk upload expects: voter id, date, phone, "
        "result code, the survey answers and activist codes. Result codes follow the "
        "campaign's mapping."
    )
    filename = "canvass-results"
    filter_form = ResultsFilterForm

    def reasons_for(self, campaign, filters):
        if filters.get("voter_id") == MISSING:
            return ()
        return (Reason("no_voter_id", "had no voter id (listed apart)", NO_VOTER_ID),)

    def columns(self, campaign):
        outcomes = choice_labels(Visit.Outcome)
        columns = [
            Column("vanid", "VANID", lambda r, c: r["person__external_id"] or ""),
            Column(
                "date",
                "DateCanvassed",
                lambda r, c: r["happened_at"].astimezone(c.campaign.tz).strftime("%m/%d/%Y"),
            ),
            Column("phone", "Phone", _phone),
            Column("result", "CanvassResult", lambda r, c: c.extra["codes"].get(r["outcome"], "")),
            Column("rating_before", "SQ: Rating before", _rating("rating_before")),
            Column("rating_after", "SQ: Rating after", _rating("rating_after")),
        ]
        for theme in campaign.story_themes:
            columns.append(Column(f"theme_{slugify(theme)}", f"SQ: {theme}", _theme(theme)))
        for kind in campaign.commitment_kinds:
            code = kind["code"]
            columns.append(
                Column(
                    f"ac_{code}",
                    f"AC: {kind['label']}",
                    lambda r, c, a=f"ac_{code}": yes(r[a]),
                )
            )
        columns += [
            Column("name", "Name", _name),
            Column("address", "Address", _address),
            Column("outcome", "Outcome", lambda r, c: outcomes.get(r["outcome"], r["outcome"])),
        ]
        return columns

    def default_columns(self, campaign):
        return [
            c.key for c in self.columns(campaign) if c.key not in ("name", "address", "outcome")
        ]

    def queryset(self, campaign, filters, ctx):
        ctx.extra["codes"] = result_codes(campaign)
        door_phone = (
            Commitment.objects.filter(visit=OuterRef("pk")).exclude(phone="").values("phone")[:1]
        )
        activist = {
            f"ac_{kind['code']}": Exists(
                Commitment.objects.filter(visit=OuterRef("pk"), kind=kind["code"])
            )
            for kind in campaign.commitment_kinds
        }
        qs = (
            Visit.objects.filter(campaign=campaign)
            .annotate(door_phone=Subquery(door_phone), **activist)
            .order_by("happened_at", "pk")
        )
        if filters.get("voter_id") == MISSING:
            qs = qs.filter(NO_VOTER_ID)
        if filters.get("outcome"):
            qs = qs.filter(outcome=filters["outcome"])
        if filters.get("turf"):
            qs = qs.filter(assignment__turf=filters["turf"])
        if filters.get("volunteer"):
            qs = qs.filter(volunteer=filters["volunteer"])
        return qs.filter(date_filter(campaign, filters, "happened_at"))

    def rows(self, queryset, ctx, columns):
        activist = [f"ac_{kind['code']}" for kind in ctx.campaign.commitment_kinds]
        for row in queryset.values(*FIELDS, *activist).iterator(chunk_size=2000):
            yield [column.get(row, ctx) for column in columns]
