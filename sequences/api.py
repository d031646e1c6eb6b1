"""The public surface of the script engine; other apps import from here only."""
from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from .engine.driver import Advance, AnswerMismatch, Host, Program, advance, check_answer, library_key, redacted
from .engine.callbacks import CALLBACK_FUNCTIONS, CallbackResult, run_callback
from .engine.errors import ScriptError, ScriptLimitError, ScriptSyntaxError
from .engine.execute import ExecuteOutcome, run_execute
from .engine.outline import outline, reachable
from .engine.sso import session_input
from .engine.state import (
    FlowState,
    SealedUnreadable,
    StateVersionError,
    answers_count,
    browser_session_id,
    call_answer,
    configured_steps,
    federated_claims,
    last_step_answer,
    latest_answer_params,
    passed_steps,
    prompt_answer,
    request_inputs,
    request_param,
    step_answer,
)
from .engine.steps import StepConfigError, brief_steps, normalize_steps
from .engine.syntax import check_syntax
from .engine.lint import script_api, script_warnings
from .engine.trace import TraceError, flow_rerun, flow_trace
from .engine.useragent import user_agent_object
from .models import SavedScenario, ScenarioResult, Sequence, SequenceVersion
from .expectations import ExpectationError, expectation_of, parse_expectation
from .saved_scenarios import MAX_SAVED_SCENARIOS, failing_on, rerun_for_version, results_by_version, run_on, saved_after

__all__ = [
    "Advance",
    "AnswerMismatch",
    "FlowState",
    "SealedUnreadable",
    "StateVersionError",
    "answers_count",
    "browser_session_id",
    "configured_steps",
    "federated_claims",
    "last_step_answer",
    "latest_answer_params",
    "passed_steps",
    "request_param",
    "Host",
    "Program",
    "advance",
    "call_answer",
    "check_answer",
    "redacted",
    "prompt_answer",
    "request_inputs",
    "session_input",
    "step_answer",
    "user_agent_object",
    "ScriptError",
    "ScriptLimitError",
    "ScriptSyntaxError",
    "StepConfigError",
    "brief_steps",
    "check_syntax",
    "script_warnings",
    "script_api",
    "check_kind",
    "CUSTOM_AUTHENTICATOR_KINDS",
    "ExecuteOutcome",
    "run_execute",
    "normalize_steps",
    "save_version",
    "publish_version",
    "library_for",
    "published_version",
    "KindConflict",
    "TraceError",
    "flow_trace",
    "flow_rerun",
    "CALLBACK_FUNCTIONS",
    "CallbackResult",
    "run_callback",
    "SavedScenario",
    "ScenarioResult",
    "ExpectationError",
    "expectation_of",
    "parse_expectation",
    "failing_on",
    "rerun_for_version",
    "results_by_version",
    "run_on",
    "saved_after",
    "MAX_SAVED_SCENARIOS",
    "outline",
    "reachable",
]


class KindConflict(ValueError):
    """A script and a library cannot share a name."""


CUSTOM_AUTHENTICATOR_KINDS = frozenset({Sequence.Kind.CUSTOM_REGISTRATION, Sequence.Kind.CUSTOM_AUTHENTICATION,
                                        Sequence.Kind.CUSTOM_DEREGISTRATION})


def check_kind(kind: str) -> str:
    """The kind of script the engine checks a sequence of `kind` as."""
    if kind == Sequence.Kind.CALLBACKS:
        return "callbacks"
    if kind in CUSTOM_AUTHENTICATOR_KINDS:
        return "custom-authenticator"
    return "library" if kind == Sequence.Kind.LIBRARY else "login"


def published_version(sequence_id):
    """The version new flows of the sequence with this id start on (its live one), or None; one query."""
    return Sequence.published_version_of(sequence_id)


def library_for(name: str) -> dict | None:
    """The published version of library `name` as loadLocalLibrary receives it: {"key", "source"}, or None."""
    sequence = Sequence.objects.filter(name=name, kind=Sequence.Kind.LIBRARY).first() if isinstance(name, str) else None
    version = sequence.published_version() if sequence else None
    if version is None:
        return None
    return {"key": library_key(version.source), "source": version.source}


@transaction.atomic
def save_version(sequence_name: str, source: str, *, author=None, publish: bool = True,
                 kind: str = Sequence.Kind.SCRIPT):
    """Store `source` as the newest version of the sequence (created if missing).

    Idempotent: when the newest version already has this text, no version is
    created (it is published if asked). Returns (version, created).
    Raises ScriptSyntaxError before writing anything when the script does not parse.
    """
    check_syntax(source, kind=check_kind(kind))
    sequence, _ = Sequence.objects.select_for_update().get_or_create(name=sequence_name, defaults={"kind": kind})
    if sequence.kind != kind:
        raise KindConflict(f"{sequence_name!r} is already the name of a {sequence.kind}")
    latest = sequence.latest_version()
    if latest is not None and latest.source == source:
        if publish and sequence.live_version_id != latest.pk:
            _publish(latest)
        return latest, False
    version = SequenceVersion.objects.create(
        sequence=sequence,
        number=(latest.number + 1) if latest else 1,
        source=source,
        author=author,
    )
    if publish:
        _publish(version)
    return version, True


@transaction.atomic
def publish_version(version: SequenceVersion) -> None:
    """Make `version` the one new flows start on (an older one: a rollback); flows in progress keep theirs."""
    _publish(version)


def _publish(version: SequenceVersion) -> None:
    version.published = True
    version.published_at = timezone.now()
    version.save(update_fields=["published", "published_at"])
    Sequence.objects.filter(pk=version.sequence_id).update(live_version=version)
    version.sequence.live_version = version
