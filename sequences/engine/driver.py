"""Advancing a flow: replay the script until it needs something from outside.

One call to `advance` is one round trip of a login (one HTTP request): the new
answer is journaled, then the script runs again from its entry point.  Lookups
(directory data not yet read), effects (changes to the directory, email...) and
steps the browser's sign-on session already satisfies (sso.py) are handled
here, through the `Host`, each followed by another replay, until
the script halts on something only a person can answer (a step, a prompt) or
finishes.  Effects are journaled with their result, so a later replay never
applies them again.  Each run is a request to a sandbox process
(sandbox/supervisor.py); the driver bounds the round trip as a whole: its
time, its lookups and effects, and the size of the journal it leaves.
"""
from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

from .errors import ScriptCompileError, ScriptLimitError
from .sandbox import Limits, pool
from .sso import answer_from_session
from .state import CALL_RESULTS, FlowState, StateVersionError, mark_round_trip

TERMINAL_COMMANDS = {"complete", "fail", "sendError", "error", "return"}
# Effect arguments that are secrets: applied, never logged, traced or stored in clear.
# (js/api/effects.js keeps these, and a cookie's value, out of the path digest.)
SECRET_ARGUMENTS = {"updateUserPassword": {1}}
DEFAULT_MAX_HOST_CALLS = 64
# A round trip's whole work (its runs and the host calls between them) is bounded in time...
DEFAULT_ROUND_TRIP_BUDGET_MS = 3000
# ...and what it leaves in the flow's state in size.
MAX_STATE_BYTES = 512 * 1024


def redacted(name: str, args: list) -> list:
    hidden = SECRET_ARGUMENTS.get(name, ())
    return ["[redacted]" if i in hidden else a for i, a in enumerate(args)]


class Host(Protocol):
    """What the engine needs from the world a flow runs in (the directory, or a test scenario)."""

    def load_user(self, username: str) -> dict | None:
        """{"roles": [...], "groups": [...], "claims": {uri: value}, ...} or None if no such user.

        "sessions" may be left out: it is then asked for as the "sessions" lookup when a script reads it.
        Each session: {"id", "ip", "loginTime" and "lastAccessTime" (ms since the epoch),
        "userAgent": {"raw", "browser", "platform", "device"}, "applications": [{"subject", "appName", "appId"}]}.
        """

    def apply_effect(self, name: str, args: list) -> Any:
        """Apply one effect; the JSON result is what the script's call returns."""

    def lookup(self, kind: str, key: Any) -> Any:
        """Server data other than users, as JSON: "usersByClaims" ({"claims": {uri: value}} -> [username, ...]),
        "cookie" ({"name", "value", "decrypt", "validateSignature"} -> the verified value or None),
        "secret" (name -> value or None; never journaled), "library" (name -> {"key", "source"} or None),
        "loginIdentifier" (a sign-in identifier -> the one username it names, or None)."""


def library_key(source: str) -> str:
    """What names a library's exact text in a flow's journal (loadLocalLibrary)."""
    return hashlib.sha256(source.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class Program:
    """A script as the engine runs it: its text, and a key naming that exact text."""

    key: str
    source: str
    kind: str = "login"  # the kind of script the sandbox compiles it as (a callbacks script has its own API)

    @classmethod
    def from_source(cls, source: str, kind: str = "login") -> Program:
        # The sandbox caches programs by key: the same text compiled as another kind is another program.
        named = source if kind == "login" else f"{kind}\n{source}"
        return cls(key=hashlib.sha256(named.encode("utf-8")).hexdigest(), source=source, kind=kind)

    @classmethod
    def default_for(cls, steps: dict) -> Program:
        """An application without a script runs its configured steps in order."""
        calls = "".join(f"  executeStep({int(number)});\n" for number in sorted(steps, key=int))
        return cls.from_source("var onLoginRequest = function (context) {\n" + calls + "};\n")


@dataclass
class Advance:
    state: FlowState
    command: dict
    events: list[dict] = field(default_factory=list)  # logs and effects, in the order they happened

    @property
    def finished(self) -> bool:
        return self.command["type"] in TERMINAL_COMMANDS


class AnswerMismatch(ValueError):
    """A submitted answer does not answer what the flow waits for."""


def check_answer(pending: dict, answer: dict) -> None:
    """Refuse an answer that does not fit the pending command, before it reaches the journal."""
    kind = pending.get("type")
    if kind == "step":
        if answer.get("k") != "step" or answer.get("step") != pending["step"]:
            raise AnswerMismatch(f"the flow waits for step {pending['step']}")
        if answer.get("r") == "success":
            offered = {(o.get("authenticator"), o.get("idp", "LOCAL")) for o in pending["options"]}
            chosen = (answer.get("authenticator"), answer.get("idp", "LOCAL"))
            if chosen not in offered:
                names = ", ".join(sorted(f"{a or '-'}@{i}" for a, i in offered))
                raise AnswerMismatch(
                    f"step {pending['step']} does not offer {chosen[0]}@{chosen[1]} (offered: {names})"
                )
    elif kind == "prompt":
        if answer.get("k") != "prompt" or answer.get("templateId") != pending["templateId"]:
            raise AnswerMismatch(f"the flow waits for the prompt {pending['templateId']!r}")
    elif kind == "call":
        if answer.get("k") != "call" or answer.get("function") != pending["function"]:
            raise AnswerMismatch(f"the flow waits for the outcome of {pending['function']}")
        if answer.get("r") not in CALL_RESULTS:
            raise AnswerMismatch(f"a call's outcome is one of {', '.join(CALL_RESULTS)}")
    else:
        raise AnswerMismatch(f"the flow is not waiting for an answer (it is at {kind!r})")


def advance(program: Program, state: FlowState, host: Host, *, answer: dict | None = None,
            now_ms: int | None = None, limits: Limits | None = None,
            max_host_calls: int = DEFAULT_MAX_HOST_CALLS,
            budget_ms: int = DEFAULT_ROUND_TRIP_BUDGET_MS) -> Advance:
    """Journal `answer` (if any) and replay the script up to its next command."""
    try:
        state.check_version()
    except StateVersionError as exc:
        return Advance(state, _error("version", str(exc)))
    state = state.copy()
    now_ms = int(time.time() * 1000) if now_ms is None else int(now_ms)
    users_read: set[str] = set()
    lookups_added: set[str] = set()
    result = _round_trip(program, state, host, answer, now_ms, limits, max_host_calls, budget_ms,
                         users_read, lookups_added)
    # Where this round trip ended, for the replay debugger (sequences.api.flow_trace).
    mark_round_trip(state.journal, now_ms=now_ms, users_read=users_read, lookups_added=lookups_added)
    return result


def _round_trip(program: Program, state: FlowState, host: Host, answer: dict | None, now_ms: int,
                limits: Limits | None, max_host_calls: int, budget_ms: int,
                users_read: set, lookups_added: set) -> Advance:
    journal = state.journal
    if answer is not None:
        journal["answers"].append(dict(answer))  # the journal's own: a replay writes its digest into it
    started = time.monotonic()
    journal.setdefault("lookups", {})
    prefetch: dict[str, dict | None] = {}
    if answer is not None and answer.get("user"):
        prefetch[answer["user"]] = host.load_user(answer["user"])
    session = state.inputs.get("session")
    if answer is None and session and session.get("authenticated") and session.get("user") not in prefetch:
        # A flow starting in a signed-in browser: the runtime answers the steps the session satisfies in
        # the same run (sessionAnswer in js/journal.js), and names their user at once.
        prefetch[session["user"]] = host.load_user(session["user"])
    lookups: dict[str, Any] = {}  # answers of this round trip's lookups, by id
    events: list[dict] = []
    inputs_text = json.dumps(state.inputs, separators=(",", ":"))
    entry = state.inputs.get("entry", "onLoginRequest")

    for _ in range(max_host_calls + 1):
        if (time.monotonic() - started) * 1000 > budget_ms:
            return Advance(state, _error("limit", f"the round trip took longer than its budget of {budget_ms} ms "
                                                  "(its runs and the lookups and effects between them)"), events)
        journal_text = json.dumps(journal, separators=(",", ":"))
        if len(journal_text) > MAX_STATE_BYTES:
            return Advance(state, _error("limit", f"the flow's journal grew over {MAX_STATE_BYTES // 1024} KB"), events)
        payload = ('{"inputs":' + inputs_text + ',"journal":' + journal_text +
                   ',"prefetch":' + json.dumps(prefetch, separators=(",", ":")) +
                   ',"lookups":' + json.dumps(lookups, separators=(",", ":")) +
                   f',"now":{now_ms},"entry":{json.dumps(entry)}}}')
        try:
            with pool.borrow(limits) as sandbox:
                result = sandbox.run(program.key, program.source, payload, program.kind)
        except ScriptLimitError as exc:
            return Advance(state, _error(exc.kind, exc.message), events)
        except ScriptCompileError as exc:
            return Advance(state, {**_error("syntax", exc.message), "line": exc.line, "column": exc.column}, events)

        journal["clock"].extend(result["clock"])
        journal["reads"].update(result["reads"])
        journal["lookups"].update(result["lookups"])
        users_read.update(result["reads"])
        lookups_added.update(result["lookups"])
        journal["logs"] += len(result["logs"])
        for given in result.get("sessionAnswers", []):
            if not _from_session(given, state.inputs.get("session")):
                return Advance(state, _error("engine", "the runtime answered a step the session does not satisfy"),
                               events)
            journal["answers"].append(given)
            events.append({"type": "sso", "step": given["step"], "user": given["user"],
                           "authenticator": given.get("authenticator"), "idp": given.get("idp", "LOCAL")})
        for position, digest in result["digests"].items():
            journal["answers"][int(position)]["d"] = digest
        events.extend({"type": "log", **line} for line in result["logs"])
        command = result["command"]
        if "\\u0000" in json.dumps(command):  # databases refuse it in text and JSON: say so instead of failing later
            return Advance(state, _error("runtime", "the script passed on a NUL character (\\u0000), "
                                                    "which a login cannot carry"), events)

        if command["type"] == "lookup" and "kind" in command:
            if command["id"] in lookups:
                return Advance(state, _error("engine", f"lookup {command['id'][:80]!r} did not settle"), events)
            lookups[command["id"]] = host.lookup(command["kind"], command["key"])
            continue
        if command["type"] == "lookup":
            username = command["username"]
            if username in prefetch:  # the runtime asked twice: a bug, not a script error
                return Advance(state, _error("engine", f"lookup of {username!r} did not settle"), events)
            prefetch[username] = host.load_user(username)
            continue
        if command["type"] == "step":
            from_session = answer_from_session(command, state.inputs.get("session"))
            if from_session is not None:
                journal["answers"].append(from_session)
                user = from_session["user"]
                if user not in prefetch:
                    prefetch[user] = host.load_user(user)
                events.append({"type": "sso", "step": command["step"], "user": user,
                               "authenticator": from_session.get("authenticator"),
                               "idp": from_session.get("idp", "LOCAL")})
                continue
        if command["type"] == "effect":
            outcome = host.apply_effect(command["name"], command["args"])
            journal["answers"].append({"k": "effect", "name": command["name"], "r": outcome})
            events.append({"type": "effect", "name": command["name"], "args": redacted(command["name"], command["args"]),
                           "result": outcome})
            continue
        return Advance(state, command, events)

    return Advance(state, _error("limit", f"the script made more than {max_host_calls} lookups and effects in one round trip"), events)


def _from_session(given: dict, session: dict | None) -> bool:
    """Whether a step answer the runtime gave from the sign-on session is one the session can give."""
    if not session or not isinstance(given, dict) or given.get("k") != "step" or given.get("via") != "session":
        return False
    passed = {(a.get("authenticator"), a.get("idp") or "LOCAL") for a in session.get("authenticated", [])}
    return (given.get("r") == "success" and given.get("user") == session.get("user")
            and (given.get("authenticator"), given.get("idp") or "LOCAL") in passed)


def _error(kind: str, message: str) -> dict:
    return {"type": "error", "kind": kind, "message": message, "line": None, "column": None}
