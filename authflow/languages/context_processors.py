"""What the pages' language switcher and <html lang dir> need."""
from django.utils import translation

from . import choice


def languages(request):
    current = translation.get_language() or "en"
    return {
        "page_language": current,
        "page_direction": "rtl" if translation.get_language_bidi() else "ltr",
        "switcher_languages": [{"code": code, "name": translation.get_language_info(code)["name_local"]}
                               for code in choice.supported()],
        "switcher_next": request.get_full_path() if request.method == "GET" else request.path,
    }
