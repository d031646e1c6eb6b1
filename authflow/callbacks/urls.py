from django.urls import path

from . import views

urlpatterns = [
    path("<uuid:flow_id>/", views.context_selection, name="login-context-selection"),
]
