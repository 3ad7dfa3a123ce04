from django.urls import path

from conversations import door_views

urlpatterns = [
    path("a/<str:token>/", door_views.assignment_open, name="assignment_open"),
]
