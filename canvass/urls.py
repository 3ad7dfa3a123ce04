from csp.decorators import csp_update
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView

from canvass import account_views, script_views, views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password-reset/", auth_views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "password-reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password-reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("two-factor/", account_views.two_factor, name="two_factor"),
    path("c/<slug:slug>/security/", account_views.campaign_security, name="campaign_security"),
    path(
        "c/<slug:slug>/security/members/<int:pk>/unlock/",
        account_views.membership_unlock,
        name="membership_unlock",
    ),
    path("c/<slug:slug>/script/", script_views.campaign_script, name="campaign_script"),
    path("admin/", admin.site.urls),
    path("c/<slug:slug>/", views.campaign_dashboard, name="campaign_dashboard"),
    path("", include("turf.urls")),
    path("", include("conversations.urls")),
    path("", include("canvass.shift_urls")),
    path("", include("exports.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # ReDoc styles itself with inline <style> and parses in a blob: worker; scripts stay 'self'.
    path(
        "api/docs/",
        csp_update({"style-src": ["'unsafe-inline'"], "worker-src": ["blob:"]})(
            SpectacularRedocView.as_view(url_name="schema")
        ),
        name="api-docs",
    ),
]
