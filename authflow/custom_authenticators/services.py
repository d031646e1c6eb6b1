"""The custom authenticators' API for the rest of the project (the REST API, the token grant, configuration).

Every operation returns an `Outcome`: the status code, the HTTP status a
client gets for it, and the script's responsePayload (only for statuses a
script produced). Registration data is stored encrypted, bound to its user
and authenticator, and only ever handed to that authenticator's scripts.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from authflow import keys, ratelimit
from sequences.api import save_version
from sequences.models import Sequence

from . import status as codes
from .engine import run_script
from .models import CustomAuthenticator, Registration

RATE_LIMITED = "rate_limited"
# The largest requestPayload a client may send, and registrationData a script may store (characters).
MAX_PAYLOAD_CHARS = 64 * 1024
_NAME = re.compile(r"[-a-zA-Z0-9_]{1,100}")


@dataclass(frozen=True)
class Outcome:
    status: int
    response_payload: str = ""
    remaining_attempts: int | None = None
    registration_removed: bool = False
    error: str | None = None  # "rate_limited"

    @property
    def http_status(self) -> int:
        return 429 if self.error == RATE_LIMITED else codes.http_status(self.status)

    @property
    def succeeded(self) -> bool:
        return self.status == codes.SUCCESS and self.error is None

    def body(self) -> dict:
        """What a client gets: the status, and for script statuses the responsePayload; never an engine error."""
        if self.error == RATE_LIMITED:
            return {"status": self.status, "error": "too_many_attempts",
                    "message": "Too many attempts; try again later."}
        if codes.is_engine_error(self.status):
            return {"status": self.status, "error": "server_error",
                    "message": "The authenticator could not process the request."}
        body = {"status": self.status, "responsePayload": self.response_payload}
        if self.remaining_attempts is not None:
            body["remainingAttempts"] = self.remaining_attempts
        if self.registration_removed:
            body["registrationRemoved"] = True
        return body


def payload_problem(request_payload) -> str | None:
    """Why a client's requestPayload cannot be used (not text, too large), or None."""
    if not isinstance(request_payload, str):
        return "requestPayload must be a string."
    if len(request_payload) > MAX_PAYLOAD_CHARS:
        return f"requestPayload is longer than {MAX_PAYLOAD_CHARS} characters."
    return None


def enabled_authenticator(name: str) -> CustomAuthenticator | None:
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        return None
    return CustomAuthenticator.objects.filter(name=name, enabled=True).first()


def registrations_for(user) -> list[dict]:
    return [{"authenticator": r.authenticator.name, "displayName": r.authenticator.display_name,
             "createdAt": r.created_at.isoformat(),
             "lastUsedAt": r.last_used_at.isoformat() if r.last_used_at else None}
            for r in Registration.objects.filter(user=user, authenticator__enabled=True).select_related("authenticator")]


def _purpose(authenticator: CustomAuthenticator, user) -> str:
    return f"custom-authenticator:{authenticator.pk}:{user.pk}"


def _seal(authenticator, user, data: str) -> str:
    return keys.encrypt(data.encode("utf-8"), purpose=_purpose(authenticator, user))


def _open(registration: Registration) -> str:
    return keys.decrypt(registration.sealed_data,
                        purpose=_purpose(registration.authenticator, registration.user)).decode("utf-8")


def _limited(operation: str, authenticator, user) -> bool:
    conf = settings.AUTHFLOW_CUSTOM_AUTHENTICATOR_RATE_LIMIT
    key = f"ratelimit:custom-authenticator-{operation}:{authenticator.pk}:{user.pk}"
    return ratelimit.hit(key, conf["window_seconds"]) > conf["attempts"]


def _payload(request_payload) -> str:
    return request_payload if isinstance(request_payload, str) else ""


def register(authenticator: CustomAuthenticator, user, request_payload: str) -> Outcome:
    if _limited("register", authenticator, user):
        return Outcome(codes.FAILURE, error=RATE_LIMITED)
    if Registration.objects.filter(user=user, authenticator=authenticator).exists():
        return Outcome(codes.ALREADY_REGISTERED)
    answer = run_script(authenticator.registration_script, [_payload(request_payload), user.username],
                        authenticator=authenticator.name, purpose="registration", needs_registration_data=True)
    if answer.status != codes.SUCCESS:
        return Outcome(answer.status, "" if codes.is_engine_error(answer.status) else answer.response_payload)
    with transaction.atomic():
        _, created = Registration.objects.get_or_create(
            user=user, authenticator=authenticator,
            defaults={"sealed_data": _seal(authenticator, user, answer.registration_data)})
    if not created:  # a concurrent registration won
        return Outcome(codes.ALREADY_REGISTERED)
    return Outcome(codes.SUCCESS, answer.response_payload)


def authenticate(authenticator: CustomAuthenticator, user, request_payload: str) -> Outcome:
    """Run the authentication script against the user's registration; counts failures toward the limit."""
    if _limited("authenticate", authenticator, user):
        return Outcome(codes.FAILURE, error=RATE_LIMITED)
    with transaction.atomic():
        # Locked while the script runs: parallel attempts cannot slip past the failure count.
        registration = (Registration.objects.select_for_update().select_related("authenticator", "user")
                        .filter(user=user, authenticator=authenticator).first())
        if registration is None:
            return Outcome(codes.NOT_REGISTERED)
        try:
            data = _open(registration)
        except keys.InvalidValue:
            # Made with a key that is gone, or moved between rows: unusable, as if never registered.
            registration.delete()
            return Outcome(codes.NOT_REGISTERED)
        answer = run_script(authenticator.authentication_script, [_payload(request_payload), user.username, data],
                            authenticator=authenticator.name, purpose="authentication")
        payload = "" if codes.is_engine_error(answer.status) else answer.response_payload
        if answer.status == codes.SUCCESS:
            registration.failed_attempts = 0
            registration.last_used_at = timezone.now()
            if answer.registration_data is not None and answer.registration_data != data:
                registration.sealed_data = _seal(authenticator, user, answer.registration_data)  # the script rotated it
            registration.save(update_fields=["failed_attempts", "last_used_at", "sealed_data"])
            return Outcome(codes.SUCCESS, payload)
        if answer.status == codes.NON_RECOVERABLE:
            registration.delete()
            return Outcome(codes.NON_RECOVERABLE, payload, registration_removed=True)
        if answer.status == codes.FAILURE:
            registration.failed_attempts += 1
            remaining = max(authenticator.max_failed_attempts - registration.failed_attempts, 0)
            if remaining == 0:
                registration.delete()  # too many failures: the user registers again
                return Outcome(codes.FAILURE, payload, remaining_attempts=0, registration_removed=True)
            registration.save(update_fields=["failed_attempts"])
            return Outcome(codes.FAILURE, payload, remaining_attempts=remaining)
        return Outcome(answer.status, payload)


def deregister(authenticator: CustomAuthenticator, user, request_payload: str = "") -> Outcome:
    """Remove the user's registration; the deregistration script, when there is one, runs first and may refuse."""
    with transaction.atomic():
        registration = (Registration.objects.select_for_update().select_related("authenticator", "user")
                        .filter(user=user, authenticator=authenticator).first())
        if registration is None:
            return Outcome(codes.NOT_REGISTERED)
        payload = ""
        if authenticator.deregistration_script_id is not None:
            try:
                data = _open(registration)
            except keys.InvalidValue:
                data = ""
            answer = run_script(authenticator.deregistration_script, [_payload(request_payload), user.username, data],
                                authenticator=authenticator.name, purpose="deregistration")
            if answer.status not in (codes.SUCCESS, codes.NON_RECOVERABLE):
                return Outcome(answer.status, "" if codes.is_engine_error(answer.status) else answer.response_payload)
            payload = answer.response_payload
        registration.delete()
    return Outcome(codes.SUCCESS, payload)


_SCRIPT_KINDS = {
    "registration": Sequence.Kind.CUSTOM_REGISTRATION,
    "authentication": Sequence.Kind.CUSTOM_AUTHENTICATION,
    "deregistration": Sequence.Kind.CUSTOM_DEREGISTRATION,
}


def script_name(authenticator_name: str, role: str) -> str:
    """The sequence holding one of an authenticator's scripts."""
    return f"{authenticator_name}-{role}"


def scripts_named_elsewhere(name: str) -> str | None:
    """Why the authenticator `name` cannot have its scripts' names (another kind of script has one), or None."""
    for role, kind in _SCRIPT_KINDS.items():
        clash = Sequence.objects.filter(name=script_name(name, role)).exclude(kind=kind).first()
        if clash is not None:
            return f"{clash.name!r} is already the name of a {clash.kind}; choose another authenticator name"
    return None


@transaction.atomic
def put_authenticator(name: str, display_name: str, *, registration: str, authentication: str,
                      deregistration: str | None = None, max_failed_attempts: int = 5,
                      enabled: bool = True) -> str:
    """Create or update an authenticator from its scripts' text; "created", "updated" or "unchanged".

    Raises sequences' ScriptSyntaxError (nothing written) when a script does not define execute or does not parse.
    """
    sequences = {}
    new_versions = False
    for role, source in (("registration", registration), ("authentication", authentication),
                         ("deregistration", deregistration)):
        if source is None:
            sequences[role] = None
            continue
        version, created = save_version(script_name(name, role), source, kind=_SCRIPT_KINDS[role])
        sequences[role] = version.sequence
        new_versions = new_versions or created
    authenticator = CustomAuthenticator.objects.filter(name=name).first()
    created = authenticator is None
    if created:
        authenticator = CustomAuthenticator(name=name)
    wanted = {"display_name": display_name, "registration_script": sequences["registration"],
              "authentication_script": sequences["authentication"],
              "deregistration_script": sequences["deregistration"],
              "max_failed_attempts": max_failed_attempts, "enabled": enabled}
    changed = created or any(getattr(authenticator, k) != v for k, v in wanted.items())
    for attribute, value in wanted.items():
        setattr(authenticator, attribute, value)
    if changed:
        authenticator.full_clean()
        authenticator.save()
    if created:
        return "created"
    return "updated" if changed or new_versions else "unchanged"

