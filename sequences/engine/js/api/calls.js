// The script API: asynchronous calls.
// httpGet, httpPost, callChoreo and callAnalytics suspend the flow: the call is the
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
  // The digest names the call, not its headers or body (which may carry secrets).
  const describe = JSONstringify([request.function, request.method || null, request.url || null]);
  const answer = nextAnswer("call", ObjectAssign({ type: "call" }, request), describe, (a) => a.function === request.function);
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

// callChoreo(connectionMetadata, payloadData, handlers): POST payloadData as JSON to connectionMetadata.url
// with a token the server gets by the client credentials grant (consumerKey/consumerSecret, or the names of
// secrets holding them: consumerKeyAlias/consumerSecretAlias).
function callChoreo(connectionMetadata, payloadData, handlers) {
  const given = connectionMetadata !== null && typeof connectionMetadata === "object" ? toPlain(connectionMetadata) : {};
  const metadata = given !== null && typeof given === "object" ? given : {};
  const connection = {};
  for (const name of ["consumerKey", "consumerSecret", "consumerKeyAlias", "consumerSecretAlias"]) {
    if (typeof metadata[name] === "string") connection[name] = metadata[name];
  }
  const url = httpUrl(metadata.url, "callChoreo");
  asyncCall({ function: "callChoreo", method: "POST", url: url, connection: connection,
              payload: toPlain(payloadData === undefined ? {} : payloadData) },
            isHandlers(handlers) ? handlers : {});
}

function publishToAnalytics(metadata, payload) {
  return effect("publishToAnalytics", [toPlain(metadata || {}), toPlain(payload || {})]) === true;
}

