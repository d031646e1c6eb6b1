"""The context selection page: the people onSmartLoginPreContextSelection offered; the choice sets the launch patient."""
from __future__ import annotations

import logging

from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from authflow.flows import service as flows
from authflow.languages import choice as languages
from authflow.login import targets  # the login pages deliver the result, as for any finished login
from sequences.api import request_param

from . import service
from .models import LoginGrant

logger = logging.getLogger("authflow.callbacks")


def _problem(request, title, message, status):
    return render(request, "login/problem.html", {"title": title, "message": message}, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
def context_selection(request, flow_id):
    flow = flows.get_flow(flow_id)
    if flow is not None:
        languages.use_for_flow(request, request_param(flow.state, "ui_locales"))
    grant = LoginGrant.objects.filter(flow_id=flow_id).first()
    # Only the user this login signed in, in this browser, chooses.
    if (flow is None or grant is None or not flows.succeeded(flow) or not request.user.is_authenticated
            or request.user.get_username() != grant.username or flow.subject != grant.username):
        return _problem(request, _("This choice is not available"),
                        _("The sign-in it belongs to is not yours, has ended, or does not exist. Start again from the "
                          "application."), 404)
    if not grant.awaits_choice:
        return _problem(request, _("This sign-in is already finished"),
                        _("A choice was already made for this sign-in."), 409)
    error = None
    if request.method == "POST":
        raw = request.POST.get("person", "")
        if raw.isdigit() and int(raw) < len(grant.people):
            service.choose(grant, int(raw))
            logger.info("context selected", extra={"flow_id": str(flow.id), "patient": grant.launch.get("patient")})
            return targets.deliver_success(request, flow)
        error = _("Choose one of the people listed.")
    people = []
    for index, person in enumerate(grant.people):
        name = " ".join(p for p in (person.get("givenName"), person.get("familyName")) if p) or person["patient"]
        scopes = service.chosen_scopes(grant.approved_scopes, person)
        people.append({"index": index, "name": name, "birth_date": person.get("birthDate"),
                       "scopes": [grant.translations.get(s, s) for s in scopes]})
    return render(request, "login/context_selection.html",
                  {"people": people, "error": error, "application": flow.application},
                  status=400 if error else 200)


@require_http_methods(["GET"])
def smart_configuration(request):
    """SMART App Launch discovery (/.well-known/smart-configuration): where a SMART client finds the endpoints."""
    from django.http import JsonResponse

    from oauth2_provider.settings import oauth2_settings

    def url(name):
        return request.build_absolute_uri(reverse(f"oauth2_provider:{name}"))

    return JsonResponse({
        "issuer": oauth2_settings.oidc_issuer(request),
        "authorization_endpoint": url("authorize"),
        "token_endpoint": url("token"),
        "jwks_uri": url("jwks-info"),
        "introspection_endpoint": url("introspect"),
        "revocation_endpoint": url("revoke-token"),
        "userinfo_endpoint": url("user-info"),
        "grant_types_supported": ["authorization_code"],
        "response_types_supported": ["code"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "scopes_supported": ["openid", "profile", "email", "fhirUser", "launch/patient", "offline_access",
                             "patient/*.rs", "user/*.rs"],
        "capabilities": ["launch-standalone", "client-public", "client-confidential-symmetric",
                         "context-standalone-patient", "permission-v2", "permission-patient", "permission-user",
                         "sso-openid-connect"],
    })
