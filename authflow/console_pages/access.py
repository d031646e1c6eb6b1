"""Who may open /console/: the staff the Django admin site admits (signed in through the account application,
so past its second factor), and nobody else: one gate for /admin/, /console/ and the API's staff sessions."""
import functools
from urllib.parse import urlencode

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect

from authflow.api.audit import console_request


def staff_console(permission: str):
    """Staff who passed the admin's sign-in and hold `permission`; others sign in (or are refused, if not staff)."""

    def decorate(view):
        @functools.wraps(view)
        def wrapped(request, *args, **kwargs):
            user = request.user
            if user.is_authenticated and not (user.is_active and user.is_staff):
                raise PermissionDenied("the console is for staff")
            if not admin.site.has_permission(request):
                return redirect("/admin/login/?" + urlencode({"next": request.get_full_path()}))
            if not user.has_perm(permission):
                raise PermissionDenied(f"this page needs the console permission {permission}")
            with console_request(request):
                return view(request, *args, **kwargs)

        return wrapped

    return decorate
