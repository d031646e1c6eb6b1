"""The custom authenticators' API for mobile apps; its DRF views are imported by their first request."""
from django.urls import path

from authflow.deferred_views import DeferredView

VIEWS = "authflow.custom_authenticators.views"

urlpatterns = [
    path("registrations/", DeferredView(VIEWS, "RegistrationsView"), name="custom-authenticator-registrations"),
    path("<slug:name>/registration/", DeferredView(VIEWS, "RegistrationView"), name="custom-authenticator-registration"),
    path("<slug:name>/authentication/", DeferredView(VIEWS, "AuthenticationView"),
         name="custom-authenticator-authentication"),
]
