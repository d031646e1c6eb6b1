from django.urls import path

from . import views

app_name = "console"

urlpatterns = [
    path("", views.index, name="index"),
    path("scripts/<slug:name>/", views.versions, name="versions"),
    path("scripts/<slug:name>/diff/", views.diff, name="diff"),
    path("scripts/<slug:name>/publish/<int:number>/", views.publish, name="publish"),
    path("scripts/<slug:name>/edit/", views.editor, name="editor"),
]
