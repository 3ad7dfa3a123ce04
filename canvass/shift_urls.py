"""Shift pages: the organizer's (under /c/<slug>/shifts/) and the public ones."""

from django.urls import path

from canvass import shift_views, signup_views

urlpatterns = [
    path("c/<slug:slug>/shifts/", shift_views.shift_list, name="shift_list"),
    path("c/<slug:slug>/shifts/new/", shift_views.shift_new, name="shift_new"),
    path("c/<slug:slug>/shifts/numbers/", shift_views.shift_numbers_view, name="shift_numbers"),
    path("c/<slug:slug>/shifts/signup-qr.svg", shift_views.signup_qr_download, name="signup_qr"),
    path("c/<slug:slug>/shifts/<int:pk>/", shift_views.shift_detail, name="shift_detail"),
    path("c/<slug:slug>/shifts/<int:pk>/edit/", shift_views.shift_edit, name="shift_edit"),
    path("c/<slug:slug>/shifts/<int:pk>/copy/", shift_views.shift_copy, name="shift_copy"),
    path(
        "c/<slug:slug>/shifts/<int:pk>/cancel/", shift_views.shift_cancel_view, name="shift_cancel"
    ),
    path(
        "c/<slug:slug>/shifts/<int:pk>/signups/add/",
        shift_views.shift_signup_add,
        name="shift_signup_add",
    ),
    path(
        "c/<slug:slug>/shifts/<int:pk>/signups/<int:signup_id>/",
        shift_views.shift_signup_change,
        name="shift_signup_change",
    ),
    path(
        "c/<slug:slug>/shifts/<int:pk>/check-in/", shift_views.shift_checkin, name="shift_checkin"
    ),
    path(
        "c/<slug:slug>/shifts/<int:pk>/check-in/<int:signup_id>/",
        shift_views.shift_checkin_tap,
        name="shift_checkin_tap",
    ),
    path("c/<slug:slug>/shifts/<int:pk>/walk-in/", shift_views.shift_walk_in, name="shift_walk_in"),
    path(
        "c/<slug:slug>/shifts/<int:pk>/hand-out/",
        shift_views.shift_hand_out,
        name="shift_hand_out",
    ),
    # Public: no login.
    path("join/<slug:slug>/", signup_views.signup_page, name="signup_page"),
    path("join/<slug:slug>/<int:shift_id>/", signup_views.signup_shift, name="signup_shift"),
    path("s/<str:token>/", signup_views.signup_manage, name="signup_manage"),
]
