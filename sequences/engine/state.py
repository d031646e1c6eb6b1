"""The durable state of a flow: the inputs captured at its start and its journal.

Both are plain JSON, and they are all a worker needs to resume the flow: the
engine replays the script against them.  This module is the only place that
knows the journal's layout; other apps read a stored state through the
functions at the bottom (exported by sequences.api).

stored state = {
  "format":  int      the layout of this dict (STATE_FORMAT)
  "runtime": int      the replay semantics of the runtime that wrote it (REPLAY_VERSION)
  "inputs":  {...}    the application, the request, the browser's session, the entry point
  "journal": {...}
}

journal = {
  "seed":    int      what Math.random() draws from
  "answers": [...]    answers to the script's halting calls, in order:
                      {"k": "step", "step": 1, "r": "success", "user": "alice",
                       "authenticator": "...", "idp": "LOCAL", "params": {...}}
                      {"k": "prompt", "templateId": "...", "r": "success", "params": {...},
                       "secret": [names of params that are secrets]}
                      {"k": "effect", "name": "assignUserRoles", "r": true}
                      {"k": "call", "function": "httpGet", "r": "success", "data": {...}}
                      a step answered by the browser's sign-on session has "via": "session";
                      "d" is the digest of the path the script took up to that answer,
                      written by the first replay that reads it and checked by every later one
  "clock":   [ms...]  each value of Date.now() / new Date() the script observed
  "reads":   {username: {"roles": [...], "groups": [...], "claims": {uri: value}} | null}
                      directory data as first read by the script
  "lookups": {"<kind>:<key as JSON>": value}
                      other server data as first read (users by claims, verified
                      cookies, libraries); secrets are never journaled
  "logs":    int      how many Log lines were already delivered
  "trips":   [...]    one mark per round trip (one call to driver.advance), in order, kept small:
                      [answers at its end, clock readings at its end, ms since the previous mark
                       (the first: since the epoch)] + ([users it read], [lookups it journaled,
                       a secret one by its kind only]) when it read any
                      (what the replay debugger shows; optional: flows stored before it was kept have none,
                      and their round trips are inferred from the answers: round_trips below)
  "sealed":  str      at rest only: the secret values below, encrypted by the caller
}

Secret values (what a user typed into a password input of a prompt, the
cookies the browser sent, and the decrypted or verified value of a cookie)
must be the same on every replay, so they are kept as long as the flow; at
rest they are taken out and sealed with a cipher the caller provides (see
FlowState.to_stored / from_stored).
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Callable

STATE_FORMAT = 2
# Bump when the runtime (engine/js) changes what a replay computes from the same journal
# (a different path, different answers, different digests): flows started
# before cannot be continued and end with a clear error instead.
REPLAY_VERSION = 3

STEP_RESULTS = ("success", "fail", "fallback", "abort")
CALL_RESULTS = ("success", "fail", "timeout")
# Lookup kinds whose journaled value is a secret (a cookie's decrypted or verified value).
SECRET_LOOKUP_KINDS = ("cookie",)

# Request headers that carry secrets or only transport details are not kept.
_DROPPED_HEADERS = {
    "cookie", "authorization", "proxy-authorization", "content-length", "content-type", "connection",
    "accept-encoding", "cache-control", "pragma", "upgrade-insecure-requests", "te", "keep-alive",
}


class StateVersionError(ValueError):
    """The stored state was written by an engine whose replays this one cannot reproduce."""


class SealedUnreadable(ValueError):
    """The sealed secrets of a stored state do not open (their key is gone, or they were changed)."""


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
    format: int = STATE_FORMAT
    runtime: int = REPLAY_VERSION

    @classmethod
    def start(cls, application_name: str, steps: dict, request: dict | None = None,
              entry: str = "onLoginRequest", seed: int | None = None, session: dict | None = None,
              tenant_domain: str | None = None) -> FlowState:
        inputs = {
            "application": {"name": application_name, "steps": steps},
            "request": request or request_inputs(),
            "entry": entry,
        }
        if tenant_domain:
            inputs["tenantDomain"] = tenant_domain  # context.tenantDomain (and users'); else carbon.super
        if session:
            inputs["session"] = session  # the browser's sign-on session (sso.session_input)
        return cls(inputs=inputs, journal=empty_journal(seed))

    @classmethod
    def from_dict(cls, data: dict) -> FlowState:
        """A state as `to_dict` gave it (no sealed secrets).  Stamps are kept as found, checked by `advance`."""
        return cls(inputs=data["inputs"], journal=data["journal"], format=data.get("format", 1),
                   runtime=data.get("runtime", 1))

    def to_dict(self) -> dict:
        return {"format": self.format, "runtime": self.runtime, "inputs": self.inputs, "journal": self.journal}

    @classmethod
    def from_stored(cls, stored: dict, open_sealed: Callable[[str], dict]) -> FlowState:
        """The state as stored by `to_stored`, with its secrets opened by `open_sealed` (the caller's cipher)."""
        state = cls.from_dict(stored)
        journal = state.journal
        if "sealed" not in journal:
            return state
        try:
            hidden = open_sealed(journal["sealed"])
            prompts, lookups, cookies = hidden["prompts"], hidden["lookups"], hidden.get("cookies")
        except SealedUnreadable:
            raise
        except Exception as exc:  # noqa: BLE001 - whatever the cipher raises, the flow cannot be replayed
            raise SealedUnreadable(f"the sealed part of the flow's state does not open: {type(exc).__name__}") from None
        journal = {k: v for k, v in journal.items() if k != "sealed"}
        answers = list(journal["answers"])
        for index, params in prompts.items():
            answer = answers[int(index)]
            answers[int(index)] = {**answer, "params": {**(answer.get("params") or {}), **params}}
        journal["answers"] = answers
        journal["lookups"] = {**journal.get("lookups", {}), **lookups}
        state.journal = journal
        if cookies:
            request = state.inputs.get("request") or {}
            state.inputs = {**state.inputs, "request": {**request, "cookies": cookies}}
        return state

    def to_stored(self, seal: Callable[[dict], str]) -> dict:
        """This state as it may be stored: secret values taken out and sealed with `seal` (the caller's cipher)."""
        prompts: dict[str, dict] = {}
        answers = self.journal.get("answers", [])
        kept_answers = answers
        for index, answer in enumerate(answers):
            names = answer.get("secret") or ()
            params = answer.get("params") or {}
            if answer.get("k") != "prompt" or not any(name in params for name in names):
                continue
            if kept_answers is answers:
                kept_answers = list(answers)
            prompts[str(index)] = {name: params[name] for name in names if name in params}
            kept_answers[index] = {**answer, "params": {k: v for k, v in params.items() if k not in names}}
        lookups = self.journal.get("lookups", {})
        secret_lookups = {key: value for key, value in lookups.items() if _is_secret_lookup(key)}
        request = self.inputs.get("request") or {}
        cookies = request.get("cookies") or {}
        stored = self.to_dict()
        if not prompts and not secret_lookups and not cookies:
            return stored
        journal = dict(self.journal)
        journal["answers"] = kept_answers
        journal["lookups"] = {key: value for key, value in lookups.items() if key not in secret_lookups}
        journal["sealed"] = seal({"prompts": prompts, "lookups": secret_lookups, "cookies": cookies})
        stored["journal"] = journal
        if cookies:
            stored["inputs"] = {**self.inputs, "request": {**request, "cookies": {}}}
        return stored

    def copy(self) -> FlowState:
        """A state whose journal can be advanced without touching this one's.

        A round trip appends answers, writes digests into answers, extends the
        clock and adds (or replaces) reads and lookups: those containers are
        copied, the JSON values inside them are shared, never changed.
        """
        journal = dict(self.journal)
        journal["answers"] = [dict(answer) for answer in self.journal.get("answers", [])]
        journal["clock"] = list(self.journal.get("clock", []))
        if "trips" in self.journal:
            journal["trips"] = list(self.journal["trips"])
        for name in ("reads", "lookups"):
            journal[name] = dict(self.journal.get(name, {}))
        return FlowState(inputs=self.inputs, journal=journal, format=self.format, runtime=self.runtime)

    def check_version(self) -> None:
        """Raise StateVersionError unless this engine replays the state exactly as the one that wrote it."""
        if self.format != STATE_FORMAT or self.runtime != REPLAY_VERSION:
            raise StateVersionError(
                f"this login was started by another version of the script engine (state format {self.format}, "
                f"replay version {self.runtime}; this server runs {STATE_FORMAT} and {REPLAY_VERSION}) "
                "and cannot be continued: start again")

    @property
    def position(self) -> int:
        """Index of the next answer: what a submitted answer must say it answers."""
        return len(self.journal["answers"])


def _is_secret_lookup(key: str) -> bool:
    return any(key.startswith(kind + ":") for kind in SECRET_LOOKUP_KINDS)


# ---------------------------------------------------------------- round trips
# The replay debugger reads a flow round trip by round trip.  The driver marks
# each one's end (mark_round_trip); a flow stored before marks were kept has
# its round trips inferred: each starts with an answer from outside the
# server (a step the user passed, a prompt, a call's outcome), and effects and
# steps the sign-on session answered belong to the round trip that asked them.

SEALED = "(sealed)"


def mark_round_trip(journal: dict, *, now_ms: int, users_read, lookups_added) -> None:
    """Append the mark of the round trip that just left `journal` as it is."""
    marks = journal.setdefault("trips", [])
    elapsed = int(now_ms) - sum(mark[2] for mark in marks if _is_mark(mark))
    mark = [len(journal.get("answers", [])), len(journal.get("clock", [])), elapsed]
    lookups = sorted({key.split(":", 1)[0] + ":" + SEALED if _is_secret_lookup(key) else key for key in lookups_added})
    if users_read or lookups:
        mark += [sorted(users_read), lookups]
    marks.append(mark)


def _is_mark(mark) -> bool:
    return isinstance(mark, list) and len(mark) >= 3 and all(isinstance(n, int) for n in mark[:3])


def round_trip_marks(journal: dict) -> list[dict]:
    """The driver's marks, read: {"a": answers at the end, "c": clock readings, "t": time (ms since the epoch),
    "u": users read, "l": lookups journaled}."""
    out, at = [], 0
    for mark in journal.get("trips") or []:
        if not _is_mark(mark):
            continue
        at += mark[2]
        users = mark[3] if len(mark) > 3 and isinstance(mark[3], list) else []
        lookups = mark[4] if len(mark) > 4 and isinstance(mark[4], list) else []
        out.append({"a": mark[0], "c": mark[1], "t": at, "u": users, "l": lookups})
    return out


def is_answer_from_outside(answer: dict) -> bool:
    """Whether this answer came with a request (it starts a round trip), rather than from the server."""
    return answer.get("k") != "effect" and answer.get("via") != "session"


def round_trips(journal: dict) -> list[dict]:
    """The flow's round trips: {"first": index of the answer that started it (None for the first round trip),
    "end": answers at its end, "mark": the driver's mark or None}."""
    answers = journal.get("answers") or []
    starts = [index for index, answer in enumerate(answers) if is_answer_from_outside(answer)]
    ends = starts + [len(answers)]
    marks = {mark["a"]: mark for mark in round_trip_marks(journal)}
    out = []
    for number, end in enumerate(ends):
        out.append({"first": None if number == 0 else starts[number - 1], "end": end, "mark": marks.get(end)})
    return out


def journal_prefix(state: FlowState, answers: int) -> FlowState:
    """The state as a replay up to answer `answers` sees it, with every log line to be delivered again."""
    journal = dict(state.journal)
    journal["answers"] = [dict(answer) for answer in state.journal.get("answers", [])[:answers]]
    journal["logs"] = 0
    journal["clock"] = list(state.journal.get("clock", []))
    journal["reads"] = dict(state.journal.get("reads", {}))
    journal["lookups"] = dict(state.journal.get("lookups", {}))
    journal.pop("trips", None)
    journal.pop("sealed", None)
    return FlowState(inputs=state.inputs, journal=journal, format=state.format, runtime=state.runtime)


def secret_texts(state: FlowState) -> list[str]:
    """The secret strings an opened state holds (prompt passwords, cookies and their verified values): what
    anything shown of a flow must not contain."""
    found = set()
    for answer in state.journal.get("answers", []):
        params = answer.get("params") or {}
        for name in answer.get("secret") or () if answer.get("k") == "prompt" else ():
            found.update(strings_in(params.get(name)))
    for key, value in state.journal.get("lookups", {}).items():
        if _is_secret_lookup(key):
            found.update(strings_in(value))
    for value in ((state.inputs.get("request") or {}).get("cookies") or {}).values():
        found.update(strings_in(value))
    return sorted((text for text in found if len(text) >= 4), key=len, reverse=True)


def strings_in(value) -> list[str]:
    """Every string inside a JSON value."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [text for item in value for text in strings_in(item)]
    if isinstance(value, dict):
        return [text for item in value.values() for text in strings_in(item)]
    return []


def shown_answer(answer: dict) -> dict:
    """An answer as the debugger shows it: secret prompt fields "(sealed)", the path digest left out."""
    shown = {key: value for key, value in answer.items() if key not in ("d", "secret")}
    if answer.get("k") == "prompt" and answer.get("secret"):
        params = dict(answer.get("params") or {})
        for name in answer["secret"]:
            params[name] = SEALED
        shown["params"] = params
    return shown


def shown_lookup(key: str, value) -> tuple[str, object]:
    """A journaled lookup as the debugger shows it (a secret one: its kind only)."""
    if _is_secret_lookup(key):
        return key.split(":", 1)[0] + ":" + SEALED, SEALED
    return key, value


def shown_request(inputs: dict) -> dict:
    """The request a flow started with, its cookies' values "(sealed)"."""
    request = dict(inputs.get("request") or {})
    request["cookies"] = {name: SEALED for name in (request.get("cookies") or {})}
    return request


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


def prompt_answer(template_id: str, action: str = "success", params: dict | None = None,
                  secret: list[str] | None = None) -> dict:
    """A prompt's answer; `secret` names the params kept sealed at rest (what was typed into password inputs)."""
    if not isinstance(action, str) or not action:
        raise ValueError("a prompt answer names the action the user took")
    answer = {"k": "prompt", "templateId": template_id, "r": action, "params": params or {}}
    if secret:
        answer["secret"] = sorted(set(secret))
    return answer


def call_answer(function: str, result: str, data=None) -> dict:
    """The outcome of an asynchronous call (httpGet, httpPost, callAnalytics): success, fail or timeout."""
    answer = {"k": "call", "function": function, "r": result}
    if data is not None:
        answer["data"] = data
    return answer


# ---------------------------------------------------------------- reading a stored state
# What other apps may know of a flow's state.  Each takes the stored dict
# (as FlowState.to_stored gave it) and never needs its sealed part.

def passed_steps(stored: dict) -> list[dict]:
    """The steps passed so far, in order: {"step", "user", "authenticator", "idp", "via"} ("via" is
    "session" when the browser's sign-on session answered the step, else None)."""
    out = []
    for answer in _answers(stored):
        if answer.get("k") == "step" and answer.get("r") == "success":
            out.append({"step": answer.get("step"), "user": answer.get("user"),
                        "authenticator": answer.get("authenticator"), "idp": answer.get("idp", "LOCAL"),
                        "via": answer.get("via")})
    return out


def federated_claims(stored: dict) -> dict:
    """The claims federated identity providers sent for the steps passed, the newest step's last (by claim name)."""
    out: dict = {}
    for answer in _answers(stored):
        if answer.get("k") == "step" and answer.get("r") == "success" and isinstance(answer.get("remoteClaims"), dict):
            out.update(answer["remoteClaims"])
    return out


def answers_count(stored: dict, kind: str) -> int:
    """How many answers of `kind` ("step", "prompt", "effect", "call") the flow has journaled."""
    return sum(1 for answer in _answers(stored) if answer.get("k") == kind)


def last_step_answer(stored: dict) -> dict | None:
    """The flow's newest answer if it answered a step: {"step", "result", "authenticator", "idp", "params"}; else None."""
    answers = _answers(stored)
    last = answers[-1] if answers else None
    if not last or last.get("k") != "step":
        return None
    return {"step": last.get("step"), "result": last.get("r"), "authenticator": last.get("authenticator"),
            "idp": last.get("idp", "LOCAL"), "params": dict(last.get("params") or {})}


def latest_answer_params(stored: dict, authenticator: str) -> dict:
    """The request parameters of the newest step answer `authenticator` gave in the flow ({} if none): what
    the user asked of that authenticator last time (e.g. to enroll a passkey)."""
    for answer in reversed(_answers(stored)):
        if answer.get("k") == "step" and answer.get("authenticator") == authenticator:
            return dict(answer.get("params") or {})
    return {}


def request_param(stored: dict, name: str) -> str:
    """The first value of the request parameter `name` the flow started with, or ""."""
    values = (((stored.get("inputs") or {}).get("request") or {}).get("params") or {}).get(name) or [""]
    return str(values[0])


def browser_session_id(stored: dict) -> str | None:
    """The sign-on session the browser had when the flow started, if any."""
    session = (stored.get("inputs") or {}).get("session") or {}
    return session.get("id")


def configured_steps(stored: dict) -> dict:
    """The application's steps as the flow started with them."""
    return ((stored.get("inputs") or {}).get("application") or {}).get("steps") or {}


def _answers(stored: dict) -> list[dict]:
    return ((stored.get("journal") or {}).get("answers")) or []
