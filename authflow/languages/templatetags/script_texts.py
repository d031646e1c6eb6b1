"""{% passkey_texts %}: what static/js/passkey.js says, in the page's language, as a JSON block (not a script:
the CSP allows no inline script)."""
from django import template
from django.utils.html import json_script
from django.utils.translation import gettext

register = template.Library()


@register.simple_tag
def passkey_texts():
    return json_script({
        "notUsed": gettext("No passkey was used: the request was cancelled or timed out, or this device has no "
                           "passkey for this site."),
        "notCreated": gettext("No passkey was created: the request was cancelled or timed out."),
        "alreadyHeld": gettext("This device or security key already holds a passkey for your account here."),
        "badAddress": gettext("Passkeys cannot be used at this address. Open the site by its domain name "
                              "(over HTTPS)."),
        "unsupportedKind": gettext("This device does not support the kinds of passkey this site accepts."),
        "interrupted": gettext("The passkey request was interrupted."),
        "failed": gettext("The passkey request failed."),
        "failedBecause": gettext("The passkey request failed: %(reason)s"),
        "unsupportedBrowser": gettext("This browser cannot use passkeys or security keys. Sign in another way, "
                                      "or use another browser."),
        "followCreate": gettext("Follow your browser's steps to create the passkey…"),
        "waiting": gettext("Waiting for your passkey…"),
        "checking": gettext("Checking…"),
        "tryAgain": gettext("Try again"),
        "unreadable": gettext("The server's answer could not be read (HTTP %(status)s). Reload the page and try "
                              "again."),
    }, "passkey-texts")
