"""A hostile script against the replay debugger's redaction: whatever it does with a secret it holds (a prompt
password, a vault secret, a cookie), the trace and the re-run never show it, short secrets included: a
three-digit PIN typed into a password input is as much the user's secret as a long pass phrase."""
import json

from sequences.api import FlowState, Program, advance, flow_rerun, flow_trace, prompt_answer, request_inputs, step_answer

STEPS = {"1": [{"authenticator": "BasicAuthenticator", "idp": "LOCAL"}]}
PIN = "739"  # short: under the four characters the engine's own log redaction starts at
VAULT = "q7Z"  # a short vault secret

# Puts what it reads everywhere the debugger shows something: its log lines, a prompt's name and data, an
# effect's arguments, the subject it signs in.
HOSTILE = """var onLoginRequest = function (context) {
    var key = secrets.apikey;
    Log.info('vault ' + key);
    executeStep(1, {onSuccess: function (context) {
        var user = context.currentKnownSubject;
        prompt('askPin', {inputs: [{id: 'pin', type: 'password', label: 'PIN'}]}, {onSuccess: function (context) {
            var pin = context.request.params.pin[0];
            Log.info('pin=' + pin + ' key=' + key);
            assignUserRoles(user, ['r' + pin]);
            var data = {note: pin + key};
            data[pin] = key;
            prompt('shown-' + pin, data, {onSuccess: function (context) {
                Log.info('done ' + pin);
            }});
        }});
    }});
};
"""


class World:
    def __init__(self):
        self.effects = []

    def load_user(self, username):
        return {"username": username, "roles": [], "groups": [], "claims": {}} if username == "alice" else None

    def apply_effect(self, name, args):
        self.effects.append(name)
        return True

    def lookup(self, kind, key):
        return VAULT if kind == "secret" and key == "apikey" else None


def recorded():
    program, world = Program.from_source(HOSTILE), World()
    state = FlowState.start("portal", STEPS, request_inputs("203.0.113.9", {}, {}, {}))
    result = advance(program, state, world, now_ms=1_700_000_000_000)
    result = advance(program, result.state, world,
                     answer=step_answer(1, "success", user="alice", authenticator="BasicAuthenticator"))
    result = advance(program, result.state, world, answer=prompt_answer("askPin", params={"pin": [PIN]}, secret=["pin"]))
    assert result.command["type"] == "prompt", result.command
    result = advance(program, result.state, world, answer=prompt_answer(result.command["templateId"], params={}))
    assert result.command["type"] == "complete", result.command
    return program, result.state, world


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _strings(item)


def test_a_short_pin_and_a_short_vault_secret_never_show_in_the_trace():
    program, state, world = recorded()
    trace = flow_trace(program, state, lookup=World().lookup)
    leaks = [text for text in _strings(trace) if PIN in text or VAULT in text]
    assert leaks == [], leaks
    # still readable: the prompt the script showed and its log lines are there, the secrets sealed
    text = json.dumps(trace)
    assert "(sealed)" in text and "askPin" in text and "pin=" in text


def test_a_short_pin_never_shows_in_a_rerun_against_a_version_that_puts_it_elsewhere():
    program, state, _ = recorded()
    other = Program.from_source(HOSTILE.replace("'shown-' + pin", "'other-' + pin"))
    rerun = flow_rerun(program, other, state, lookup=World().lookup)
    assert rerun["same"] is False
    leaks = [text for text in _strings(rerun) if PIN in text or VAULT in text]
    assert leaks == [], leaks
