/* The waiting page of a sign-in (templates/login/waiting.html): continue by itself once the check is done.
 *
 * Polls the flow's status ({"position", "waiting"}) and loads the flow page again when the flow no longer
 * waits or has moved to another position; the delay between polls grows from half a second to two seconds.
 * An error answer (the flow is gone, another browser) also loads the flow page, which says what happened.
 */
(function () {
  "use strict";

  var root = document.querySelector("[data-waiting]");
  if (!root) { return; }
  if (!window.fetch) {  // an old browser: reload now and then, as the <noscript> refresh does without JavaScript
    window.setTimeout(function () { window.location.reload(); }, 3000);
    return;
  }
  var statusUrl = root.getAttribute("data-status-url");
  var flowUrl = root.getAttribute("data-flow-url");
  var position = Number(root.getAttribute("data-position"));
  var delay = 500;
  var done = false;

  function proceed() {
    if (done) { return; }
    done = true;
    window.location.replace(flowUrl);
  }

  function later() {
    window.setTimeout(poll, delay);
    delay = Math.min(2000, Math.round(delay * 1.5));
  }

  function poll() {
    fetch(statusUrl, {credentials: "same-origin", cache: "no-store", headers: {"Accept": "application/json"}})
      .then(function (response) {
        if (response.status >= 400 && response.status < 500) { proceed(); return null; }
        if (!response.ok) { throw new Error("status " + response.status); }
        return response.json();
      })
      .then(function (status) {
        if (status === null) { return; }
        if (!status.waiting || status.position !== position) { proceed(); } else { later(); }
      })
      .catch(function () { later(); });  // the server is restarting, the network dropped: try again
  }

  later();
})();
