"""The WSO2-style script API, function by function, through the simulate harness."""
import pytest

from tests.support.scripts import events, failed, logs, ok, run


# ------------------------------------------------------------------ executeStep


def test_steps_without_callbacks_run_in_order_and_succeed():
    trace = run("var onLoginRequest = function(context) { executeStep(1); executeStep(2); };",
                [ok(1), ok(2, authenticator="totp")])
    assert [e["step"] for e in events(trace, "step")] == [1, 2]
    assert trace["status"] == "success" and trace["subject"] == "alice"


def test_on_success_callback_decides_the_next_step_from_the_role():
    script = """
    var onLoginRequest = function(context) {
        executeStep(1, {
            onSuccess: function (context) {
                if (hasRole(context.currentKnownSubject, 'admin')) { executeStep(2); }
            }
        });
    };"""
    admin = run(script, [ok(1, "alice"), ok(2, "alice", authenticator="totp")])
    plain = run(script, [ok(1, "bob")])
    assert [e["step"] for e in events(admin, "step")] == [1, 2]
    assert [e["step"] for e in events(plain, "step")] == [1]
    assert admin["status"] == plain["status"] == "success"
    assert plain["subject"] == "bob"


def test_failed_step_without_on_fail_is_retried_with_the_error():
    trace = run("var onLoginRequest = function(context) { executeStep(1); };",
                [failed(1, error="Invalid credentials"), ok(1)])
    shown = events(trace, "step")
    assert len(shown) == 2
    assert shown[1]["attempt"] == 2 and shown[1]["error"] == "Invalid credentials"
    assert trace["status"] == "success"


def test_on_fail_runs_and_can_offer_another_step():
    script = """
    var onLoginRequest = function(context) {
        executeStep(1, {
            onFail: function (context) {
                Log.info('step 1 failed for ' + context.request.params.username[0]);
                executeStep(3);
            }
        });
    };"""
    trace = run(script, [failed(1, params={"username": "alice"}), ok(3, authenticator="FIDOAuthenticator")])
    assert logs(trace) == ["step 1 failed for alice"]
    assert [e["step"] for e in events(trace, "step")] == [1, 3]
    assert trace["status"] == "success"


def test_on_fail_that_does_nothing_ends_the_login_as_failed():
    trace = run("var onLoginRequest = function(context) { executeStep(1, {onFail: function(c) {}}); };", [failed(1)])
    assert trace["status"] == "failed"
    assert events(trace, "fail")[0]["params"]["errorCode"] == "access_denied"


def test_on_fallback_and_on_user_abort():
    script = """
    var onLoginRequest = function(context) {
        executeStep(1, {
            onFallback: function (context) { Log.info('fallback'); executeStep(3); },
            onUserAbort: function (context) { Log.info('aborted'); fail({errorCode: 'login_cancelled'}); }
        });
    };"""
    fell_back = run(script, [{"step": 1, "result": "fallback"}, ok(3, authenticator="FIDOAuthenticator")])
    aborted = run(script, [{"step": 1, "result": "abort"}])
    assert logs(fell_back) == ["fallback"] and fell_back["status"] == "success"
    assert logs(aborted) == ["aborted"] and aborted["status"] == "failed"
    assert events(aborted, "fail")[0]["params"] == {"errorCode": "login_cancelled"}


def test_abort_without_handler_fails_the_login():
    trace = run("var onLoginRequest = function(context) { executeStep(1); };", [{"step": 1, "result": "abort"}])
    assert trace["status"] == "failed"
    assert events(trace, "fail")[0]["params"]["errorCode"] == "access_denied"


def test_options_then_callbacks_and_options_alone():
    script = """
    var onLoginRequest = function(context) {
        executeStep(1, {
            onSuccess: function (context) {
                executeStep(2, {authenticationOptions: [{authenticator: 'totp'}]}, {
                    onSuccess: function (context) { Log.info('2 done'); }
                });
                executeStep(3, {authenticatorParams: {common: {hint: 'x'}, local: {FIDOAuthenticator: {userVerification: 'required'}}}});
            }
        });
    };"""
    trace = run(script, [ok(1), ok(2, authenticator="totp"), ok(3, authenticator="FIDOAuthenticator")])
    shown = events(trace, "step")
    assert shown[1]["options"] == [{"authenticator": "totp", "idp": "LOCAL"}]
    assert shown[2]["authenticatorParams"] == {"common": {"hint": "x"},
                                               "local": {"FIDOAuthenticator": {"userVerification": "required"}}}
    assert logs(trace) == ["2 done"]
    assert trace["status"] == "success"


def test_authentication_options_filter_by_idp_and_authenticator():
    script = """
    var onLoginRequest = function(context) {
        executeStep(3, {authenticationOptions: [{idp: 'google'}]}, {});
    };"""
    trace = run(script, [ok(3, authenticator="OpenIDConnectAuthenticator", idp="google")])
    assert events(trace, "step")[0]["options"] == [{"authenticator": "OpenIDConnectAuthenticator", "idp": "google"}]
    assert trace["status"] == "success"


def test_a_filter_that_removes_everything_is_ignored_with_a_warning():
    trace = run("var onLoginRequest = function(c) { executeStep(2, {authenticationOptions: [{authenticator: 'sms'}]}, {}); };",
                [ok(2, authenticator="email-otp")])
    assert len(events(trace, "step")[0]["options"]) == 2
    warnings = [e for e in events(trace, "log") if e["level"] == "warn"]
    assert len(warnings) == 1 and "match no option of step 2" in warnings[0]["message"]


def test_answer_with_an_authenticator_the_filter_removed_is_refused():
    from sequences.harness.scenario import ScenarioError

    with pytest.raises(ScenarioError, match="does not offer email-otp"):
        run("var onLoginRequest = function(c) { executeStep(2, {authenticationOptions: [{authenticator: 'totp'}]}, {}); };",
            [ok(2, authenticator="email-otp")])


def test_step_options_are_passed_on_and_subject_identifier_step_wins():
    script = """
    var onLoginRequest = function(context) {
        executeStep(1);
        executeStep(2, {stepOptions: {markAsSubjectIdentifierStep: 'true', forceAuth: true, skipPrompt: 'false'}}, {});
    };"""
    trace = run(script, [ok(1, "alice"), ok(2, "bob", authenticator="totp")])
    assert events(trace, "step")[1]["stepOptions"] == {"markAsSubjectIdentifierStep": True, "forceAuth": True,
                                                      "skipPrompt": False}
    assert trace["subject"] == "bob"


def test_attribute_step_supplies_the_flow_claims():
    script = """
    var onLoginRequest = function(context) {
        executeStep(1, {onSuccess: function(c) { c.steps[1].subject.claims['http://wso2.org/claims/role'] = 'first'; }});
        executeStep(2, {stepOptions: {markAsSubjectAttributeStep: true}}, {
            onSuccess: function(c) { c.steps[2].subject.claims['http://wso2.org/claims/role'] = 'second'; }
        });
    };"""
    trace = run(script, [ok(1, "alice"), ok(2, "bob", authenticator="totp")])
    assert trace["subject"] == "alice"
    assert trace["claims"] == {"http://wso2.org/claims/role": "second"}


def test_unconfigured_step_is_a_script_error_with_its_line():
    trace = run("var onLoginRequest = function(context) {\n    executeStep(7);\n};")
    error = events(trace, "error")[0]
    assert trace["status"] == "error" and trace["exit"] == 1
    assert "step 7 is not configured" in error["message"]
    assert error["line"] == 2


# ------------------------------------------------------------------ fail, sendError, Log, prompt


def test_fail_with_and_without_a_map():
    bare = run("var onLoginRequest = function(c) { executeStep(1, {onSuccess: function(c) { fail(); }}); };", [ok(1)])
    mapped = run("""var onLoginRequest = function(c) {
        fail({'errorCode': 'access_denied', 'errorMessage': 'login could not be completed', 'errorURI': 'http://example.com/e'});
        Log.info('never reached');
    };""")
    assert bare["status"] == "failed" and events(bare, "fail")[0]["params"] == {}
    assert events(mapped, "fail")[0]["params"] == {"errorCode": "access_denied",
                                                   "errorMessage": "login could not be completed",
                                                   "errorURI": "http://example.com/e"}
    assert logs(mapped) == []


def test_send_error_with_url_and_params():
    script = """
    var onLoginRequest = function(context) {
        executeStep(1, {onSuccess: function(context) {
            if (!hasRole(context.steps[1].subject, 'admin')) {
                sendError('/error', {'errorcode': '000403', 'errorMsg': 'You are not allowed to login to this app.'});
            }
        }});
    };"""
    trace = run(script, [ok(1, "bob")])
    assert trace["status"] == "failed"
    assert events(trace, "sendError") == [{"type": "sendError", "url": "/error",
                                           "params": {"errorcode": "000403",
                                                      "errorMsg": "You are not allowed to login to this app."}}]
    assert run(script, [ok(1, "alice")])["status"] == "success"


def test_log_levels_and_values():
    trace = run("""var onLoginRequest = function(context) {
        Log.debug('d'); Log.info('i', 2, {a: 1}); Log.warn('w'); Log.error('e'); console.log('via console');
        executeStep(1);
    };""", [ok(1)])
    assert [(e["level"], e["message"]) for e in events(trace, "log")] == [
        ("debug", "d"), ("info", 'i 2 {"a":1}'), ("warn", "w"), ("error", "e"), ("info", "via console")]


def test_each_log_line_is_delivered_once_across_replays():
    trace = run("""var onLoginRequest = function(context) {
        Log.info('before');
        executeStep(1, {onSuccess: function() { Log.info('after 1'); }});
        executeStep(2);
    };""", [ok(1), ok(2, authenticator="totp")])
    assert logs(trace) == ["before", "after 1"]


def test_prompt_shows_data_and_passes_the_answer_as_request_params():
    script = """
    var onLoginRequest = function(context) {
        executeStep(1, {onSuccess: function (context) {
            var username = context.steps[1].subject.username;
            prompt("genericForm", {"username": username, "inputs": [{"id": "fname", "label": "First Name"}]}, {
                onSuccess: function (context) {
                    Log.info('hello ' + context.request.params.fname[0] + ' (' + username + ')');
                }
            });
        }});
    };"""
    trace = run(script, [ok(1), {"prompt": "genericForm", "action": "success", "params": {"fname": ["Ann"]}}])
    assert events(trace, "prompt") == [{"type": "prompt", "templateId": "genericForm",
                                        "data": {"username": "alice", "inputs": [{"id": "fname", "label": "First Name"}]}}]
    assert logs(trace) == ["hello Ann (alice)"]


def test_prompt_actions_select_their_handler():
    script = """var onLoginRequest = function(c) {
        prompt('choice', {}, {onSuccess: function() { Log.info('ok'); }, onSkip: function() { Log.info('skipped'); },
                              onRetry: function() { Log.info('retry'); }});
        executeStep(1);
    };"""
    for action, line in (("success", "ok"), ("skip", "skipped"), ("retry", "retry")):
        trace = run(script, [{"prompt": "choice", "action": action}, ok(1)])
        assert logs(trace) == [line]


def test_waiting_when_the_outcomes_run_out():
    trace = run("var onLoginRequest = function(c) { executeStep(1); prompt('consent', {scopes: ['email']}); };", [ok(1)])
    assert trace["status"] == "waiting" and trace["exit"] == 0
    assert trace["events"][-1] == {"type": "prompt", "templateId": "consent", "data": {"scopes": ["email"]}}


# ------------------------------------------------------------------ roles, groups, effects


def test_role_and_group_checks():
    script = """var onLoginRequest = function(context) {
        executeStep(1, {onSuccess: function (context) {
            var u = context.currentKnownSubject;
            Log.info([hasRole(u, 'admin'), hasRole(u, 'user'), hasAnyOfTheRoles(u, ['x', 'admin']),
                      hasAnyOfTheRoles(u, ['x', 'y']), isMemberOfAnyOfGroups(u, ['staff']),
                      isMemberOfAnyOfGroups(u, ['nobody']), u.roles.join(',')].join(' '));
        }});
    };"""
    assert logs(run(script, [ok(1, "alice")])) == ["true false true false true false admin"]
    assert logs(run(script, [ok(1, "bob")])) == ["false true false false false false user"]


def test_assign_and_remove_roles_are_effects_seen_by_later_checks():
    script = """var onLoginRequest = function(context) {
        executeStep(1, {onSuccess: function (context) {
            var user = context.currentKnownSubject;
            var added = assignUserRoles(user, ['exampleRole1', 'exampleRole2']);
            var removed = removeUserRoles(user, ['admin']);
            Log.info(added + ' ' + removed + ' ' + hasRole(user, 'exampleRole1') + ' ' + hasRole(user, 'admin'));
            executeStep(2);
        }});
    };"""
    trace = run(script, [ok(1), ok(2, authenticator="totp")])
    assert events(trace, "effect") == [
        {"type": "effect", "name": "assignUserRoles", "args": ["alice", ["exampleRole1", "exampleRole2"]], "result": True},
        {"type": "effect", "name": "removeUserRoles", "args": ["alice", ["admin"]], "result": True},
    ]
    assert logs(trace) == ["true true true false"]


def test_assigning_an_unknown_role_returns_false():
    trace = run("""var onLoginRequest = function(context) {
        executeStep(1, {onSuccess: function (context) {
            Log.info(String(assignUserRoles(context.currentKnownSubject, ['nonexistent'])));
        }});
    };""", [ok(1)], roles=["admin", "user"])
    assert logs(trace) == ["false"]


def test_api_functions_refuse_a_forged_user_object():
    trace = run("var onLoginRequest = function(c) {\n  assignUserRoles({username: 'alice'}, ['admin']);\n};")
    error = events(trace, "error")[0]
    assert "must be a user object" in error["message"] and error["line"] == 2
    assert events(trace, "effect") == []


# ------------------------------------------------------------------ objects


def test_context_request_response_and_service_provider():
    script = """var onLoginRequest = function(context) {
        var r = context.request;
        Log.info([context.serviceProviderName, r.ip, r.headers['User-Agent'], r.params.lang[0], r.cookies.seen].join('|'));
        context.response.headers['X-Frame-Options'] = 'DENY';
        executeStep(1);
    };"""
    trace = run(script, [], request={"ip": "198.51.100.7", "headers": {"User-Agent": "UA/1", "Cookie": "secret=1"},
                                     "params": {"lang": "en"}, "cookies": {"seen": "yes"}})
    assert logs(trace) == ["portal|198.51.100.7|UA/1|en|yes"]
    assert trace["status"] == "waiting"
    assert events(trace, "step")[0]["responseHeaders"] == {"X-Frame-Options": "DENY"}


def test_request_headers_that_carry_secrets_are_not_given_to_scripts():
    trace = run("var onLoginRequest = function(c) { Log.info(String(c.request.headers['Cookie'])); };",
                request={"headers": {"Cookie": "sessionid=abc"}})
    assert logs(trace) == ["undefined"]


def test_steps_and_user_objects():
    script = """var onLoginRequest = function(context) {
        Log.info('before: ' + context.steps[1].subject + ' ' + context.currentKnownSubject);
        executeStep(1, {onSuccess: function (context) {
            var step = context.steps[1];
            var user = step.subject;
            Log.info([step.idp, step.authenticator, user.username, user.tenantDomain, user.userStoreDomain,
                      user.localClaims['http://wso2.org/claims/dob'], user.localClaims['http://wso2.org/claims/none'],
                      context.steps[2].subject].join('|'));
        }});
        executeStep(3, {onSuccess: function (context) {
            var fed = context.steps[3];
            Log.info(fed.idp + ' ' + fed.subject.remoteClaims['sub']);
        }});
    };"""
    trace = run(script, [ok(1), ok(3, authenticator="OpenIDConnectAuthenticator", idp="google",
                                  remoteClaims={"sub": "g-123"})])
    assert logs(trace) == ["before: null null",
                           "LOCAL|BasicAuthenticator|alice|carbon.super|PRIMARY|1990-01-31||",
                           "google g-123"]


def test_local_claims_write_is_an_effect_and_claims_are_flow_only():
    script = """var onLoginRequest = function(context) {
        executeStep(1, {onSuccess: function (context) {
            var user = context.currentKnownSubject;
            user.localClaims['http://wso2.org/claims/mobile'] = '+15550100';
            user.claims['http://wso2.org/claims/acr'] = 'mfa';
            Log.info(user.localClaims['http://wso2.org/claims/mobile'] + ' ' + user.claims['http://wso2.org/claims/acr']);
        }});
    };"""
    trace = run(script, [ok(1)])
    assert events(trace, "effect") == [{"type": "effect", "name": "setLocalClaim",
                                        "args": ["alice", "http://wso2.org/claims/mobile", "+15550100"], "result": True}]
    assert logs(trace) == ["+15550100 mfa"]
    assert trace["claims"] == {"http://wso2.org/claims/acr": "mfa"}


def test_a_script_that_never_identifies_a_user_fails():
    trace = run("var onLoginRequest = function(context) { Log.info('nothing to do'); };")
    assert trace["status"] == "failed"
    assert "without identifying a user" in events(trace, "fail")[0]["params"]["errorMessage"]


def test_function_declarations_and_implicit_globals_work():
    trace = run("""
    function isRisky(ip) { for (i = 0; i < blocked.length; i++) { if (blocked[i] === ip) return true; } return false; }
    blocked = ['203.0.113.9'];
    function onLoginRequest(context) {
        if (isRisky(context.request.ip)) { executeStep(1); executeStep(2); } else { executeStep(1); }
    }""", [ok(1), ok(2, authenticator="totp")])
    assert [e["step"] for e in events(trace, "step")] == [1, 2]
    assert trace["status"] == "success"


# ------------------------------------------------------------------ sessions

PHONE = {"id": "s-phone", "ip": "198.51.100.7", "loginTime": "2026-05-01T08:00:00Z",
         "lastAccessTime": "2026-05-01T09:30:00Z", "applications": ["wiki"],
         "userAgent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 "
                      "(KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1"}
LAPTOP = {"id": "s-laptop", "ip": "203.0.113.9", "loginTime": "2026-05-01T09:00:00Z", "applications": ["portal"],
          "userAgent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"}


def with_sessions(*sessions):
    from tests.support.scripts import DEFAULT_USERS
    import copy

    users = copy.deepcopy(DEFAULT_USERS)
    users["alice"]["sessions"] = list(sessions)
    return users


def test_get_user_sessions_gives_session_user_agent_and_application_objects():
    trace = run("""
    var onLoginRequest = function(context) {
        executeStep(1, {onSuccess: function (context) {
            var sessions = getUserSessions(context.currentKnownSubject);
            for (var key in sessions) {
                var s = sessions[key];
                Log.info([s.id, s.ip, new Date(s.loginTime).toISOString(), new Date(s.lastAccessTime).toISOString(),
                          s.userAgent.browser, s.userAgent.platform, s.userAgent.device,
                          s.applications[0].appName, s.applications[0].subject].join(' | '));
            }
        }});
    };""", [ok(1)], users=with_sessions(PHONE))
    assert logs(trace) == ["s-phone | 198.51.100.7 | 2026-05-01T08:00:00.000Z | 2026-05-01T09:30:00.000Z | "
                           "Mobile Safari 17 | iOS 17.1 | iPhone | wiki | alice"]


def test_terminate_user_session_is_an_effect_and_later_lists_leave_it_out():
    trace = run("""
    var onLoginRequest = function(context) {
        executeStep(1, {onSuccess: function (context) {
            var user = context.currentKnownSubject;
            var sessions = getUserSessions(user);
            Log.info('by object: ' + terminateUserSession(user, sessions[0]));
            Log.info('by id: ' + terminateUserSession(user, 's-laptop'));
            Log.info('unknown: ' + terminateUserSession(user, 'no-such-session'));
            Log.info('left: ' + getUserSessions(user).length);
        }});
    };""", [ok(1)], users=with_sessions(PHONE, LAPTOP))
    assert logs(trace) == ["by object: true", "by id: true", "unknown: false", "left: 0"]
    assert [e["args"] for e in events(trace, "effect")] == [["alice", "s-phone"], ["alice", "s-laptop"],
                                                            ["alice", "no-such-session"]]


def test_terminate_user_session_refuses_a_value_that_is_not_a_session():
    trace = run("""
    var onLoginRequest = function(context) {
        executeStep(1, {onSuccess: function (context) { terminateUserSession(context.currentKnownSubject, 42); }});
    };""", [ok(1)])
    assert trace["status"] == "error" and "terminateUserSession: the session must be a session id" in events(trace, "error")[0]["message"]


SSO_SCRIPT = """
var onLoginRequest = function(context) {
    Log.info('apps: ' + getAuthenticatedApplications(context).map(function (a) { return a.appName + '/' + a.appId; }).join(','));
    Log.info('step 1 in session: ' + checkSessionExistence(1, context) + ', step 2: ' + checkSessionExistence(2, context));
    executeStep(1, {onSuccess: function (context) {
        Log.info('step 1 by ' + context.steps[1].subject.username + ' with ' + context.steps[1].authenticator);
        executeStep(2);
    }});
};"""


def test_steps_the_browser_session_passed_are_answered_from_it():
    session = {"user": "alice", "authenticated": ["BasicAuthenticator"], "applications": ["wiki"]}
    trace = run(SSO_SCRIPT, [ok(2, authenticator="totp")], session=session)
    assert logs(trace) == ["apps: wiki/wiki", "step 1 in session: true, step 2: false",
                           "step 1 by alice with BasicAuthenticator"]
    assert events(trace, "sso") == [{"type": "sso", "step": 1, "user": "alice",
                                     "authenticator": "BasicAuthenticator", "idp": "LOCAL"}]
    assert [e["step"] for e in events(trace, "step")] == [2]
    assert events(trace, "step")[0]["subject"] == "alice"
    assert trace["status"] == "success" and trace["subject"] == "alice"


def test_without_a_session_nothing_is_answered_and_the_functions_say_so():
    trace = run(SSO_SCRIPT, [ok(1), ok(2, authenticator="totp")])
    assert logs(trace)[:2] == ["apps: ", "step 1 in session: false, step 2: false"]
    assert events(trace, "sso") == [] and [e["step"] for e in events(trace, "step")] == [1, 2]


def test_force_auth_and_another_subject_are_not_answered_from_the_session():
    session = {"user": "alice", "authenticated": ["BasicAuthenticator", "totp"]}
    forced = run("""
    var onLoginRequest = function(context) { executeStep(1, {stepOptions: {forceAuth: 'true'}}, {}); };""",
                 [ok(1)], session=session)
    assert events(forced, "sso") == [] and len(events(forced, "step")) == 1
    # bob passed step 1 here; alice's session must not answer bob's step 2
    other = run("var onLoginRequest = function(context) { executeStep(1, {stepOptions: {forceAuth: true}}, {}); executeStep(2); };",
                [ok(1, "bob"), ok(2, "bob", authenticator="totp")], session=session)
    assert events(other, "sso") == [] and events(other, "step")[1]["subject"] == "bob"
    assert other["subject"] == "bob"


# ------------------------------------------------------------------ the rest of the API (issue 5)

CALLS = """
var onLoginRequest = function(context) {
    executeStep(1, {onSuccess: function (context) {
        var user = context.currentKnownSubject;
        httpGet('https://risk.example.com/score?user=' + user.username, {Accept: 'application/json'}, {
            onSuccess: function (context, data) { Log.info('score ' + data.score); if (data.score > 50) { executeStep(2); } },
            onFail: function (context, data) { Log.info('failed ' + JSON.stringify(data)); },
            onTimeout: function (context, data) { Log.info('timeout'); executeStep(2); }
        });
    }});
};"""


@pytest.mark.parametrize("outcome, expected_log, steps", [
    ({"call": "httpGet", "result": "success", "data": {"score": 80}}, "score 80", [1, 2]),
    ({"call": "httpGet", "result": "success", "data": {"score": 10}}, "score 10", [1]),
    ({"call": "httpGet", "result": "fail", "data": {"status": 500}}, 'failed {"status":500}', [1]),
    ({"call": "httpGet", "result": "timeout"}, "timeout", [1, 2]),
])
def test_http_get_suspends_and_its_outcome_picks_the_handler(outcome, expected_log, steps):
    trace = run(CALLS, [ok(1), outcome, ok(2, authenticator="totp")], allowedEndpoints=["https://risk.example.com"])
    call = events(trace, "call")[0]
    assert call == {"type": "call", "function": "httpGet", "method": "GET",
                    "url": "https://risk.example.com/score?user=alice", "headers": {"Accept": "application/json"}}
    assert logs(trace) == [expected_log]
    assert [e["step"] for e in events(trace, "step")] == steps and trace["status"] == "success"


def test_http_post_and_call_analytics_carry_their_bodies_and_a_missing_on_timeout_falls_back_to_on_fail():
    trace = run("""
    var onLoginRequest = function(context) {
        httpPost('https://api.example.com/check', {user: 'x', n: 2}, {}, {
            onFail: function (context, data) { Log.info('post fell back to onFail'); }
        });
        callAnalytics({Application: 'risk', InputStream: 'in'}, {ip: context.request.ip}, {
            onSuccess: function (context, data) { Log.info('analytics ' + data.decision); }
        });
        executeStep(1);
    };""", [{"call": "httpPost", "result": "timeout"}, {"call": "callAnalytics", "result": "success",
                                                         "data": {"decision": "allow"}}, ok(1)],
                allowedEndpoints=["https://api.example.com/check"])
    first, second = events(trace, "call")
    assert first["body"] == {"user": "x", "n": 2} and first["method"] == "POST" and "headers" not in first
    assert second == {"type": "call", "function": "callAnalytics", "metadata": {"Application": "risk", "InputStream": "in"},
                      "payload": {"ip": "203.0.113.9"}}
    assert logs(trace) == ["post fell back to onFail", "analytics allow"]


def test_a_call_outcome_that_does_not_fit_is_named():
    from sequences.harness.scenario import ScenarioError

    with pytest.raises(ScenarioError, match=r"outcomes\[1\]: the script called httpGet, but this outcome answers step 2"):
        run(CALLS, [ok(1), ok(2)], allowedEndpoints=["https://risk.example.com"])


def test_cookies_set_as_effects_and_read_signed_or_encrypted():
    script = """
    var onLoginRequest = function(context) {
        Log.info([getCookieValue(context.request, 'plain'),
                  getCookieValue(context.request, 'signed', {validateSignature: true}),
                  getCookieValue(context.request, 'sealed', {decrypt: true}),
                  getCookieValue(context.request, 'plain', {validateSignature: true}),
                  getCookieValue(context.request, 'sealed', {validateSignature: true}),
                  getCookieValue(context.request, 'missing')].join('|'));
        executeStep(1, {onSuccess: function (context) {
            setCookie(context.response, 'device', 'd-1', {'max-age': 600, path: '/', httpOnly: true, secure: 'true',
                                                          sameSite: 'Lax', sign: true, version: 1});
        }});
    };"""
    trace = run(script, [ok(1)], request={"ip": "203.0.113.9", "headers": {}, "params": {}, "cookies": {
        "plain": "p", "signed": {"value": "s", "sign": True}, "sealed": {"value": "e", "encrypt": True}}})
    assert logs(trace) == ["p|s|e|||"]
    assert events(trace, "effect") == [{"type": "effect", "name": "setCookie", "result": True, "args": [
        "device", "d-1", {"maxAge": 600, "path": "/", "httpOnly": True, "secure": True, "sameSite": "Lax", "sign": True}]}]


def test_simulate_refuses_the_server_s_own_cookies_as_a_server_does():
    trace = run("""var onLoginRequest = function(context) {
        executeStep(1, {onSuccess: function (context) {
            Log.info([setCookie(context.response, 'sessionid', 'x'), setCookie(context.response, '__Host-x', 'x'),
                      setCookie(context.response, 'device', 'x')].join('|'));
        }});
    };""", [ok(1)])
    assert logs(trace) == ["false|false|true"]


def test_a_tampered_or_foreign_cookie_reads_as_null():
    from authflow import cookies

    signed = cookies.encode("device", "d-1", sign=True)
    body, _, digest = signed.partition(".")[2].partition(".")
    forged_body = cookies.encode("device", "d-2", sign=True).split(".")[1]
    other_cookie = cookies.encode("other", "d-1", sign=True)
    sealed = cookies.encode("device", "d-1", encrypt=True)
    for raw in (f"s1.{forged_body}.{digest}", other_cookie, sealed[:-3] + "AAA", "s1.garbage"):
        trace = run("""var onLoginRequest = function(context) {
            Log.info(String(getCookieValue(context.request, 'device', {validateSignature: true, decrypt: false})) + '/' +
                     String(getCookieValue(context.request, 'device', {decrypt: true})));
            executeStep(1);
        };""", [ok(1)], request={"ip": None, "headers": {}, "params": {}, "cookies": {"device": raw}})
        assert logs(trace) == ["null/null"], raw
    assert cookies.decode("device", signed, validate=True) == "d-1"


def test_users_found_by_claims():
    users = {"alice": {"roles": [], "groups": [], "claims": {"http://wso2.org/claims/emailaddress": "a@x.com", "t": "red"}},
             "bob": {"roles": ["admin"], "groups": [], "claims": {"http://wso2.org/claims/emailaddress": "b@x.com", "t": "red"}}}
    trace = run("""var onLoginRequest = function(context) {
        var bob = getUniqueUserWithClaimValues({'http://wso2.org/claims/emailaddress': 'b@x.com'}, context);
        var reds = getUsersWithClaimValues({t: 'red'}, context);
        var nobody = getUniqueUserWithClaimValues({t: 'blue'}, context);
        var many = getUniqueUserWithClaimValues({t: 'red'}, context);
        Log.info([bob.username, hasRole(bob, 'admin'), reds.length, nobody, many, getUsersWithClaimValues({}, context).length].join('|'));
        executeStep(1);
    };""", [ok(1)], users=users)
    assert logs(trace) == ["bob|true|2|||0"]


def test_secrets_are_read_but_never_journaled():
    trace = run("""var onLoginRequest = function(context) {
        Log.info(getMaskedValue(getSecretByName('apiKey')) + ' ' + getSecretByName('missing'));
        executeStep(1);
    };""", [], secrets={"apiKey": "sk-live-123456"})
    assert logs(trace) == ["s************6 null"]


def test_update_user_password_is_validated_and_never_traced():
    trace = run("""var onLoginRequest = function(context) {
        executeStep(1, {onSuccess: function (context) {
            var u = context.currentKnownSubject;
            Log.info(updateUserPassword(u, '123') + ' ' + updateUserPassword(u, 'a-Long-and-unusual-passphrase-7'));
        }});
    };""", [ok(1)])
    assert logs(trace) == ["false true"]
    assert [e["args"] for e in events(trace, "effect")] == [["alice", "[redacted]"], ["alice", "[redacted]"]]
    assert "passphrase" not in str(trace)


def test_utilities_decode_mask_filter_and_select_acr():
    import base64
    import json

    def part(obj):
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")

    jwt = f"{part({'alg': 'RS256', 'kid': 'k1'})}.{part({'state': 'xyz', 'n': 5, 'nested': {'a': 'é'}})}.signature"
    trace = run("""var onLoginRequest = function(context) {
        var jwt = context.request.params.request[0];
        Log.info([getValueFromDecodedAssertion(jwt, 'state', true), getValueFromDecodedAssertion(jwt, 'n', true),
                  getValueFromDecodedAssertion(jwt, 'nested', true), getValueFromDecodedAssertion(jwt, 'kid', false),
                  getValueFromDecodedAssertion(jwt, 'absent', true), getValueFromDecodedAssertion('not-a-jwt', 'a', true),
                  getValueFromDecodedAssertion('a.%%%.c', 'a', true)].join('|'));
        Log.info(getMaskedValue('alice@example.com') + ' ' + getMaskedValue('0123456789'));
        Log.info(JSON.stringify(filterAuthenticators([{authenticator: 'totp', idp: 'LOCAL'},
            {authenticator: 'email-otp', idp: 'LOCAL'}, {authenticator: 'OpenIDConnectAuthenticator', idp: 'google'}], 'totp')));
        var acr = selectAcrFrom(context, ['urn:mfa', 'urn:pwd']);
        Log.info(acr + ' ' + JSON.stringify(context.requestedAcr) + ' ' + selectAcrFrom(context, ['urn:other']));
        context.selectedAcr = acr;
        executeStep(1);
    };""", [ok(1)], request={"ip": None, "headers": {}, "params": {"request": jwt, "acr_values": "urn:gold urn:mfa urn:pwd"},
                              "cookies": {}})
    assert logs(trace) == ['xyz|5|{"a":"é"}|k1|||', "a***e@e*****e.com 0********9",
                           '[{"authenticator":"email-otp"},{"idp":"google"}]',
                           'urn:mfa ["urn:gold","urn:mfa","urn:pwd"] null']
    assert trace["acr"] == "urn:mfa"


LIBRARY = """
var threshold = 50;
function risky(score) { return score > threshold; }
module.exports = {risky: risky, roles: function (user) { return user.roles.length; }};
"""


def test_libraries_are_loaded_with_the_api_and_pinned():
    trace = run("""var onLoginRequest = function(context) {
        var risk = loadLocalLibrary('risk');
        var again = require('risk');
        executeStep(1, {onSuccess: function (context) {
            Log.info(risk.risky(80) + ' ' + risk.risky(10) + ' ' + risk.roles(context.currentKnownSubject) + ' ' + (risk === again));
        }});
    };""", [ok(1)], libraries={"risk": LIBRARY})
    assert logs(trace) == ["true false 1 true"] and trace["status"] == "success"


def test_library_errors_name_the_library_and_its_line():
    missing = run("var onLoginRequest = function(context) { loadLocalLibrary('nope'); };", [])
    assert 'there is no library named "nope"' in events(missing, "error")[0]["message"]
    broken = run("var onLoginRequest = function(context) { loadLocalLibrary('bad').f(); };", [],
                 libraries={"bad": "module.exports = {f: function () {\n  return undefinedThing.x;\n}};"})
    error = events(broken, "error")[0]
    assert error["library"] == "bad" and error["line"] == 2 and "undefinedThing" in error["message"]
    asynchronous = run("var onLoginRequest = function(context) { loadLocalLibrary('a'); };", [],
                       libraries={"a": "module.exports = async function () {};"})
    assert "async functions are not supported" in events(asynchronous, "error")[0]["message"]


def test_prompt_identifier_for_step_passes_the_username_on():
    trace = run("""var onLoginRequest = function(context) {
        promptIdentifierForStep(1, {onSuccess: function (context) {
            var name = context.request.params.username[0];
            executeStep(1, {authenticatorParams: {common: {username: name, inputType: 'identifierFirst'}}}, {});
        }});
    };""", [{"prompt": "identifierForStep", "params": {"username": "alice"}}, ok(1)])
    prompt, step = events(trace, "prompt")[0], events(trace, "step")[0]
    assert prompt["templateId"] == "identifierForStep" and prompt["data"] == {"step": 1}
    assert step["authenticatorParams"] == {"common": {"username": "alice", "inputType": "identifierFirst"}}


ASSOCIATE = """var onLoginRequest = function(context) {
    executeStep(3, {onSuccess: function (context) {
        var federated = context.currentKnownSubject;
        var local = getAssociatedLocalUser(federated);
        if (local === null) {
            Log.info('first visit of ' + federated.username + ' from ' + context.steps[3].idp);
            executeStep(1, {onSuccess: function (context) {
                Log.info('linked: ' + doAssociationWithLocalUser(federated, context.steps[1].subject.username,
                                                                 'carbon.super', 'PRIMARY'));
            }});
        } else {
            Log.info('known: ' + local.username + ' ' + hasRole(local, 'admin'));
        }
    }});
};"""


def test_a_federated_user_is_linked_to_a_local_account_and_found_again():
    federated = {"step": 3, "result": "success", "user": "g-1234", "idp": "google",
                 "authenticator": "OpenIDConnectAuthenticator", "remoteClaims": {"email": "a@x.com"}}
    first = run(ASSOCIATE, [federated, ok(1)])
    assert logs(first) == ["first visit of g-1234 from google", "linked: true"]
    assert events(first, "effect")[0]["args"] == ["google", "g-1234", "alice"]
    again = run(ASSOCIATE, [federated], associations={"google:g-1234": "alice"})
    assert logs(again) == ["known: alice true"]
    local = run("""var onLoginRequest = function(context) {
        executeStep(1, {onSuccess: function (context) {
            Log.info(String(getAssociatedLocalUser(context.currentKnownSubject)) + ' ' +
                     doAssociationWithLocalUser(context.currentKnownSubject, 'bob'));
        }});
    };""", [ok(1)])
    assert logs(local) == ["null false"]  # a local user is not a federated one
