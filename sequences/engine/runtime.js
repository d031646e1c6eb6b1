// The deterministic core of the script engine, loaded once into each V8 isolate.
//
// A run replays a script from its entry point against a journal of everything
// that already happened in the flow.  Every API call that needs an answer the
// journal does not hold yet (a step, a prompt, an effect, a user lookup)
// *halts* the run and becomes the command Python acts on; Python then appends
// the answer to the journal and runs the script again.  Because time,
// randomness and every read of server data come from the journal, a replay
// always takes the same path, so closures survive round trips and any worker
// can resume any flow.
//
// After this file runs, every intrinsic reachable from the global object is
// frozen: one script cannot change a builtin or an API function for the next
// run sharing this isolate.  The only global it adds is `__authflow`, frozen,
// which refuses to run while a run is in progress.
(function (global) {
  "use strict";

  // ---------------------------------------------------------------- constants
  const SCRIPT_URL = "authflow-script";
  const LIBRARY_URL = "authflow-library:";
  const BODY_PREFIX = "with (__scope) {";
  // Function() puts "function anonymous(__scope\n) {\n" before the body.
  const HEADER_LINES = 2;
  // Entry points any profile may call; the compiled script exports them all.
  const ENTRY_POINTS = [
    "onLoginRequest",
    "onAuthenticateSuccess",
    "onTokenGenerating",
    "onPostAuthorize",
    "authenticate",
    "getUserName",
    "execute",
  ];
  const MAX_PROGRAMS = 256;
  const MAX_LOGS_PER_RUN = 200;
  const MAX_LOG_LENGTH = 4000;
  const MAX_JSON_DEPTH = 16;
  const DEFAULT_TENANT = "carbon.super";
  const DEFAULT_USER_STORE = "PRIMARY";
  const STEP_OPTION_FLAGS = ["forceAuth", "markAsSubjectIdentifierStep", "markAsSubjectAttributeStep", "skipPrompt"];

  // Intrinsics captured before anything can touch them.
  const RealDate = global.Date;
  const RealFunction = global.Function;
  const JSONstringify = JSON.stringify;
  const JSONparse = JSON.parse;
  const ObjectFreeze = Object.freeze;
  const ObjectCreate = Object.create;
  const ObjectKeys = Object.keys;
  const ObjectDefineProperty = Object.defineProperty;
  const ObjectGetPrototypeOf = Object.getPrototypeOf;
  const ObjectGetOwnPropertyDescriptor = Object.getOwnPropertyDescriptor;
  const ReflectOwnKeys = Reflect.ownKeys;
  const ReflectConstruct = Reflect.construct;
  const ArrayIsArray = Array.isArray;
  const RealMap = Map;
  const RealSet = Set;
  const RealWeakMap = WeakMap;
  const RealProxy = Proxy;
  const RealError = Error;
  const RealTypeError = TypeError;
  const RealReferenceError = ReferenceError;

  // Thrown to unwind the script's stack when a run halts.  A script that
  // catches it gains nothing: every API call after a halt throws it again
  // and the run's result is the halting command whatever the script does.
  const HALT = ObjectFreeze({ toString: () => "authflow: run halted" });

  // ------------------------------------------------------------ run state
  let run = null; // the run in progress, null between runs
  const programs = new RealMap(); // program key -> compiled factory (LRU)
  const libraries = new RealMap(); // "library:<name>:<key>" -> compiled factory (LRU)
  const userIdentity = new RealWeakMap(); // user object -> username
  const userIdp = new RealWeakMap(); // user object -> the identity provider that authenticated it (federated users)
  const errorFrames = new RealWeakMap(); // error -> first script frame

  function current() {
    if (run === null) {
      throw new RealError("authflow API used outside a script run (deferred work such as Promise callbacks is not allowed)");
    }
    if (run.halted) throw HALT;
    return run;
  }

  function halt(command) {
    const r = run;
    r.halted = true;
    r.command = command;
    throw HALT;
  }

  // ------------------------------------------------------------ json helpers
  // Values leaving the sandbox are copied into plain JSON: user objects become
  // usernames, functions and symbols disappear, cycles and depth are bounded.
  function toPlain(value, depth) {
    depth = depth || 0;
    if (depth > MAX_JSON_DEPTH) throw new RealTypeError("value nested too deeply to pass to the server");
    if (value === null || value === undefined) return null;
    const t = typeof value;
    if (t === "string" || t === "boolean") return value;
    if (t === "number") return Number.isFinite(value) ? value : null;
    if (t === "bigint") return String(value);
    if (t === "function" || t === "symbol") return undefined;
    if (userIdentity.has(value)) return userIdentity.get(value);
    if (value instanceof RealDate) return RealDate.prototype.toISOString.call(value);
    if (ArrayIsArray(value)) {
      const out = [];
      for (let i = 0; i < value.length; i++) {
        const v = toPlain(value[i], depth + 1);
        out.push(v === undefined ? null : v);
      }
      return out;
    }
    const out = {};
    for (const key of ObjectKeys(value)) {
      const v = toPlain(value[key], depth + 1);
      if (v !== undefined) out[key] = v;
    }
    return out;
  }

  function toStringMap(value, what) {
    if (value === undefined || value === null) return {};
    if (typeof value !== "object" || ArrayIsArray(value)) {
      throw new RealTypeError(what + " must be an object of names to values");
    }
    const out = {};
    for (const key of ObjectKeys(value)) {
      const v = value[key];
      if (v === undefined || v === null || typeof v === "function") continue;
      out[key] = typeof v === "object" ? JSONstringify(toPlain(v)) : String(v);
    }
    return out;
  }

  // ------------------------------------------------------------ time & randomness
  function clockNow() {
    const r = current();
    let value;
    if (r.clockCursor < r.journal.clock.length) {
      value = r.journal.clock[r.clockCursor];
    } else {
      // Time never runs backwards inside a flow, even across workers.
      const last = r.clockCursor > 0 ? r.journal.clock[r.clockCursor - 1] : -Infinity;
      value = r.now > last ? r.now : last;
      r.journal.clock.push(value);
      r.newClock.push(value);
    }
    r.clockCursor++;
    return value;
  }

  // sfc32, seeded per flow: the k-th call in a flow always returns the same value.
  function sfc32(s) {
    const t = (((s[0] + s[1]) | 0) + s[3]) | 0;
    s[3] = (s[3] + 1) | 0;
    s[0] = s[1] ^ (s[1] >>> 9);
    s[1] = (s[2] + (s[2] << 3)) | 0;
    s[2] = (s[2] << 21) | (s[2] >>> 11);
    s[2] = (s[2] + t) | 0;
    return (t >>> 0) / 4294967296;
  }

  function seededState(seed) {
    const s = [0x9e3779b9, 0x243f6a88, 0xb7e15162, seed | 0];
    for (let i = 0; i < 12; i++) sfc32(s);
    return s;
  }

  function nextRandom() {
    return sfc32(current().rng);
  }

  // ------------------------------------------------------------ logging
  function emitLog(level, args) {
    const r = current();
    const index = r.logIndex++;
    if (index < r.journal.logs) return; // delivered on an earlier round trip
    if (r.newLogs.length >= MAX_LOGS_PER_RUN) return;
    const parts = [];
    for (let i = 0; i < args.length; i++) {
      const a = args[i];
      parts.push(typeof a === "string" ? a : userIdentity.has(a) ? userIdentity.get(a) : safeString(a));
    }
    let message = parts.join(" ");
    if (message.length > MAX_LOG_LENGTH) message = message.slice(0, MAX_LOG_LENGTH) + "…";
    r.newLogs.push({ level: level, message: message });
  }

  function safeString(value) {
    if (value !== null && typeof value === "object") {
      try {
        return JSONstringify(toPlain(value));
      } catch (e) {
        if (e === HALT) throw e;
      }
    }
    return String(value);
  }

  // ------------------------------------------------------------ the journal
  function nextAnswer(kind, command, matches) {
    const r = current();
    if (r.cursor < r.journal.answers.length) {
      const answer = r.journal.answers[r.cursor];
      if (answer.k !== kind || !matches(answer)) {
        halt({
          type: "error",
          kind: "replay",
          message:
            "replay diverged: the journal answers " + describeAnswer(answer) +
            " where the script asked for " + describeCommand(command),
          line: null,
          column: null,
        });
      }
      r.cursor++;
      return answer;
    }
    command.position = r.cursor;
    halt(command);
  }

  function describeAnswer(a) {
    if (a.k === "step") return "step " + a.step;
    if (a.k === "prompt") return "prompt " + JSONstringify(a.templateId);
    if (a.k === "effect") return "effect " + a.name;
    if (a.k === "call") return "call " + a.function;
    return a.k;
  }

  function describeCommand(c) {
    if (c.type === "step") return "step " + c.step;
    if (c.type === "prompt") return "prompt " + JSONstringify(c.templateId);
    if (c.type === "effect") return "effect " + c.name;
    if (c.type === "call") return "call " + c.function;
    return c.type;
  }

  // ------------------------------------------------------------ lookups
  // Server data other than users (users by claims, verified cookies, shared
  // libraries) is looked up by kind and key: the run halts, Python answers,
  // and the answer is journaled (journal.lookups) so every later replay of
  // the flow sees the same value.  Volatile lookups (secrets) are answered
  // again on each round trip and never written to the journal.
  function lookup(kind, key, volatile) {
    const r = current();
    const id = kind + ":" + JSONstringify(key);
    if (!volatile && Object.prototype.hasOwnProperty.call(r.journal.lookups, id)) {
      return copyJson(r.journal.lookups[id]);
    }
    if (!Object.prototype.hasOwnProperty.call(r.lookupAnswers, id)) {
      halt({ type: "lookup", kind: kind, key: key, id: id, volatile: !!volatile });
    }
    const value = r.lookupAnswers[id] === undefined ? null : r.lookupAnswers[id];
    if (!volatile) {
      r.journal.lookups[id] = value;
      r.newLookups[id] = value;
    }
    return copyJson(value);
  }

  function copyJson(value) {
    return value === null || value === undefined ? null : JSONparse(JSONstringify(value));
  }

  // ------------------------------------------------------------ users
  // What the script reads about a user is recorded the first time it is read
  // (journal.reads), so later round trips see the same value even when the
  // directory changed meanwhile.  Effects of this flow are layered on top.
  function readUser(username) {
    const r = current();
    if (Object.prototype.hasOwnProperty.call(r.journal.reads, username)) {
      return r.journal.reads[username];
    }
    if (!Object.prototype.hasOwnProperty.call(r.prefetch, username)) {
      halt({ type: "lookup", username: username });
    }
    const snapshot = r.prefetch[username];
    const record = snapshot === null ? null : { claims: {} };
    r.journal.reads[username] = record;
    r.newReads[username] = record;
    return record;
  }

  function readUserField(username, field) {
    const r = current();
    const record = readUser(username);
    if (record === null) return field === "claims" ? null : [];
    if (!Object.prototype.hasOwnProperty.call(record, field)) {
      const snapshot = r.prefetch[username];
      if (snapshot === undefined) halt({ type: "lookup", username: username });
      let value = snapshot[field];
      if (value === undefined && field === "sessions") {
        // Sessions are asked for only when a script reads them (getUserSessions); once read they are journaled here.
        value = lookup("sessions", username, true);
      }
      record[field] = value === undefined || value === null ? [] : value;
      r.newReads[username] = record;
    }
    return record[field];
  }

  function readClaim(username, uri) {
    const r = current();
    const overlay = r.claimOverlay.get(username);
    if (overlay && overlay.has(uri)) return overlay.get(uri);
    const record = readUser(username);
    if (record === null) return null;
    if (!Object.prototype.hasOwnProperty.call(record.claims, uri)) {
      const snapshot = r.prefetch[username];
      if (snapshot === undefined) halt({ type: "lookup", username: username });
      const claims = snapshot.claims || {};
      record.claims[uri] = Object.prototype.hasOwnProperty.call(claims, uri) ? claims[uri] : null;
      r.newReads[username] = record;
    }
    return record.claims[uri];
  }

  function rolesOf(username) {
    const r = current();
    const roles = readUserField(username, "roles").slice();
    const overlay = r.roleOverlay.get(username) || [];
    for (const change of overlay) {
      const at = roles.indexOf(change.role);
      if (change.add && at < 0) roles.push(change.role);
      if (!change.add && at >= 0) roles.splice(at, 1);
    }
    return roles;
  }

  function makeUser(username, details) {
    const r = current();
    const cached = r.users.get(username);
    if (cached) {
      if (details && details.remoteClaims) Object.assign(cached.remoteClaims, details.remoteClaims);
      if (details && details.idp && details.idp !== "LOCAL" && !userIdp.has(cached)) userIdp.set(cached, details.idp);
      return cached;
    }
    const localClaims = new RealProxy(ObjectCreate(null), {
      get(_t, uri) {
        if (typeof uri !== "string") return undefined;
        return readClaim(username, uri);
      },
      set(_t, uri, value) {
        if (typeof uri !== "string") return false;
        setLocalClaim(user, uri, value);
        return true;
      },
      has(_t, uri) {
        return typeof uri === "string" && readClaim(username, uri) !== null;
      },
      ownKeys() {
        const record = readUser(username);
        return record === null ? [] : ObjectKeys(record.claims).filter((k) => record.claims[k] !== null);
      },
      getOwnPropertyDescriptor(_t, uri) {
        const value = typeof uri === "string" ? readClaim(username, uri) : null;
        return value === null ? undefined : { value: value, writable: true, enumerable: true, configurable: true };
      },
      deleteProperty() {
        return false;
      },
    });
    const user = {
      username: username,
      tenantDomain: DEFAULT_TENANT,
      userStoreDomain: DEFAULT_USER_STORE,
      claims: {},
      remoteClaims: details && details.remoteClaims ? Object.assign({}, details.remoteClaims) : {},
    };
    ObjectDefineProperty(user, "roles", {
      enumerable: true,
      get: () => rolesOf(username),
      set: () => {},
    });
    ObjectDefineProperty(user, "localClaims", { enumerable: true, value: localClaims, writable: false });
    userIdentity.set(user, username);
    if (details && details.idp && details.idp !== "LOCAL") userIdp.set(user, details.idp);
    r.users.set(username, user);
    return user;
  }

  function identify(user, what) {
    if (userIdentity.has(user)) return userIdentity.get(user);
    throw new RealTypeError((what || "argument") + " must be a user object such as context.currentKnownSubject");
  }

  function stringList(value, what) {
    if (typeof value === "string") return [value];
    if (!ArrayIsArray(value)) throw new RealTypeError(what + " must be a list of names");
    const out = [];
    for (const v of value) {
      if (v === null || v === undefined) continue;
      out.push(String(v));
    }
    return out;
  }

  // ------------------------------------------------------------ effects
  // An effect halts the run; Python applies it once, journals its result and
  // runs the script again, which then reads the result from the journal.
  function effect(name, args) {
    const answer = nextAnswer("effect", { type: "effect", name: name, args: args }, (a) => a.name === name);
    return answer.r;
  }

  function assignUserRoles(user, roles) {
    const username = identify(user, "assignUserRoles: user");
    const names = stringList(roles, "assignUserRoles: roles");
    const ok = effect("assignUserRoles", [username, names]) === true;
    if (ok) overlayRoles(username, names, true);
    return ok;
  }

  function removeUserRoles(user, roles) {
    const username = identify(user, "removeUserRoles: user");
    const names = stringList(roles, "removeUserRoles: roles");
    const ok = effect("removeUserRoles", [username, names]) === true;
    if (ok) overlayRoles(username, names, false);
    return ok;
  }

  function overlayRoles(username, names, add) {
    const r = current();
    if (!r.roleOverlay.has(username)) r.roleOverlay.set(username, []);
    for (const role of names) r.roleOverlay.get(username).push({ role: role, add: add });
  }

  function setLocalClaim(user, uri, value) {
    const username = identify(user);
    const text = value === null || value === undefined ? null : String(value);
    const ok = effect("setLocalClaim", [username, uri, text]) === true;
    if (ok) {
      const r = current();
      if (!r.claimOverlay.has(username)) r.claimOverlay.set(username, new RealMap());
      r.claimOverlay.get(username).set(uri, text);
    }
    return ok;
  }

  // sendEmail(user, templateId, placeholders): an effect, so a login sends it
  // once however often the script is replayed.  True when the email was
  // queued; false for an unknown template or a user without an email address.
  function sendEmail(user, templateId, placeholders) {
    const username = identify(user, "sendEmail: user");
    if (typeof templateId !== "string" || templateId === "") {
      throw new RealTypeError("sendEmail: templateId must be a non-empty string");
    }
    const values = toStringMap(placeholders, "sendEmail: placeholders");
    return effect("sendEmail", [username, templateId, values]) === true;
  }

  // ------------------------------------------------------------ role & group checks
  function hasRole(user, role) {
    return rolesOf(identify(user, "hasRole: user")).indexOf(String(role)) >= 0;
  }

  function hasAnyOfTheRoles(user, roles) {
    const have = rolesOf(identify(user, "hasAnyOfTheRoles: user"));
    return stringList(roles, "hasAnyOfTheRoles: roles").some((role) => have.indexOf(role) >= 0);
  }

  function isMemberOfAnyOfGroups(user, groups) {
    const have = readUserField(identify(user, "isMemberOfAnyOfGroups: user"), "groups");
    return stringList(groups, "isMemberOfAnyOfGroups: groups").some((g) => have.indexOf(g) >= 0);
  }

  // ------------------------------------------------------------ steps
  function splitStepArguments(a, b) {
    if (b !== undefined) return { options: a || {}, callbacks: b || {} };
    if (a === undefined || a === null) return { options: {}, callbacks: {} };
    if (typeof a !== "object") throw new RealTypeError("executeStep: the second argument must be an object");
    const isCallbacks = ["onSuccess", "onFail", "onFallback", "onUserAbort"].some((k) => typeof a[k] === "function");
    return isCallbacks ? { options: {}, callbacks: a } : { options: a, callbacks: {} };
  }

  function filterOptions(stepId, configured, filters) {
    if (filters === undefined || filters === null) return configured;
    if (!ArrayIsArray(filters)) throw new RealTypeError("executeStep: authenticationOptions must be a list");
    if (filters.length === 0) return configured;
    const kept = configured.filter((option) =>
      filters.some((f) => {
        if (!f || typeof f !== "object") return false;
        if (f.authenticator === undefined && f.idp === undefined) return false;
        if (f.authenticator !== undefined && String(f.authenticator) !== option.authenticator) return false;
        if (f.idp !== undefined && String(f.idp) !== option.idp) return false;
        return true;
      })
    );
    if (kept.length === 0) {
      emitLog("warn", [
        "authenticationOptions " + JSONstringify(toPlain(filters)) + " match no option of step " + stepId +
          "; offering all of its options instead",
      ]);
      return configured;
    }
    return kept;
  }

  function stepOptionsOf(options) {
    const out = {};
    const given = options.stepOptions;
    if (given && typeof given === "object") {
      for (const flag of STEP_OPTION_FLAGS) {
        if (given[flag] !== undefined) out[flag] = given[flag] === true || String(given[flag]) === "true";
      }
    }
    return out;
  }

  function executeStep(stepId, a, b) {
    const r = current();
    const id = Number(stepId);
    if (!Number.isInteger(id) || !Object.prototype.hasOwnProperty.call(r.steps, String(id))) {
      throw new RealError(
        "executeStep: step " + String(stepId) + " is not configured for application " +
          JSONstringify(r.inputs.application.name) + " (configured: " + ObjectKeys(r.steps).join(", ") + ")"
      );
    }
    const split = splitStepArguments(a, b);
    const callbacks = split.callbacks;
    const options = split.options;
    const offered = filterOptions(id, r.steps[String(id)], options.authenticationOptions);
    const stepOptions = stepOptionsOf(options);
    const params = options.authenticatorParams ? toPlain(options.authenticatorParams) : null;
    let attempt = 0;
    let lastError = null;
    for (;;) {
      attempt++;
      const command = { type: "step", step: id, options: offered };
      // Authenticators that verify rather than identify need to know whom.
      const known = r.context.currentKnownSubject;
      if (known) command.subject = userIdentity.get(known);
      if (params) command.authenticatorParams = params;
      if (ObjectKeys(stepOptions).length) command.stepOptions = stepOptions;
      if (attempt > 1) {
        command.attempt = attempt;
        if (lastError) command.error = lastError;
      }
      const answer = nextAnswer("step", command, (ans) => ans.step === id);
      setRequestParams(answer.params);
      if (answer.r === "success") {
        recordSuccess(id, answer, stepOptions);
        call(callbacks.onSuccess);
        return;
      }
      r.lastStepSucceeded = false;
      if (answer.r === "abort") {
        if (typeof callbacks.onUserAbort === "function") return call(callbacks.onUserAbort);
        halt({ type: "fail", reason: "abort", params: { errorCode: "access_denied", errorMessage: "The user cancelled the login." } });
      }
      if (answer.r === "fallback" && typeof callbacks.onFallback === "function") return call(callbacks.onFallback);
      if (typeof callbacks.onFail === "function") return call(callbacks.onFail);
      lastError = answer.error || null; // no onFail: the step is tried again
    }
  }

  function recordSuccess(id, answer, stepOptions) {
    const r = current();
    const user = answer.user ? makeUser(answer.user, answer) : null;
    r.context.steps[id] = {
      subject: user,
      idp: answer.idp || "LOCAL",
      authenticator: answer.authenticator || null,
    };
    r.lastStepSucceeded = true;
    if (!user) return;
    r.context.currentKnownSubject = user;
    r.stepUsers[id] = answer.user;
    // The first step that identifies a user is the subject (and attribute)
    // step unless a step is marked as such; a marked step always wins.
    if (stepOptions.markAsSubjectIdentifierStep) {
      r.subjectStep = id;
      r.subjectMarked = true;
    } else if (!r.subjectMarked && r.subjectStep === null) {
      r.subjectStep = id;
    }
    if (stepOptions.markAsSubjectAttributeStep) {
      r.attributeStep = id;
      r.attributeMarked = true;
    } else if (!r.attributeMarked && r.attributeStep === null) {
      r.attributeStep = id;
    }
  }

  function call(callback, data) {
    if (typeof callback !== "function") return;
    const r = current();
    const result = arguments.length > 1 ? callback(r.context, data) : callback(r.context);
    rejectThenable(result, "a callback");
  }

  // Defence in depth behind findDeferredSyntax: a thenable coming back from
  // script code is an error even if the run also halted.
  function rejectThenable(value, what) {
    if (value !== null && (typeof value === "object" || typeof value === "function") && typeof value.then === "function") {
      const error = new RealTypeError(what + " returned a Promise; scripts run synchronously (no async functions)");
      if (run !== null) run.fatal = errorCommand(error);
      throw error;
    }
  }

  function setRequestParams(params) {
    const r = current();
    if (params && typeof params === "object") {
      r.context.request.params = JSONparse(JSONstringify(params));
    }
  }

  // ------------------------------------------------------------ sessions
  // A user's sessions are directory data (read once, journaled with the
  // user's other reads); the browser's own session is an input of the flow,
  // fixed when it started.  terminateUserSession is an effect.
  function sessionObject(s) {
    const ua = s.userAgent || {};
    return {
      id: String(s.id),
      ip: s.ip === undefined ? null : s.ip,
      loginTime: s.loginTime,
      lastAccessTime: s.lastAccessTime,
      userAgent: { raw: ua.raw || "", rawString: ua.raw || "", browser: ua.browser || "", platform: ua.platform || "",
                   device: ua.device || "" },
      applications: (s.applications || []).map(applicationObject),
    };
  }

  function applicationObject(a) {
    return { subject: a.subject || null, appName: a.appName || null, appId: a.appId || null };
  }

  function getUserSessions(user) {
    const r = current();
    const username = identify(user, "getUserSessions: user");
    const ended = r.endedSessions.get(username);
    const sessions = readUserField(username, "sessions");
    const out = [];
    for (const s of sessions) {
      if (ended && ended.has(String(s.id))) continue;
      out.push(sessionObject(s));
    }
    return out;
  }

  function terminateUserSession(user, session) {
    const r = current();
    const username = identify(user, "terminateUserSession: user");
    const id = session !== null && typeof session === "object" ? session.id : session;
    if (typeof id !== "string" || id === "") {
      throw new RealTypeError("terminateUserSession: the session must be a session id or a session from getUserSessions");
    }
    const ok = effect("terminateUserSession", [username, id]) === true;
    if (ok) {
      if (!r.endedSessions.has(username)) r.endedSessions.set(username, new RealSet());
      r.endedSessions.get(username).add(id);
    }
    return ok;
  }

  function browserSession() {
    return current().inputs.session || null;
  }

  function getAuthenticatedApplications(context) {
    const session = browserSession();
    return session ? (session.applications || []).map(applicationObject) : [];
  }

  function checkSessionExistence(step, context) {
    const r = current();
    const session = browserSession();
    const options = r.steps[String(Number(step))];
    if (!session || !options) return false;
    const done = session.authenticated || [];
    return options.some((o) => done.some((d) => d.authenticator === o.authenticator && (d.idp || "LOCAL") === o.idp));
  }

  // ------------------------------------------------------------ asynchronous calls
  // httpGet, httpPost and callAnalytics suspend the flow: the call is the
  // command, a worker makes it, and its outcome comes back as the answer
  // {"k": "call", "function", "r": success | fail | timeout, "data"} which
  // replays call the handler with, as (context, data).
  const CALL_HANDLERS = ["onSuccess", "onFail", "onTimeout"];

  function isHandlers(value) {
    return value !== null && typeof value === "object" && CALL_HANDLERS.some((k) => typeof value[k] === "function");
  }

  function splitCallArguments(args, fixed) {
    // fixed arguments first, then optional headers and authConfig, the handlers last
    const rest = Array.prototype.slice.call(args, fixed);
    let handlers = {};
    if (rest.length && isHandlers(rest[rest.length - 1])) handlers = rest.pop();
    else if (rest.length && (rest[rest.length - 1] === undefined || rest[rest.length - 1] === null)) rest.pop();
    return { headers: rest[0], authConfig: rest[1], handlers: handlers };
  }

  // Any text: what may be called (http and https URLs on the allow-list) is
  // the server's decision, and a refusal reaches the script as onFail.
  function httpUrl(url, what) {
    if (typeof url !== "string") throw new RealTypeError(what + ": url must be a string");
    return url;
  }

  function asyncCall(request, handlers) {
    const answer = nextAnswer("call", Object.assign({ type: "call" }, request), (a) => a.function === request.function);
    const data = answer.data === undefined ? null : copyJson(answer.data);
    const outcome = answer.r === "success" || answer.r === "timeout" ? answer.r : "fail";
    let handler = handlers[outcome === "success" ? "onSuccess" : outcome === "timeout" ? "onTimeout" : "onFail"];
    if (typeof handler !== "function" && outcome === "timeout") handler = handlers.onFail;
    call(handler, data);
  }

  function callRequest(fn, method, url, body, parts) {
    const request = { function: fn, method: method, url: url };
    const headers = toStringMap(parts.headers, fn + ": headers");
    if (ObjectKeys(headers).length) request.headers = headers;
    if (body !== undefined) request.body = toPlain(body);
    if (parts.authConfig !== undefined && parts.authConfig !== null) request.authConfig = toPlain(parts.authConfig);
    return request;
  }

  function httpGet(url) {
    const parts = splitCallArguments(arguments, 1);
    asyncCall(callRequest("httpGet", "GET", httpUrl(url, "httpGet"), undefined, parts), parts.handlers);
  }

  function httpPost(url, body) {
    const parts = splitCallArguments(arguments, 2);
    asyncCall(callRequest("httpPost", "POST", httpUrl(url, "httpPost"), body === undefined ? null : body, parts),
              parts.handlers);
  }

  function callAnalytics(metadata, payload, handlers) {
    asyncCall({ function: "callAnalytics", metadata: toPlain(metadata || {}), payload: toPlain(payload || {}) },
              isHandlers(handlers) ? handlers : {});
  }

  function publishToAnalytics(metadata, payload) {
    return effect("publishToAnalytics", [toPlain(metadata || {}), toPlain(payload || {})]) === true;
  }

  // ------------------------------------------------------------ cookies and response
  const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
  const COOKIE_PROPERTIES = ["max-age", "path", "domain", "httpOnly", "secure", "sameSite", "sign", "encrypt"];

  function flag(value) {
    return value === true || String(value).toLowerCase() === "true";
  }

  function setCookie(response, name, value, properties) {
    current();
    if (typeof name !== "string" || !COOKIE_NAME.test(name)) throw new RealTypeError("setCookie: invalid cookie name");
    const given = properties && typeof properties === "object" ? properties : {};
    const props = {};
    for (const key of COOKIE_PROPERTIES) {
      if (given[key] === undefined || given[key] === null) continue;
      if (key === "max-age") props.maxAge = Math.trunc(Number(given[key])) || 0;
      else if (key === "path" || key === "domain" || key === "sameSite") props[key] = String(given[key]);
      else props[key] = flag(given[key]);
    }
    return effect("setCookie", [name, value === undefined || value === null ? "" : String(value), props]) === true;
  }

  function getCookieValue(request, name, properties) {
    const r = current();
    if (typeof name !== "string") return null;
    const cookies = (r.inputs.request || {}).cookies || {};
    if (!Object.prototype.hasOwnProperty.call(cookies, name)) return null;
    const given = properties && typeof properties === "object" ? properties : {};
    const decrypt = flag(given.decrypt);
    const validate = flag(given.validateSignature);
    if (!decrypt && !validate) return cookies[name];
    return lookup("cookie", { name: name, value: cookies[name], decrypt: decrypt, validateSignature: validate });
  }

  // ------------------------------------------------------------ directory lookups and changes
  function claimQuery(claimMap, what) {
    const claims = toStringMap(claimMap, what + ": claimMap");
    return ObjectKeys(claims).length ? claims : null;
  }

  function getUsersWithClaimValues(claimMap, context, profile) {
    const claims = claimQuery(claimMap, "getUsersWithClaimValues");
    if (claims === null) return [];
    return lookup("usersByClaims", { claims: claims }).map((username) => makeUser(username));
  }

  function getUniqueUserWithClaimValues(claimMap, context, profile) {
    const claims = claimQuery(claimMap, "getUniqueUserWithClaimValues");
    if (claims === null) return null;
    const found = lookup("usersByClaims", { claims: claims });
    return found.length === 1 ? makeUser(found[0]) : null;
  }

  function updateUserPassword(user, password) {
    const username = identify(user, "updateUserPassword: user");
    if (typeof password !== "string" || password === "") return false;
    return effect("updateUserPassword", [username, password]) === true;
  }

  function getSecretByName(name) {
    if (typeof name !== "string" || name === "") return null;
    const value = lookup("secret", name, true);
    return typeof value === "string" ? value : null;
  }

  // A federated user (authenticated by an identity provider) may be linked to
  // a local account: looked up by (idp, subject), linked as an effect.
  function federatedIdentity(user, what) {
    const subject = identify(user, what);
    const idp = userIdp.get(user);
    return idp ? { idp: idp, subject: subject } : null;
  }

  function getAssociatedLocalUser(federatedUser) {
    const federated = federatedIdentity(federatedUser, "getAssociatedLocalUser: federatedUser");
    if (federated === null) return null;
    const username = lookup("associatedUser", federated);
    return typeof username === "string" ? makeUser(username) : null;
  }

  function doAssociationWithLocalUser(federatedUser, localUsername, tenantDomain, userStoreDomain) {
    const federated = federatedIdentity(federatedUser, "doAssociationWithLocalUser: federatedUser");
    if (federated === null || typeof localUsername !== "string" || localUsername === "") return false;
    return effect("associateFederatedUser", [federated.idp, federated.subject, localUsername]) === true;
  }

  // ------------------------------------------------------------ utilities (no server data)
  const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

  function base64UrlDecode(text) {
    const clean = String(text).replace(/-/g, "+").replace(/_/g, "/").replace(/=+$/, "");
    if (!/^[A-Za-z0-9+/]*$/.test(clean) || clean.length % 4 === 1) throw new RealTypeError("not base64url");
    const bytes = [];
    let buffer = 0, bits = 0;
    for (let i = 0; i < clean.length; i++) {
      buffer = (buffer << 6) | B64.indexOf(clean[i]);
      bits += 6;
      if (bits >= 8) {
        bits -= 8;
        bytes.push((buffer >> bits) & 0xff);
      }
    }
    return utf8Decode(bytes);
  }

  function utf8Decode(bytes) {
    let out = "";
    for (let i = 0; i < bytes.length;) {
      const b = bytes[i++];
      let code;
      if (b < 0x80) code = b;
      else if (b >= 0xc0 && b < 0xe0) code = ((b & 0x1f) << 6) | (bytes[i++] & 0x3f);
      else if (b >= 0xe0 && b < 0xf0) code = ((b & 0x0f) << 12) | ((bytes[i++] & 0x3f) << 6) | (bytes[i++] & 0x3f);
      else code = ((b & 0x07) << 18) | ((bytes[i++] & 0x3f) << 12) | ((bytes[i++] & 0x3f) << 6) | (bytes[i++] & 0x3f);
      out += String.fromCodePoint(code);
    }
    return out;
  }

  // Decodes a JWT's header or payload: the signature is NOT checked.
  function getValueFromDecodedAssertion(jwt, name, inPayload) {
    current();
    if (typeof jwt !== "string" || typeof name !== "string") return null;
    const parts = jwt.split(".");
    if (parts.length < 2) return null;
    let decoded;
    try {
      decoded = JSONparse(base64UrlDecode(parts[inPayload === false || String(inPayload) === "false" ? 0 : 1]));
    } catch (e) {
      if (e === HALT) throw e;
      return null;
    }
    if (decoded === null || typeof decoded !== "object" || !Object.prototype.hasOwnProperty.call(decoded, name)) return null;
    const value = decoded[name];
    if (value === null || value === undefined) return null;
    return typeof value === "object" ? JSONstringify(value) : String(value);
  }

  function maskPart(part) {
    if (part.length <= 2) return "*".repeat(part.length);
    return part[0] + "*".repeat(part.length - 2) + part[part.length - 1];
  }

  function getMaskedValue(value) {
    if (value === null || value === undefined) return value;
    const text = String(value);
    const at = text.lastIndexOf("@");
    if (at > 0) {
      const domain = text.slice(at + 1);
      const dot = domain.lastIndexOf(".");
      const host = dot > 0 ? maskPart(domain.slice(0, dot)) + domain.slice(dot) : maskPart(domain);
      return maskPart(text.slice(0, at)) + "@" + host;
    }
    return maskPart(text);
  }

  function filterAuthenticators(options, exclude) {
    if (!ArrayIsArray(options)) return [];
    const out = [];
    for (const o of options) {
      if (!o || typeof o !== "object" || (exclude !== undefined && o.authenticator === exclude)) continue;
      const idp = o.idp === undefined || o.idp === null ? "LOCAL" : String(o.idp);
      out.push(idp === "LOCAL" ? { authenticator: String(o.authenticator) } : { idp: idp });
    }
    return out;
  }

  function requestedAcrs(r) {
    const values = ((r.inputs.request || {}).params || {}).acr_values || [];
    return String(values[0] || "").split(" ").filter((v) => v !== "");
  }

  function selectAcrFrom(context, acrList) {
    const r = current();
    const supported = stringList(acrList || [], "selectAcrFrom: acrList");
    for (const acr of requestedAcrs(r)) if (supported.indexOf(acr) >= 0) return acr;
    return null;
  }

  // ------------------------------------------------------------ shared libraries
  // loadLocalLibrary(name) (and require(name)) runs an administrator's library
  // with the same bindings and returns what it exports (module.exports or
  // exports).  The version a flow first loads is journaled: replays, and the
  // rest of the flow, use that version.
  function loadLocalLibrary(name) {
    const r = current();
    if (typeof name !== "string" || name === "") throw new RealTypeError("loadLocalLibrary: name must be a string");
    const library = lookup("library", name);
    if (library === null) throw new RealError("loadLocalLibrary: there is no library named " + JSONstringify(name));
    const cacheKey = "library:" + name + ":" + library.key;
    if (r.libraries.has(cacheKey)) return r.libraries.get(cacheKey);
    let factory = libraries.get(cacheKey);
    if (factory === undefined) {
      const built = libraryFactoryFor(name, library.source);
      if (built.error) throw new RealError("loadLocalLibrary: library " + JSONstringify(name) + " does not compile: " + built.error);
      factory = built.factory;
      libraries.set(cacheKey, factory);
      if (libraries.size > MAX_PROGRAMS) libraries.delete(libraries.keys().next().value);
    }
    const module = { exports: {} };
    factory(r.scope, module, module.exports);
    r.libraries.set(cacheKey, module.exports);
    return module.exports;
  }

  // ------------------------------------------------------------ prompts & terminals
  function prompt(templateId, data, handlers) {
    if (typeof templateId !== "string" || templateId === "") {
      throw new RealTypeError("prompt: templateId must be a non-empty string");
    }
    const plainData = data === undefined ? {} : toPlain(data);
    const answer = nextAnswer(
      "prompt",
      { type: "prompt", templateId: templateId, data: plainData === null ? {} : plainData },
      (a) => a.templateId === templateId
    );
    setRequestParams(answer.params || {});
    const action = answer.r || "success";
    const name = "on" + action.charAt(0).toUpperCase() + action.slice(1);
    if (handlers && typeof handlers[name] === "function") call(handlers[name]);
  }

  // Asks for an identifier (the username) before step `stepId`; the answer
  // arrives as context.request.params.username, for that step's
  // authenticatorParams ({common: {username: ..., inputType: 'identifierFirst'}}).
  function promptIdentifierForStep(stepId, handlers) {
    prompt("identifierForStep", { step: Number(stepId) }, handlers);
  }

  function fail(map) {
    current();
    halt({ type: "fail", reason: "script", params: toStringMap(map, "fail: the parameter map") });
  }

  function sendError(url, params) {
    current();
    if (url !== null && url !== undefined && typeof url !== "string") {
      throw new RealTypeError("sendError: url must be a string or null");
    }
    halt({ type: "sendError", url: url === undefined ? null : url, params: toStringMap(params, "sendError: parameters") });
  }

  // ------------------------------------------------------------ the API objects
  const Log = ObjectFreeze({
    debug: function debug() { emitLog("debug", arguments); },
    info: function info() { emitLog("info", arguments); },
    warn: function warn() { emitLog("warn", arguments); },
    error: function error() { emitLog("error", arguments); },
  });

  const consoleShim = ObjectFreeze({
    log: Log.info,
    info: Log.info,
    debug: Log.debug,
    warn: Log.warn,
    error: Log.error,
  });

  // Bindings per profile: the names a script of that kind sees.
  const PROFILES = {
    login: ObjectFreeze({
      executeStep: executeStep,
      prompt: prompt,
      fail: fail,
      sendError: sendError,
      Log: Log,
      hasRole: hasRole,
      hasAnyOfTheRoles: hasAnyOfTheRoles,
      isMemberOfAnyOfGroups: isMemberOfAnyOfGroups,
      assignUserRoles: assignUserRoles,
      removeUserRoles: removeUserRoles,
      sendEmail: sendEmail,
      httpGet: httpGet,
      httpPost: httpPost,
      callAnalytics: callAnalytics,
      publishToAnalytics: publishToAnalytics,
      setCookie: setCookie,
      getCookieValue: getCookieValue,
      getUsersWithClaimValues: getUsersWithClaimValues,
      getUniqueUserWithClaimValues: getUniqueUserWithClaimValues,
      updateUserPassword: updateUserPassword,
      getSecretByName: getSecretByName,
      getValueFromDecodedAssertion: getValueFromDecodedAssertion,
      getMaskedValue: getMaskedValue,
      filterAuthenticators: filterAuthenticators,
      selectAcrFrom: selectAcrFrom,
      loadLocalLibrary: loadLocalLibrary,
      require: loadLocalLibrary,
      promptIdentifierForStep: promptIdentifierForStep,
      getAssociatedLocalUser: getAssociatedLocalUser,
      doAssociationWithLocalUser: doAssociationWithLocalUser,
      getUserSessions: getUserSessions,
      terminateUserSession: terminateUserSession,
      getAuthenticatedApplications: getAuthenticatedApplications,
      checkSessionExistence: checkSessionExistence,
    }),
  };

  // ------------------------------------------------------------ scope
  let globalKeys = null; // the global object's own keys after hardening
  let globalProto = null;

  function makeScope(bindings) {
    const target = ObjectCreate(null);
    for (const name of ENTRY_POINTS) target[name] = undefined;
    target.console = consoleShim;
    for (const name of ObjectKeys(bindings)) target[name] = bindings[name];
    // The API and the entry points resolve here, per run: a script that
    // redefines one changes it for itself only.  Other free names reach the
    // global object as usual (so typeof and ReferenceError behave), where
    // builtins are read-only and implicit globals are removed after the run.
    return new RealProxy(target, {
      has(t, key) {
        return typeof key === "string" && key in t;
      },
      get(t, key) {
        return typeof key === "string" ? t[key] : undefined;
      },
      set(t, key, value) {
        t[key] = value;
        return true;
      },
    });
  }

  // Removes what a script (or deferred work it left behind) added to the
  // global object.  Returns false when that is impossible, and the isolate
  // must then not run another script.
  function scrubGlobal() {
    if (ObjectGetPrototypeOf(global) !== globalProto) return false;
    for (const key of ReflectOwnKeys(global)) {
      if (globalKeys.has(key)) continue;
      if (!Reflect.deleteProperty(global, key)) return false;
    }
    return true;
  }

  // ------------------------------------------------------------ deferred work
  // Scripts run synchronously: a Promise job would run after the run ended,
  // outside its time limit.  The global Promise is removed, and the only
  // other ways to create jobs are syntax (async functions, dynamic import),
  // which this scanner finds, skipping strings, comments, templates and
  // regular expressions.
  const PUNCTUATOR_BEFORE_REGEX = "(,=:[!&|?{};+-*%<>~^";
  const KEYWORDS_BEFORE_REGEX = ["return", "typeof", "instanceof", "in", "of", "new", "delete", "void", "throw", "case", "do", "else"];

  function findDeferredSyntax(source) {
    const n = source.length;
    let i = 0, line = 1, lineStart = 0;
    const tokens = []; // significant tokens: {t: text, k: "id"|"p"|"v", line, column}
    const templateDepth = []; // brace depth at each open ${
    let braceDepth = 0;
    const push = (t, k, at) => tokens.push({ t: t, k: k, line: line, column: at - lineStart + 1 });
    const newline = (at) => { line++; lineStart = at + 1; };
    const regexAllowed = () => {
      const prev = tokens[tokens.length - 1];
      if (!prev) return true;
      if (prev.k === "p") return PUNCTUATOR_BEFORE_REGEX.indexOf(prev.t) >= 0;
      if (prev.k === "id") return KEYWORDS_BEFORE_REGEX.indexOf(prev.t) >= 0;
      return false;
    };
    const skipTemplate = () => { // i is just after ` or }; stops after ` or ${
      while (i < n) {
        const c = source[i];
        if (c === "\\") { i += 2; continue; }
        if (c === "\n") newline(i);
        if (c === "`") { i++; push("`", "v", i); return; }
        if (c === "$" && source[i + 1] === "{") { i += 2; templateDepth.push(braceDepth); braceDepth++; push("${", "p", i); return; }
        i++;
      }
    };
    while (i < n) {
      const c = source[i];
      if (c === "\n") { newline(i); i++; continue; }
      if (c === " " || c === "\t" || c === "\r") { i++; continue; }
      if (c === "/" && source[i + 1] === "/") { while (i < n && source[i] !== "\n") i++; continue; }
      if (c === "/" && source[i + 1] === "*") {
        i += 2;
        while (i < n && !(source[i] === "*" && source[i + 1] === "/")) { if (source[i] === "\n") newline(i); i++; }
        i += 2;
        continue;
      }
      if (c === "'" || c === '"') {
        const start = i++;
        while (i < n && source[i] !== c && source[i] !== "\n") i += source[i] === "\\" ? 2 : 1;
        i++;
        push("str", "v", start);
        continue;
      }
      if (c === "`") { i++; skipTemplate(); continue; }
      if (c === "}" && templateDepth.length && templateDepth[templateDepth.length - 1] === braceDepth - 1) {
        templateDepth.pop(); braceDepth--; i++; skipTemplate(); continue;
      }
      if (c === "/" && regexAllowed()) {
        const start = i++;
        let inClass = false;
        while (i < n && source[i] !== "\n") {
          const d = source[i];
          if (d === "\\") { i += 2; continue; }
          if (d === "[") inClass = true;
          else if (d === "]") inClass = false;
          else if (d === "/" && !inClass) break;
          i++;
        }
        i++;
        while (i < n && /[A-Za-z]/.test(source[i])) i++;
        push("re", "v", start);
        continue;
      }
      if (/[A-Za-z_$\u0080-\uffff]/.test(c)) {
        const start = i;
        while (i < n && /[\w$\u0080-\uffff]/.test(source[i])) i++;
        push(source.slice(start, i), "id", start);
        continue;
      }
      if (/[0-9]/.test(c)) {
        const start = i;
        while (i < n && /[\w.]/.test(source[i])) i++;
        push("num", "v", start);
        continue;
      }
      if (c === "{") braceDepth++;
      if (c === "}") braceDepth--;
      push(c, "p", i);
      i++;
    }
    for (let k = 0; k < tokens.length; k++) {
      const tok = tokens[k];
      if (tok.k !== "id") continue;
      const prev = tokens[k - 1];
      const next = tokens[k + 1];
      if (prev && prev.t === ".") continue; // a property such as options.async
      if (tok.t === "async" && next && (next.k === "id" || ["function", "(", "*", "["].indexOf(next.t) >= 0)) {
        return { line: tok.line, column: tok.column,
                 message: "async functions are not supported: scripts run synchronously (the API needs no Promises)" };
      }
      if (tok.t === "await" && next && next.k !== "p") {
        return { line: tok.line, column: tok.column, message: "await is not supported: scripts run synchronously" };
      }
      if (tok.t === "import" && next && (next.t === "(" || next.t === ".")) {
        return { line: tok.line, column: tok.column, message: "import is not available to scripts" };
      }
    }
    return null;
  }

  // ------------------------------------------------------------ compile & run
  function factoryFor(source) {
    const exporter = ENTRY_POINTS.map((n) => JSONstringify(n) + ": typeof " + n + ' === "function" ? ' + n + " : undefined").join(", ");
    const body = BODY_PREFIX + source + "\n;return {" + exporter + "};\n}\n//# sourceURL=" + SCRIPT_URL;
    try {
      return { factory: RealFunction("__scope", body) };
    } catch (e) {
      return { error: { kind: "syntax", message: String(e && e.message), line: null, column: null } };
    }
  }

  // A library is a function of (scope, module, exports) with the same
  // bindings as the script; its frames are reported with its own lines.
  function libraryFactoryFor(name, source) {
    const deferred = findDeferredSyntax(source);
    if (deferred) return { error: "line " + deferred.line + ": " + deferred.message };
    const body = BODY_PREFIX + source + "\n;}\n//# sourceURL=" + LIBRARY_URL + name;
    try {
      return { factory: RealFunction("__scope", "module", "exports", body) };
    } catch (e) {
      return { error: String(e && e.message) };
    }
  }

  // Checks a script without running any of it.
  function check(source) {
    if (typeof source !== "string") throw new RealTypeError("check(source)");
    const built = factoryFor(source);
    if (built.error) return JSONstringify({ ok: false, error: built.error });
    const deferred = findDeferredSyntax(source);
    if (deferred) return JSONstringify({ ok: false, error: { kind: "deferred", message: deferred.message, line: deferred.line, column: deferred.column } });
    return JSONstringify({ ok: true });
  }

  function compile(key, source) {
    if (run !== null) throw new RealError("compile during a run");
    if (typeof key !== "string" || typeof source !== "string") throw new RealTypeError("compile(key, source)");
    const verdict = JSONparse(check(source));
    if (!verdict.ok) return JSONstringify(verdict);
    programs.delete(key);
    programs.set(key, factoryFor(source).factory);
    if (programs.size > MAX_PROGRAMS) programs.delete(programs.keys().next().value);
    return JSONstringify({ ok: true });
  }

  function newRun(input) {
    const journal = input.journal;
    const inputs = input.inputs;
    const request = inputs.request || {};
    const r = {
      halted: false,
      fatal: null,
      command: null,
      inputs: inputs,
      journal: {
        answers: journal.answers || [],
        clock: (journal.clock || []).slice(),
        // input was parsed from text for this run alone: nothing else holds these objects.
        reads: journal.reads || {},
        lookups: journal.lookups || {},
        logs: journal.logs || 0,
      },
      prefetch: input.prefetch || {},
      lookupAnswers: input.lookups || {},
      newLookups: {},
      libraries: new RealMap(),
      scope: null,
      now: input.now,
      steps: inputs.application.steps || {},
      cursor: 0,
      clockCursor: 0,
      logIndex: 0,
      newLogs: [],
      newClock: [],
      newReads: {},
      rng: null,
      users: new RealMap(),
      roleOverlay: new RealMap(),
      claimOverlay: new RealMap(),
      endedSessions: new RealMap(),
      subjectStep: null,
      subjectMarked: false,
      attributeStep: null,
      attributeMarked: false,
      lastStepSucceeded: null,
      stepUsers: {},
      context: null,
    };
    const steps = {};
    for (const id of ObjectKeys(r.steps)) steps[id] = { subject: null, idp: null, authenticator: null };
    r.context = {
      steps: steps,
      currentKnownSubject: null,
      request: {
        ip: request.ip || null,
        headers: Object.assign({}, request.headers || {}),
        params: Object.assign({}, request.params || {}),
        cookies: Object.assign({}, request.cookies || {}),
      },
      response: { headers: {} },
      serviceProviderName: inputs.application.name,
      requestedAcr: requestedAcrs(r),
      selectedAcr: null,
    };
    return r;
  }

  function finish(r) {
    if (r.lastStepSucceeded === false) {
      return { type: "fail", reason: "step", params: { errorCode: "access_denied", errorMessage: "Authentication failed." } };
    }
    if (r.subjectStep === null) {
      return {
        type: "fail",
        reason: "no-subject",
        params: { errorCode: "access_denied", errorMessage: "The login finished without identifying a user." },
      };
    }
    const subject = r.stepUsers[r.subjectStep];
    const attributeUser = r.users.get(r.stepUsers[r.attributeStep]);
    const complete = {
      type: "complete",
      subject: subject,
      subjectStep: r.subjectStep,
      attributeStep: r.attributeStep,
      claims: toStringMap(attributeUser.claims, "user.claims"),
    };
    const acr = r.context.selectedAcr;
    if (typeof acr === "string" && acr !== "") complete.acr = acr;  // the ID token's acr claim
    return complete;
  }

  function runEntry(inputText) {
    if (run !== null) throw new RealError("a run is already in progress");
    if (!scrubGlobal()) return JSONstringify({ tainted: true });
    const input = JSONparse(inputText);
    const factory = programs.get(input.program);
    if (factory === undefined) return JSONstringify({ unknownProgram: true });
    const profile = PROFILES[input.profile || "login"];
    if (profile === undefined) throw new RealError("unknown profile " + input.profile);
    run = newRun(input);
    const r = run;
    r.rng = seededState(input.journal.seed || 0);
    let command;
    try {
      r.scope = makeScope(profile);
      const exports = factory(r.scope);
      const entry = exports[input.entry];
      if (typeof entry !== "function") {
        throw new RealError("the script does not define " + input.entry + " as a function");
      }
      const args = input.entry === "onLoginRequest" ? [r.context] : toArgs(input.args);
      const result = entry.apply(undefined, args);
      rejectThenable(result, input.entry);
      command = r.fatal ? r.fatal : r.halted ? r.command : input.entry === "onLoginRequest" ? finish(r) : { type: "return", value: toPlain(result) };
    } catch (e) {
      command = r.fatal || (r.halted ? r.command : errorCommand(e));
    } finally {
      run = null;
    }
    const clean = scrubGlobal();
    if (command.type === "step" || command.type === "prompt" || command.type === "complete") {
      const headers = toStringMap(r.context.response.headers, "response.headers");
      if (ObjectKeys(headers).length) command.responseHeaders = headers;
    }
    return JSONstringify({
      command: command,
      logs: r.newLogs,
      clock: r.newClock,
      reads: r.newReads,
      lookups: r.newLookups,
      tainted: !clean,
    });
  }

  function toArgs(args) {
    return ArrayIsArray(args) ? args : [];
  }

  function errorCommand(e) {
    let message;
    let frame = null;
    if (e instanceof RealError) {
      void e.stack; // formatting the stack records the first script frame
      frame = errorFrames.get(e) || null;
      message = String(e.name) + ": " + String(e.message);
    } else {
      message = "Uncaught " + safeErrorValue(e);
    }
    const command = {
      type: "error",
      kind: "runtime",
      message: message,
      line: frame ? frame.line : null,
      column: frame ? frame.column : null,
    };
    if (frame && frame.library) command.library = frame.library;  // the line is the library's
    return command;
  }

  function safeErrorValue(e) {
    try {
      return typeof e === "string" ? JSONstringify(e) : String(e);
    } catch (_) {
      return "a value that cannot be displayed";
    }
  }

  // ------------------------------------------------------------ stack traces
  // Script frames get the script's own line numbers; engine frames are hidden.
  function scriptPosition(site) {
    const url = site.getScriptNameOrSourceURL();
    let library = null;
    if (typeof url === "string" && url.indexOf(LIBRARY_URL) === 0) library = url.slice(LIBRARY_URL.length);
    else if (url !== SCRIPT_URL) return null;
    const line = site.getLineNumber() - HEADER_LINES;
    let column = site.getColumnNumber();
    if (line === 1) column -= BODY_PREFIX.length;
    return library === null ? { line: line, column: column } : { line: line, column: column, library: library };
  }

  function prepareStackTrace(error, sites) {
    const lines = [];
    let first = null;
    for (const site of sites) {
      const pos = scriptPosition(site);
      if (pos === null) continue;
      if (first === null) first = pos;
      const fn = site.getFunctionName();
      const where = "script:" + pos.line + ":" + pos.column;
      lines.push("    at " + (fn && fn !== "anonymous" ? fn + " (" + where + ")" : where));
    }
    if (first !== null && error !== null && typeof error === "object") errorFrames.set(error, first);
    let head;
    try {
      head = String(error);
    } catch (_) {
      head = "Error";
    }
    return [head].concat(lines).join("\n");
  }

  // ------------------------------------------------------------ hardening
  function installDeterministicTime() {
    function Date(a0, a1, a2, a3, a4, a5, a6) {
      if (new.target === undefined) return RealDate.prototype.toString.call(new RealDate(clockNow()));
      if (arguments.length === 0) return ReflectConstruct(RealDate, [clockNow()], new.target);
      return ReflectConstruct(RealDate, Array.prototype.slice.call(arguments), new.target);
    }
    ObjectDefineProperty(Date, "prototype", { value: RealDate.prototype, writable: false });
    Date.now = function now() { return clockNow(); };
    Date.parse = RealDate.parse;
    Date.UTC = RealDate.UTC;
    ObjectDefineProperty(RealDate.prototype, "constructor", { value: Date, writable: true, configurable: true });
    ObjectDefineProperty(global, "Date", { value: Date, writable: true, configurable: true });
    ObjectDefineProperty(Math, "random", { value: function random() { return nextRandom(); }, writable: true, configurable: true });

    // Intl formatters read the real clock when given no date.
    const dtf = Intl.DateTimeFormat.prototype;
    const formatGetter = ObjectGetOwnPropertyDescriptor(dtf, "format").get;
    ObjectDefineProperty(dtf, "format", {
      configurable: true,
      get() {
        const bound = formatGetter.call(this);
        return function format(date) { return bound(date === undefined ? clockNow() : date); };
      },
    });
    const formatToParts = dtf.formatToParts;
    ObjectDefineProperty(dtf, "formatToParts", {
      configurable: true,
      writable: true,
      value: function formatToParts(date) { return formatToParts.call(this, date === undefined ? clockNow() : date); },
    });
    if (global.Temporal) {
      try {
        delete global.Temporal.Now;
      } catch (_) {
        delete global.Temporal;
      }
    }
  }

  function removeNondeterministicGlobals() {
    // Timers, shared memory, GC observation and WebAssembly have no place in a
    // login script; console maps to Log.
    for (const name of [
      "setTimeout", "clearTimeout", "__timer_manager", "SharedArrayBuffer", "Atomics",
      "WeakRef", "FinalizationRegistry", "WebAssembly", "Promise", "AsyncDisposableStack",
    ]) {
      if (!(name in global)) continue;
      const desc = ObjectGetOwnPropertyDescriptor(global, name);
      if (desc && desc.configurable) delete global[name];
      else global[name] = undefined;
    }
    if (Array.fromAsync) delete Array.fromAsync;
    ObjectDefineProperty(global, "console", { value: consoleShim, writable: true, configurable: true });
  }

  // Code made from strings would escape the checks made when a script is
  // saved (async functions hidden in a string, for one); the runtime keeps the
  // real Function constructor for itself.
  function removeCodeFromStrings() {
    const refuse = (what) => {
      const stub = function () {
        throw new EvalError(what + " is not available to scripts (no code from strings)");
      };
      ObjectDefineProperty(stub, "name", { value: what });
      return stub;
    };
    const FunctionStub = refuse("Function");
    ObjectDefineProperty(FunctionStub, "prototype", { value: RealFunction.prototype });
    ObjectDefineProperty(global, "Function", { value: FunctionStub, writable: true, configurable: true });
    ObjectDefineProperty(global, "eval", { value: refuse("eval"), writable: true, configurable: true });
    ObjectDefineProperty(RealFunction.prototype, "constructor", { value: FunctionStub, writable: true, configurable: true });
    const kinds = [
      ["GeneratorFunction", function* () {}],
      ["AsyncFunction", async function () {}],
      ["AsyncGeneratorFunction", async function* () {}],
    ];
    for (const [name, sample] of kinds) {
      ObjectDefineProperty(ObjectGetPrototypeOf(sample), "constructor", { value: refuse(name), configurable: true });
    }
  }

  // Freezing a prototype makes `obj.toString = f` fail on instances (the
  // "override mistake"); for the common names an accessor restores the
  // assignment on instances while the prototype itself stays frozen.
  function tameOverrides() {
    const plan = [
      [Object.prototype, ["constructor", "toString", "valueOf", "toLocaleString", "hasOwnProperty", "isPrototypeOf", "propertyIsEnumerable"]],
      [Error.prototype, ["name", "message", "toString", "constructor"]],
      [Function.prototype, ["toString", "constructor"]],
      [Array.prototype, ["toString", "constructor"]],
    ];
    for (const [proto, names] of plan) {
      for (const name of names) {
        const desc = ObjectGetOwnPropertyDescriptor(proto, name);
        if (!desc || !("value" in desc)) continue;
        const value = desc.value;
        ObjectDefineProperty(proto, name, {
          configurable: false,
          enumerable: desc.enumerable,
          get: function () { return value; },
          set: function (v) {
            if (this === proto) throw new RealTypeError("Cannot assign to read only property '" + name + "' of a builtin");
            ObjectDefineProperty(this, name, { value: v, writable: true, enumerable: true, configurable: true });
          },
        });
      }
    }
  }

  function hiddenIntrinsics() {
    const roots = [];
    const add = (f) => {
      try {
        const v = f();
        if (v) roots.push(v);
      } catch (_) {
        // not present in this V8 build
      }
    };
    add(() => ObjectGetPrototypeOf(function* () {}));
    add(() => ObjectGetPrototypeOf(async function () {}));
    add(() => ObjectGetPrototypeOf(async function* () {}));
    add(() => ObjectGetPrototypeOf([][Symbol.iterator]()));
    add(() => ObjectGetPrototypeOf(new RealMap()[Symbol.iterator]()));
    add(() => ObjectGetPrototypeOf(new RealSet()[Symbol.iterator]()));
    add(() => ObjectGetPrototypeOf(""[Symbol.iterator]()));
    add(() => ObjectGetPrototypeOf(/a/[Symbol.matchAll]("a")));
    add(() => ObjectGetPrototypeOf([].values().map((x) => x)));
    add(() => ObjectGetPrototypeOf(Iterator.from({ next() { return { done: true }; } })));
    add(() => ObjectGetPrototypeOf(Uint8Array));
    add(() => ObjectGetPrototypeOf(new Intl.Segmenter().segment("a")));
    add(() => ObjectGetPrototypeOf(new Intl.Segmenter().segment("a")[Symbol.iterator]()));
    add(() => (async function () {})());
    return roots;
  }

  function deepFreeze(roots, spare) {
    const seen = new RealSet([spare]);
    const queue = roots.slice();
    while (queue.length) {
      const obj = queue.pop();
      if (obj === null || (typeof obj !== "object" && typeof obj !== "function") || seen.has(obj)) continue;
      seen.add(obj);
      ObjectFreeze(obj);
      queue.push(ObjectGetPrototypeOf(obj));
      for (const key of ReflectOwnKeys(obj)) {
        const desc = ObjectGetOwnPropertyDescriptor(obj, key);
        if (!desc) continue;
        if ("value" in desc) queue.push(desc.value);
        if (desc.get) queue.push(desc.get);
        if (desc.set) queue.push(desc.set);
      }
    }
  }

  installDeterministicTime();
  removeNondeterministicGlobals();
  removeCodeFromStrings();
  tameOverrides();
  ObjectDefineProperty(RealError, "prepareStackTrace", { value: prepareStackTrace, writable: true, configurable: true });

  const api = ObjectFreeze({
    check: check,
    compile: compile,
    run: runEntry,
    has: (key) => programs.has(key),
  });
  ObjectDefineProperty(global, "__authflow", { value: api, writable: false, enumerable: false, configurable: false });

  // Every builtin is frozen; the global object keeps accepting new names
  // (implicit globals of sloppy scripts), which scrubGlobal removes.
  const roots = hiddenIntrinsics().concat([PROFILES, Log, consoleShim, HALT]);
  for (const key of ReflectOwnKeys(global)) {
    const desc = ObjectGetOwnPropertyDescriptor(global, key);
    if ("value" in desc) roots.push(desc.value);
    if (desc.get) roots.push(desc.get);
    if (desc.set) roots.push(desc.set);
    ObjectDefineProperty(global, key, "value" in desc ? { writable: false, configurable: false } : { configurable: false });
  }
  roots.push(ObjectGetPrototypeOf(global));
  deepFreeze(roots, global);
  globalKeys = new RealSet(ReflectOwnKeys(global));
  globalProto = ObjectGetPrototypeOf(global);
})(globalThis);
//# sourceURL=authflow-runtime.js
