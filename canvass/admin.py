from django.contrib import admin

from canvass.models import AuditEvent, Campaign, Membership, Shift, ShiftSignup, Volunteer


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


class ShiftSignupInline(admin.TabularInline):
    model = ShiftSignup
    extra = 0
    autocomplete_fields = ["volunteer"]


@admin.register(Shift)
class ShiftAdmin(admin.ModelAdmin):
    list_display = ["__str__", "campaign", "starts_at", "ends_at", "place", "capacity"]
    list_filter = ["campaign"]
    search_fields = ["name", "place"]
    date_hierarchy = "starts_at"
    inlines = [ShiftSignupInline]


@admin.register(ShiftSignup)
class ShiftSignupAdmin(admin.ModelAdmin):
    list_display = ["volunteer", "shift", "status", "created_at"]
    list_filter = ["status", "shift__campaign"]
    search_fields = ["volunteer__first_name", "volunteer__last_name"]


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
