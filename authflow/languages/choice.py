"""Which language a page speaks, in this order:

1. the language the user picked with the switcher on this browser (the language cookie): their own,
   explicit choice wins;
2. the application's OpenID Connect `ui_locales` (the first one we ship), kept on the flow: it is one of
   the login's request parameters (sequences.api.request_param), so every page of the login sees it;
3. the signed-in user's saved preference (User.preferred_language);
4. the browser's Accept-Language;
5. settings.LANGUAGE_CODE.

Everything here reads what the request already holds: no database query of its own.
"""
from __future__ import annotations

from django.conf import settings
from django.utils import translation
from django.utils.translation import trans_real


def supported() -> dict[str, str]:
    """{code: name} of the languages shipped (settings.LANGUAGES)."""
    return dict(settings.LANGUAGES)


def supported_code(value: str | None) -> str | None:
    """`value` (de, de-AT, DE_at) as the shipped language it names, or None."""
    if not value or not isinstance(value, str) or len(value) > 35:
        return None
    code = value.strip().lower().replace("_", "-")
    languages = supported()
    if code in languages:
        return code
    base = code.split("-")[0]
    return base if base in languages else None


def from_ui_locales(value: str | None) -> str | None:
    """The first of the space-separated BCP 47 tags of `ui_locales` that names a shipped language."""
    for tag in str(value or "").split()[:20]:
        code = supported_code(tag)
        if code:
            return code
    return None


def from_cookie(request) -> str | None:
    return supported_code(request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME))


def from_user(request) -> str | None:
    user = getattr(request, "user", None)  # already loaded by the session middleware when there is one
    if user is None or not user.is_authenticated:
        return None
    return supported_code(getattr(user, "preferred_language", ""))


def from_accept_language(request) -> str | None:
    header = request.META.get("HTTP_ACCEPT_LANGUAGE", "")
    for tag, _quality in trans_real.parse_accept_lang_header(header[:1000]):
        if tag == "*":
            break
        code = supported_code(tag)
        if code:
            return code
    return None


def choose(request, *, ui_locales: str | None = None) -> str:
    """The language for this request (see the module's docstring for the order)."""
    return (from_cookie(request) or from_ui_locales(ui_locales) or from_user(request)
            or from_accept_language(request) or supported_code(settings.LANGUAGE_CODE) or "en")


def use(request, code: str) -> None:
    """Speak `code` for the rest of this request."""
    translation.activate(code)
    request.LANGUAGE_CODE = code


def use_for_flow(request, ui_locales: str | None) -> None:
    """A login's page: its `ui_locales` now known, choose again (the middleware chose without it)."""
    if ui_locales:
        use(request, choose(request, ui_locales=ui_locales))
