"""The outline of a login script for its flow diagram: static analysis in a sandbox (js/outline.js walks acorn's
syntax tree; nothing of the script runs), listing the steps, prompts, calls, effects and endings reachable from
onLoginRequest under the callbacks and conditions that lead to them."""
from __future__ import annotations

from .errors import ScriptLimitError, ScriptSyntaxError
from .sandbox import Limits, pool
from .syntax import MAX_SOURCE_BYTES


def outline(source: str, limits: Limits | None = None) -> dict:
    """{"entry", "line", "items": [...], "truncated"}; ScriptSyntaxError (with line and column) if it cannot be read."""
    if not isinstance(source, str):
        raise ScriptSyntaxError("the script must be text")
    if len(source.encode("utf-8")) > MAX_SOURCE_BYTES:
        raise ScriptSyntaxError(f"the script is larger than {MAX_SOURCE_BYTES // 1024} KB")
    try:
        with pool.borrow(limits or Limits(timeout_ms=2000)) as sandbox:
            verdict = sandbox.outline(source)
    except ScriptLimitError as exc:
        raise ScriptSyntaxError(f"the script could not be outlined: {exc.message}") from None
    if not verdict["ok"]:
        error = verdict["error"]
        raise ScriptSyntaxError(error["message"], line=error.get("line"), column=error.get("column"))
    return verdict["outline"]


def reachable(tree: dict) -> dict:
    """What the outline reaches, by kind: {"step": ["Step 1", ...], "callback": ["onSuccess", ...], ...} (once each)."""
    found: dict[str, list] = {}

    def visit(items):
        for item in items:
            labels = found.setdefault(item["kind"], [])
            if item["label"] not in labels:
                labels.append(item["label"])
            for lane in item.get("lanes", []):
                if item["kind"] != "branch":
                    callbacks = found.setdefault("callback", [])
                    if lane["callback"] not in callbacks:
                        callbacks.append(lane["callback"])
                visit(lane["items"])
            visit(item.get("body", []))

    visit(tree["items"])
    return found
