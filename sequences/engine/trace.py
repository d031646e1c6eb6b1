"""Reading a recorded flow round trip by round trip, and re-running it against another version of its script.

Replay makes both cheap and exact: the journal cut after its k-th answer,
replayed in the sandbox, gives back the command the engine returned at that
point and every log line the script wrote up to it.  Nothing is applied and
nothing is stored: effects the script asks for are only read back, and what
the journal does not hold (a secret, a user's sessions, a user another
version reads) is answered by the read-only functions the caller passes.

What comes out is plain data for the console and the API.  Secrets never
do: prompt passwords, cookies and what was read from them show as "(sealed)",
and any text that would contain one of their values is cut the same way.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any, Callable

from .driver import Program, redacted
from .errors import ScriptCompileError, ScriptLimitError
from .sandbox import Limits, pool
from .state import (
    SEALED,
    SECRET_LOOKUP_KINDS,
    FlowState,
    journal_prefix,
    round_trip_marks,
    round_trips,
    secret_texts,
    shown_answer,
    shown_lookup,
    shown_request,
    strings_in,
)

ReadUser = Callable[[str], "dict | None"]
Lookup = Callable[[str, Any], Any]
# A replay answers at most this many lookups the journal lacks (another version's new reads) before giving up.
MAX_REPLAY_LOOKUPS = 64
# Lookups whose answers are secrets (a vault secret, a cookie's verified value): never shown, even in a log line.
REVEALING_LOOKUPS = ("secret",) + SECRET_LOOKUP_KINDS
# Effect arguments shown sealed, by index: a cookie's value (a new password is already "[redacted]").
SEALED_EFFECT_ARGUMENTS = {"setCookie": {1}}
# What a command says that is not part of the decision it stands for.
_NOT_COMPARED = {"position", "line", "column", "library"}


class TraceError(ValueError):
    """The flow cannot be traced (its journal is not one this engine replays)."""


def _no_user(username: str):
    return None


def _no_lookup(kind: str, key):
    return None


class _Replayer:
    """Replays prefixes of one flow's journal against one program, answering what the journal lacks read-only."""

    def __init__(self, program: Program, state: FlowState, read_user: ReadUser, lookup: Lookup,
                 limits: Limits | None):
        self.program, self.state, self.limits = program, state, limits
        self.read_user, self.lookup = read_user, lookup
        self.revealed: set[str] = set()  # secret values answered to a replay (kept out of what is shown)
        clock = state.journal.get("clock") or [0]
        times = [mark["t"] for mark in round_trip_marks(state.journal)]
        self.now = int(max(list(clock) + times))

    def at(self, answers: int) -> tuple[dict, list[dict]]:
        """The command the script returns with the first `answers` answers journaled, and its log lines so far."""
        prefix = journal_prefix(self.state, answers)
        inputs_text = json.dumps(prefix.inputs, separators=(",", ":"))
        journal_text = json.dumps(prefix.journal, separators=(",", ":"))
        entry = prefix.inputs.get("entry", "onLoginRequest")
        prefetch: dict = {}
        lookups: dict = {}
        for _ in range(MAX_REPLAY_LOOKUPS + 1):
            payload = ('{"inputs":' + inputs_text + ',"journal":' + journal_text +
                       ',"prefetch":' + json.dumps(prefetch, separators=(",", ":")) +
                       ',"lookups":' + json.dumps(lookups, separators=(",", ":")) +
                       f',"now":{self.now},"entry":{json.dumps(entry)}}}')
            try:
                with pool.borrow(self.limits) as sandbox:
                    result = sandbox.run(self.program.key, self.program.source, payload, self.program.kind)
            except ScriptLimitError as exc:
                return _error(exc.kind, exc.message), []
            except ScriptCompileError as exc:
                return {**_error("syntax", exc.message), "line": exc.line, "column": exc.column}, []
            command = result["command"]
            if command.get("type") == "lookup" and "kind" in command and command["id"] not in lookups:
                value = self.lookup(command["kind"], command["key"])
                if command["kind"] in REVEALING_LOOKUPS:
                    self.revealed.update(strings_in(value))
                lookups[command["id"]] = value
                continue
            if command.get("type") == "lookup" and "username" in command and command["username"] not in prefetch:
                prefetch[command["username"]] = self.read_user(command["username"])
                continue
            return command, list(result.get("logs") or [])
        return _error("limit", f"the replay needed more than {MAX_REPLAY_LOOKUPS} lookups"), []

    def secrets(self) -> list[str]:
        return sorted(set(secret_texts(self.state)) | {text for text in self.revealed if len(text) >= 4},
                      key=len, reverse=True)


def flow_trace(program: Program, state: FlowState, *, read_user: ReadUser = _no_user, lookup: Lookup = _no_lookup,
               limits: Limits | None = None) -> dict:
    """A recorded flow round trip by round trip (`state` opened: secrets are needed to replay, never shown).

    {"boundaries": "recorded" | "inferred", "request": {...}, "round_trips": [{"index", "at", "answer",
    "command", "effects", "sso", "calls", "logs", "journal": {"consumed", "added"}}]}
    """
    _check(state)
    replayer = _Replayer(program, state, read_user, lookup, limits)
    answers = state.journal.get("answers") or []
    journal = state.journal
    commands, logs = [], []
    for position in range(len(answers) + 1):
        command, lines = replayer.at(position)
        commands.append(command)
        logs.append(lines)
    trips = round_trips(journal)
    out = []
    logs_before, clock_before, users_before, lookups_before = 0, 0, [], []
    for index, trip in enumerate(trips):
        first, end, mark = trip["first"], trip["end"], trip["mark"]
        begin = 0 if first is None else first
        effects, sso, calls = [], [], []
        for position in range(begin, end):
            answer = answers[position]
            asked = commands[position]
            if answer.get("k") == "effect":
                effects.append({"position": position, "name": answer.get("name"),
                                "args": _shown_effect_args(asked) if asked.get("type") == "effect" else None,
                                "result": answer.get("r")})
            elif answer.get("via") == "session":
                sso.append({"position": position, "step": answer.get("step"), "user": answer.get("user"),
                            "authenticator": answer.get("authenticator"), "idp": answer.get("idp", "LOCAL")})
            elif answer.get("k") == "call":
                calls.append({"position": position, "request": _shown_command(asked),
                              "result": answer.get("r"), "data": answer.get("data")})
        trip_logs = logs[end][logs_before:]
        added = {"answers": [{"position": position, **shown_answer(answers[position])}
                             for position in range(begin, end)]}
        if mark is not None:
            added["clock"] = list(journal.get("clock", [])[clock_before:mark.get("c", clock_before)])
            added["users"] = list(mark.get("u") or [])
            added["lookups"] = [_shown_lookup_entry(key, journal.get("lookups", {})) for key in mark.get("l") or []]
        consumed = {"answers": begin, "clock": clock_before if mark is not None else None,
                    "users": list(users_before) if mark is not None else None,
                    "lookups": list(lookups_before) if mark is not None else None}
        out.append({
            "index": index,
            "at": _iso(mark.get("t")) if mark is not None else None,
            "answer": {"position": first, **shown_answer(answers[first])} if first is not None else None,
            "command": _shown_command(commands[end]),
            "effects": effects, "sso": sso, "calls": calls,
            "logs": [{"level": line.get("level"), "message": line.get("message"), "line": line.get("line"),
                      "library": line.get("library")} for line in trip_logs],
            "journal": {"consumed": consumed, "added": added},
        })
        logs_before = len(logs[end])
        if mark is not None:
            clock_before = mark.get("c", clock_before)
            users_before = sorted(set(users_before) | set(mark.get("u") or []))
            lookups_before = sorted(set(lookups_before) | set(mark.get("l") or []))
    recorded = all(trip["mark"] is not None for trip in trips)
    trace = {"boundaries": "recorded" if recorded else "inferred", "request": shown_request(state.inputs),
             "entry": state.inputs.get("entry", "onLoginRequest"), "round_trips": out}
    return _sealed_texts(trace, replayer.secrets())


def flow_rerun(recorded: Program, other: Program, state: FlowState, *, read_user: ReadUser = _no_user,
               lookup: Lookup = _no_lookup, limits: Limits | None = None) -> dict:
    """Replay a recorded flow's answers against `other` (another version of its script), in the sandbox only.

    {"same": bool, "compared": positions compared, "divergence": None | {"round_trip", "position", "kind":
    "command" | "path", "recorded": command, "other": command, "message"}}: the first point where `other`
    returns another command than the recorded script did, or where the engine finds it took another path.
    """
    _check(state)
    before = _Replayer(recorded, state, read_user, lookup, limits)
    after = _Replayer(other, state, read_user, lookup, limits)
    answers = state.journal.get("answers") or []
    trips = round_trips(state.journal)
    divergence = None
    compared = 0
    # One program at a time: a sandbox keeps few compiled programs, and alternating would compile them again.
    recorded_commands = [before.at(position)[0] for position in range(len(answers) + 1)]
    for position, old in enumerate(recorded_commands):
        new, _ = after.at(position)
        compared += 1
        if _decision(old) == _decision(new):
            continue
        path = new.get("type") == "error" and new.get("kind") == "replay"
        divergence = {
            "round_trip": _trip_of(trips, position), "position": position,
            "kind": "path" if path else "command",
            "recorded": _shown_command(old), "other": _shown_command(new),
            "message": new.get("message") if path else
            f"the recorded script {_describe(old)} here; this version {_describe(new)}",
        }
        break
    result = {"same": divergence is None, "compared": compared, "round_trips": len(trips), "divergence": divergence}
    return _sealed_texts(result, sorted(set(before.secrets()) | set(after.secrets()), key=len, reverse=True))


def _check(state: FlowState) -> None:
    try:
        state.check_version()
    except ValueError as exc:
        raise TraceError(str(exc)) from None


def _trip_of(trips: list[dict], position: int) -> int:
    """The round trip that returned the command asked at `position` (answers journaled before it)."""
    for index, trip in enumerate(trips):
        if position <= trip["end"]:
            return index
    return len(trips) - 1


def _decision(command: dict) -> dict:
    shown = _shown_command(command)
    return {key: value for key, value in shown.items() if key not in _NOT_COMPARED}


def _describe(command: dict) -> str:
    kind = command.get("type")
    if kind == "step":
        return f"asked for step {command.get('step')}"
    if kind == "prompt":
        return f"showed the prompt {command.get('templateId')!r}"
    if kind == "effect":
        return f"asked for the effect {command.get('name')}"
    if kind == "call":
        return f"made the call {command.get('function')}"
    if kind == "complete":
        return f"signed in {command.get('subject')!r}"
    if kind == "fail":
        return "failed the login" + (f" ({(command.get('params') or {}).get('errorCode')})"
                                     if (command.get("params") or {}).get("errorCode") else "")
    if kind == "sendError":
        return "sent the browser to an error page"
    if kind == "error":
        return f"stopped with an error ({command.get('kind')}: {command.get('message')})"
    return f"returned {kind}"


def _shown_command(command: dict) -> dict:
    shown = {key: value for key, value in command.items() if key != "position"}
    if shown.get("type") == "effect":
        shown["args"] = _shown_effect_args(command)
    if shown.get("type") == "call":
        for hidden in ("headers", "body"):  # may carry secrets a script read; not part of what is shown
            if hidden in shown:
                shown[hidden] = SEALED
    return shown


def _shown_effect_args(command: dict) -> list:
    name, args = command.get("name"), list(command.get("args") or [])
    sealed = SEALED_EFFECT_ARGUMENTS.get(name, ())
    return [SEALED if index in sealed else value for index, value in enumerate(redacted(name, args))]


def _shown_lookup_entry(key: str, lookups: dict) -> dict:
    name, value = shown_lookup(key, lookups.get(key))
    return {"key": name, "value": value}


def _iso(ms) -> str | None:
    if not isinstance(ms, (int, float)):
        return None
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).isoformat()


def _sealed_texts(value, secrets: list[str]):
    """`value` with every occurrence of a secret value in its strings replaced by "(sealed)"."""
    if not secrets:
        return value
    if isinstance(value, str):
        for secret in secrets:
            if secret in value:
                value = value.replace(secret, SEALED)
        return value
    if isinstance(value, list):
        return [_sealed_texts(item, secrets) for item in value]
    if isinstance(value, dict):
        return {_sealed_texts(key, secrets): _sealed_texts(item, secrets) for key, item in value.items()}
    return value


def _error(kind: str, message: str) -> dict:
    return {"type": "error", "kind": kind, "message": message, "line": None, "column": None}
