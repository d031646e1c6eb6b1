// The run in progress and its journal.
//
// A run replays a script from its entry point against a journal of everything
// that already happened in the flow.  Every API call that needs an answer the
// journal does not hold yet (a step, a prompt, an effect, a lookup) *halts*
// the run and becomes the command Python acts on; Python appends the answer
// to the journal and runs the script again.  Because time, randomness and
// every read of server data come from the journal, a replay always takes the
// same path, so closures survive round trips and any worker can resume any
// flow.  The path is digested as it goes (see `trail`): a replay that takes
// another path than the run that first read an answer stops with an error
// instead of applying that answer to something else.

const MAX_LOGS_PER_RUN = 200;
const MAX_LOG_LENGTH = 4000;
const MAX_JSON_DEPTH = 16;
const MAX_PLAIN_ITEMS = 20000; // values and keys in one value passed to the server
// Caps on what one flow's journal may hold: a script cannot grow a flow's state without bound.
const JOURNAL_LIMITS = ObjectFreeze({ answers: 500, clock: 5000, reads: 200, lookups: 1000 });

// Thrown to unwind the script's stack when a run halts.  A script that
// catches it gains nothing: every API call after a halt throws it again
// and the run's result is the halting command whatever the script does.
const HALT = harden({ toString: () => "authflow: run halted" });

let run = null; // the run in progress, null between runs
const userIdentity = new RealWeakMap(); // user object -> username
const userIdp = new RealWeakMap(); // user object -> the identity provider that authenticated it (federated users)

function current() {
  const r = run;
  if (r === null) {
    throw new RealError("the login API was used outside a script run");
  }
  if (r.finishing) {
    throw new RealError("the login API cannot be used once the entry point has returned");
  }
  if (r.halted) throw HALT;
  return r;
}

function halt(command) {
  const r = run;
  r.halted = true;
  r.command = command;
  throw HALT;
}

function journalError(what) {
  halt({ type: "error", kind: "limit", message: "the flow's journal is full: " + what, line: null, column: null });
}

// ---------------------------------------------------------------- plain data
// Values leaving the sandbox are copied into plain JSON while the run is in
// progress: user objects become usernames, functions and symbols disappear,
// depth and size are bounded.  Nothing of the script's objects is read after
// its run ended.
function toPlain(value) {
  const budget = { left: MAX_PLAIN_ITEMS };
  return plainValue(value, 0, budget);
}

function isDate(value) {
  try {
    DateGetTime.call(value);
    return true;
  } catch (_) {
    return false;
  }
}

function plainValue(value, depth, budget) {
  if (depth > MAX_JSON_DEPTH) throw new RealTypeError("value nested too deeply to pass to the server");
  if (--budget.left < 0) throw new RealRangeError("value too large to pass to the server");
  if (value === null || value === undefined) return null;
  const t = typeof value;
  if (t === "string" || t === "boolean") return value;
  if (t === "number") return NumberIsFinite(value) ? value : null;
  if (t === "bigint") return String(value);
  if (t === "function" || t === "symbol") return undefined;
  if (userIdentity.has(value)) return userIdentity.get(value);
  if (isDate(value)) return DateToISOString.call(value);
  if (ArrayIsArray(value)) {
    const length = value.length;
    if (length > budget.left) throw new RealRangeError("value too large to pass to the server");
    const out = [];
    for (let i = 0; i < length; i++) {
      const v = plainValue(value[i], depth + 1, budget);
      out.push(v === undefined ? null : v);
    }
    return out;
  }
  const out = {};
  for (const key of ObjectKeys(value)) {
    const v = plainValue(value[key], depth + 1, budget);
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

function copyJson(value) {
  return value === null || value === undefined ? null : JSONparse(JSONstringify(value));
}

// ---------------------------------------------------------------- the path digest
// Every interaction with the world (an answer consumed, a lookup, a user
// read) moves the digest of the path; each answer keeps the digest the path
// had when the answer was first read.  The hash is cyrb53's, fed as a
// stream: fast, 53 bits, no secrecy needed (and no secret goes into it:
// effect arguments are digested redacted).
const imul = Math.imul;

function trail(r, what) {
  let h1 = r.pathHash[0], h2 = r.pathHash[1];
  for (let i = 0; i < what.length; i++) {
    const ch = what.charCodeAt(i);
    h1 = imul(h1 ^ ch, 2654435761);
    h2 = imul(h2 ^ ch, 1597334677);
  }
  r.pathHash[0] = imul(h1 ^ 124, 2654435761);
  r.pathHash[1] = imul(h2 ^ 124, 1597334677);
}

function pathDigest(r) {
  let h1 = r.pathHash[0], h2 = r.pathHash[1];
  h1 = imul(h1 ^ (h1 >>> 16), 2246822507) ^ imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = imul(h2 ^ (h2 >>> 16), 2246822507) ^ imul(h1 ^ (h1 >>> 13), 3266489909);
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(36);
}

function pathStart(seed) {
  return [0xdeadbeef ^ seed, 0x41c6ce57 ^ seed];
}

// ---------------------------------------------------------------- time & randomness
function clockNow() {
  const r = current();
  let value;
  if (r.clockCursor < r.journal.clock.length) {
    value = r.journal.clock[r.clockCursor];
  } else {
    if (r.journal.clock.length >= JOURNAL_LIMITS.clock) journalError("too many clock readings");
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

// ---------------------------------------------------------------- logging
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
  let message = redactSecrets(r, parts.join(" "));
  if (message.length > MAX_LOG_LENGTH) message = message.slice(0, MAX_LOG_LENGTH) + "…";
  const line = { level: level, message: message };
  const where = callerPosition();
  if (where !== null) {
    line.line = where.line;
    if (where.library) line.library = where.library; // the line is the library's
  }
  r.newLogs.push(line);
}

// The script's line that called the log (run.js formats stacks: engine frames hidden, script lines kept).
function callerPosition() {
  const probe = new RealError("log");
  void probe.stack;
  return errorFrames.get(probe) || null;
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

// ---------------------------------------------------------------- answers
// `describe` is what identifies the command an answer answers: the kind and
// its defining arguments (never secrets).  A replay that asks another
// question at the same point of the path stops with a "replay" error.
function nextAnswer(kind, command, describe, matches) {
  const r = current();
  trail(r, kind + ":" + describe);
  const position = r.cursor;
  if (position < r.journal.answers.length) {
    const answer = r.journal.answers[position];
    if (answer.k !== kind || !matches(answer)) {
      diverged("the journal answers " + describeAnswer(answer) + " where the script asked for " + describeCommand(command));
    }
    const digest = pathDigest(r);
    if (answer.d === undefined) {
      r.newDigests[position] = digest;
    } else if (answer.d !== digest) {
      diverged("the script took a different path on replay before " + describeCommand(command) +
               " (its code, libraries or the data it read are not what they were when the flow got that answer)");
    }
    r.cursor++;
    return answer;
  }
  if (position >= JOURNAL_LIMITS.answers) journalError("too many steps, prompts, effects and calls");
  const fromSession = kind === "step" ? sessionAnswer(r, command) : null;
  if (fromSession !== null) {
    // The sign-on session answers the step in this run (the server journals it): no round trip to ask.
    r.journal.answers.push(fromSession);
    r.newSessionAnswers.push(fromSession);
    r.newDigests[position] = pathDigest(r);
    r.cursor++;
    return fromSession;
  }
  command.position = position;
  halt(command);
}

// The answer the browser's sign-on session (inputs.session) gives to a step command, or null when the
// user must take the step: the rule of sequences/engine/sso.py's answer_from_session, which the server
// applies to a step this run did not answer.
function sessionAnswer(r, command) {
  const session = r.inputs.session;
  if (session === null || typeof session !== "object" || typeof session.user !== "string") return null;
  if (command.stepOptions && command.stepOptions.forceAuth) return null;
  if (command.subject !== undefined && command.subject !== null && command.subject !== session.user) return null;
  const authenticated = ArrayIsArray(session.authenticated) ? session.authenticated : [];
  for (const option of command.options) {
    const idp = option.idp || "LOCAL";
    for (const passed of authenticated) {
      if (passed.authenticator === option.authenticator && (passed.idp || "LOCAL") === idp) {
        const answer = { k: "step", step: command.step, r: "success", user: session.user };
        if (option.authenticator) answer.authenticator = option.authenticator;
        if (idp !== "LOCAL") answer.idp = idp;
        answer.via = "session";
        return answer;
      }
    }
  }
  return null;
}

function diverged(message) {
  halt({ type: "error", kind: "replay", message: "replay diverged: " + message, line: null, column: null });
}

function describeAnswer(a) {
  if (a.k === "step") return "step " + a.step;
  if (a.k === "prompt") return "prompt " + JSONstringify(a.templateId);
  if (a.k === "effect") return "effect " + a.name;
  if (a.k === "call") return "call " + a.function;
  return String(a.k);
}

function describeCommand(c) {
  if (c.type === "step") return "step " + c.step;
  if (c.type === "prompt") return "prompt " + JSONstringify(c.templateId);
  if (c.type === "effect") return "effect " + c.name;
  if (c.type === "call") return "call " + c.function;
  return c.type;
}

// ---------------------------------------------------------------- lookups
// Server data other than users (users by claims, verified cookies, shared
// libraries) is looked up by kind and key: the run halts, Python answers,
// and the answer is journaled (journal.lookups) so every later replay of
// the flow sees the same value.  Volatile lookups (secrets, sessions) are
// answered again on each round trip and never written to the journal.
function lookup(kind, key, volatile) {
  const r = current();
  const id = kind + ":" + JSONstringify(key);
  trail(r, "lookup:" + id);
  if (!volatile && hasOwn(r.journal.lookups, id)) {
    return copyJson(r.journal.lookups[id]);
  }
  if (!hasOwn(r.lookupAnswers, id)) {
    if (!volatile && r.lookupCount >= JOURNAL_LIMITS.lookups) journalError("too many lookups");
    halt({ type: "lookup", kind: kind, key: key, id: id, volatile: !!volatile });
  }
  const value = r.lookupAnswers[id] === undefined ? null : r.lookupAnswers[id];
  if (!volatile) {
    r.journal.lookups[id] = value;
    r.newLookups[id] = value;
    r.lookupCount++;
  }
  return copyJson(value);
}
