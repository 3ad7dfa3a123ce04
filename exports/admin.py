from django.contrib import admin

from exports.models import ExportJob, ExportLayout, ResultCode


@admin.register(ExportJob)
class ExportJobAdmin(admin.ModelAdmin):
    """Exports are asked for on the campaign's export pages (or `manage.py export`), where
    they are checked and audited; here they are only listed."""

    list_display = ["pk", "campaign", "kind", "format", "status", "rows_done", "created_by"]
    list_filter = ["campaign", "kind", "status", "format"]
    readonly_fields = [f.name for f in ExportJob._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ExportLayout)
class ExportLayoutAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "campaign", "updated_at"]
    list_filter = ["campaign", "kind"]


@admin.register(ResultCode)
class ResultCodeAdmin(admin.ModelAdmin):
    list_display = ["campaign", "outcome", "code"]
    list_filter = ["campaign"]
