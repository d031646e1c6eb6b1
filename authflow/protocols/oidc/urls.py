from django.urls import path
from oauth2_provider import urls as library_urls
from oauth2_provider import views as library_views

from .views import AuthorizationView

app_name = "oauth2_provider"

urlpatterns = [
    path("authorize/", AuthorizationView.as_view(), name="authorize"),
    path("token/", library_views.TokenView.as_view(), name="token"),
    path("revoke_token/", library_views.RevokeTokenView.as_view(), name="revoke-token"),
    path("introspect/", library_views.IntrospectTokenView.as_view(), name="introspect"),
] + library_urls.oidc_urlpatterns
