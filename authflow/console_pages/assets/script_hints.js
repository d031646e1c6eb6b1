// The editor's hints about the script API, both from the server (nothing listed here by hand):
// - completion of the API's functions, its objects' members (Log.info) and the context's fields
//   (context.request.ip, context.steps[1].subject), from GET /api/v1/script-api/ (read from the sandbox's runtime);
// - as-you-type diagnostics: the errors saving would refuse and the warnings it would be saved with (unknown API
//   functions, executeStep numbers an application of this script does not configure), from the API's check.
import { javascriptLanguage } from "@codemirror/lang-javascript";
import { linter } from "@codemirror/lint";

// context.<path>: which list of fields a path ends on ("steps[1]" and "currentStep" are both a step object;
// currentKnownSubject, lastLoginFailedUser and a step's subject a user object).
const USERS = new Set(["currentKnownSubject", "lastLoginFailedUser"]);
function contextPath(segments) {
  const names = segments.map((s) => (/^steps\[.*\]$/.test(s) || s === "currentStep" ? "steps[]" : s));
  const last = names.length - 1;
  if ((names.length === 1 && USERS.has(names[0])) || (last > 0 && names[last - 1] === "steps[]" && names[last] === "subject")) {
    return "user";
  }
  return names.join(".");
}

function completionSource(api) {
  return (context) => {
    const known = api.value;
    if (!known) return null;
    const match = context.matchBefore(/(?:[\w$]+(?:\[[^\]\n]*\])?\.)*[\w$]*$/);
    if (!match || (match.from === match.to && !context.explicit)) return null;
    const segments = match.text.split(".");
    const prefix = segments.pop();
    const from = match.to - prefix.length;
    let options = null;
    if (segments.length === 0) {
      options = known.functions.map((name) => ({ label: name, type: known.members[name] ? "namespace" : "function",
                                                  detail: "script API" }));
      options.push({ label: "context", type: "variable", detail: "the login's context" });
    } else if (segments[0] === "context") {
      const fields = known.context[contextPath(segments.slice(1))];
      if (fields) options = fields.map((name) => ({ label: name, type: "property", detail: "context" }));
    } else if (segments.length === 1 && known.members[segments[0]]) {
      options = known.members[segments[0]].map((name) => ({ label: name, type: "method", detail: segments[0] }));
    }
    if (!options) return null;
    return { from, options, validFor: /^[\w$]*$/ };
  };
}

function positionOf(doc, line, column) {
  if (!Number.isInteger(line) || line < 1 || line > doc.lines) return null;
  const at = doc.line(line);
  const from = Number.isInteger(column) && column > 0 ? Math.min(at.from + column - 1, at.to) : at.from;
  return { from, to: Math.max(from, at.to) };
}

function checkLinter(checkUrl, csrfToken) {
  return linter(async (view) => {
    const source = view.state.doc.toString();
    let body;
    try {
      const answer = await fetch(checkUrl, {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrfToken },
        body: JSON.stringify({ source }),
      });
      if (!answer.ok) return [];
      body = await answer.json();
    } catch (_) {
      return [];
    }
    const doc = view.state.doc;
    const diagnostics = [];
    const add = (item, severity) => {
      const place = positionOf(doc, item.line, item.column) || { from: 0, to: Math.min(doc.length, doc.line(1).to) };
      diagnostics.push({ ...place, severity, message: item.message, source: "server check" });
    };
    (body.errors || []).forEach((item) => add(item, "error"));
    (body.warnings || []).forEach((item) => add(item, "warning"));
    return diagnostics;
  }, { delay: 500 });
}

// The extensions for the editor in `host` (its data-check-url and data-api-url name the endpoints).
export function scriptHints(host, csrfToken) {
  const extensions = [];
  if (host.dataset.apiUrl) {
    const api = { value: null };
    fetch(host.dataset.apiUrl, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then((answer) => (answer.ok ? answer.json() : null))
      .then((value) => { api.value = value; if (value) host.dataset.completion = "ready"; })
      .catch(() => {});
    extensions.push(javascriptLanguage.data.of({ autocomplete: completionSource(api) }));
  }
  if (host.dataset.checkUrl) extensions.push(checkLinter(host.dataset.checkUrl, csrfToken));
  return extensions;
}
