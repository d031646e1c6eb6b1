"""The email templates this service ships: those the authenticators send, and an example for scripts.

The data migration 0002 stores them (administrators edit the stored copies);
when a stored one is missing, the service falls back to the text here, so
the email authenticators keep working.
"""

OTP_TEXT = """Hello {{ username }},

Your code to sign in to {{ application }} is:

    {{ code }}

It works once, in the sign-in you started, for {{ minutes }} minutes.

If you did not try to sign in, ignore this message; someone may know your
password, so consider changing it.
"""

OTP_HTML = """<p>Hello {{ username }},</p>
<p>Your code to sign in to <strong>{{ application }}</strong> is:</p>
<p style="font-size: 1.6em; letter-spacing: 0.2em;"><strong>{{ code }}</strong></p>
<p>It works once, in the sign-in you started, for {{ minutes }} minutes.</p>
<p>If you did not try to sign in, ignore this message; someone may know your password, so consider changing it.</p>
"""

LINK_TEXT = """Hello {{ username }},

Open this link to sign in to {{ application }}:

{{ link }}

Open it in the browser where you started signing in. It works once, for
{{ minutes }} minutes.

If you did not ask for it, ignore this message: nobody can use it without
that browser.
"""

LINK_HTML = """<p>Hello {{ username }},</p>
<p><a href="{{ link }}">Sign in to {{ application }}</a></p>
<p>Open the link in the browser where you started signing in. It works once, for {{ minutes }} minutes.</p>
<p>If you did not ask for it, ignore this message: nobody can use it without that browser.</p>
"""

NOTICE_TEXT = """Hello {{ username }},

Your account was just used to sign in to {{ application }}
from {{ ip }}.

If this was not you, change your password and contact your administrator.
"""

TEMPLATES = [
    {"template_id": "email-otp", "description": "The email OTP authenticator's code (needs {{ code }}).",
     "subject": "Your sign-in code for {{ application }}", "text_body": OTP_TEXT, "html_body": OTP_HTML},
    {"template_id": "magic-link", "description": "The magic link authenticator's link (needs {{ link }}).",
     "subject": "Your sign-in link for {{ application }}", "text_body": LINK_TEXT, "html_body": LINK_HTML},
    {"template_id": "new-sign-in",
     "description": "An example for scripts: sendEmail(user, 'new-sign-in', {application: ..., ip: ...}).",
     "subject": "New sign-in to {{ application }}", "text_body": NOTICE_TEXT, "html_body": ""},
]

BY_ID = {t["template_id"]: t for t in TEMPLATES}
