"""The flow diagram: a script's outline read from its syntax tree in the sandbox (nothing of it runs), with the
steps, prompts, calls, effects and endings reachable from onLoginRequest under their callbacks and conditions,
and the console page that draws it as boxes (no inline script or style)."""
import re
from html import unescape

import pytest
from django.test import Client

from sequences.api import ScriptSyntaxError, outline, publish_version, reachable
from sequences.models import Sequence, SequenceVersion
from tests.support.console import sign_in_to_console

SCRIPT = """var riskUrl = 'https://risk.example.com/score';

var askConsent = function (context, user) {
    prompt('consent', {title: 'Share your e-mail?'}, {
        onSuccess: function (context) {
            sendEmail(user, 'welcome', {});
        },
        onDeny: function (context) {
            fail({errorCode: 'consent_required'});
        }
    });
};

function neverCalled() {
    executeStep(9);
}

var passwordStep = function (context) {
    executeStep(1, {
        onSuccess: function (context) {
            var user = context.currentKnownSubject;
            httpGet(riskUrl + '?user=' + user.username, {
                onSuccess: function (context, data) {
                    if (data.score > 70) {
                        executeStep(2, {authenticationOptions: [{authenticator: 'totp'}]}, {
                            onFail: function (context) {
                                sendError('', {status: 'Blocked'});
                            }
                        });
                    } else {
                        askConsent(context, user);
                    }
                },
                onFail: function (context, data) {
                    callChoreo({url: 'https://choreo.example.com/risk'}, {}, {onTimeout: function (context) {
                        executeStep(2);
                    }});
                }
            });
        },
        onFail: function (context) {
            passwordStep(context);
        }
    });
};

var onLoginRequest = function (context) {
    passwordStep(context);
};
"""


def node(items, label):
    return next(item for item in items if item["label"] == label)


def lane(item, name):
    return next(l for l in item["lanes"] if l["callback"] == name)["items"]


def test_the_outline_follows_callbacks_conditions_and_the_scripts_own_functions():
    tree = outline(SCRIPT)
    assert tree["entry"] == "onLoginRequest" and tree["line"] == 47
    password = node(tree["items"], "passwordStep()")
    assert password["kind"] == "function" and password["line"] == 48 and password["defined"] == 18
    step1 = node(password["body"], "Step 1")
    assert step1["kind"] == "step" and step1["line"] == 19
    assert [l["callback"] for l in step1["lanes"]] == ["onSuccess", "onFail"]
    # onFail calls passwordStep again: a loop back, not an endless diagram
    assert lane(step1, "onFail") == [{"kind": "again", "label": "passwordStep()", "line": 42, "target": "passwordStep"}]

    call = node(lane(step1, "onSuccess"), 'httpGet')
    assert call["kind"] == "call" and call["line"] == 22
    decision = node(lane(call, "onSuccess"), "if data.score > 70")
    step2 = node(lane(decision, "then"), "Step 2")
    assert step2["options"] == ["authenticationOptions: [{authenticator: 'totp'}]"]
    assert lane(step2, "onFail")[0]["kind"] == "end" and lane(step2, "onFail")[0]["label"] == "sendError"
    consent = node(lane(decision, "else"), "askConsent()")["body"][0]
    assert consent["label"] == 'Prompt "consent"' and [l["callback"] for l in consent["lanes"]] == ["onSuccess", "onDeny"]
    assert lane(consent, "onSuccess")[0] == {"kind": "effect", "label": "sendEmail", "line": 6, "options": [],
                                             "lanes": []}
    choreo = node(lane(call, "onFail"), "callChoreo")
    assert node(lane(choreo, "onTimeout"), "Step 2")["line"] == 36

    found = reachable(tree)
    assert found["step"] == ["Step 1", "Step 2"]  # not step 9: neverCalled() is never called
    assert found["prompt"] == ['Prompt "consent"']
    assert found["call"] == ["httpGet", "callChoreo"]
    assert found["callback"] == ["onSuccess", "onFail", "onDeny", "onTimeout"]
    assert found["end"] == ["sendError", "fail"] and found["effect"] == ["sendEmail"]


def boxes(items):
    return sum(1 + boxes(item.get("body", [])) + sum(boxes(l["items"]) for l in item.get("lanes", [])) for item in items)


def test_callbacks_named_by_function_and_functions_handed_to_others_are_followed():
    tree = outline("""function stepUp(context) { executeStep(2); }
var onLoginRequest = function (context) {
    executeStep(1, {onSuccess: stepUp, onFail: (context) => { ['a', 'b'].forEach(function (role) {
        assignUserRoles(context.currentKnownSubject, [role]); }); }});
};""")
    step1 = tree["items"][0]
    assert lane(step1, "onSuccess")[0]["kind"] == "function" and lane(step1, "onSuccess")[0]["body"][0]["label"] == "Step 2"
    assert lane(step1, "onFail") == [{"kind": "effect", "label": "assignUserRoles", "line": 4, "options": [], "lanes": []}]


def test_a_script_that_would_take_long_to_outline_is_cut_not_run_forever():
    helpers = "".join(f"function h{i}() {{ h{i + 1}(); h{i + 1}(); }}\n" for i in range(40))
    tree = outline(helpers + "function h40() { executeStep(1); }\nvar onLoginRequest = function (c) { h0(); };")
    assert tree["truncated"] is True


def test_nothing_of_the_script_runs_while_it_is_outlined():
    tree = outline("while (true) {}\nvar onLoginRequest = function (context) { executeStep(1); };")
    assert [item["label"] for item in tree["items"]] == ["Step 1"]


@pytest.mark.parametrize("source, line", [("var onLoginRequest = function (context) {\n  executeStep(1;\n};", 2),
                                          ("var x = 1;", None)])
def test_a_script_that_cannot_be_outlined_says_why(source, line):
    with pytest.raises(ScriptSyntaxError) as raised:
        outline(source)
    assert raised.value.line == line
    if line is None:
        assert "onLoginRequest" in raised.value.message


@pytest.fixture
def staff(admin_user):
    browser = Client()
    sign_in_to_console(browser, admin_user)
    return browser


def text_of(answer) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", answer.content.decode())))


@pytest.mark.django_db
def test_the_diagram_page_draws_the_live_version_as_boxes(staff, admin_user):
    sequence = Sequence.objects.create(name="portal")
    publish_version(SequenceVersion.objects.create(sequence=sequence, number=1, source=SCRIPT, author=admin_user))
    SequenceVersion.objects.create(sequence=sequence, number=2, source="var onLoginRequest = function (c) {\n  executeStep(1;\n};")
    page = staff.get("/console/scripts/portal/diagram/")
    assert page.status_code == 200
    html = page.content.decode()
    text = text_of(page)
    assert "portal v1 (live): flow diagram" in text
    assert "Steps Step 1, Step 2" in text and "Callbacks onSuccess, onFail, onDeny, onTimeout" in text
    assert "Calls httpGet, callChoreo" in text
    assert html.count('class="flow-node flow-step"') == 3  # step 1, and step 2 on two paths
    assert 'class="flow-node flow-again"' in html and "again: back to passwordStep" in text
    assert html.count('class="flow-node') == 1 + boxes(outline(SCRIPT)["items"]) == 14  # the entry, one per item
    assert "style=" not in html and "<script" not in html  # the CSP: nothing inline
    assert "Diagram" in text_of(staff.get("/console/scripts/portal/"))

    broken = staff.get("/console/scripts/portal/diagram/?version=2")
    assert broken.status_code == 400 and "Line 2:" in text_of(broken)
    assert staff.get("/console/scripts/nothing/diagram/").status_code == 404


@pytest.mark.django_db
def test_the_api_answers_the_same_outline_with_what_is_reachable():
    from tests.support.api import api_client

    sequence = Sequence.objects.create(name="portal")
    SequenceVersion.objects.create(sequence=sequence, number=1, source=SCRIPT)
    SequenceVersion.objects.create(sequence=sequence, number=2, source="var onLoginRequest = function (c) {\n  executeStep(1;\n};")
    reader = api_client("sequences:read", name="reader")
    answer = reader.get("/api/v1/sequences/portal/versions/1/outline/")
    assert answer.status_code == 200
    body = answer.json()
    assert body["items"] == outline(SCRIPT)["items"] and body["version"] == 1
    assert body["reachable"]["step"] == ["Step 1", "Step 2"]
    broken = reader.get("/api/v1/sequences/portal/versions/2/outline/")
    assert broken.status_code == 400 and broken.json()["errors"][0]["line"] == 2
    assert reader.get("/api/v1/sequences/portal/versions/3/outline/").status_code == 404
    assert api_client("users:read", name="other").get("/api/v1/sequences/portal/versions/1/outline/").status_code == 403
