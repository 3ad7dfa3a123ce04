from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from canvass import services
from canvass.models import (
    HOLDING,
    AuditEvent,
    Campaign,
    Membership,
    Shift,
    ShiftSignup,
    Volunteer,
)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "timezone", "retention_days", "created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "campaign", "role", "created_at"]
    list_filter = ["role", "campaign"]
    search_fields = ["user__username", "user__email", "campaign__name"]
    autocomplete_fields = ["user", "campaign"]


@admin.register(Volunteer)
class VolunteerAdmin(admin.ModelAdmin):
    list_display = ["__str__", "campaign", "phone", "email", "language", "active"]
    list_filter = ["campaign", "active", "language"]
    search_fields = ["first_name", "last_name", "phone", "email"]


# --- Shifts: in the campaign's time zone, through the same services as the pages ------


class CampaignTimeZoneMixin:
    """Shows and reads the form's times in the campaign's own time zone, as the
    dashboard does, instead of the server's: a shift typed as 10:00 here is 10:00 there.

    The campaign comes from the object being changed, or, on an add, from the form
    being posted (or ?campaign= on the link).
    """

    def campaign_of(self, obj):
        # Each admin using the mixin says where its object's campaign is (ShiftAdmin: the
        # shift's; ShiftSignupAdmin: its shift's). A metaclass-free hook: ModelAdmin's own
        # metaclass does not mix with ABCMeta.
        raise TypeError(f"{type(self).__name__} must say how to find an object's campaign")

    def campaign_from_request(self, request):
        return None

    def _campaign_tz(self, request, object_id):
        campaign = None
        if object_id:
            obj = self.get_object(request, unquote(object_id))
            campaign = self.campaign_of(obj) if obj is not None else None
        else:
            campaign = self.campaign_from_request(request)
        return campaign.tz if campaign is not None else None

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        tz = self._campaign_tz(request, object_id)
        if tz is None:
            return super().changeform_view(request, object_id, form_url, extra_context)
        extra_context = {**(extra_context or {}), "campaign_timezone": tz.key}
        with timezone.override(tz):
            response = super().changeform_view(request, object_id, form_url, extra_context)
            # The admin answers with a TemplateResponse rendered later, outside the zone.
            if hasattr(response, "render") and not response.is_rendered:
                response.render()
        return response

    @staticmethod
    def _local(obj_time, campaign):
        if obj_time is None:
            return "—"
        local = timezone.localtime(obj_time, campaign.tz)
        return f"{local:%a %b} {local.day}, {local:%H:%M} {local.tzname()}"


def _campaign_posted(request, field="campaign"):
    pk = request.POST.get(field) or request.GET.get(field)
    if pk and str(pk).isdigit():
        return Campaign.objects.filter(pk=pk).first()
    return None


class ShiftAdminForm(forms.ModelForm):
    class Meta:
        model = Shift
        fields = [
            "campaign",
            "name",
            "starts_at",
            "ends_at",
            "place",
            "place_lat",
            "place_lng",
            "capacity",
            "notes",
            "turfs",
            "contact",
            "public",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        zone = timezone.get_current_timezone_name()
        for name in ("starts_at", "ends_at"):
            if name in self.fields:
                self.fields[name].help_text = _(
                    "In the campaign's time zone (%(tz)s on this page). On a new shift, "
                    "the campaign picked decides: save, then check the times shown."
                ) % {"tz": zone}

    def clean(self):
        data = super().clean()
        campaign = data.get("campaign") or getattr(self.instance, "campaign", None)
        if campaign is None or not data.get("starts_at") or not data.get("ends_at"):
            return data
        values = {name: data.get(name) for name in services.SHIFT_FIELDS}
        existing = None
        if self.instance.pk:
            existing = Shift.objects.get(pk=self.instance.pk)
            if existing.is_cancelled:
                raise ValidationError(
                    _("This shift is cancelled, so it cannot be changed. Copy it instead.")
                )
        try:
            services.shift_check(
                campaign=campaign, values=values, now=timezone.now(), shift=existing
            )
        except ValidationError as error:
            for name, errors in error.error_dict.items():
                self.add_error(name if name in self.fields else None, errors)
        if any(turf.campaign_id != campaign.pk for turf in data.get("turfs") or []):
            self.add_error("turfs", _("Every turf in the pool must belong to the campaign."))
        return data


class ShiftSignupInlineFormSet(BaseInlineFormSet):
    """Capacity holds here too: the rows taking a spot may not outnumber the capacity."""

    def clean(self):
        super().clean()
        shift = self.instance
        if shift is None or shift.capacity is None:
            return
        holding = 0
        for form in self.forms:
            data = getattr(form, "cleaned_data", None)
            if not data or self._should_delete_form(form):
                continue
            if not (data.get("volunteer") or form.instance.pk):
                continue  # an empty extra row
            if form.instance.pk:
                _fixed_fields_clean(form)
            _reminders_clean(form, data.get("volunteer") or form.instance.volunteer)
            if (data.get("status") or form.instance.status) in HOLDING:
                holding += 1
        if holding > shift.capacity:
            raise ValidationError(
                _(
                    "%(n)s signups would hold a spot on a shift for %(capacity)s. Put the "
                    "others on the waitlist, or raise the capacity."
                )
                % {"n": holding, "capacity": shift.capacity}
            )


def _fixed_fields_clean(form):
    """An existing signup keeps its volunteer and its source: say so rather than drop the edit."""
    if "volunteer" in form.changed_data:
        form.add_error(
            "volunteer",
            _(
                "A signup stays with its volunteer. Cancel this one and add the other "
                "volunteer on a new row."
            ),
        )
    if "source" in form.changed_data:
        form.add_error("source", _("A signup keeps where it came from; leave this as it was."))


def _reminders_clean(form, volunteer):
    """Put a reminder that has nowhere to go on its box, before anything is saved."""
    try:
        services.signup_reminders_check(
            volunteer=volunteer,
            remind_by_sms=form.cleaned_data.get("remind_by_sms", False),
            remind_by_email=form.cleaned_data.get("remind_by_email", False),
        )
    except ValidationError as error:
        for name, errors in error.error_dict.items():
            form.add_error(name, errors)


class ShiftSignupInline(admin.TabularInline):
    model = ShiftSignup
    formset = ShiftSignupInlineFormSet
    extra = 0
    autocomplete_fields = ["volunteer"]
    fields = ["volunteer", "status", "source", "remind_by_sms", "remind_by_email", "joined"]
    readonly_fields = ["joined"]

    @admin.display(description=_("joined"))
    def joined(self, obj):
        return CampaignTimeZoneMixin._local(obj.joined_at, obj.shift.campaign) if obj.pk else "—"


@admin.register(Shift)
class ShiftAdmin(CampaignTimeZoneMixin, admin.ModelAdmin):
    form = ShiftAdminForm
    list_display = ["__str__", "campaign", "starts", "ends", "place", "capacity", "cancelled"]
    list_filter = ["campaign", ("cancelled_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "place"]
    date_hierarchy = "starts_at"
    inlines = [ShiftSignupInline]
    filter_horizontal = ["turfs"]
    actions = ["cancel_shifts"]

    def campaign_of(self, obj):
        return obj.campaign

    def campaign_from_request(self, request):
        return _campaign_posted(request)

    def get_readonly_fields(self, request, obj=None):
        # A shift stays in its campaign: its turfs, signups and links are that campaign's.
        return ["campaign", "cancelled_at"] if obj is not None else []

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("campaign")

    @admin.display(description=_("starts"), ordering="starts_at")
    def starts(self, obj):
        return self._local(obj.starts_at, obj.campaign)

    @admin.display(description=_("ends"), ordering="ends_at")
    def ends(self, obj):
        return self._local(obj.ends_at, obj.campaign)

    @admin.display(description=_("cancelled"), boolean=True)
    def cancelled(self, obj):
        return obj.is_cancelled

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        fields = {name: data[name] for name in services.SHIFT_FIELDS if name in data}
        if change:
            shift = services.shift_update(
                shift=obj, turfs=data.get("turfs"), changed_by=request.user, **fields
            )
        else:
            shift = services.shift_create(
                campaign=data["campaign"],
                turfs=data.get("turfs") or (),
                created_by=request.user,
                **fields,
            )
        obj.pk = shift.pk
        obj.refresh_from_db()

    def save_related(self, request, form, formsets, change):
        # The pool of turfs was set by the service; signups go through services too.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def save_formset(self, request, form, formset, change):
        if formset.model is not ShiftSignup:
            return super().save_formset(request, form, formset, change)
        shift = form.instance

        # Spots given back first, then the rows taking one, then the new waitlist places:
        # so each row finds the spot it was validated against.
        def order(row):
            if formset._should_delete_form(row):
                return 0
            if row.cleaned_data.get("status") in HOLDING:
                return 1
            return 0 if row.instance.pk else 2

        forms_in_order = sorted(formset.forms, key=order)
        # What the admin's history message reads.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for row in forms_in_order:
            if not row.cleaned_data:
                continue
            signup = row.instance
            if formset._should_delete_form(row):
                if signup.pk:
                    services.signup_delete(signup=signup)
                    formset.deleted_objects.append(signup)
                continue
            if not row.has_changed():
                continue
            saved = _signup_save(
                shift=shift,
                signup=signup if signup.pk else None,
                data=row.cleaned_data,
                changed_by=request.user,
            )
            if signup.pk:
                formset.changed_objects.append((saved, row.changed_data))
            else:
                formset.new_objects.append(saved)

    @admin.action(description=_("Cancel the selected shifts (and tell everyone signed up)"))
    def cancel_shifts(self, request, queryset):
        cancelled = 0
        for shift in queryset:
            try:
                cancelled += services.shift_cancel(shift=shift, cancelled_by=request.user)
            except ValidationError as error:
                self.message_user(request, f"{shift}: {' '.join(error.messages)}", messages.ERROR)
        self.message_user(request, _("%(n)s shifts cancelled.") % {"n": cancelled})


def _signup_save(*, shift, signup, data, changed_by):
    """One admin row, through the services: a new signup, a status, reminders."""
    status = data.get("status")
    if signup is None:
        signup, _token = services.signup_create(
            shift=shift,
            volunteer=data["volunteer"],
            source=data.get("source") or ShiftSignup.Source.ORGANIZER,
            remind_by_sms=data.get("remind_by_sms", False),
            remind_by_email=data.get("remind_by_email", False),
            status=status,
        )
        return signup
    current = ShiftSignup.objects.get(pk=signup.pk)
    if status and status != current.status:
        services.signup_status_set(signup=current, status=status, changed_by=changed_by)
    prefs = (data.get("remind_by_sms", False), data.get("remind_by_email", False))
    if prefs != (current.remind_by_sms, current.remind_by_email):
        services.signup_preferences_set(
            signup=current, remind_by_sms=prefs[0], remind_by_email=prefs[1]
        )
    return current


class ShiftSignupAdminForm(forms.ModelForm):
    class Meta:
        model = ShiftSignup
        fields = ["shift", "volunteer", "status", "source", "remind_by_sms", "remind_by_email"]

    def clean(self):
        data = super().clean()
        shift = data.get("shift") or getattr(self.instance, "shift", None)
        status = data.get("status")
        if shift is None or status is None:
            return data
        volunteer = data.get("volunteer") or getattr(self.instance, "volunteer", None)
        if volunteer is not None and volunteer.campaign_id != shift.campaign_id:
            self.add_error("volunteer", _("The volunteer must belong to the shift's campaign."))
        if volunteer is not None:
            _reminders_clean(self, volunteer)
        existing = ShiftSignup.objects.get(pk=self.instance.pk) if self.instance.pk else None
        if existing is None or existing.status != status:
            try:
                services.signup_spot_check(shift=shift, status=status, signup=existing)
            except ValidationError as error:
                self.add_error("status", error)
        return data


@admin.register(ShiftSignup)
class ShiftSignupAdmin(CampaignTimeZoneMixin, admin.ModelAdmin):
    form = ShiftSignupAdminForm
    list_display = ["volunteer", "shift", "status", "source", "joined", "checked_in"]
    list_filter = ["status", "source", "shift__campaign"]
    search_fields = ["volunteer__first_name", "volunteer__last_name", "volunteer__phone"]
    autocomplete_fields = ["volunteer"]
    raw_id_fields = ["shift"]

    def campaign_of(self, obj):
        return obj.shift.campaign

    def get_readonly_fields(self, request, obj=None):
        # A signup stays on its shift and with its volunteer: move it by cancelling it.
        return ["shift", "volunteer", "source"] if obj is not None else []

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("shift__campaign", "volunteer")

    @admin.display(description=_("joined"), ordering="joined_at")
    def joined(self, obj):
        return self._local(obj.joined_at, obj.shift.campaign)

    @admin.display(description=_("checked in"), ordering="checked_in_at")
    def checked_in(self, obj):
        return self._local(obj.checked_in_at, obj.shift.campaign)

    def save_model(self, request, obj, form, change):
        signup = _signup_save(
            shift=form.cleaned_data.get("shift") or obj.shift,
            signup=obj if change else None,
            data=form.cleaned_data,
            changed_by=request.user,
        )
        obj.pk = signup.pk
        obj.refresh_from_db()

    def delete_model(self, request, obj):
        services.signup_delete(signup=obj)

    def delete_queryset(self, request, queryset):
        for signup in queryset:
            services.signup_delete(signup=signup)


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["created_at", "actor", "action", "target", "campaign"]
    list_filter = ["action", "campaign"]
    search_fields = ["action", "target", "actor__username"]
    date_hierarchy = "created_at"

    # The audit trail is evidence: nobody edits or deletes it from the admin.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
