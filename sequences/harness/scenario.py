"""Reading a simulation scenario, with an error naming exactly what is wrong in it."""
from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone

from ..engine.sso import session_input
from ..engine.state import CALL_RESULTS, STEP_RESULTS, request_inputs
from ..engine.steps import StepConfigError, normalize_steps
from ..engine.useragent import user_agent_object

_TOP_KEYS = {"application", "request", "now", "seed", "users", "roles", "outcomes", "session", "secrets", "libraries",
             "associations", "allowedEndpoints", "userStores"}
_APP_KEYS = {"name", "steps"}
_REQUEST_KEYS = {"ip", "headers", "params", "cookies"}
_USER_KEYS = {"roles", "groups", "claims", "sessions", "uniqueId", "userStoreDomain"}
PRIMARY = "PRIMARY"
_STORE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
_SESSION_KEYS = {"id", "user", "authenticated", "applications"}
_USER_SESSION_KEYS = {"id", "ip", "loginTime", "lastAccessTime", "userAgent", "applications"}
_STEP_OUTCOME_KEYS = {"step", "result", "user", "authenticator", "idp", "params", "error", "remoteClaims", "at"}
_PROMPT_OUTCOME_KEYS = {"prompt", "action", "params", "at"}
_CALL_OUTCOME_KEYS = {"call", "result", "data", "at"}
_COOKIE_KEYS = {"value", "sign", "encrypt"}
DEFAULT_NOW = "2026-01-01T00:00:00Z"
CALL_FUNCTIONS = ("httpGet", "httpPost", "callChoreo", "callAnalytics")


class ScenarioError(ValueError):
    pass


def simulated_unique_id(username: str) -> str:
    """A scenario user's uniqueId when the scenario gives none: a UUID, the same on every run for that username."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "authflow:simulate:user:" + username))


@dataclass
class Scenario:
    application_name: str
    steps: dict
    request: dict
    now_ms: int
    seed: int
    users: dict
    roles: list | None
    outcomes: list = field(default_factory=list)
    session: dict | None = None  # the browser's sign-on session when the flow starts
    secrets: dict = field(default_factory=dict)  # getSecretByName
    libraries: dict = field(default_factory=dict)  # loadLocalLibrary: name -> source
    associations: dict = field(default_factory=dict)  # "<idp>:<federated subject>" -> local username
    # named user stores: STORE -> {"claims": [claim URIs the store holds, read-only for its users]}
    user_stores: dict = field(default_factory=dict)
    # request cookies the harness signs or encrypts: name -> {"value", "sign", "encrypt"}
    protected_cookies: dict = field(default_factory=dict)
    # URL prefixes the script's calls may reach, as the server's allow-list (none: every call is refused)
    allowed_endpoints: list = field(default_factory=list)


def parse_scenario(data) -> Scenario:
    if not isinstance(data, dict):
        raise ScenarioError("scenario: expected a JSON object")
    _no_unknown_keys(data, _TOP_KEYS, "scenario")

    app = data.get("application")
    if not isinstance(app, dict):
        raise ScenarioError("application: expected an object with name and steps")
    _no_unknown_keys(app, _APP_KEYS, "application")
    name = app.get("name", "application")
    if not isinstance(name, str) or not name:
        raise ScenarioError("application.name: expected a non-empty string")
    try:
        steps = normalize_steps(app.get("steps"))
    except StepConfigError as exc:
        raise ScenarioError(f"application.steps: {exc}") from None

    request = data.get("request", {})
    if not isinstance(request, dict):
        raise ScenarioError("request: expected an object")
    _no_unknown_keys(request, _REQUEST_KEYS, "request")
    for key in ("headers", "params", "cookies"):
        if not isinstance(request.get(key, {}), dict):
            raise ScenarioError(f"request.{key}: expected an object")
    plain_cookies, protected_cookies = {}, {}
    for cookie, value in request.get("cookies", {}).items():
        if isinstance(value, dict):
            _no_unknown_keys(value, _COOKIE_KEYS, f"request.cookies.{cookie}")
            if not isinstance(value.get("value"), str):
                raise ScenarioError(f"request.cookies.{cookie}.value: expected a string")
            protected_cookies[cookie] = {"value": value["value"], "sign": bool(value.get("sign")),
                                         "encrypt": bool(value.get("encrypt"))}
        elif isinstance(value, str):
            plain_cookies[cookie] = value
        else:
            raise ScenarioError(f"request.cookies.{cookie}: expected a string or {{\"value\": ..., \"sign\": true}}")
    if request.get("ip") is not None and not isinstance(request["ip"], str):
        raise ScenarioError("request.ip: expected a string")

    seed = data.get("seed", 0)
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise ScenarioError("seed: expected a whole number")

    users = data.get("users", {})
    if not isinstance(users, dict):
        raise ScenarioError("users: expected an object of usernames")
    for username, user in users.items():
        where = f"users.{username}"
        if not isinstance(user, dict):
            raise ScenarioError(f"{where}: expected an object")
        _no_unknown_keys(user, _USER_KEYS, where)
        for key in ("roles", "groups"):
            if not _is_string_list(user.get(key, [])):
                raise ScenarioError(f"{where}.{key}: expected a list of names")
        claims = user.get("claims", {})
        if not isinstance(claims, dict) or not all(isinstance(v, str) for v in claims.values()):
            raise ScenarioError(f"{where}.claims: expected an object of claim URIs to strings")
        if not isinstance(user.get("sessions", []), list):
            raise ScenarioError(f"{where}.sessions: expected a list of sessions")
        if "uniqueId" in user:
            try:
                uuid.UUID(str(user["uniqueId"]))
            except ValueError:
                raise ScenarioError(f"{where}.uniqueId: expected a UUID such as {simulated_unique_id(username)}") from None
    names = _store_names(users)
    users = {names[u]: v for u, v in users.items()}

    roles = data.get("roles")
    if roles is not None and not _is_string_list(roles):
        raise ScenarioError("roles: expected a list of role names")

    outcomes = data.get("outcomes", [])
    if not isinstance(outcomes, list):
        raise ScenarioError("outcomes: expected a list")
    outcomes = [_local_user_named(outcome, names) for outcome in outcomes]
    for index, outcome in enumerate(outcomes):
        _check_outcome(index, outcome, users)

    parsed_users = {u: {"roles": list(v.get("roles", [])), "groups": list(v.get("groups", [])),
                        "claims": dict(v.get("claims", {})), "userStoreDomain": _domain_of(u),
                        "uniqueId": str(uuid.UUID(str(v["uniqueId"]))) if "uniqueId" in v else simulated_unique_id(u),
                        "sessions": [_user_session(f"users.{u}.sessions[{i}]", u, s)
                                     for i, s in enumerate(v.get("sessions", []))]}
                    for u, v in users.items()}
    session = None
    if data.get("session") is not None:
        session = data["session"]
        if isinstance(session, dict) and isinstance(session.get("user"), str):
            session = dict(session, user=names.get(session["user"], session["user"]))
        session = _browser_session(session, users)
    secrets = data.get("secrets", {})
    if not isinstance(secrets, dict) or not all(isinstance(v, str) for v in secrets.values()):
        raise ScenarioError("secrets: expected an object of names to strings")
    libraries = data.get("libraries", {})
    if not isinstance(libraries, dict) or not all(isinstance(v, str) for v in libraries.values()):
        raise ScenarioError("libraries: expected an object of library names to their source")
    allowed_endpoints = data.get("allowedEndpoints", [])
    if not _is_string_list(allowed_endpoints):
        raise ScenarioError('allowedEndpoints: expected a list of URL prefixes such as ["https://risk.example.com/api"]')
    associations = data.get("associations", {})
    if not isinstance(associations, dict):
        raise ScenarioError('associations: expected an object such as {"google:1234": "alice"}')
    associations = {federated: names.get(local, local) if isinstance(local, str) else local
                    for federated, local in associations.items()}
    for federated, local in associations.items():
        if ":" not in federated or local not in users:
            raise ScenarioError(f"associations.{federated}: expected \"<idp>:<subject>\": a scenario user")

    user_stores = _user_stores(data.get("userStores", {}))
    return Scenario(
        user_stores=user_stores,
        application_name=name,
        steps=steps,
        request=request_inputs(request.get("ip"), request.get("headers"), request.get("params"), plain_cookies),
        now_ms=parse_time(data.get("now", DEFAULT_NOW), "now"),
        seed=seed,
        users=parsed_users,
        roles=list(roles) if roles is not None else None,
        outcomes=outcomes,
        session=session,
        secrets=dict(secrets),
        libraries=dict(libraries),
        associations=dict(associations),
        protected_cookies=protected_cookies,
        allowed_endpoints=list(allowed_endpoints),
    )


def _store_names(users: dict) -> dict:
    """Every name a scenario user goes by -> its key: "CORP/alice" for alice with userStoreDomain CORP.

    As on a server, the user of a named store is "<STORE>/<name>" (its local
    name); outcomes, sessions and associations may name it either way.  A bare
    name several stores share is PRIMARY's, else the first such user's.
    """
    names, short = {}, {}
    for username, user in users.items():
        where = f"users.{username}"
        domain = user.get("userStoreDomain")
        if domain is not None and (not isinstance(domain, str) or not _STORE_NAME.match(domain)):
            raise ScenarioError(f"{where}.userStoreDomain: expected a user store name such as PRIMARY or CORP")
        given, separator, name = username.partition("/")
        if separator:
            if not name or not _STORE_NAME.match(given):
                raise ScenarioError(f"{where}: expected a name, or \"<STORE>/<name>\" for a user of a user store")
            if domain is not None and domain.upper() != given.upper():
                raise ScenarioError(f"{where}.userStoreDomain: {domain!r} is not the store its name gives")
            domain = given
        else:
            name = username
        domain = (domain or PRIMARY).upper()
        key = name if domain == PRIMARY else f"{domain}/{name}"
        if key in names.values():
            raise ScenarioError(f"{where}: another scenario user is {key!r} too")
        names[username] = names[key] = key
        if name not in short or domain == PRIMARY:
            short[name] = key
    for name, key in short.items():
        names.setdefault(name, key)
    return names


def _user_stores(value) -> dict:
    """`userStores`: what each named store holds, as the server's user_stores configuration maps it."""
    if not isinstance(value, dict):
        raise ScenarioError('userStores: expected an object such as {"CORP": {"claims": ["http://..."]}}')
    stores = {}
    for name, store in value.items():
        where = f"userStores.{name}"
        if not _STORE_NAME.match(name) or name.upper() == PRIMARY:
            raise ScenarioError(f"{where}: expected a user store name other than PRIMARY")
        if not isinstance(store, dict):
            raise ScenarioError(f"{where}: expected an object with claims")
        _no_unknown_keys(store, {"claims"}, where)
        if not _is_string_list(store.get("claims", [])):
            raise ScenarioError(f"{where}.claims: expected a list of claim URIs")
        stores[name.upper()] = {"claims": list(store.get("claims", []))}
    return stores


def _domain_of(key: str) -> str:
    domain, separator, _ = key.partition("/")
    return domain if separator else PRIMARY


def _local_user_named(outcome, names: dict):
    """A step outcome's local user by its scenario key."""
    if (isinstance(outcome, dict) and "step" in outcome and isinstance(outcome.get("user"), str)
            and outcome.get("idp", "LOCAL") == "LOCAL"):
        return dict(outcome, user=names.get(outcome["user"], outcome["user"]))
    return outcome


def _browser_session(value, users: dict) -> dict:
    """`session`: the sign-on session of the browser the flow starts in."""
    if not isinstance(value, dict):
        raise ScenarioError("session: expected an object with user, authenticated and applications")
    _no_unknown_keys(value, _SESSION_KEYS, "session")
    user = value.get("user")
    if user not in users:
        raise ScenarioError(f"session.user: {user!r} is not one of the scenario's users")
    authenticated = []
    for index, option in enumerate(_list(value.get("authenticated", []), "session.authenticated")):
        if isinstance(option, str) and option:
            option = {"authenticator": option, "idp": "LOCAL"}
        if not isinstance(option, dict) or not isinstance(option.get("authenticator"), str):
            raise ScenarioError(f"session.authenticated[{index}]: expected an authenticator name "
                                f"or {{\"authenticator\": ..., \"idp\": ...}}")
        authenticated.append(option)
    applications = [_application(f"session.applications[{i}]", a, user)
                    for i, a in enumerate(_list(value.get("applications", []), "session.applications"))]
    session_id = value.get("id", "browser-session")
    if not isinstance(session_id, str) or not session_id:
        raise ScenarioError("session.id: expected a string")
    return session_input(session_id=session_id, user=user, authenticated=authenticated, applications=applications)


def _user_session(where: str, username: str, value) -> dict:
    """One of a user's sessions, as getUserSessions returns it."""
    if not isinstance(value, dict):
        raise ScenarioError(f"{where}: expected an object")
    _no_unknown_keys(value, _USER_SESSION_KEYS, where)
    if not isinstance(value.get("id"), str) or not value["id"]:
        raise ScenarioError(f"{where}.id: expected a string")
    login = parse_time(value.get("loginTime", DEFAULT_NOW), f"{where}.loginTime")
    last = parse_time(value.get("lastAccessTime", value.get("loginTime", DEFAULT_NOW)), f"{where}.lastAccessTime")
    agent = value.get("userAgent", "")
    if not isinstance(agent, str):
        raise ScenarioError(f"{where}.userAgent: expected the raw User-Agent string")
    ip = value.get("ip")
    if ip is not None and not isinstance(ip, str):
        raise ScenarioError(f"{where}.ip: expected a string")
    return {"id": value["id"], "ip": ip, "loginTime": login, "lastAccessTime": last,
            "userAgent": user_agent_object(agent),
            "applications": [_application(f"{where}.applications[{i}]", a, username)
                             for i, a in enumerate(_list(value.get("applications", []), f"{where}.applications"))]}


def _application(where: str, value, subject: str) -> dict:
    if isinstance(value, str) and value:
        return {"subject": subject, "appName": value, "appId": value}
    if isinstance(value, dict) and isinstance(value.get("appName"), str):
        return {"subject": value.get("subject", subject), "appName": value["appName"],
                "appId": value.get("appId", value["appName"])}
    raise ScenarioError(f"{where}: expected an application name or {{\"appName\": ...}}")


def _list(value, where: str) -> list:
    if not isinstance(value, list):
        raise ScenarioError(f"{where}: expected a list")
    return value


def parse_time(value, where: str) -> int:
    if not isinstance(value, str):
        raise ScenarioError(f"{where}: expected an ISO 8601 time such as 2026-05-01T10:00:00Z")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ScenarioError(f"{where}: {value!r} is not an ISO 8601 time such as 2026-05-01T10:00:00Z") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return int(moment.timestamp() * 1000)


def _check_outcome(index: int, outcome, users: dict) -> None:
    where = f"outcomes[{index}]"
    if not isinstance(outcome, dict):
        raise ScenarioError(f"{where}: expected an object")
    if sum(key in outcome for key in ("step", "prompt", "call")) > 1:
        raise ScenarioError(f"{where}: an outcome answers one step, prompt or call")
    if "step" in outcome:
        _no_unknown_keys(outcome, _STEP_OUTCOME_KEYS, where)
        if not isinstance(outcome["step"], int) or isinstance(outcome["step"], bool) or outcome["step"] < 1:
            raise ScenarioError(f"{where}.step: expected a step number from 1")
        result = outcome.get("result")
        if result not in STEP_RESULTS:
            raise ScenarioError(f"{where}.result: expected one of {', '.join(STEP_RESULTS)}, got {result!r}")
        user = outcome.get("user")
        if result == "success" and not user:
            raise ScenarioError(f"{where}.user: a successful step names the user it authenticated")
        if user is not None and user not in users and outcome.get("idp", "LOCAL") == "LOCAL":
            # (a federated identity provider's subject need not be a local user)
            raise ScenarioError(f"{where}.user: {user!r} is not one of the scenario's users")
        for key in ("authenticator", "idp", "error"):
            if key in outcome and not isinstance(outcome[key], str):
                raise ScenarioError(f"{where}.{key}: expected a string")
        if "remoteClaims" in outcome and not isinstance(outcome["remoteClaims"], dict):
            raise ScenarioError(f"{where}.remoteClaims: expected an object")
    elif "prompt" in outcome:
        _no_unknown_keys(outcome, _PROMPT_OUTCOME_KEYS, where)
        if not isinstance(outcome["prompt"], str) or not outcome["prompt"]:
            raise ScenarioError(f"{where}.prompt: expected the prompt's templateId")
        action = outcome.get("action", "success")
        if not isinstance(action, str) or not action:
            raise ScenarioError(f"{where}.action: expected an action name such as success")
    elif "call" in outcome:
        _no_unknown_keys(outcome, _CALL_OUTCOME_KEYS, where)
        if outcome["call"] not in CALL_FUNCTIONS:
            raise ScenarioError(f"{where}.call: expected {', '.join(CALL_FUNCTIONS)}")
        if outcome.get("result") not in CALL_RESULTS:
            raise ScenarioError(f"{where}.result: expected one of {', '.join(CALL_RESULTS)}, got {outcome.get('result')!r}")
    else:
        raise ScenarioError(f"{where}: expected a step outcome (\"step\": N), a prompt outcome (\"prompt\": ID) "
                            f"or a call outcome (\"call\": \"httpGet\")")
    if "params" in outcome and not isinstance(outcome["params"], dict):
        raise ScenarioError(f"{where}.params: expected an object")
    if "at" in outcome:
        parse_time(outcome["at"], f"{where}.at")


def _no_unknown_keys(obj: dict, allowed: set, where: str) -> None:
    unknown = sorted(set(obj) - allowed)
    if unknown:
        raise ScenarioError(f"{where}: unknown key {unknown[0]!r} (expected: {', '.join(sorted(allowed))})")


def _is_string_list(value) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)
