from django.contrib import admin, messages
from django.core.exceptions import ValidationError

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
from conversations.services import reminder_resolve


class StoryNoteInline(admin.StackedInline):
    model = StoryNote
    extra = 0


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
    search_fields = ["why", "story"]
    raw_id_fields = ["visit"]

    @admin.display(description="shift (canvasser-reported)")
    def rating_shift(self, obj):
        return obj.rating_shift


class ReminderInline(admin.TabularInline):
    model = Reminder
    extra = 0
    fields = ["step", "recipient_kind", "channel", "to", "send_at", "status"]
    readonly_fields = fields
    can_delete = False


@admin.register(Commitment)
class CommitmentAdmin(admin.ModelAdmin):
    list_display = ["what", "kind", "person", "when", "owner", "channel", "status"]
    list_filter = ["campaign", "kind", "status", "channel"]
    search_fields = ["what", "person__first_name", "person__last_name"]
    raw_id_fields = ["visit", "person", "owner"]
    inlines = [ReminderInline]


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

    list_display = ["campaign", "step", "channel", "kind", "body"]
    list_filter = ["campaign", "step", "channel"]
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
    list_display = ["received_at", "problem", "campaign", "assignment", "resolved_at"]
    list_filter = ["campaign", "problem", "resolved_at"]
    raw_id_fields = ["assignment", "resolved_by"]
    # What the phone sent is kept exactly as it came; organizers deal with it on their page.
    readonly_fields = ["client_id", "payload", "problem", "detail", "received_at"]

    def has_add_permission(self, request):
        return False
