from django.urls import path

from . import magic_link, views, waiting

urlpatterns = [
    path("start/", views.start, name="login-start"),
    path("flow/<str:flow_id>/", views.flow_page, name="login-flow"),
    path("flow/<str:flow_id>/status/", waiting.status, name="login-flow-status"),
    path("error/", views.error_page, name="login-error"),
    path("magic/<str:token>/", magic_link.open_link, name="login-magic-link"),
]
