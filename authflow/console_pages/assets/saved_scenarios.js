// Saving the test panel's scenario with the script: after a run, "Save scenario" stores the scenario and the
// decision that run took (status, subject, steps, effects) through the API; every later version is checked
// against it, and publishing one that fails it needs an override.
function expectationOf(trace) {
  const events = trace.events || [];
  return {
    status: trace.status,
    subject: trace.subject ?? null,
    steps: events.filter((e) => e.type === "step").map((e) => e.step),
    effects: events.filter((e) => e.type === "effect").map((e) => e.name),
  };
}

export function startScenarioSaving(panel, form) {
  const section = document.getElementById("save-scenario");
  const name = document.getElementById("scenario-name");
  const save = document.getElementById("save-scenario-button");
  const status = document.getElementById("save-scenario-status");
  if (!section || !name || !save) return;
  let last = null;
  panel.addEventListener("simulated", (event) => {
    last = event.detail;
    section.hidden = false;
    status.textContent = `Saving keeps this decision: ${last.trace.status}` +
      (last.trace.subject ? ` as ${last.trace.subject}` : "") + ".";
  });
  save.addEventListener("click", async () => {
    if (last === null) return;
    if (!name.value.trim()) {
      status.textContent = "Give the scenario a name.";
      name.focus();
      return;
    }
    save.disabled = true;
    try {
      const answer = await fetch(section.dataset.url, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "Accept": "application/json",
                   "X-CSRFToken": form.elements.csrfmiddlewaretoken.value },
        body: JSON.stringify({ name: name.value.trim(), scenario: last.scenario, expect: expectationOf(last.trace) }),
      });
      const body = await answer.json();
      status.textContent = answer.ok
        ? `Saved “${body.name}”: each new version of this script is checked against it.`
        : "Not saved: " + (body.errors || []).map((e) => (e.field ? `${e.field}: ` : "") + e.message).join("; ");
    } catch (error) {
      status.textContent = `Not saved: ${error.message}`;
    } finally {
      save.disabled = false;
    }
  });
}
