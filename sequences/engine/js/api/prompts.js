// Prompts, and the calls that end a login (fail, sendError).
function prompt(templateId, data, handlers) {
  if (typeof templateId !== "string" || templateId === "") {
    throw new RealTypeError("prompt: templateId must be a non-empty string");
  }
  const plainData = data === undefined || data === null ? {} : toPlain(data);
  const command = { type: "prompt", templateId: templateId, data: plainData === null ? {} : plainData };
  const answer = nextAnswer("prompt", command, JSONstringify([templateId, command.data]), (a) => a.templateId === templateId);
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

