from django.urls import path

from . import admin_pages, applications, branding, diagram_views, gallery_views, replay, scenario_views, views

app_name = "console"

urlpatterns = [
    path("", views.index, name="index"),
    path("scripts/<slug:name>/", views.versions, name="versions"),
    path("scripts/<slug:name>/diff/", views.diff, name="diff"),
    path("scripts/<slug:name>/publish/<int:number>/", views.publish, name="publish"),
    path("scripts/<slug:name>/edit/", views.editor, name="editor"),
    path("scripts/<slug:name>/scenarios/", scenario_views.index, name="scenarios"),
    path("scripts/<slug:name>/scenarios/<int:pk>/run/", scenario_views.run, name="scenario-run"),
    path("scripts/<slug:name>/scenarios/<int:pk>/delete/", scenario_views.delete, name="scenario-delete"),
    path("scripts/<slug:name>/diagram/", diagram_views.diagram, name="diagram"),
    path("templates/", gallery_views.index, name="gallery"),
    path("templates/<slug:slug>/", gallery_views.detail, name="gallery-template"),
    path("templates/<slug:slug>/start/", gallery_views.start, name="gallery-start"),
    path("flows/", replay.flow_list, name="flows"),
    path("flows/<uuid:flow_id>/", replay.flow_replay, name="replay"),
    path("applications/", applications.application_list, name="applications"),
    path("applications/new/", applications.application_create, name="application-create"),
    path("applications/<slug:name>/", applications.application_detail, name="application"),
    path("applications/<slug:name>/brand/", branding.application_brand, name="application-brand"),
    path("branding/", branding.default_brand, name="default-brand"),
    path("branding/preview.css", branding.preview_stylesheet, name="brand-preview"),
    path("audit/", admin_pages.audit_log, name="audit"),
    path("users/", admin_pages.user_list, name="users"),
    path("users/<str:username>/unlock/", admin_pages.user_unlock, name="user-unlock"),
    path("endpoints/", admin_pages.endpoint_list, name="endpoints"),
    path("endpoints/<int:pk>/delete/", admin_pages.endpoint_delete, name="endpoint-delete"),
    path("secrets/", admin_pages.secret_list, name="secrets"),
    path("secrets/<slug:name>/delete/", admin_pages.secret_delete, name="secret-delete"),
]
