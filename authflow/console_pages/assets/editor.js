// The console's script editor: CodeMirror 6 over the form's textarea (which stays the form's field, so saving
// is the same form post with or without JavaScript), with the server's check errors shown at their line.
// CodeMirror styles itself with a <style> element in a document (refused by the CSP: no inline style) but
// with a constructed, adopted style sheet in a shadow root (allowed): so the editor lives in one.
// Bundled by `make venv` (esbuild) into static/console/editor.bundle.js: no CDN, nothing inline (CSP).
import { basicSetup } from "codemirror";
import { EditorView } from "@codemirror/view";
import { EditorState } from "@codemirror/state";
import { javascript } from "@codemirror/lang-javascript";
import { lintGutter, setDiagnostics } from "@codemirror/lint";
import { startScenarioSaving } from "./saved_scenarios.js";

function serverDiagnostics(doc) {
  const diagnostics = [];
  for (const item of document.querySelectorAll("#script-errors [data-line]")) {
    const number = Number(item.dataset.line);
    if (!Number.isInteger(number) || number < 1 || number > doc.lines) continue;
    const line = doc.line(number);
    const column = Number(item.dataset.column);
    // the checks count columns from 1
    const from = Number.isInteger(column) && column > 0 ? Math.min(line.from + column - 1, line.to) : line.from;
    diagnostics.push({ from, to: Math.max(from, line.to), severity: "error", message: item.dataset.message || "" });
  }
  return diagnostics;
}

const sizing = EditorView.theme({
  "&": { height: "32rem", fontSize: "0.9rem" },
  ".cm-scroller": { overflow: "auto", fontFamily: "ui-monospace, monospace" },
});

function start() {
  const textarea = document.getElementById("source");
  const host = document.getElementById("editor");
  const form = document.getElementById("script-form");
  if (!textarea || !host || !form) return;
  const shadow = host.attachShadow({ mode: "open" });
  const view = new EditorView({
    root: shadow,
    parent: shadow,
    state: EditorState.create({
      doc: textarea.value,
      extensions: [basicSetup, javascript(), lintGutter(), sizing,
        EditorView.contentAttributes.of({ "aria-label": "Script" })],
    }),
  });
  view.dispatch(setDiagnostics(view.state, serverDiagnostics(view.state.doc)));
  const first = serverDiagnostics(view.state.doc)[0];
  if (first) view.dispatch({ selection: { anchor: first.from }, scrollIntoView: true });
  textarea.hidden = true;
  textarea.labels.forEach((label) => label.setAttribute("for", ""));
  host.hidden = false;
  form.addEventListener("submit", () => { textarea.value = view.state.doc.toString(); });
  startTestPanel(view, form);
  host.dataset.ready = "true";
  window.consoleEditor = view; // for the browser tests and the devtools
}

// The test panel: POST /api/v1/simulate/ with the editor's text and the scenario (the staff session's
// CSRF token in its header, as the API asks), and the trace as a list of events.
function startTestPanel(view, form) {
  const panel = document.getElementById("simulate-panel");
  const scenario = document.getElementById("scenario");
  const run = document.getElementById("run-simulation");
  const status = document.getElementById("trace-status");
  const trace = document.getElementById("trace");
  if (!panel || !scenario || !run) return;
  panel.hidden = false;
  startScenarioSaving(panel, form);
  run.addEventListener("click", async () => {
    trace.replaceChildren();
    let parsed;
    try {
      parsed = JSON.parse(scenario.value);
    } catch (error) {
      status.textContent = `The scenario is not JSON: ${error.message}`;
      return;
    }
    status.textContent = "Running…";
    run.disabled = true;
    try {
      const answer = await fetch("/api/v1/simulate/", {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "Accept": "application/json",
                   "X-CSRFToken": form.elements.csrfmiddlewaretoken.value },
        body: JSON.stringify({ source: view.state.doc.toString(), scenario: parsed }),
      });
      const body = await answer.json();
      if (!answer.ok) {
        status.textContent = "Not run: " + (body.errors || []).map((e) =>
          (e.line ? `line ${e.line}: ` : "") + e.message).join("; ");
        return;
      }
      status.textContent = `Result: ${body.status}` + (body.subject ? ` (subject ${body.subject})` : "");
      panel.dispatchEvent(new CustomEvent("simulated", { detail: { scenario: parsed, trace: body } }));
      for (const event of body.events || []) {
        const item = document.createElement("li");
        const { type, ...rest } = event;
        const name = document.createElement("strong");
        name.textContent = type || "event";
        const detail = document.createElement("code");
        detail.textContent = " " + JSON.stringify(rest);
        item.append(name, detail);
        trace.append(item);
      }
    } catch (error) {
      status.textContent = `The simulation could not be run: ${error.message}`;
    } finally {
      run.disabled = false;
    }
  });
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();
