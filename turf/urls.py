from django.urls import path

from turf import assign_views, edit_views, import_views, locate_views, paper_views, views

urlpatterns = [
    path("c/<slug:slug>/import/", import_views.import_upload, name="import_upload"),
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
    path(
        "c/<slug:slug>/turfs/<int:turf_id>/walk-sheets.pdf",
        paper_views.turf_sheets_pdf,
        name="turf_sheets_pdf",
    ),
    path(
        "c/<slug:slug>/shifts/<int:shift_id>/walk-sheets.pdf",
        paper_views.shift_sheets_pdf,
        name="shift_sheets_pdf",
    ),
    path(
        "c/<slug:slug>/assignments/<int:pk>/paper/",
        paper_views.paper_entry,
        name="paper_entry",
    ),
    path("c/<slug:slug>/assign/", assign_views.assign, name="assign"),
    path(
        "c/<slug:slug>/assignments/<int:pk>/link/",
        assign_views.assignment_link_view,
        name="assignment_link",
    ),
    path(
        "c/<slug:slug>/assignments/<int:pk>/send/",
        assign_views.assignment_link_send_view,
        name="assignment_link_send",
    ),
    path(
        "c/<slug:slug>/assignments/<int:pk>/revoke/",
        assign_views.assignment_revoke_view,
        name="assignment_revoke",
    ),
    path(
        "c/<slug:slug>/assignments/<int:pk>/new-link/",
        assign_views.assignment_reissue_view,
        name="assignment_reissue",
    ),
    path("c/<slug:slug>/map/", views.turf_map, name="turf_map"),
    path(
        "c/<slug:slug>/not-on-the-map/",
        locate_views.households_unlocated,
        name="households_unlocated",
    ),
    path(
        "c/<slug:slug>/not-on-the-map/status.json",
        locate_views.geocode_status,
        name="geocode_status",
    ),
    path("c/<slug:slug>/not-on-the-map/locate/", locate_views.geocode_start, name="geocode_start"),
    path(
        "c/<slug:slug>/households/<int:pk>/locate/",
        locate_views.household_locate_view,
        name="household_locate",
    ),
    path("c/<slug:slug>/map/edit/pick.json", edit_views.turf_edit_select, name="turf_edit_select"),
    path("c/<slug:slug>/map/edit/new-turf/", edit_views.turf_edit_create, name="turf_edit_create"),
    path("c/<slug:slug>/map/edit/move/", edit_views.turf_edit_move, name="turf_edit_move"),
    path("c/<slug:slug>/map/edit/merge/", edit_views.turf_edit_merge, name="turf_edit_merge"),
    path(
        "c/<slug:slug>/turfs/<int:turf_id>/split/",
        edit_views.turf_edit_split,
        name="turf_edit_split",
    ),
    path("c/<slug:slug>/map/turfs.geojson", views.turfs_geojson, name="turfs_geojson"),
    path(
        "c/<slug:slug>/map/households.geojson",
        views.households_geojson,
        name="households_geojson",
    ),
]
