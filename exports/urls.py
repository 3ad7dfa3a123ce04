from django.urls import path

from exports import views

urlpatterns = [
    path("c/<slug:slug>/exports/", views.export_index, name="export_index"),
    path("c/<slug:slug>/exports/result-codes/", views.result_codes_edit, name="result_codes"),
    path("c/<slug:slug>/exports/new/<str:kind>/", views.export_new, name="export_new"),
    path("c/<slug:slug>/exports/<int:pk>/", views.export_job, name="export_job"),
    path(
        "c/<slug:slug>/exports/<int:pk>/status.json",
        views.export_job_status,
        name="export_job_status",
    ),
    path("c/<slug:slug>/exports/<int:pk>/download/", views.export_download, name="export_download"),
]
