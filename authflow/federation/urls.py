from django.urls import path

from . import views

urlpatterns = [
    path("oidc/<slug:name>/callback/", views.oidc_callback, name="federation-oidc-callback"),
]
