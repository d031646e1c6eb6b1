"""The durable state of a flow: the inputs captured at its start and its journal.

Both are plain JSON, and they are all a worker needs to resume the flow: the
engine replays the script against them.

journal = {
  "seed":    int      what Math.random() draws from
  "answers": [...]    answers to the script's halting calls, in order:
                      {"k": "step", "step": 1, "r": "success", "user": "alice",
                       "authenticator": "...", "idp": "LOCAL", "params": {...}}
                      {"k": "prompt", "templateId": "...", "r": "success", "params": {...}}
                      {"k": "effect", "name": "assignUserRoles", "r": true}
                      {"k": "call", "function": "httpGet", "r": "success", "data": {...}}
                      a step answered by the browser's sign-on session has "via": "session"
  "clock":   [ms...]  each value of Date.now() / new Date() the script observed
  "reads":   {username: {"roles": [...], "groups": [...], "claims": {uri: value}} | null}
                      directory data as first read by the script
  "lookups": {"<kind>:<key as JSON>": value}
                      other server data as first read (users by claims, verified
                      cookies, libraries); secrets are never journaled
  "logs":    int      how many Log lines were already delivered
}
"""
from __future__ import annotations

import copy
import secrets
from dataclasses import dataclass, field

STEP_RESULTS = ("success", "fail", "fallback", "abort")
CALL_RESULTS = ("success", "fail", "timeout")

# Request headers that carry secrets or only transport details are not kept.
_DROPPED_HEADERS = {
    "cookie", "authorization", "proxy-authorization", "content-length", "content-type", "connection",
    "accept-encoding", "cache-control", "pragma", "upgrade-insecure-requests", "te", "keep-alive",
}


def empty_journal(seed: int | None = None) -> dict:
    return {
        "seed": secrets.randbits(31) if seed is None else seed,
        "answers": [],
        "clock": [],
        "reads": {},
        "lookups": {},
        "logs": 0,
    }


def request_inputs(ip=None, headers=None, params=None, cookies=None) -> dict:
    """The request as a script sees it, without secrets or transport headers."""
    kept_headers = {}
    for name, value in (headers or {}).items():
        lower = name.lower()
        if lower in _DROPPED_HEADERS or lower.startswith("sec-fetch-"):
            continue
        kept_headers[name] = str(value)
    return {
        "ip": ip,
        "headers": kept_headers,
        "params": {name: [str(v) for v in (values if isinstance(values, list) else [values])]
                   for name, values in (params or {}).items()},
        "cookies": {name: str(value) for name, value in (cookies or {}).items()},
    }


@dataclass
class FlowState:
    inputs: dict
    journal: dict = field(default_factory=empty_journal)

    @classmethod
    def start(cls, application_name: str, steps: dict, request: dict | None = None,
              entry: str = "onLoginRequest", seed: int | None = None, session: dict | None = None) -> FlowState:
        inputs = {
            "application": {"name": application_name, "steps": steps},
            "request": request or request_inputs(),
            "entry": entry,
        }
        if session:
            inputs["session"] = session  # the browser's sign-on session (sso.session_input)
        return cls(inputs=inputs, journal=empty_journal(seed))

    @classmethod
    def from_dict(cls, data: dict) -> FlowState:
        return cls(inputs=data["inputs"], journal=data["journal"])

    def to_dict(self) -> dict:
        return {"inputs": self.inputs, "journal": self.journal}

    def copy(self) -> FlowState:
        return FlowState(inputs=self.inputs, journal=copy.deepcopy(self.journal))

    @property
    def position(self) -> int:
        """Index of the next answer: what a submitted answer must say it answers."""
        return len(self.journal["answers"])


def step_answer(step: int, result: str, *, user: str | None = None, authenticator: str | None = None,
                idp: str = "LOCAL", params: dict | None = None, error: str | None = None,
                remote_claims: dict | None = None) -> dict:
    if result not in STEP_RESULTS:
        raise ValueError(f"step result must be one of {', '.join(STEP_RESULTS)}")
    if result == "success" and not user:
        raise ValueError("a successful step names the user it authenticated")
    answer = {"k": "step", "step": int(step), "r": result}
    if user:
        answer["user"] = user
    if authenticator:
        answer["authenticator"] = authenticator
    if idp != "LOCAL":
        answer["idp"] = idp
    if params:
        answer["params"] = params
    if error:
        answer["error"] = error
    if remote_claims:
        answer["remoteClaims"] = remote_claims
    return answer


def prompt_answer(template_id: str, action: str = "success", params: dict | None = None) -> dict:
    if not isinstance(action, str) or not action:
        raise ValueError("a prompt answer names the action the user took")
    return {"k": "prompt", "templateId": template_id, "r": action, "params": params or {}}


def call_answer(function: str, result: str, data=None) -> dict:
    """The outcome of an asynchronous call (httpGet, httpPost, callAnalytics): success, fail or timeout."""
    answer = {"k": "call", "function": function, "r": result}
    if data is not None:
        answer["data"] = data
    return answer
