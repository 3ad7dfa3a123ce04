from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import format_html

from canvass.models import Membership
from conversations.models import (
    DEFAULT_MESSAGE_TEMPLATES,
    Commitment,
    FollowUpEvent,
    HeldVisit,
    InboundSms,
    MessageTemplate,
    OptOut,
    Reminder,
    StoryNote,
    Visit,
)
from conversations.notes import story_note_read
from conversations.numbers import NumbersChange
from conversations.services import (
    OUT_OF_RANGE,
    commitment_change,
    commitment_record,
    reminder_resolve,
    when_in_range,
)
from conversations.services.plans import _commitment_clean as commitment_clean

# A note's words are shown only through conversations.notes (organizers of its campaign for a
# sensitive note, each reading audited), never as plain admin fields, nor searchable.
NOTE_NUMBERS = ["rating_before", "rating_after", "themes", "canvasser_shared_story", "sensitive"]


class StoryNoteInline(admin.StackedInline):
    model = StoryNote
    extra = 0
    fields = [*NOTE_NUMBERS, "self_rating", "words"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description="words")
    def words(self, obj):
        url = reverse("admin:conversations_storynote_change", args=[obj.pk])
        return format_html('<a href="{}">Open the note to read its words</a>', url)


@admin.register(Visit)
class VisitAdmin(admin.ModelAdmin):
    list_display = ["happened_at", "outcome", "household", "person", "volunteer", "campaign"]
    list_filter = ["campaign", "outcome"]
    search_fields = ["client_id", "household__street", "person__last_name", "place"]
    raw_id_fields = ["assignment", "household", "person", "volunteer"]
    date_hierarchy = "happened_at"
    inlines = [StoryNoteInline]


@admin.register(StoryNote)
class StoryNoteAdmin(admin.ModelAdmin):
    list_display = ["visit", "rating_before", "rating_after", "rating_shift", "sensitive"]
    list_filter = ["sensitive", "canvasser_shared_story", "visit__campaign"]
    raw_id_fields = ["visit"]
    fields = ["visit", *NOTE_NUMBERS, "self_rating", "why_words", "story_words", "values_words"]
    readonly_fields = ["visit", "why_words", "story_words", "values_words"]

    def has_add_permission(self, request):
        # Notes come from the door screen, with their visit.
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("visit")

    def get_object(self, request, object_id, from_field=None):
        note = super().get_object(request, object_id, from_field)
        if note is not None and request.method == "GET":
            note.words_shown = story_note_read(note=note, user=request.user, via="admin")
        return note

    def _words(self, obj, name):
        shown = getattr(obj, "words_shown", None)
        if shown is None:
            return "—"
        return shown.withheld or getattr(shown, name) or "—"

    @admin.display(description="why")
    def why_words(self, obj):
        return self._words(obj, "why")

    @admin.display(description="story")
    def story_words(self, obj):
        return self._words(obj, "story")

    @admin.display(description="values and feelings")
    def values_words(self, obj):
        return self._words(obj, "values_feelings")

    @admin.display(description="shift (canvasser-reported)")
    def rating_shift(self, obj):
        return obj.rating_shift


class ReminderInline(admin.TabularInline):
    model = Reminder
    extra = 0
    fields = ["step", "recipient_kind", "channel", "to", "send_at", "status"]
    readonly_fields = fields
    can_delete = False


# Fields whose change rewrites the follow-up plan: saved through commitment_change only.
PLAN_FIELDS = ["what", "when", "channel", "phone", "email", "owner"]


class CommitmentAdminForm(forms.ModelForm):
    class Meta:
        model = Commitment
        fields = [
            "campaign",
            "visit",
            "person",
            "kind",
            "what",
            "when",
            "owner",
            "channel",
            "phone",
            "email",
        ]

    def clean(self):
        data = super().clean()
        if not when_in_range(data.get("when")):
            self.add_error("when", OUT_OF_RANGE)
        campaign = data.get("campaign") or getattr(self.instance, "campaign", None)
        if campaign is None or "kind" in self.errors:
            return data
        try:
            data["what"], data["phone"], data["email"] = commitment_clean(
                campaign=campaign,
                kind=data.get("kind", self.instance.kind),
                what=data.get("what") or "",
                channel=data.get("channel") or "",
                phone=data.get("phone") or "",
                email=data.get("email") or "",
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                self.add_error(field if field in self.fields else None, errors)
        return data


@admin.register(Commitment)
class CommitmentAdmin(admin.ModelAdmin):
    """Changes go through the services, so the plan always follows: a new date, "what",
    channel or owner rewrites it (commitment_change); a new commitment writes its plan
    (commitment_record). The status is marked on the follow-up page, where it is recorded."""

    form = CommitmentAdminForm
    list_display = ["what", "kind", "person", "when", "owner", "channel", "status"]
    list_filter = ["campaign", "kind", "status", "channel"]
    search_fields = ["what", "person__first_name", "person__last_name"]
    raw_id_fields = ["visit", "person", "owner"]
    inlines = [ReminderInline]

    def get_readonly_fields(self, request, obj=None):
        always = ["status", "plan_version", "confirmed_at", "declined_at", "created_at"]
        if obj is None:
            return always
        # What the plan was written for: a different campaign, kind or person is a
        # different commitment (cancel this one, record the other).
        return [*always, "campaign", "kind", "person", "visit"]

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if not change:
            created = commitment_record(
                campaign=data["campaign"],
                kind=data["kind"],
                what=data["what"],
                person=data.get("person"),
                visit=data.get("visit"),
                when=data.get("when"),
                owner=data.get("owner"),
                channel=data["channel"],
                phone=data.get("phone") or "",
                email=data.get("email") or "",
            )
            obj.pk = created.pk
            obj.refresh_from_db()
            return
        changed = {field: data[field] for field in PLAN_FIELDS if field in form.changed_data}
        if changed:
            commitment_change(commitment=obj, **changed)
            obj.refresh_from_db()


class NeedsAPersonFilter(admin.SimpleListFilter):
    """Unknown outcomes and permanent failures: nothing will happen to them by itself."""

    title = "needs a person"
    parameter_name = "needs_person"

    def lookups(self, request, model_admin):
        return [("yes", "Needs a person (unknown or failed)")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.needs_a_person()
        return queryset


def _may_resolve(user, reminder):
    if user.is_superuser:
        return True
    return Membership.objects.filter(
        user=user, campaign_id=reminder.campaign_id, role=Membership.Role.ORGANIZER
    ).exists()


def _resolve(modeladmin, request, queryset, outcome):
    done = 0
    for reminder in queryset:
        if not _may_resolve(request.user, reminder):
            modeladmin.message_user(
                request,
                f"Only an organizer of {reminder.campaign} may resolve reminder {reminder.pk}.",
                messages.ERROR,
            )
            continue
        try:
            reminder_resolve(reminder=reminder, outcome=outcome, by=request.user)
            done += 1
        except ValidationError as exc:
            modeladmin.message_user(request, exc.messages[0], messages.WARNING)
    if done:
        modeladmin.message_user(request, f"{done} reminder(s) resolved.", messages.SUCCESS)


@admin.register(Reminder)
class ReminderAdmin(admin.ModelAdmin):
    list_display = [
        "send_at",
        "step",
        "channel",
        "to",
        "recipient_kind",
        "status",
        "attempts",
        "last_error",
        "campaign",
    ]
    list_filter = [NeedsAPersonFilter, "status", "channel", "recipient_kind", "step", "campaign"]
    search_fields = ["to", "idempotency_key", "body"]
    raw_id_fields = ["commitment"]
    readonly_fields = ["claim", "claimed_at", "provider_called_at", "queued_at", "sent_at"]
    date_hierarchy = "send_at"
    actions = ["mark_sent", "send_again"]

    @admin.action(description="Mark sent: it did arrive (unknown or failed only)")
    def mark_sent(self, request, queryset):
        _resolve(self, request, queryset, "sent")

    @admin.action(description="Send again now: it did not arrive (unknown or failed only)")
    def send_again(self, request, queryset):
        _resolve(self, request, queryset, "resend")


@admin.register(MessageTemplate)
class MessageTemplateAdmin(admin.ModelAdmin):
    """A campaign's own wording. Steps without a row here use the default set, which the
    add form starts from (…/add/?step=confirm&channel=sms)."""

    list_display = ["campaign", "step", "channel", "language", "kind", "body"]
    list_filter = ["campaign", "step", "channel", "language"]
    search_fields = ["body", "subject"]
    readonly_fields = ["default_wording"]

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        default = DEFAULT_MESSAGE_TEMPLATES.get((initial.get("step"), initial.get("channel")))
        if default:
            initial.setdefault("subject", default[0])
            initial.setdefault("body", default[1])
        return initial

    @admin.display(description="default wording")
    def default_wording(self, obj):
        default = DEFAULT_MESSAGE_TEMPLATES.get((obj.step, obj.channel)) if obj else None
        return default[1] if default else "—"


@admin.register(InboundSms)
class InboundSmsAdmin(admin.ModelAdmin):
    list_display = ["received_at", "from_number", "body", "handled_as", "campaign", "commitment"]
    list_filter = ["handled_as", "campaign"]
    search_fields = ["from_number", "body"]
    raw_id_fields = ["commitment"]


@admin.register(OptOut)
class OptOutAdmin(admin.ModelAdmin):
    list_display = ["address", "source", "keyword", "campaign", "created_at"]
    list_filter = ["source"]
    search_fields = ["address"]


@admin.register(FollowUpEvent)
class FollowUpEventAdmin(admin.ModelAdmin):
    """The record of who marked what on a commitment: read here, never rewritten."""

    list_display = ["at", "outcome", "commitment", "by", "status_before", "status_after"]
    list_filter = ["outcome", "commitment__campaign"]
    search_fields = ["note", "commitment__what", "by__username"]
    raw_id_fields = ["commitment", "by"]
    date_hierarchy = "at"

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(HeldVisit)
class HeldVisitAdmin(admin.ModelAdmin):
    """Visits the server would not take, resolved by organizers on the campaign's pages.
    The payload is the phone's copy, story words included: it is not shown here."""

    list_display = ["received_at", "problem", "campaign", "assignment", "resolved_at"]
    list_filter = ["problem", "campaign", ("resolved_at", admin.EmptyFieldListFilter)]
    exclude = ["payload"]
    readonly_fields = ["client_id", "campaign", "assignment", "problem", "detail", "received_at"]

    def has_add_permission(self, request):
        return False


@admin.register(NumbersChange)
class NumbersChangeAdmin(admin.ModelAdmin):
    """The log PostgreSQL's triggers write when what a campaign's numbers count changes:
    read here, never written by hand."""

    list_display = ["id", "campaign_id"]
    list_filter = ["campaign_id"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
