from django.urls import path

from turf import import_views, people_views, views

urlpatterns = [
    path("c/<slug:slug>/import/", import_views.import_upload, name="import_upload"),
    path("c/<slug:slug>/people/<int:person_id>/", people_views.person_detail, name="person_detail"),
    path("c/<slug:slug>/import/<int:job_id>/", import_views.import_detail, name="import_detail"),
    path("c/<slug:slug>/import/<int:job_id>/map/", import_views.import_map, name="import_map"),
    path(
        "c/<slug:slug>/import/<int:job_id>/retry/", import_views.import_retry, name="import_retry"
    ),
    path(
        "c/<slug:slug>/import/<int:job_id>/status.json",
        import_views.import_status,
        name="import_status",
    ),
    path(
        "c/<slug:slug>/import/<int:job_id>/bad-rows.csv",
        import_views.import_report,
        name="import_report",
    ),
    path("c/<slug:slug>/turfs/", views.turf_list, name="turf_list"),
    path("c/<slug:slug>/turfs/progress.json", views.turf_progress_json, name="turf_progress"),
    path("c/<slug:slug>/turfs/cut/", views.turf_cut_view, name="turf_cut"),
    path("c/<slug:slug>/turfs/<int:turf_id>/", views.turf_detail, name="turf_detail"),
    path("c/<slug:slug>/turfs/<int:turf_id>/status/", views.turf_status, name="turf_status"),
    path("c/<slug:slug>/turfs/<int:turf_id>/walk-sheet/", views.walk_sheet, name="walk_sheet"),
    path("c/<slug:slug>/assign/", views.assign, name="assign"),
    path(
        "c/<slug:slug>/assignments/<int:pk>/revoke/",
        views.assignment_revoke_view,
        name="assignment_revoke",
    ),
    path(
        "c/<slug:slug>/assignments/<int:pk>/new-link/",
        views.assignment_reissue_view,
        name="assignment_reissue",
    ),
    path("c/<slug:slug>/map/", views.turf_map, name="turf_map"),
    path("c/<slug:slug>/map/turfs.geojson", views.turfs_geojson, name="turfs_geojson"),
    path(
        "c/<slug:slug>/map/households.geojson",
        views.households_geojson,
        name="households_geojson",
    ),
]
