from django.urls import path

from . import views

urlpatterns = [
    path("start/", views.start, name="login-start"),
    path("flow/<str:flow_id>/", views.flow_page, name="login-flow"),
    path("error/", views.error_page, name="login-error"),
]
