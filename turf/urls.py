from django.urls import path

from turf import views

urlpatterns = [
    path("a/<str:token>/", views.assignment_open, name="assignment_open"),
]
