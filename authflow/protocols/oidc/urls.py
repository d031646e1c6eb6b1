from django.urls import path
from oauth2_provider import urls as library_urls
from oauth2_provider import views as library_views

from authflow.callbacks.introspection import IntrospectTokenView

from .views import AuthorizationView, TokenView, UserInfoView

app_name = "oauth2_provider"


def patterns(authorization_view=None):
    """The provider's endpoints; `authorization_view` replaces the authorization endpoint's view."""
    return [path("authorize/", authorization_view or AuthorizationView.as_view(), name="authorize")] + _others


_others = [
    path("token/", TokenView.as_view(), name="token"),
    path("revoke_token/", library_views.RevokeTokenView.as_view(), name="revoke-token"),
    # The library's, plus the claims of the JWT access tokens of applications with callbacks scripts.
    path("introspect/", IntrospectTokenView.as_view(), name="introspect"),
    path("userinfo/", UserInfoView.as_view(), name="user-info"),  # before the library's own
    # RFC 8414 metadata under the issuer (/o): the library derives the `iss` of authorization
    # responses (RFC 9207) from this URL, so it must sit where the issuer is.
    path(".well-known/oauth-authorization-server", library_views.OAuthServerMetadataView.as_view(),
         name="oauth-server-metadata"),
] + library_urls.oidc_urlpatterns

urlpatterns = patterns()
