"""The email templates this service ships: those the authenticators send, and an example for scripts.

The data migration 0002 stores them (administrators edit the stored copies);
when a stored one is missing, the service falls back to the text here, so
the email authenticators keep working.  Their texts are msgids: locale/ holds their translations
(translated()), used while an administrator has not changed the stored copy.
"""
from django.utils import translation
from django.utils.translation import gettext_noop

OTP_TEXT = gettext_noop("""Hello {{ username }},

Your code to sign in to {{ application }} is:

    {{ code }}

It works once, in the sign-in you started, for {{ minutes }} minutes.

If you did not try to sign in, ignore this message; someone may know your
password, so consider changing it.
""")

OTP_HTML = gettext_noop("""<p>Hello {{ username }},</p>
<p>Your code to sign in to <strong>{{ application }}</strong> is:</p>
<p style="font-size: 1.6em; letter-spacing: 0.2em;"><strong>{{ code }}</strong></p>
<p>It works once, in the sign-in you started, for {{ minutes }} minutes.</p>
<p>If you did not try to sign in, ignore this message; someone may know your password, so consider changing it.</p>
""")

LINK_TEXT = gettext_noop("""Hello {{ username }},

Open this link to sign in to {{ application }}:

{{ link }}

Open it in the browser where you started signing in. It works once, for
{{ minutes }} minutes.

If you did not ask for it, ignore this message: nobody can use it without
that browser.
""")

LINK_HTML = gettext_noop("""<p>Hello {{ username }},</p>
<p><a href="{{ link }}">Sign in to {{ application }}</a></p>
<p>Open the link in the browser where you started signing in. It works once, for {{ minutes }} minutes.</p>
<p>If you did not ask for it, ignore this message: nobody can use it without that browser.</p>
""")

NOTICE_TEXT = gettext_noop("""Hello {{ username }},

Your account was just used to sign in to {{ application }}
from {{ ip }}.

If this was not you, change your password and contact your administrator.
""")

TEMPLATES = [
    {"template_id": "email-otp", "description": "The email OTP authenticator's code (needs {{ code }}).",
     "subject": gettext_noop("Your sign-in code for {{ application }}"), "text_body": OTP_TEXT, "html_body": OTP_HTML},
    {"template_id": "magic-link", "description": "The magic link authenticator's link (needs {{ link }}).",
     "subject": gettext_noop("Your sign-in link for {{ application }}"), "text_body": LINK_TEXT, "html_body": LINK_HTML},
    {"template_id": "new-sign-in",
     "description": "An example for scripts: sendEmail(user, 'new-sign-in', {application: ..., ip: ...}).",
     "subject": gettext_noop("New sign-in to {{ application }}"), "text_body": NOTICE_TEXT, "html_body": ""},
]

BY_ID = {t["template_id"]: t for t in TEMPLATES}
_TEXTS = ("subject", "text_body", "html_body")


def is_shipped_text(template) -> bool:
    """Whether a stored template still says what this module ships (administrators did not change it)."""
    shipped = BY_ID.get(template.template_id)
    return shipped is not None and all(getattr(template, f) == shipped[f] for f in _TEXTS)


def translated(shipped: dict, language: str) -> dict:
    """A shipped template's fields with its texts in `language` (locale/; English when not translated)."""
    with translation.override(language):
        return {**shipped, **{f: translation.gettext(shipped[f]) if shipped[f] else "" for f in _TEXTS}}
