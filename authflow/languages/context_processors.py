"""What the pages' language switcher and <html lang dir> need."""
from django.utils import translation

from . import choice

# A page reached with a longer query (an error page carrying a script's long message, say) switches language
# back to its path alone: the switcher does not echo kilobytes of someone else's query into every form.
LONGEST_NEXT = 1024


def languages(request):
    current = translation.get_language() or "en"
    return {
        "page_language": current,
        "page_direction": "rtl" if translation.get_language_bidi() else "ltr",
        "switcher_languages": [{"code": code, "name": translation.get_language_info(code)["name_local"]}
                               for code in choice.supported()],
        "switcher_next": _next(request),
    }


def _next(request) -> str:
    if request.method != "GET":
        return request.path
    full = request.get_full_path()
    return full if len(full) <= LONGEST_NEXT else request.path
