from django.contrib import admin

from turf.models import (
    Assignment,
    GeocodeCache,
    GeocodeJob,
    Household,
    ImportJob,
    ImportPreset,
    Person,
    Turf,
    TurfStop,
)


class PersonInline(admin.TabularInline):
    model = Person
    extra = 0
    fields = ["first_name", "last_name", "phone", "email", "do_not_contact"]


@admin.register(Household)
class HouseholdAdmin(admin.ModelAdmin):
    list_display = ["address_line", "city", "zip_code", "precinct", "campaign"]
    list_filter = ["campaign", "precinct", "city"]
    search_fields = ["street", "house_number", "address_key", "external_id"]
    inlines = [PersonInline]


@admin.register(Person)
class PersonAdmin(admin.ModelAdmin):
    list_display = ["__str__", "household", "phone", "email", "contact_consent", "do_not_contact"]
    list_filter = ["campaign", "contact_consent", "do_not_contact", "language"]
    search_fields = ["first_name", "last_name", "phone", "email", "external_id"]
    raw_id_fields = ["household"]


class TurfStopInline(admin.TabularInline):
    model = TurfStop
    extra = 0
    raw_id_fields = ["household"]
    ordering = ["position"]


@admin.register(Turf)
class TurfAdmin(admin.ModelAdmin):
    list_display = ["name", "campaign", "status", "door_count", "created_at"]
    list_filter = ["campaign", "status"]
    search_fields = ["name"]
    inlines = [TurfStopInline]

    @admin.display(description="doors")
    def door_count(self, obj):
        return obj.stops.count()


@admin.register(TurfStop)
class TurfStopAdmin(admin.ModelAdmin):
    list_display = ["turf", "position", "household"]
    list_filter = ["turf__campaign", "turf"]
    search_fields = ["turf__name", "household__street", "household__house_number"]
    raw_id_fields = ["turf", "household"]
    ordering = ["turf", "position"]


@admin.register(Assignment)
class AssignmentAdmin(admin.ModelAdmin):
    list_display = ["turf", "shift", "expires_at", "revoked_at", "created_at"]
    list_filter = ["turf__campaign", "revoked_at"]
    search_fields = ["turf__name", "volunteers__first_name", "volunteers__last_name"]
    filter_horizontal = ["volunteers"]
    # The token exists only in the link handed out; the hash is useless to show.
    exclude = ["token_hash"]
    readonly_fields = ["created_by", "created_at"]

    def has_add_permission(self, request):
        # Links are made from the dashboard, which shows the token once.
        return False


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = ["__str__", "campaign", "status", "rows_imported", "rows_failed", "created_at"]
    list_filter = ["campaign", "status"]
    search_fields = ["original_name"]
    readonly_fields = ["error_report"]


@admin.register(ImportPreset)
class ImportPresetAdmin(admin.ModelAdmin):
    list_display = ["name", "campaign", "has_header", "created_at"]
    list_filter = ["campaign"]


@admin.register(GeocodeJob)
class GeocodeJobAdmin(admin.ModelAdmin):
    list_display = ["__str__", "campaign", "status", "households_done", "households_total"]
    list_filter = ["campaign", "status"]
    readonly_fields = [f.name for f in GeocodeJob._meta.fields]

    def has_add_permission(self, request):
        # A run is started from the dashboard or the import, which queue its worker.
        return False


@admin.register(GeocodeCache)
class GeocodeCacheAdmin(admin.ModelAdmin):
    list_display = ["key", "geocoder", "quality", "lat", "lng", "created_at"]
    list_filter = ["geocoder", "quality"]
    search_fields = ["key"]
