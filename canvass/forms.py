"""Forms for shifts and signups. They read and show; the rules live in canvass.services,
and a ValidationError from a service lands on the field it names (`service_error`)."""

from datetime import datetime, timedelta

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from canvass.models import Membership, Shift, ShiftSignup, Volunteer
from turf.models import Turf

WEEKDAYS = [
    (0, _("Mon")),
    (1, _("Tue")),
    (2, _("Wed")),
    (3, _("Thu")),
    (4, _("Fri")),
    (5, _("Sat")),
    (6, _("Sun")),
]


class ServiceErrorsMixin:
    """Puts a service's ValidationError on this form's fields."""

    # A service's field name → this form's field that shows it.
    service_fields = {}

    def service_error(self, error):
        if not hasattr(error, "error_dict"):
            self.add_error(None, error)
            return
        for name, errors in error.error_dict.items():
            field = self.service_fields.get(name, name)
            self.add_error(field if field in self.fields else None, errors)

    def mark_invalid(self):
        """Call before rendering: each field in error says so to screen readers and
        points at its message (the template gives the message the id `<id>-error`)."""
        for name in self.errors:
            if name in self.fields:
                attrs = self.fields[name].widget.attrs
                attrs["aria-invalid"] = "true"
                attrs["aria-describedby"] = f"{self[name].auto_id}-error"
        return self


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, **kwargs):
        super().__init__(format="%H:%M", **kwargs)


class TurfPoolField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, turf):
        return _("%(name)s (%(doors)s doors, %(status)s)") % {
            "name": turf.name,
            "doors": turf.doors,
            "status": turf.get_status_display().lower(),
        }


class ContactField(forms.ModelChoiceField):
    def label_from_instance(self, user):
        return user.get_full_name() or user.get_username()


class ShiftForm(ServiceErrorsMixin, forms.Form):
    """A shift's fields as an organizer types them: a day and two clock times in the
    campaign's time zone. With `repeat=True` it also offers a weekly repeat."""

    service_fields = {"starts_at": "start_time", "ends_at": "end_time", "place_lng": "place_lat"}

    name = forms.CharField(
        max_length=200, required=False, label=_("Name"), help_text=_("E.g. Saturday canvass.")
    )
    date = forms.DateField(label=_("Day"), widget=DateInput())
    start_time = forms.TimeField(label=_("Starts"), widget=TimeInput())
    end_time = forms.TimeField(label=_("Ends"), widget=TimeInput())
    place = forms.CharField(
        max_length=300,
        required=False,
        label=_("Staging location"),
        help_text=_("The address where volunteers meet. Set the pin on the map below."),
    )
    place_lat = forms.FloatField(
        required=False, label=_("Pin latitude"), widget=forms.NumberInput(attrs={"step": "any"})
    )
    place_lng = forms.FloatField(
        required=False, label=_("Pin longitude"), widget=forms.NumberInput(attrs={"step": "any"})
    )
    capacity = forms.IntegerField(min_value=1, max_value=10_000, initial=10, label=_("Capacity"))
    notes = forms.CharField(
        required=False,
        label=_("Notes for volunteers"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What to bring, where to park, who to ask for."),
    )
    contact = ContactField(
        queryset=None, required=False, label=_("Contact person"), empty_label=_("No one named")
    )
    turfs = TurfPoolField(
        queryset=None,
        required=False,
        label=_("Turfs handed out at this shift"),
        widget=forms.CheckboxSelectMultiple,
    )
    public = forms.BooleanField(
        required=False, initial=True, label=_("List it on the public signup page")
    )
    repeat_weekdays = forms.TypedMultipleChoiceField(
        choices=WEEKDAYS,
        coerce=int,
        required=False,
        label=_("Repeat every week on"),
        widget=forms.CheckboxSelectMultiple,
    )
    repeat_until = forms.DateField(
        required=False,
        label=_("Repeat until"),
        widget=DateInput(),
        help_text=_("One shift per date, each editable on its own. Leave empty for one shift."),
    )

    def __init__(self, *args, campaign, repeat=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.campaign = campaign
        self.fields["contact"].queryset = (
            get_user_model()
            .objects.filter(
                memberships__campaign=campaign,
                memberships__role__in=(Membership.Role.ORGANIZER, Membership.Role.FIELD_LEAD),
            )
            .order_by("first_name", "username")
        )
        self.fields["turfs"].queryset = (
            Turf.objects.filter(campaign=campaign).annotate(doors=Count("stops")).order_by("name")
        )
        if not repeat:
            del self.fields["repeat_weekdays"]
            del self.fields["repeat_until"]

    @classmethod
    def initial_from(cls, shift, *, date=None):
        """The form's values for `shift` (to edit it, or to copy it to `date`)."""
        start, end = shift.local_start(), shift.local_end()
        return {
            "name": shift.name,
            "date": date or start.date(),
            "start_time": start.time().replace(second=0, microsecond=0),
            "end_time": end.time().replace(second=0, microsecond=0),
            "place": shift.place,
            "place_lat": shift.place_lat,
            "place_lng": shift.place_lng,
            "capacity": shift.capacity,
            "notes": shift.notes,
            "contact": shift.contact_id,
            "turfs": [turf.pk for turf in shift.turfs.all()],
            "public": shift.public,
        }

    def clean(self):
        data = super().clean()
        day, start, end = data.get("date"), data.get("start_time"), data.get("end_time")
        if day and start and end:
            tz = self.campaign.tz
            data["starts_at"] = datetime.combine(day, start, tzinfo=tz)
            data["ends_at"] = datetime.combine(day, end, tzinfo=tz)
        if data.get("repeat_weekdays") and not data.get("repeat_until"):
            self.add_error("repeat_until", _("Say until which day the shift repeats."))
        return data

    def shift_fields(self):
        """The cleaned values as keyword arguments for shift_create / shift_update."""
        data = self.cleaned_data
        return {
            "name": data["name"],
            "starts_at": data["starts_at"],
            "ends_at": data["ends_at"],
            "place": data["place"],
            "place_lat": data["place_lat"],
            "place_lng": data["place_lng"],
            "capacity": data["capacity"],
            "notes": data["notes"],
            "contact": data["contact"],
            "public": data["public"],
            "turfs": list(data["turfs"]),
        }


def copy_date(shift, *, today):
    """Where a copy of `shift` lands by default: a week later, or the first such weekday
    still to come."""
    day = shift.local_start().date() + timedelta(days=7)
    while day <= today:
        day += timedelta(days=7)
    return day


class ShiftFilterForm(forms.Form):
    start = forms.DateField(required=False, label=_("From"), widget=DateInput())
    end = forms.DateField(required=False, label=_("Until"), widget=DateInput())
    place = forms.ChoiceField(required=False, label=_("Staging location"))
    cancelled = forms.BooleanField(required=False, label=_("Show cancelled shifts"))

    def __init__(self, *args, campaign, **kwargs):
        super().__init__(*args, **kwargs)
        places = (
            Shift.objects.filter(campaign=campaign)
            .exclude(place="")
            .values_list("place", flat=True)
            .distinct()
            .order_by("place")
        )
        self.fields["place"].choices = [("", _("Anywhere"))] + [(p, p) for p in places]

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["end"] < data["start"]:
            self.add_error("end", _("“Until” comes before “From”. Swap them."))
        return data


class SignupForm(ServiceErrorsMixin, forms.Form):
    """The public signup form: a name, a phone and/or an email, a language and reminders."""

    first_name = forms.CharField(
        max_length=100,
        label=_("First name"),
        widget=forms.TextInput(attrs={"autocomplete": "given-name"}),
    )
    last_name = forms.CharField(
        max_length=100,
        required=False,
        label=_("Last name"),
        widget=forms.TextInput(attrs={"autocomplete": "family-name"}),
    )
    phone = forms.CharField(
        max_length=40,
        required=False,
        label=_("Mobile phone"),
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel", "inputmode": "tel"}),
    )
    email = forms.CharField(
        max_length=254,
        required=False,
        label=_("Email"),
        widget=forms.TextInput(attrs={"type": "email", "autocomplete": "email"}),
    )
    language = forms.ChoiceField(
        choices=settings.LANGUAGES, label=_("Language for messages"), widget=forms.RadioSelect
    )
    remind_by_sms = forms.BooleanField(required=False, label=_("Text me reminders"))
    remind_by_email = forms.BooleanField(required=False, label=_("Email me reminders"))

    def __init__(self, *args, language=None, **kwargs):
        super().__init__(*args, **kwargs)
        if language in dict(settings.LANGUAGES):
            self.fields["language"].initial = language


class PreferencesForm(ServiceErrorsMixin, forms.Form):
    remind_by_sms = forms.BooleanField(required=False, label=_("Text me reminders"))
    remind_by_email = forms.BooleanField(required=False, label=_("Email me reminders"))
    language = forms.ChoiceField(
        choices=settings.LANGUAGES, label=_("Language for messages"), widget=forms.RadioSelect
    )


class WalkInForm(ServiceErrorsMixin, forms.Form):
    first_name = forms.CharField(max_length=100, label=_("First name"))
    last_name = forms.CharField(max_length=100, required=False, label=_("Last name"))
    phone = forms.CharField(
        max_length=40,
        required=False,
        label=_("Phone"),
        widget=forms.TextInput(attrs={"type": "tel", "inputmode": "tel"}),
    )
    email = forms.CharField(
        max_length=254,
        required=False,
        label=_("Email"),
        widget=forms.TextInput(attrs={"type": "email"}),
    )


class SignupAddForm(ServiceErrorsMixin, forms.Form):
    """An organizer puts a volunteer already on file on a shift."""

    volunteer = forms.ModelChoiceField(queryset=None, label=_("Volunteer"))

    def __init__(self, *args, shift, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["volunteer"].queryset = Volunteer.objects.filter(
            campaign_id=shift.campaign_id, active=True
        ).exclude(
            pk__in=shift.signups.exclude(status=ShiftSignup.Status.CANCELLED).values("volunteer_id")
        )


class PoolTurfField(forms.ModelChoiceField):
    """A turf of the pool, saying who already walks it at this shift."""

    taken = {}

    def label_from_instance(self, turf):
        label = _("%(name)s (%(doors)s doors)") % {"name": turf.name, "doors": turf.doors}
        if turf.pk in self.taken:
            label += " · " + _("walked by %(who)s") % {"who": self.taken[turf.pk]}
        return label


class HandOutForm(ServiceErrorsMixin, forms.Form):
    """A turf from the shift's pool for a checked-in volunteer, alone or with a partner."""

    turf = PoolTurfField(queryset=None, label=_("Turf"), widget=forms.RadioSelect, empty_label=None)
    volunteer = forms.ModelChoiceField(
        queryset=None,
        widget=forms.HiddenInput,
        error_messages={"invalid_choice": _("Check them in first: a turf goes to someone here.")},
    )
    partner = forms.ModelChoiceField(
        queryset=None,
        required=False,
        label=_("Walking with"),
        widget=forms.RadioSelect,
        empty_label=_("No one (walks alone)"),
        error_messages={"invalid_choice": _("Check them in first: a turf goes to someone here.")},
    )

    def __init__(self, *args, shift, taken=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["turf"].taken = taken or {}
        self.fields["turf"].queryset = (
            shift.turfs.exclude(status=Turf.Status.DONE)
            .annotate(doors=Count("stops"))
            .order_by("name")
        )
        here = Volunteer.objects.filter(
            signups__shift=shift, signups__status=ShiftSignup.Status.ATTENDED
        ).order_by("first_name", "last_name")
        self.fields["volunteer"].queryset = here
        self.fields["partner"].queryset = here

    def clean(self):
        data = super().clean()
        if data.get("partner") and data.get("partner") == data.get("volunteer"):
            self.add_error("partner", _("Pick someone else, or no one, to walk with."))
        return data


def today_in(campaign):
    return timezone.localtime(timezone.now(), campaign.tz).date()
