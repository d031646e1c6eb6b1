// The replay debugger: reads a flow's trace (and a re-run) from the management API and shows it one round trip
// at a time.  Everything is built with textContent: no text from a flow is ever parsed as HTML.

const section = document.getElementById("replay");
const list = document.getElementById("round-trips");
const panel = document.getElementById("round-trip");
const status = document.getElementById("replay-status");
const previous = document.getElementById("previous-trip");
const next = document.getElementById("next-trip");
const announcer = document.getElementById("trip-announcer");
let trips = [];
let current = 0;
let diverged = null;

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = text;
  if (className) node.className = className;
  return node;
}

function json(value) {
  return el("pre", JSON.stringify(value, null, 2), "replay-json");
}

function describeAnswer(answer) {
  if (!answer) return "the login request (the flow starts)";
  if (answer.k === "step") {
    const who = answer.user ? ", " + answer.user : "";
    const how = answer.authenticator ? " with " + answer.authenticator : "";
    return "step " + answer.step + ": " + answer.r + how + who;
  }
  if (answer.k === "prompt") return "prompt " + JSON.stringify(answer.templateId) + ": " + answer.r;
  if (answer.k === "call") return "call " + answer.function + ": " + answer.r;
  if (answer.k === "effect") return "effect " + answer.name + ": " + JSON.stringify(answer.r);
  return String(answer.k);
}

function describeCommand(command) {
  switch (command.type) {
    case "step":
      return "show step " + command.step + " (" + (command.options || []).map((o) => o.authenticator || o.idp).join(", ") + ")";
    case "prompt":
      return "prompt " + JSON.stringify(command.templateId);
    case "call":
      return "call " + command.function + (command.url ? " " + command.url : "");
    case "effect":
      return "effect " + command.name;
    case "complete":
      return "done: signed in " + command.subject;
    case "fail":
      return "fail" + (command.params && command.params.errorCode ? ": " + command.params.errorCode : "");
    case "sendError":
      return "send error" + (command.url ? " to " + command.url : "");
    case "error":
      return "error (" + command.kind + "): " + command.message + (command.line ? " at line " + command.line : "");
    default:
      return String(command.type);
  }
}

function heading(text) {
  return el("h4", text);
}

function listOf(items, render, empty) {
  if (!items || !items.length) return el("p", empty, "replay-empty");
  const ul = el("ul", null, "replay-list");
  for (const item of items) ul.append(render(item));
  return ul;
}

function renderTrip(index) {
  current = index;
  const trip = trips[index];
  panel.replaceChildren();
  const title = el("h3", "Round trip " + (index + 1) + " of " + trips.length);
  title.id = "round-trip-title";
  panel.append(title);
  if (trip.at) panel.append(el("p", "At " + trip.at.replace("T", " ").slice(0, 19) + " UTC", "replay-time"));
  if (diverged !== null && diverged.round_trip === index) {
    const note = el("p", "The re-run diverges here: " + diverged.message, "replay-diverged-note");
    note.id = "divergence-note";
    panel.append(note);
  }

  panel.append(heading("Request answered"));
  const answer = el("p", describeAnswer(trip.answer));
  answer.id = "trip-answer";
  panel.append(answer);
  if (trip.answer && trip.answer.params && Object.keys(trip.answer.params).length) panel.append(json(trip.answer.params));

  panel.append(heading("Command the engine returned"));
  const command = el("p", describeCommand(trip.command), "replay-command replay-command-" + trip.command.type);
  command.id = "trip-command";
  panel.append(command);
  panel.append(json(trip.command));

  panel.append(heading("Journal"));
  const consumed = trip.journal.consumed;
  const parts = ["replayed " + consumed.answers + " earlier answer" + (consumed.answers === 1 ? "" : "s")];
  if (consumed.clock !== null) parts.push(consumed.clock + " clock reading" + (consumed.clock === 1 ? "" : "s"));
  if (consumed.users !== null) parts.push("users read before: " + (consumed.users.join(", ") || "none"));
  if (consumed.lookups !== null) parts.push(consumed.lookups.length + " lookup" + (consumed.lookups.length === 1 ? "" : "s"));
  const consumedText = el("p", "Consumed: " + parts.join("; ") + ".");
  consumedText.id = "trip-consumed";
  panel.append(consumedText);
  const added = trip.journal.added;
  const addedList = listOf(added.answers, (a) => el("li", "#" + a.position + " " + describeAnswer(a)), "No answer added.");
  addedList.id = "trip-added";
  panel.append(el("p", "Added:"), addedList);
  if (added.clock && added.clock.length) panel.append(el("p", "Clock readings added: " + added.clock.map((ms) => new Date(ms).toISOString()).join(", ")));
  if (added.users && added.users.length) panel.append(el("p", "Users read: " + added.users.join(", ")));
  if (added.lookups && added.lookups.length) {
    panel.append(el("p", "Lookups journaled:"));
    panel.append(listOf(added.lookups, (l) => el("li", l.key + " → " + JSON.stringify(l.value)), ""));
  }
  if (!trip.at && trip.index === 0 && section.dataset.boundaries === "inferred") {
    panel.append(el("p", "This flow was stored before round trips were marked: clock readings, users and lookups per round trip are not known.", "replay-empty"));
  }

  panel.append(heading("Effects"));
  const effects = listOf(trip.effects, (e) => el("li", e.name + "(" + (e.args || []).map((a) => JSON.stringify(a)).join(", ") + ") → " + JSON.stringify(e.result)), "No effect.");
  effects.id = "trip-effects";
  panel.append(effects);
  if (trip.sso.length) {
    panel.append(heading("Steps the sign-on session answered"));
    panel.append(listOf(trip.sso, (s) => el("li", "step " + s.step + ": " + s.user + " (" + s.authenticator + ")"), ""));
  }
  if (trip.calls.length) {
    panel.append(heading("Calls"));
    panel.append(listOf(trip.calls, (c) => el("li", describeCommand(c.request) + " → " + c.result), ""));
  }

  panel.append(heading("Logs"));
  const logs = listOf(trip.logs, (line) => {
    const item = el("li", null, "log-" + line.level);
    item.append(el("span", line.level.toUpperCase(), "log-level"), " ");
    if (line.line) item.append(el("span", (line.library ? line.library + ":" : "line ") + line.line, "log-line"), " ");
    item.append(el("span", line.message, "log-message"));
    return item;
  }, "No log line.");
  logs.id = "trip-logs";
  panel.append(logs);

  for (const [i, item] of Array.from(list.children).entries()) {
    const button = item.querySelector("button");
    button.setAttribute("aria-current", i === index ? "step" : "false");
  }
  previous.disabled = index === 0;
  next.disabled = index === trips.length - 1;
  announcer.textContent = title.textContent + ": " + describeCommand(trip.command);
}

function renderList() {
  list.replaceChildren();
  trips.forEach((trip, index) => {
    const item = el("li");
    const button = el("button", describeAnswer(trip.answer) + " → " + describeCommand(trip.command), "round-trip-link");
    button.type = "button";
    button.addEventListener("click", () => renderTrip(index));
    item.append(button);
    list.append(item);
  });
}

async function readJson(url) {
  const answer = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
  const body = await answer.json().catch(() => ({}));
  if (!answer.ok) {
    const message = body.errors && body.errors.length ? body.errors[0].message : "the server answered " + answer.status;
    throw new Error(message);
  }
  return body;
}

async function load() {
  try {
    const trace = await readJson(section.dataset.traceUrl);
    trips = trace.round_trips;
    section.dataset.boundaries = trace.boundaries;
    status.textContent = trips.length + " round trip" + (trips.length === 1 ? "" : "s") +
      (trace.boundaries === "inferred" ? " (told apart by the flow's answers: it was stored before round trips were marked)" : "") + ".";
    renderList();
    renderTrip(0);
    section.dataset.ready = "true";
  } catch (error) {
    status.textContent = "The flow cannot be replayed: " + error.message;
    status.classList.add("replay-error");
  }
}

previous.addEventListener("click", () => { if (current > 0) renderTrip(current - 1); });
next.addEventListener("click", () => { if (current < trips.length - 1) renderTrip(current + 1); });

const rerun = document.getElementById("rerun");
const form = document.getElementById("rerun-form");
if (rerun && form) {
  const result = document.getElementById("rerun-result");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const version = form.elements.version.value;
    result.replaceChildren(el("p", "Re-running against v" + version + "…"));
    for (const item of list.children) item.classList.remove("diverged");
    diverged = null;
    try {
      const answer = await readJson(rerun.dataset.rerunUrl + "?version=" + encodeURIComponent(version));
      result.replaceChildren();
      if (answer.same) {
        const same = el("p", "v" + answer.version + " decides the same as v" + answer.recorded_version + " at every point of this flow (" + answer.compared + " compared).", "rerun-same");
        same.id = "rerun-verdict";
        result.append(same);
      } else {
        const d = answer.divergence;
        diverged = d;
        const verdict = el("p", "v" + answer.version + " diverges at round trip " + (d.round_trip + 1) + " (" +
          (d.kind === "path" ? "the engine found the script took another path" : "another command") + "): " + d.message, "rerun-diverges");
        verdict.id = "rerun-verdict";
        result.append(verdict);
        const table = el("table", null, "console-table rerun-compare");
        const head = el("tr");
        head.append(el("th", "Recorded v" + answer.recorded_version), el("th", "v" + answer.version));
        const row = el("tr");
        const left = el("td");
        left.append(el("p", describeCommand(d.recorded)), json(d.recorded));
        const right = el("td");
        right.append(el("p", describeCommand(d.other)), json(d.other));
        row.append(left, right);
        table.append(head, row);
        result.append(table);
        const item = list.children[d.round_trip];
        if (item) item.classList.add("diverged");
        const show = el("button", "Show round trip " + (d.round_trip + 1));
        show.type = "button";
        show.id = "show-divergence";
        show.addEventListener("click", () => renderTrip(d.round_trip));
        result.append(show);
      }
      if (trips.length) renderTrip(current);
    } catch (error) {
      result.replaceChildren(el("p", "The re-run failed: " + error.message, "replay-error"));
    }
  });
}

load();
