"""The Django admin, for superusers only.

The admin shows every campaign's rows side by side; scoping each ModelAdmin to a user's
campaigns and roles would have to be right in every queryset, inline, autocomplete, filter and
action, forever. Instead organizers work in the campaign-scoped pages (which go through
canvass.access) and the admin is the operators' tool: a superuser is the only one let in, even
with is_staff and model permissions set.
"""

from django.contrib.admin import AdminSite
from django.contrib.admin.apps import AdminConfig


class PorchlightAdminSite(AdminSite):
    site_header = "Porchlight administration (every campaign)"

    def has_permission(self, request):
        user = request.user
        return user.is_active and user.is_superuser


class PorchlightAdminConfig(AdminConfig):
    default_site = "canvass.admin_site.PorchlightAdminSite"
