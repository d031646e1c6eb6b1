from django.urls import path

from . import views

urlpatterns = [
    path("registrations/", views.RegistrationsView.as_view(), name="custom-authenticator-registrations"),
    path("<slug:name>/registration/", views.RegistrationView.as_view(), name="custom-authenticator-registration"),
    path("<slug:name>/authentication/", views.AuthenticationView.as_view(),
         name="custom-authenticator-authentication"),
]
