"""Who delivers a text message: chosen by settings.AUTHFLOW_SMS_SENDER.

- "console" (development): printed on the server's standard output, as
  Django's console email backend prints emails; never through the logs.
- "http" (production): a JSON POST {"to", "from", "text"} to
  AUTHFLOW_SMS_GATEWAY_URL with the bearer token AUTHFLOW_SMS_GATEWAY_TOKEN.
  The URL must be covered by an enabled allowed endpoint (the allow-list of
  scripts' calls, authflow.outbound): the operator names the gateway once,
  and the request goes through the same guarded client (internal addresses,
  redirects, timeouts, response size).
- or the dotted path of a class with a `send(to, text)` method.

A sender raises SendFailed when the message was not accepted; `retry` says
whether trying again later may help.
"""
from __future__ import annotations

import sys

from django.conf import settings
from django.utils.module_loading import import_string

from authflow.outbound import allowlist, http
from authflow.outbound.models import allowed


class SendFailed(Exception):
    def __init__(self, reason: str, *, retry: bool):
        super().__init__(reason)
        self.reason = reason
        self.retry = retry


class ConsoleSender:
    def send(self, to: str, text: str) -> None:
        sys.stdout.write(f"SMS to {to} from {settings.AUTHFLOW_SMS_FROM}: {text}\n")
        sys.stdout.flush()


class HttpGatewaySender:
    def send(self, to: str, text: str) -> None:
        try:
            address = allowlist.normalise(settings.AUTHFLOW_SMS_GATEWAY_URL or "")
        except allowlist.NotAllowed as exc:
            raise SendFailed(f"AUTHFLOW_SMS_GATEWAY_URL is not a usable URL: {exc}", retry=False) from None
        if not allowed(address):
            raise SendFailed("AUTHFLOW_SMS_GATEWAY_URL is not on the allow-list of allowed endpoints", retry=False)
        headers = {"Content-Type": "application/json"}
        if settings.AUTHFLOW_SMS_GATEWAY_TOKEN:
            headers["Authorization"] = f"Bearer {settings.AUTHFLOW_SMS_GATEWAY_TOKEN}"
        request = {"method": "POST", "url": address.url, "headers": headers,
                   "body": {"to": to, "from": settings.AUTHFLOW_SMS_FROM, "text": text}}
        outcome = http.perform(request, timeout=float(settings.AUTHFLOW_CALL_TIMEOUT_SECONDS),
                               max_bytes=int(settings.AUTHFLOW_CALL_MAX_RESPONSE_BYTES))
        status = outcome.http_status
        if outcome.result != "success" and not (status and 200 <= status < 300):  # any 2xx: accepted
            raise SendFailed(f"the SMS gateway did not accept the message ({outcome.detail or status})",
                             retry=status is None or status >= 500 or status == 429)


SENDERS = {"console": ConsoleSender, "http": HttpGatewaySender}


def sender():
    name = settings.AUTHFLOW_SMS_SENDER or "console"
    return (SENDERS.get(name) or import_string(name))()
