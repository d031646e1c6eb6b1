"""The sequence test harness: a script against a scripted world, through the real engine.

Each round trip goes through `advance` exactly as a login does, and the flow
state is serialised to JSON and read back between round trips, so what passes
here passes on a server where each step lands on another worker.
"""
from __future__ import annotations

import json
from collections import deque

from ..engine.driver import AnswerMismatch, Program, advance, check_answer, library_key
from ..engine.errors import ScriptSyntaxError
from ..engine.state import FlowState, call_answer, prompt_answer, step_answer
from ..engine.syntax import check_syntax
from ..engine.sandbox import Limits
from .scenario import Scenario, ScenarioError, parse_time

EXIT_OK, EXIT_ERROR, EXIT_BAD_INPUT = 0, 1, 2
USERNAME_CLAIM = "http://wso2.org/claims/username"


class ScenarioWorld:
    """The directory as the scenario describes it; effects change it like the real one would."""

    def __init__(self, scenario: Scenario, cookie_codec=None):
        self.users = json.loads(json.dumps(scenario.users))
        self.roles = set(scenario.roles) if scenario.roles is not None else None
        self.secrets = dict(scenario.secrets)
        self.libraries = dict(scenario.libraries)
        self.associations = dict(scenario.associations)
        self.cookie_codec = cookie_codec
        self.login_identifier_claims = server_setting("AUTHFLOW_LOGIN_IDENTIFIER_ATTRIBUTES", [USERNAME_CLAIM])
        # A store user's scenario roles and claims come from its directory: read-only, as on a server.
        # (and so are the claims the scenario's userStores say the store holds).
        self.directory = {name: {"roles": set(user["roles"]), "claims": set(user["claims"]) | set(
                              scenario.user_stores.get(user["userStoreDomain"], {}).get("claims", []))}
                          for name, user in self.users.items() if user["userStoreDomain"] != "PRIMARY"}

    def lookup(self, kind, key):
        if kind == "usersByClaims":
            wanted = key.get("claims") or {}
            return sorted(name for name, user in self.users.items()
                          if all(user["claims"].get(uri) == value for uri, value in wanted.items()))
        if kind == "loginIdentifier":  # as the server: one user whose allowed attribute is the identifier
            found = {name for name, user in self.users.items() for uri in self.login_identifier_claims
                     if (name if uri == USERNAME_CLAIM else user["claims"].get(uri)) == key}
            return found.pop() if len(found) == 1 else None
        if kind == "secret":
            return self.secrets.get(key)
        if kind == "associatedUser":
            return self.associations.get(f"{key.get('idp')}:{key.get('subject')}")
        if kind == "library":
            source = self.libraries.get(key)
            return None if source is None else {"key": library_key(source), "source": source}
        if kind == "sessions":
            user = self.users.get(key)
            return None if user is None else json.loads(json.dumps(user["sessions"]))
        if kind == "cookie":
            if self.cookie_codec is None:  # getCookieValue asks only to verify or decrypt: nothing can here
                return None
            return self.cookie_codec.decode(key["name"], key["value"], decrypt=bool(key.get("decrypt")),
                                            validate=bool(key.get("validateSignature")))
        return None

    def load_user(self, username):
        user = self.users.get(username)
        if user is None:
            return None
        return {"username": username, "uniqueId": user["uniqueId"], "tenantDomain": "carbon.super",
                "userStoreDomain": user["userStoreDomain"],
                "roles": sorted(user["roles"]), "groups": sorted(user["groups"]), "claims": dict(user["claims"])}

    def _store_user(self, username):
        """A user of a named (read-only) store: what the scenario gave it is the directory's, as on a server."""
        user = self.users.get(username)
        return user is not None and user["userStoreDomain"] != "PRIMARY"

    def apply_effect(self, name, args):
        handler = getattr(self, f"_effect_{name}", None)
        return handler(*args) if handler else False

    def _effect_assignUserRoles(self, username, roles):
        user = self.users.get(username)
        if user is None or (self.roles is not None and not set(roles) <= self.roles):
            return False
        user["roles"] = sorted(set(user["roles"]) | set(roles))
        return True

    def _effect_removeUserRoles(self, username, roles):
        user = self.users.get(username)
        if user is None or (self.roles is not None and not set(roles) <= self.roles):
            return False
        if set(roles) & self.directory.get(username, {}).get("roles", set()):
            return False
        user["roles"] = sorted(set(user["roles"]) - set(roles))
        return True

    def _effect_terminateUserSession(self, username, session_id):
        user = self.users.get(username)
        if user is None or not any(s["id"] == session_id for s in user["sessions"]):
            return False
        user["sessions"] = [s for s in user["sessions"] if s["id"] != session_id]
        return True

    def _effect_sendEmail(self, username, template_id, placeholders):
        # As on a server: sent (queued) to a user with an email address; the trace's effect event shows it.
        user = self.users.get(username)
        return user is not None and bool(user["claims"].get("http://wso2.org/claims/emailaddress"))

    def _effect_associateFederatedUser(self, idp, subject, username):
        if username not in self.users:
            return False
        self.associations[f"{idp}:{subject}"] = username
        return True

    def _effect_setCookie(self, name, value, properties):
        # As on a server: the server's own cookie names (the codec's `reserved`) are refused.
        reserved = getattr(self.cookie_codec, "reserved", None)
        return not (reserved and reserved(name))

    def _effect_publishToAnalytics(self, metadata, payload):
        return True

    def _effect_updateUserPassword(self, username, password):
        if username not in self.users or self._store_user(username):
            return False
        from django.contrib.auth.password_validation import ValidationError, validate_password

        try:
            validate_password(password)
        except ValidationError:
            return False
        return True

    def _effect_setLocalClaim(self, username, uri, value):
        user = self.users.get(username)
        if user is None:
            return False
        if self._store_user(username) and (uri in self.directory[username]["claims"]
                                           or uri == "http://wso2.org/claims/username"):
            return False
        if value is None:
            user["claims"].pop(uri, None)
        else:
            user["claims"][uri] = value
        return True


def server_setting(name: str, default=None):
    """A setting of the server the harness runs in (so that simulate decides as that server), if configured."""
    try:
        from django.conf import settings

        return getattr(settings, name, default)
    except ImportError:
        return default


def default_server_rules():
    """The server's checks (settings.SEQUENCES["SERVER_RULES"], a module), so that simulate refuses what the
    server refuses: check_steps(steps), allowed_endpoints(urls), refused_call(command, endpoints, secrets),
    shown_call(command).  None outside a project that names one: the scenario alone then decides."""
    try:
        from django.conf import settings
        from django.utils.module_loading import import_module

        path = getattr(settings, "SEQUENCES", {}).get("SERVER_RULES")
        return import_module(path) if path else None
    except ImportError:
        return None


def default_cookie_codec():
    """The server's cookie codec (settings.SEQUENCES["COOKIE_CODEC"], a module with encode/decode), if any."""
    try:
        from django.conf import settings
        from django.utils.module_loading import import_module

        path = getattr(settings, "SEQUENCES", {}).get("COOKIE_CODEC")
        return import_module(path) if path else None
    except ImportError:
        return None


def simulate(source: str, scenario: Scenario, limits: Limits | None = None, cookie_codec=None,
             rules=None) -> tuple[dict, int]:
    """Run the scenario; returns (trace, exit code). Raises ScenarioError for a scenario that does not fit."""
    events: list[dict] = []
    cookie_codec = cookie_codec or default_cookie_codec()
    rules = rules or default_server_rules()
    endpoints = _checked_world(scenario, rules)
    try:
        check_syntax(source)
    except ScriptSyntaxError as exc:
        events.append({"type": "error", **exc.as_dict()})
        return {"status": "error", "subject": None, "events": events}, EXIT_ERROR

    program = Program.from_source(source)
    world = ScenarioWorld(scenario, cookie_codec)
    request = json.loads(json.dumps(scenario.request))
    for name, cookie in scenario.protected_cookies.items():
        if cookie_codec is None:
            raise ScenarioError(f"request.cookies.{name}: signing or encrypting needs the server's cookie codec")
        request["cookies"][name] = cookie_codec.encode(name, cookie["value"], sign=cookie["sign"],
                                                       encrypt=cookie["encrypt"])
    state = FlowState.start(scenario.application_name, scenario.steps, request, seed=scenario.seed,
                            session=scenario.session, tenant_domain=server_setting("AUTHFLOW_TENANT_DOMAIN"))
    outcomes = deque(enumerate(scenario.outcomes))
    now_ms = scenario.now_ms
    answer = None

    while True:
        result = advance(program, state, world, answer=answer, now_ms=now_ms, limits=limits)
        state = FlowState.from_dict(json.loads(json.dumps(result.state.to_dict())))
        events.extend(result.events)
        command = result.command
        kind = command["type"]

        if kind == "call" and rules is not None:
            refusal = rules.refused_call(command, endpoints, scenario.secrets)
            if refusal is not None:
                # As on the server: answered fail at once, without a request; no outcome of the scenario's is used.
                events.append({**_shown(command, rules, scenario.secrets), "refused": refusal})
                answer = call_answer(command["function"], "fail", refusal)
                continue
        if kind in ("step", "prompt", "call"):
            events.append(_shown(command, rules, scenario.secrets))
            if not outcomes:
                return _trace("waiting", None, events, outcomes), EXIT_OK
            index, outcome = outcomes.popleft()
            try:
                answer = _answer_for(command, index, outcome)
            except ScenarioError as exc:
                raise ScenarioError(str(exc) + _refusal_hint(outcome, events)) from None
            _check_passable(answer, index, rules)
            if "at" in outcome:
                now_ms = parse_time(outcome["at"], f"outcomes[{index}].at")
            continue
        if kind == "complete":
            trace = _trace("success", command["subject"], events, outcomes, claims=command.get("claims"))
            if command.get("acr"):
                trace["acr"] = command["acr"]
            return trace, EXIT_OK
        if kind == "fail":
            events.append({"type": "fail", "params": command.get("params", {})})
            return _trace("failed", None, events, outcomes), EXIT_OK
        if kind == "sendError":
            events.append({"type": "sendError", "url": command.get("url"), "params": command.get("params", {})})
            return _trace("failed", None, events, outcomes), EXIT_OK
        error = {"type": "error", "message": command.get("message"), "line": command.get("line"),
                 "column": command.get("column")}
        if command.get("library"):
            error["library"] = command["library"]
        events.append(error)
        return _trace("error", None, events, outcomes), EXIT_ERROR


def _checked_world(scenario: Scenario, rules) -> list:
    """The scenario's steps and allowedEndpoints checked as the server checks them; the endpoints to match."""
    if rules is None:
        return []
    try:
        rules.check_steps(scenario.steps)
        return rules.allowed_endpoints(scenario.allowed_endpoints)
    except ValueError as exc:
        where = "application.steps: " if not str(exc).startswith("allowedEndpoints") else ""
        raise ScenarioError(f"{where}{exc}") from None


def _shown(command: dict, rules=None, secrets=None) -> dict:
    if command["type"] == "call":
        shown = {key: value for key, value in command.items() if key != "position"}
        return rules.shown_call(shown, secrets) if rules is not None else shown
    if command["type"] == "step":
        event = {"type": "step", "step": command["step"], "options": command["options"]}
        for key in ("subject", "authenticatorParams", "stepOptions", "attempt", "error", "responseHeaders"):
            if key in command:
                event[key] = command[key]
        return event
    event = {"type": "prompt", "templateId": command["templateId"], "data": command.get("data", {})}
    if "responseHeaders" in command:
        event["responseHeaders"] = command["responseHeaders"]
    return event


def _answer_for(command: dict, index: int, outcome: dict) -> dict:
    where = f"outcomes[{index}]"
    try:
        if command["type"] == "call":
            if "call" not in outcome:
                raise ScenarioError(f"{where}: the script called {command['function']}, "
                                    f"but this outcome answers {_answered(outcome)}")
            answer = call_answer(outcome["call"], outcome["result"], outcome.get("data"))
        elif command["type"] == "step":
            if "step" not in outcome:
                raise ScenarioError(f"{where}: the script asked for step {command['step']}, "
                                    f"but this outcome answers {_answered(outcome)}")
            authenticator = outcome.get("authenticator")
            if authenticator is None and outcome["result"] == "success":
                authenticator = command["options"][0]["authenticator"]
                idp = outcome.get("idp", command["options"][0]["idp"])
            else:
                idp = outcome.get("idp", "LOCAL")
            answer = step_answer(outcome["step"], outcome["result"], user=outcome.get("user"),
                                 authenticator=authenticator, idp=idp, params=_params(outcome),
                                 error=outcome.get("error"), remote_claims=outcome.get("remoteClaims"))
        else:
            if "prompt" not in outcome:
                raise ScenarioError(f"{where}: the script asked for the prompt {command['templateId']!r}, "
                                    f"but this outcome answers {_answered(outcome)}")
            answer = prompt_answer(outcome["prompt"], outcome.get("action", "success"), _params(outcome))
        check_answer(command, answer)
    except AnswerMismatch as exc:
        raise ScenarioError(f"{where}: {exc}") from None
    return answer


def _check_passable(answer: dict, index: int, rules) -> None:
    """A step passed with a local authenticator the server has no plugin for could never pass there."""
    if rules is None or answer.get("k") != "step" or answer.get("r") != "success" \
            or answer.get("idp", "LOCAL") != "LOCAL":
        return
    try:
        rules.check_passable(answer.get("authenticator") or "")
    except ValueError as exc:
        raise ScenarioError(f"outcomes[{index}]: {exc}") from None


def _refusal_hint(outcome: dict, events: list) -> str:
    """Why a call outcome finds nothing to answer: the server refused that call at once (it used no outcome)."""
    refused = [e for e in events if e.get("type") == "call" and "refused" in e and e["function"] == outcome.get("call")]
    if not refused:
        return ""
    reason = refused[-1]["refused"].get("reason") or refused[-1]["refused"].get("error")
    return (f" (the server refuses the {outcome['call']} call to {refused[-1].get('url')} at once, so it takes no "
            f"outcome: {reason}; list its endpoint in allowedEndpoints, or drop this outcome)")


def _answered(outcome: dict) -> str:
    if "step" in outcome:
        return f"step {outcome['step']}"
    if "prompt" in outcome:
        return f"the prompt {outcome['prompt']!r}"
    return f"a call to {outcome.get('call')}"


def _params(outcome: dict) -> dict:
    return {name: [str(v) for v in (values if isinstance(values, list) else [values])]
            for name, values in outcome.get("params", {}).items()}


def _trace(status: str, subject, events: list, remaining: deque, claims: dict | None = None) -> dict:
    trace = {"status": status, "subject": subject, "events": events}
    if claims:
        trace["claims"] = claims
    if remaining:
        trace["unusedOutcomes"] = len(remaining)
    return trace
