"""Running an application's callbacks at the points of a login, and keeping what they decided.

The login pages call `after_login` once a flow succeeded, before the user is
signed in: onAuthenticateSuccess may refuse the login or shape what it
grants, and onSmartLoginPreContextSelection may offer people to choose from
(authflow.callbacks.views). The token endpoint reads the result with
`grant_for_flow` (authflow.protocols.oidc.validator).
"""
from __future__ import annotations

import logging
from urllib.parse import parse_qs, urlsplit

from django.db import transaction
from django.urls import reverse

from authflow.directory import claims as directory_claims
from authflow.net import client_ip
from sequences.api import federated_claims, run_callback

from . import launches
from .models import LoginGrant

logger = logging.getLogger("authflow.callbacks")
# Launch context parameters a SMART client reads from the token response (SMART App Launch 2.0).
TOKEN_RESPONSE_LAUNCH_TYPES = ("patient", "encounter")


class Refusal(Exception):
    """The callbacks refused the login: `message` is shown to the user and logged."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def callbacks_source(application) -> str | None:
    """The text of the application's published callbacks script, or None."""
    sequence = application.callbacks_sequence
    version = sequence.published_version() if sequence is not None else None
    return version.source if version is not None else None


def _authorization_param(flow, name: str) -> str | None:
    path = flow.return_to.get("request") or flow.return_to.get("restart") or ""
    values = parse_qs(urlsplit(path).query).get(name)
    return values[0] if values else None


def requested_scopes(flow) -> list[str]:
    """The scopes the application's authorization request asked for (what the login approves)."""
    scope = _authorization_param(flow, "scope") or ""
    return [word for word in scope.split(" ") if word]


def ehr_launch(flow, scopes: list[str]) -> dict[str, str]:
    """The context of the EHR launch the authorization request names (`launch`), taken once; {} without one.

    Raises Refusal when the request names a launch without the `launch` scope, or one that is unknown,
    expired, already used or registered for another application.
    """
    launch_id = _authorization_param(flow, "launch")
    if launch_id is None:
        return {}
    if "launch" not in scopes:
        _refuse(flow, "an EHR launch without the launch scope",
                shown="The application sent an EHR launch without asking for the launch scope.")
    context = launches.take(launch_id, flow.application.name)
    if context is None:
        _refuse(flow, "an unknown, expired, used or another application's EHR launch",
                shown="This launch is unknown, expired or already used: open the application from the EHR again.")
    return context


def login_claims(flow, user) -> dict:
    """theContext's claims: a federated provider's, then the directory's and the script's (OpenID Connect names)."""
    claims = dict(federated_claims(flow.state))
    known = directory_claims.read_claims(user)
    claims.update({directory_claims.OIDC_NAMES.get(uri, uri): value for uri, value in known.items()})
    for uri, value in ((flow.result or {}).get("claims") or {}).items():
        claims[directory_claims.OIDC_NAMES.get(uri, uri)] = value
    claims["sub"] = user.username
    claims["preferred_username"] = user.username
    return claims


def _run(source, entry, args, flow, ip):
    result = run_callback(source, entry, args, application_name=flow.application.name, ip=ip)
    for line in result.logs:
        logger.log(logging.getLevelName(line["level"].upper()), "%s: %s", entry, line["message"],
                   extra={"flow_id": str(flow.id), "application": flow.application.name})
    return result


def after_login(request, flow, user) -> LoginGrant | None:
    """Run onAuthenticateSuccess and onSmartLoginPreContextSelection for a succeeded login.

    Returns the stored grant (None when the application has no callbacks
    script); raises Refusal when the script refused the login or failed.
    """
    source = callbacks_source(flow.application) if flow.return_to.get("protocol") == "oidc" else None
    if source is None:
        return None
    ip = client_ip(request)
    scopes = requested_scopes(flow)
    grant = LoginGrant(flow_id=flow.id, username=user.username, approved_scopes=list(scopes))
    grant.ehr_launch = ehr_launch(flow, scopes)
    # The EHR's context comes first: a patient or encounter the EHR launched with is the token's.
    add_launch(grant, [{"type": kind, "id": value} for kind, value in grant.ehr_launch.items()])
    outcome = _run(source, "onAuthenticateSuccess", {
        "username": user.username, "remoteAddress": ip, "claims": login_claims(flow, user), "approvedScopes": scopes,
    }, flow, ip)
    if outcome.ok:
        _apply_outcome(grant, outcome.value, flow)
    elif not outcome.absent:
        _refuse(flow, f"onAuthenticateSuccess failed: {outcome.error}", shown="The application's sign-in rules "
                "could not be applied.")
    selection = _run(source, "onSmartLoginPreContextSelection", {
        "username": grant.username, "authorities": grant.authorities, "approvedScopes": grant.approved_scopes,
        "userData": grant.user_data,
    }, flow, ip)
    if selection.ok:
        grant.people = selection.value["people"]
        grant.translations = selection.value["translations"]
    elif not selection.absent:
        _refuse(flow, f"onSmartLoginPreContextSelection failed: {selection.error}",
                shown="The application's sign-in rules could not be applied.")
    with transaction.atomic():
        LoginGrant.objects.filter(flow_id=flow.id).delete()
        grant.save()
    return grant


def username_namer(flow):
    """getUserName of the callbacks script of the application `flow` signs in to, or None without one.

    The returned callable names a user a federated provider vouched for and who is about to be
    provisioned; it raises Refusal when the script fails or answers anything but a string.
    """
    source = callbacks_source(flow.application)
    if source is None:
        return None

    def name(provider, claims: dict) -> str:
        server = {"name": provider.name, "issuer": provider.issuer, "label": provider.label,
                  "clientId": provider.client_id, "scopes": provider.scopes}
        result = _run(source, "getUserName", {"claims": claims, "server": server}, flow, None)
        if result.absent:
            return None
        if not result.ok:
            _refuse(flow, f"getUserName failed: {result.error}",
                    shown="The application's sign-in rules could not name your account.")
        if result.value["username"] is None:
            _refuse(flow, f"getUserName returned {result.value['returned']}, not a string",
                    shown="The application's sign-in rules could not name your account.")
        return result.value["username"]
    return name


def _refuse(flow, logged: str, *, shown: str):
    logger.warning("login refused by the application's callbacks: %s", logged,
                   extra={"flow_id": str(flow.id), "application": flow.application.name})
    raise Refusal(shown)


def _apply_outcome(grant: LoginGrant, value: dict, flow) -> None:
    if value["outcome"] == "failure":
        reasons = [r for r, on in (("unknown username", value.get("unknownUsername")),
                                   ("incorrect password", value.get("incorrectPassword"))) if on]
        message = value.get("message") or "The sign-in was refused."
        _refuse(flow, message + (f" ({', '.join(reasons)})" if reasons else ""), shown=message)
    if value["username"] != grant.username:
        # The login proved who this user is; a callback cannot make it someone else.
        _refuse(flow, f"onAuthenticateSuccess changed the username to {value['username']!r}",
                shown="The application's sign-in rules could not be applied.")
    grant.authorities = value["authorities"]
    grant.user_data = value["userData"]
    for scope in value["approvedScopes"]:
        if scope not in grant.approved_scopes:
            grant.approved_scopes.append(scope)
    add_launch(grant, value["launch"])
    grant.fhir_context.extend(value["fhirContext"])


def add_launch(grant: LoginGrant, resources: list[dict]) -> None:
    """Launch resources: each a fhirContext reference; a patient and an encounter also in the token response."""
    for item in resources:
        kind = item["type"].strip()
        if not kind:
            continue
        if kind.lower() in TOKEN_RESPONSE_LAUNCH_TYPES:
            grant.launch.setdefault(kind.lower(), item["id"])
        grant.fhir_context.append({"reference": f"{kind[0].upper()}{kind[1:]}/{item['id']}"})


def choose(grant: LoginGrant, index: int) -> None:
    """The person chosen on the selection page: their patient, authorities and scopes join the grant."""
    person = grant.people[index]
    grant.launch["patient"] = person["patient"]
    reference = f"Patient/{person['patient']}"
    if {"reference": reference} not in grant.fhir_context:
        grant.fhir_context.append({"reference": reference})
    grant.authorities = grant.authorities + person["authorities"]
    grant.approved_scopes = chosen_scopes(grant.approved_scopes, person)
    grant.chosen = index
    grant.save(update_fields=["launch", "fhir_context", "authorities", "approved_scopes", "chosen"])


def chosen_scopes(approved: list[str], person: dict) -> list[str]:
    """The scopes after a choice: requested ones added then removed, and auto-granted ones (less those removed)."""
    scopes = [s for s in approved]
    for scope in person["requestedScopes"]:
        if scope not in scopes:
            scopes.append(scope)
    scopes = [s for s in scopes if s not in person["removedRequestedScopes"]]
    for scope in person["autoGrantScopes"]:
        if scope not in person["removedAutoGrantScopes"] and scope not in scopes:
            scopes.append(scope)
    return scopes


def grant_for_flow(flow_id) -> LoginGrant | None:
    return LoginGrant.objects.filter(flow_id=flow_id).first()


def purge_grants(cutoff) -> dict[str, int]:
    """Grants of logins older than `cutoff` (housekeeping): their codes are long spent."""
    count, _ = LoginGrant.objects.filter(created_at__lt=cutoff).delete()
    return {"callbacks.LoginGrant": count}


def selection_url(flow) -> str | None:
    """Where the browser goes before the code is issued: the selection page, when a choice is pending."""
    if flow.application.callbacks_sequence_id is None:
        return None  # no callbacks script, no choice to make (and no query on every login)
    grant = grant_for_flow(flow.id)
    if grant is None or not grant.awaits_choice:
        return None
    return reverse("login-context-selection", args=[flow.id])
