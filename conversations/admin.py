from django.contrib import admin

from conversations.models import Commitment, OptOut, Reminder, StoryNote, Visit


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
    fields = ["channel", "to", "send_at", "status"]
    readonly_fields = fields
    can_delete = False


@admin.register(Commitment)
class CommitmentAdmin(admin.ModelAdmin):
    list_display = ["what", "kind", "person", "when", "owner", "channel", "status"]
    list_filter = ["campaign", "kind", "status", "channel"]
    search_fields = ["what", "person__first_name", "person__last_name"]
    raw_id_fields = ["visit", "person", "owner"]
    inlines = [ReminderInline]


@admin.register(Reminder)
class ReminderAdmin(admin.ModelAdmin):
    list_display = ["send_at", "channel", "to", "recipient_kind", "status", "attempts", "campaign"]
    list_filter = ["status", "channel", "recipient_kind", "campaign"]
    search_fields = ["to", "idempotency_key", "body"]
    raw_id_fields = ["commitment"]
    date_hierarchy = "send_at"


@admin.register(OptOut)
class OptOutAdmin(admin.ModelAdmin):
    list_display = ["address", "source", "keyword", "campaign", "created_at"]
    list_filter = ["source"]
    search_fields = ["address"]
