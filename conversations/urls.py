from django.urls import path

from conversations import (
    api,
    dashboard_views,
    door_views,
    held_views,
    message_views,
    outbox_views,
    people_views,
    webhooks,
)
from conversations import views as followup_views

urlpatterns = [
    # The door screen's service worker and shell sit under /a/ so the worker's
    # scope covers every assignment link; they come before the token route.
    path("a/sw.js", door_views.service_worker, name="door_service_worker"),
    path("a/shell/", door_views.door_shell, name="door_shell"),
    path("a/<str:token>/", door_views.assignment_open, name="assignment_open"),
    path("api/a/<str:token>/bundle", api.BundleView.as_view(), name="sync_bundle"),
    path("api/a/<str:token>/visits", api.VisitBatchView.as_view(), name="sync_visits"),
    path("api/a/<str:token>/held", api.HeldVisitView.as_view(), name="sync_held"),
    path("a/<str:token>/manifest.webmanifest", door_views.manifest, name="door_manifest"),
    path("follow-ups/", followup_views.followups_mine, name="followups_mine"),
    path("follow-ups/<int:pk>/", followup_views.followup_mark, name="followup_mark"),
    path("c/<slug:slug>/follow-ups/", followup_views.followups_campaign, name="followups_campaign"),
    path("c/<slug:slug>/follow-through/", followup_views.followthrough, name="followthrough"),
    path("c/<slug:slug>/held-visits/", held_views.held_visits, name="held_visits"),
    path(
        "c/<slug:slug>/held-visits/<int:pk>/done",
        held_views.held_visit_done,
        name="held_visit_done",
    ),
    path("c/<slug:slug>/messages/", message_views.message_templates, name="message_templates"),
    path(
        "c/<slug:slug>/messages/new/",
        message_views.message_template_edit,
        name="message_template_new",
    ),
    path(
        "c/<slug:slug>/messages/<int:pk>/",
        message_views.message_template_edit,
        name="message_template_edit",
    ),
    path(
        "c/<slug:slug>/messages/<int:pk>/delete/",
        message_views.message_template_delete,
        name="message_template_delete",
    ),
    path("c/<slug:slug>/replies/", outbox_views.replies_inbox, name="replies_inbox"),
    path(
        "c/<slug:slug>/replies/<int:pk>/answer",
        outbox_views.reply_answer,
        name="reply_answer",
    ),
    path(
        "c/<slug:slug>/replies/<int:pk>/handled",
        outbox_views.reply_handled,
        name="reply_handled",
    ),
    path(
        "c/<slug:slug>/reminders/needs-a-person/",
        outbox_views.reminders_needing_a_person,
        name="reminders_needing_a_person",
    ),
    path(
        "c/<slug:slug>/reminders/<int:pk>/settle",
        outbox_views.reminder_settle,
        name="reminder_settle",
    ),
    path(
        "c/<slug:slug>/reminders/<int:pk>/current-instead",
        outbox_views.reminder_current_instead,
        name="reminder_current_instead",
    ),
    path("c/<slug:slug>/people/", people_views.people_list, name="people_list"),
    path("c/<slug:slug>/people/<int:pk>/", people_views.person_detail, name="person_detail"),
    path(
        "c/<slug:slug>/people/<int:pk>/details/",
        people_views.person_details,
        name="person_details",
    ),
    path(
        "c/<slug:slug>/people/<int:pk>/forget/",
        people_views.person_forget_view,
        name="person_forget",
    ),
    path(
        "c/<slug:slug>/conversations/",
        dashboard_views.conversations_dashboard,
        name="conversations_dashboard",
    ),
    path("c/<slug:slug>/coaching/<int:volunteer_id>/", dashboard_views.coaching, name="coaching"),
    path("webhooks/sms/twilio", webhooks.twilio_sms, name="webhook_sms_twilio"),
]
