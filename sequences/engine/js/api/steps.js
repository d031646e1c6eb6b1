// The script API: steps.
const STEP_OPTION_FLAGS = harden(["forceAuth", "markAsSubjectIdentifierStep", "markAsSubjectAttributeStep", "skipPrompt"]);

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
  if (!Number.isInteger(id) || !hasOwn(r.steps, String(id))) {
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
  setRetrying(false);
  noteOfferedOptions(r, id, offered);
  r.context.currentStep = r.context.steps[id];
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
    const answer = nextAnswer("step", command, describeStep(command), (ans) => ans.step === id);
    setRequestParams(answer.params);
    if (answer.r === "success") {
      recordSuccess(id, answer, stepOptions, offered);
      call(callbacks.onSuccess);
      return;
    }
    r.lastStepSucceeded = false;
    setRetrying(true);
    if (answer.user) r.context.lastLoginFailedUser = makeUser(answer.user);
    if (answer.r === "abort") {
      if (typeof callbacks.onUserAbort === "function") return call(callbacks.onUserAbort);
      halt({ type: "fail", reason: "abort", params: { errorCode: "access_denied", errorMessage: "The user cancelled the login." } });
    }
    if (answer.r === "fallback" && typeof callbacks.onFallback === "function") return call(callbacks.onFallback);
    if (typeof callbacks.onFail === "function") return call(callbacks.onFail);
    lastError = answer.error || null; // no onFail: the step is tried again
  }
}

// What identifies a step command on the path (attempts and errors come from earlier answers).
function describeStep(command) {
  return JSONstringify([command.step, command.options, command.subject || null, command.authenticatorParams || null,
                        command.stepOptions || null]);
}

function setRetrying(value) {
  const r = current();
  r.context.retrying = value;
  r.context.retry = value;
}

// context.steps[n].options: the step's configured options until it runs, then the ones it offered.
function noteOfferedOptions(r, id, offered) {
  const record = r.context.steps !== null && typeof r.context.steps === "object" ? r.context.steps[id] : null;
  if (record === null || typeof record !== "object") return;
  try {
    record.options = optionList(offered);
  } catch (e) {
    if (e === HALT) throw e; // a step record the script froze keeps what it had
  }
}

function recordSuccess(id, answer, stepOptions, offered) {
  const r = current();
  const user = answer.user ? makeUser(answer.user, answer) : null;
  r.context.steps[id] = {
    subject: user,
    idp: answer.idp || "LOCAL",
    authenticator: answer.authenticator || null,
    options: optionList(offered),
  };
  r.context.currentStep = r.context.steps[id];
  r.lastStepSucceeded = true;
  setRetrying(false);
  if (!user) return;
  r.context.currentKnownSubject = user;
  // A user an identity provider authenticated holds no local roles for hasAnyOfTheRolesV2.
  r.lastAuthenticatedUser = answer.idp && answer.idp !== "LOCAL" ? null : answer.user;
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

function setRequestParams(params) {
  const r = current();
  if (params && typeof params === "object") {
    r.context.request.params = JSONparse(JSONstringify(params));
  }
}

