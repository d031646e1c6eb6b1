from django.urls import path

from . import replay, views

app_name = "console"

urlpatterns = [
    path("", views.index, name="index"),
    path("scripts/<slug:name>/", views.versions, name="versions"),
    path("scripts/<slug:name>/diff/", views.diff, name="diff"),
    path("scripts/<slug:name>/publish/<int:number>/", views.publish, name="publish"),
    path("scripts/<slug:name>/edit/", views.editor, name="editor"),
    path("flows/", replay.flow_list, name="flows"),
    path("flows/<uuid:flow_id>/", replay.flow_replay, name="replay"),
]
