// One run of a program, and the engine's entry points.
//
// Everything the runtime reads from a script's objects (its result, the
// response headers it set, a thrown value) is copied into plain data before
// the run ends; after that, only data the runtime built itself is touched.
// The entry points live on the start compartment's global object, which no
// compartment can reach: a script cannot compile, run or check anything.

function newRun(input, program) {
  const journal = input.journal;
  const inputs = input.inputs;
  const request = inputs.request || {};
  // `input` was parsed from text for this run alone: nothing else holds these objects.
  const lookups = journal.lookups || {};
  const r = {
    program: program,
    halted: false,
    finishing: false,
    fatal: null,
    command: null,
    inputs: inputs,
    journal: {
      answers: journal.answers || [],
      clock: (journal.clock || []).slice(),
      reads: journal.reads || {},
      lookups: lookups,
      logs: journal.logs || 0,
    },
    prefetch: input.prefetch || {},
    lookupAnswers: input.lookups || {},
    lookupCount: ObjectKeys(lookups).length,
    readCount: ObjectKeys(journal.reads || {}).length,
    newLookups: {},
    newDigests: {},
    newSessionAnswers: [],
    pathHash: pathStart(journal.seed || 0),
    seenReads: new RealSet(),
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
    rng: seededState(journal.seed || 0),
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
    secretValues: [], // the secrets this run read: kept out of its log lines and error messages
    lastAuthenticatedUser: null, // the local user the newest identifying step authenticated (hasAnyOfTheRolesV2)
    context: null,
  };
  const steps = {};
  for (const id of ObjectKeys(r.steps)) {
    steps[id] = { subject: null, idp: null, authenticator: null, options: optionList(r.steps[id]) };
  }
  r.context = {
    steps: steps,
    currentKnownSubject: null,
    // The step being run, or last run: the same object as context.steps[n]; null before the first step.
    currentStep: null,
    // True once an attempt at the current step failed, until that step succeeds.
    retrying: false,
    retry: false,
    // The account named in the newest failed attempt (a wrong password for an existing user), else null.
    lastLoginFailedUser: null,
    tenantDomain: tenantOf(r),
    request: {
      ip: request.ip || null,
      headers: ObjectAssign({}, request.headers || {}),
      params: ObjectAssign({}, request.params || {}),
      cookies: ObjectAssign({}, request.cookies || {}),
    },
    response: { headers: {} },
    serviceProviderName: inputs.application.name,
    requestedAcr: requestedAcrs(r),
    selectedAcr: null,
  };
  return r;
}

function tenantOf(r) {
  const tenant = r.inputs.tenantDomain;
  return typeof tenant === "string" && tenant !== "" ? tenant : DEFAULT_TENANT;
}

// A step's options as the script sees them: fresh plain objects, so a script changing them changes nothing else.
function optionList(options) {
  return options.map((o) => ({ authenticator: o.authenticator, idp: o.idp }));
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
  if (typeof acr === "string" && acr !== "") complete.acr = acr; // the ID token's acr claim
  return complete;
}

// Runs the entry point and reads its outcome, all while run `r` is in progress.
function runScript(r, input) {
  let command;
  try {
    const exports = instantiate(r.program, r);
    const entry = exports[input.entry];
    if (typeof entry !== "function") {
      throw new RealError("the script does not define " + input.entry + " as a function");
    }
    const callback = input.entry === "onLoginRequest" ? null : callbackInvocation(input.entry, r.inputs.args, r);
    const args = input.entry === "onLoginRequest" ? [r.context] : callback !== null ? callback.args
      : ArrayIsArray(input.args) ? input.args : [];
    const result = entry.apply(undefined, args);
    rejectThenable(result, input.entry);
    if (r.fatal) command = r.fatal;
    else if (r.halted) command = r.command;
    else {
      r.finishing = true;
      command = input.entry === "onLoginRequest" ? finish(r)
        : { type: "return", value: callback !== null ? callback.read(result) : toPlain(result) };
    }
  } catch (e) {
    command = r.fatal || (r.halted ? r.command : errorCommand(e));
  }
  if (command.type === "step" || command.type === "prompt" || command.type === "complete") {
    r.finishing = true;
    try {
      const headers = toStringMap(r.context.response.headers, "response.headers");
      if (ObjectKeys(headers).length) command.responseHeaders = headers;
    } catch (e) {
      command = errorCommand(e);
    }
  }
  return command;
}

function runEntry(key, inputText) {
  if (run !== null) throw new RealError("a run is already in progress");
  const program = programFor(key);
  if (program === undefined) return JSONstringify({ unknownProgram: true });
  const input = JSONparse(inputText);
  const r = newRun(input, program);
  run = r;
  let command;
  try {
    command = runScript(r, input);
  } catch (_) {
    // Reading a hostile thrown value failed again: say so without touching it.
    command = { type: "error", kind: "runtime", message: "the script threw a value that cannot be read", line: null, column: null };
  } finally {
    run = null;
  }
  return JSONstringify({
    command: command,
    logs: r.newLogs,
    clock: r.newClock,
    reads: r.newReads,
    lookups: r.newLookups,
    digests: r.newDigests,
    sessionAnswers: r.newSessionAnswers,
  });
}

// A thenable coming back from script code is an error (scripts run synchronously).
function rejectThenable(value, what) {
  if (value !== null && (typeof value === "object" || typeof value === "function") && typeof value.then === "function") {
    const error = new RealTypeError(what + " returned a Promise; scripts run synchronously (no async functions)");
    if (run !== null) run.fatal = errorCommand(error);
    throw error;
  }
}

function call(callback, data) {
  if (typeof callback !== "function") return;
  const r = current();
  const result = arguments.length > 1 ? callback(r.context, data) : callback(r.context);
  rejectThenable(result, "a callback");
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
  if (run !== null) message = redactSecrets(run, message);
  const command = {
    type: "error",
    kind: "runtime",
    message: message,
    line: frame ? frame.line : null,
    column: frame ? frame.column : null,
  };
  if (frame && frame.library) command.library = frame.library; // the line is the library's
  return command;
}

function safeErrorValue(e) {
  try {
    return typeof e === "string" ? JSONstringify(e) : String(e);
  } catch (_) {
    return "a value that cannot be displayed";
  }
}

// ---------------------------------------------------------------- stack traces
// Script frames get the script's own line numbers; engine frames are hidden.
const errorFrames = new RealWeakMap(); // error -> first script frame

function scriptPosition(site) {
  const url = site.getScriptNameOrSourceURL();
  let library = null;
  if (typeof url === "string" && url.indexOf(LIBRARY_URL) === 0) library = decodeURIComponent(url.slice(LIBRARY_URL.length));
  else if (url !== SCRIPT_URL) return null;
  const line = site.getLineNumber() - HEADER_LINES;
  let column = site.getColumnNumber();
  if (line === 1) column -= library === null ? BODY_PREFIX.length : LIBRARY_PREFIX.length;
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

global.Error.prepareStackTrace = prepareStackTrace;

// ---------------------------------------------------------------- the engine's entry points
function checkEntry(source, kind) {
  const verdict = checkSource(source, kind);
  if (!verdict.ok) return JSONstringify(verdict);
  const built = compileWrapper(BODY_PREFIX, source, "\n;}; } }", SCRIPT_URL);
  return JSONstringify(built.error ? { ok: false, error: built.error } : { ok: true });
}

function compileEntry(key, source, kind) {
  if (run !== null) throw new RealError("compile during a run");
  return JSONstringify(compileProgram(key, source, kind));
}

ObjectDefineProperty(global, "__authflow", {
  value: harden({ check: checkEntry, compile: compileEntry, run: runEntry, outline: outlineEntry, lint: lintEntry,
                   describe: describeEntry }),
  writable: false,
  enumerable: false,
  configurable: false,
});
