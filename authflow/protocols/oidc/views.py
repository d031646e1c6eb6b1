"""The authorization endpoint: the protocol library's, after this application's login flow."""
from __future__ import annotations

from oauth2_provider.views import AuthorizationView as LibraryAuthorizationView

from . import sessions


class AuthorizationView(LibraryAuthorizationView):
    def dispatch(self, request, *args, **kwargs):
        client_id = request.GET.get("client_id", "")
        if request.user.is_authenticated and client_id:
            max_age = request.GET.get("max_age")
            max_age = int(max_age) if max_age and max_age.isdigit() else None
            if not sessions.is_fresh(request.session, client_id, max_age):
                # Signed in, but not through this application's script (or too
                # long ago for max_age): run its login flow first.
                return self.handle_no_permission()
        return super().dispatch(request, *args, **kwargs)

    def handle_no_permission(self):
        # LoginRequiredMixin would refuse an authenticated user; always go to the flow.
        from django.contrib.auth.views import redirect_to_login

        return redirect_to_login(self.request.get_full_path(), self.get_login_url(), self.get_redirect_field_name())
