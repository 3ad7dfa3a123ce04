"""What every kind of export has: its columns, its filters, the query, and what it leaves out.

A kind answers three questions, each in SQL so that a million rows never sit in memory:
`queryset` (every row the filters match), `left_out` (which of them must not go out, and
why, as exclusive reasons in order) and `values` (one row's cells, for the chosen columns).
"""

import functools
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

import phonenumbers
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Count, Q

from canvass.models import Membership, Volunteer
from turf.models import Turf


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    get: object  # (obj, ctx) -> cell value
    # Story text: only for who may read it, and never a sensitive note's unless asked for.
    story_text: bool = False


@dataclass(frozen=True)
class Reason:
    code: str
    label: str
    q: object


@dataclass
class Context:
    """What a row needs besides its object: the campaign, and what the reader may see."""

    campaign: object
    # The asker's role in the campaign (None: none); who reads a note's words is decided
    # by conversations.notes, as everywhere else.
    role: str | None = None
    include_sensitive: bool = False
    extra: dict = field(default_factory=dict)

    @property
    def may_read_stories(self):
        return self.role in (Membership.Role.ORGANIZER, Membership.Role.FIELD_LEAD)


class FilterForm(forms.Form):
    """The filters every kind shares. Subclasses drop the ones they have no use for."""

    # A name typed with the campaign's turfs offered as suggestions (a <datalist>): a select
    # of hundreds of turfs cost most of the page's time to render.
    turf = forms.ModelChoiceField(
        queryset=Turf.objects.none(),
        required=False,
        to_field_name="name",
        label="Turf",
        widget=forms.TextInput(attrs={"list": "turf-names", "autocomplete": "off"}),
    )
    date_from = forms.DateField(required=False, label="From (date)")
    date_to = forms.DateField(required=False, label="To (date)")
    # An id (from the roster or the dashboard's links): a campaign may have thousands.
    volunteer = forms.ModelChoiceField(
        queryset=Volunteer.objects.none(),
        required=False,
        label="Volunteer (id)",
        widget=forms.NumberInput(attrs={"min": 1}),
    )

    def __init__(self, *args, campaign, **kwargs):
        super().__init__(*args, **kwargs)
        self.campaign = campaign
        if "turf" in self.fields:
            self.fields["turf"].queryset = Turf.objects.filter(campaign=campaign)
            self.fields["turf"].error_messages["invalid_choice"] = (
                "There is no turf of that name in this campaign."
            )
        if "volunteer" in self.fields:
            self.fields["volunteer"].queryset = Volunteer.objects.filter(campaign=campaign)
            self.fields["volunteer"].error_messages["invalid_choice"] = (
                "That volunteer is not in this campaign: give a volunteer's id from the roster."
            )

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            raise ValidationError("“From” is after “To”: swap the dates.")
        return data

    def serializable(self):
        """The cleaned filters as JSON (for the job row and the audit)."""
        out = {}
        for name, value in self.cleaned_data.items():
            if value in (None, "", False):
                continue
            if hasattr(value, "pk"):
                value = value.name if name == "turf" else value.pk
            elif hasattr(value, "isoformat"):
                value = value.isoformat()
            out[name] = value
        return out


def local_day_range(campaign, start, end):
    """(aware start, aware end) of the dates `start`..`end` inclusive, in the campaign's zone."""
    tz = campaign.tz
    low = datetime.combine(start, time.min, tzinfo=tz) if start else None
    high = datetime.combine(end + timedelta(days=1), time.min, tzinfo=tz) if end else None
    return low, high


def date_filter(campaign, data, path):
    low, high = local_day_range(campaign, data.get("date_from"), data.get("date_to"))
    q = Q()
    if low:
        q &= Q(**{f"{path}__gte": low})
    if high:
        q &= Q(**{f"{path}__lt": high})
    return q


NANP_REGIONS = frozenset(phonenumbers.COUNTRY_CODE_TO_REGION_CODE[1])


@functools.lru_cache(maxsize=1024)
def phone_national(e164, region):
    """A number as people in its region dial it ("(512) 555-0123"); others in international form."""
    if not e164:
        return ""
    if region in NANP_REGIONS and len(e164) == 12 and e164.startswith("+1"):
        # Every +1 number has the one national form; phonenumbers takes a millisecond a
        # row to find it, which is most of a million-row export.
        return f"({e164[2:5]}) {e164[5:8]}-{e164[8:]}"
    number = phonenumbers.parse(e164, None)
    # The country code, not the region: finding a +1 number's region tries every NANP
    # region's patterns, a millisecond a row, and any +1 number is dialled the same way.
    if number.country_code == phonenumbers.country_code_for_region(region):
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def local_text(campaign, value, fmt="%Y-%m-%d %H:%M"):
    if value is None:
        return ""
    return value.astimezone(campaign.tz).strftime(fmt)


def choice_labels(choices):
    """{value: label} of a TextChoices, as text once (not a lazy translation a row)."""
    return {value: str(label) for value, label in choices.choices}


def yes(value):
    return "Yes" if value else ""


class Kind(ABC):
    code = ""
    label = ""
    description = ""
    filename = ""
    filter_form = FilterForm
    # Exclusive, in order: a row is counted under the first reason that applies.
    reasons = ()

    @abstractmethod
    def columns(self, campaign):
        """Every column this kind can give, in its default order."""

    def default_columns(self, campaign):
        return [column.key for column in self.columns(campaign)]

    @abstractmethod
    def queryset(self, campaign, filters, ctx):
        """Every row the filters match (before anything is left out)."""

    def reasons_for(self, campaign, filters):
        return self.reasons

    def left_out(self, queryset, campaign, filters):
        """{reason code: how many rows of `queryset` it leaves out}, one query."""
        reasons = self.reasons_for(campaign, filters)
        if not reasons:
            return {}
        seen = Q()
        counts = {}
        for reason in reasons:
            # Named apart from the queryset's annotations, which a reason may filter on.
            counts[f"left_out_{reason.code}"] = Count(
                "pk", filter=reason.q & ~seen if seen else reason.q
            )
            seen |= reason.q
        totals = queryset.order_by().aggregate(**counts)
        return {reason.code: totals[f"left_out_{reason.code}"] for reason in reasons}

    def included(self, queryset, campaign, filters):
        for reason in self.reasons_for(campaign, filters):
            queryset = queryset.exclude(reason.q)
        return queryset

    def reason_labels(self, campaign, filters=None):
        return {reason.code: reason.label for reason in self.reasons_for(campaign, filters or {})}

    def withheld(self, queryset, ctx, columns):
        """{what: count} of cells left blank for this reader (e.g. sensitive story text)."""
        return {}

    def sensitive_notes_read(self, queryset, ctx, columns):
        """[(note pk, visit pk, campaign pk)] of the sensitive story notes whose words these
        `columns` write for this reader: each is a reading to audit. None for most kinds."""
        return []

    def rows(self, queryset, ctx, columns):
        """The cells of every row, for `columns` (Column objects), streamed from the database."""
        for obj in queryset.iterator(chunk_size=2000):
            yield [column.get(obj, ctx) for column in columns]
