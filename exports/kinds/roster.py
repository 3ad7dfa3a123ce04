"""The shift and volunteer roster: one row per volunteer with their signups, attendance,
doors and conversations, from canvass.stats (the one place shift numbers are computed)."""

from django import forms

from canvass.models import Volunteer
from canvass.stats import volunteer_numbers
from exports.kinds.base import Column, FilterForm, Kind, phone_national, yes

CHUNK = 1000


class RosterFilterForm(FilterForm):
    active = forms.ChoiceField(
        required=False,
        choices=[("", "Everyone"), ("yes", "Active only"), ("no", "Inactive only")],
        label="Active",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("turf", "date_from", "date_to"):
            del self.fields[name]


def _n(attr):
    return lambda pair, ctx: getattr(pair[1], attr)


class Roster(Kind):
    code = "roster"
    label = "Shift and volunteer roster"
    description = (
        "One row per volunteer: contact, signups, confirmations, check-ins, no-shows, show "
        "rate, doors knocked and conversations at shifts."
    )
    filename = "roster"
    filter_form = RosterFilterForm

    def columns(self, campaign):
        v = lambda f: lambda pair, c: f(pair[0], c)  # noqa: E731
        return [
            Column("first_name", "First name", v(lambda o, c: o.first_name)),
            Column("last_name", "Last name", v(lambda o, c: o.last_name)),
            Column(
                "phone", "Phone", v(lambda o, c: phone_national(o.phone, c.campaign.phone_region))
            ),
            Column("phone_e164", "Phone (E.164)", v(lambda o, c: o.phone)),
            Column("email", "Email", v(lambda o, c: o.email)),
            Column("language", "Language", v(lambda o, c: o.language)),
            Column("active", "Active", v(lambda o, c: yes(o.active))),
            Column("signups", "Signups", _n("signups")),
            Column("confirmations", "Confirmed", _n("confirmations")),
            Column("checked_in", "Checked in", _n("checked_in")),
            Column("no_shows", "No-shows", _n("no_shows")),
            Column(
                "show_rate",
                "Show rate (%)",
                lambda p, c: "" if p[1].show_rate_percent is None else p[1].show_rate_percent,
            ),
            Column("waitlisted", "Waitlisted", _n("waitlisted")),
            Column("cancelled", "Cancelled", _n("cancelled")),
            Column("walk_ins", "Walk-ins", _n("walk_ins")),
            Column("doors", "Doors knocked", _n("doors")),
            Column("conversations", "Conversations", _n("conversations")),
        ]

    def queryset(self, campaign, filters, ctx):
        qs = Volunteer.objects.filter(campaign=campaign).order_by("first_name", "last_name", "pk")
        if filters.get("volunteer"):
            qs = qs.filter(pk=filters["volunteer"].pk)
        if filters.get("active"):
            qs = qs.filter(active=filters["active"] == "yes")
        return qs

    def rows(self, queryset, ctx, columns):
        chunk = []
        for volunteer in queryset.iterator(chunk_size=CHUNK):
            chunk.append(volunteer)
            if len(chunk) == CHUNK:
                yield from self._chunk(chunk, ctx, columns)
                chunk = []
        if chunk:
            yield from self._chunk(chunk, ctx, columns)

    def _chunk(self, volunteers, ctx, columns):
        numbers = volunteer_numbers(ctx.campaign, [v.pk for v in volunteers])
        for volunteer in volunteers:
            pair = (volunteer, numbers[volunteer.pk])
            yield [column.get(pair, ctx) for column in columns]
