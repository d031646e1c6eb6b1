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
  host.dataset.ready = "true";
  window.consoleEditor = view; // for the browser tests and the devtools
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();
