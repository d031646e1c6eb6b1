/* Passkeys and security keys (WebAuthn) in the browser: run the ceremony the server described, post the answer.
 *
 * Login pages ([data-passkey-step]): the options are in <script id="passkey-options" type="application/json">
 * ({mode: "get"|"create", publicKey: {...}} with binary values in base64url); the answer goes, base64url-encoded
 * JSON, into the step form's hidden "credential" field, and the form is submitted (with form_token, position,
 * option).  The account page ([data-passkey-account]) asks for options and sends the answer with fetch (JSON,
 * Django's CSRF header).  Whatever goes wrong is said on the page, with a button to try again.
 */
(function () {
  "use strict";

  function decode(text) {
    var base64 = String(text).replace(/-/g, "+").replace(/_/g, "/");
    while (base64.length % 4) { base64 += "="; }
    var binary = atob(base64);
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) { bytes[i] = binary.charCodeAt(i); }
    return bytes.buffer;
  }

  function encode(buffer) {
    var bytes = new Uint8Array(buffer);
    var binary = "";
    for (var i = 0; i < bytes.length; i++) { binary += String.fromCharCode(bytes[i]); }
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function withIds(list) {
    return (list || []).map(function (c) { return Object.assign({}, c, {id: decode(c.id)}); });
  }

  function creationOptions(o) {
    var options = Object.assign({}, o, {challenge: decode(o.challenge), user: Object.assign({}, o.user, {id: decode(o.user.id)})});
    if (o.excludeCredentials) { options.excludeCredentials = withIds(o.excludeCredentials); }
    return options;
  }

  function requestOptions(o) {
    var options = Object.assign({}, o, {challenge: decode(o.challenge)});
    if (o.allowCredentials) { options.allowCredentials = withIds(o.allowCredentials); }
    return options;
  }

  /* The credential as RegistrationResponseJSON / AuthenticationResponseJSON. */
  function credentialJSON(credential) {
    var r = credential.response;
    var out = {id: credential.id, rawId: encode(credential.rawId), type: credential.type,
               authenticatorAttachment: credential.authenticatorAttachment || null,
               response: {clientDataJSON: encode(r.clientDataJSON)}, clientExtensionResults: {}};
    var extensions = credential.getClientExtensionResults ? credential.getClientExtensionResults() : {};
    if (extensions && extensions.credProps) { out.clientExtensionResults.credProps = {rk: extensions.credProps.rk === true}; }
    if (r.attestationObject) {
      out.response.attestationObject = encode(r.attestationObject);
      if (r.getTransports) { out.response.transports = r.getTransports(); }
    } else {
      out.response.authenticatorData = encode(r.authenticatorData);
      out.response.signature = encode(r.signature);
      if (r.userHandle) { out.response.userHandle = encode(r.userHandle); }
    }
    return out;
  }

  function supported() {
    return !!(window.PublicKeyCredential && navigator.credentials && navigator.credentials.get && navigator.credentials.create);
  }

  function ceremony(mode, publicKey) {
    var run = mode === "create"
      ? navigator.credentials.create({publicKey: creationOptions(publicKey)})
      : navigator.credentials.get({publicKey: requestOptions(publicKey)});
    return run.then(function (credential) {
      if (!credential) { throw {name: "NotAllowedError"}; }
      return credentialJSON(credential);
    });
  }

  function explain(error, mode) {
    var name = error && error.name;
    if (name === "NotAllowedError") {
      return mode === "create"
        ? text("notCreated", "No passkey was created: the request was cancelled or timed out.")
        : text("notUsed", "No passkey was used: the request was cancelled or timed out, or this device has no passkey for this site.");
    }
    if (name === "InvalidStateError") { return text("alreadyHeld", "This device or security key already holds a passkey for your account here."); }
    if (name === "SecurityError") {
      return text("badAddress", "Passkeys cannot be used at this address. Open the site by its domain name (over HTTPS).");
    }
    if (name === "NotSupportedError") { return text("unsupportedKind", "This device does not support the kinds of passkey this site accepts."); }
    if (name === "AbortError") { return text("interrupted", "The passkey request was interrupted."); }
    return error && error.message
      ? text("failedBecause", "The passkey request failed: %(reason)s").replace("%(reason)s", error.message)
      : text("failed", "The passkey request failed.");
  }

  function say(element, text) {
    if (!element) { return; }
    element.textContent = text || "";
    element.hidden = !text;
  }

  // The page's language: {% passkey_texts %} puts the texts in a JSON block; English when it is not there.
  var TEXTS = (function () {
    var block = document.getElementById("passkey-texts");
    try { return block ? JSON.parse(block.textContent) : {}; } catch (e) { return {}; }
  }());

  function text(key, english) { return TEXTS[key] || english; }

  var UNSUPPORTED = text("unsupportedBrowser", "This browser cannot use passkeys or security keys. Sign in another way, or use another browser.");

  function setUpStep(root) {
    var data = JSON.parse(document.getElementById("passkey-options").textContent);
    var form = root.querySelector("[data-passkey-form]");
    var problem = root.querySelector("[data-passkey-problem]");
    var status = root.querySelector("[data-passkey-status]");
    var start = root.querySelector("[data-passkey-start]");
    if (!supported()) { say(problem, UNSUPPORTED); return; }
    root.querySelector("[data-passkey-ready]").hidden = false;
    var busy = false;
    function run() {
      if (busy) { return; }
      busy = true;
      start.disabled = true;
      say(problem, "");
      say(status, data.mode === "create" ? text("followCreate", "Follow your browser's steps to create the passkey…")
                                         : text("waiting", "Waiting for your passkey…"));
      ceremony(data.mode, data.publicKey).then(function (answer) {
        form.elements.credential.value = JSON.stringify(answer);
        say(status, text("checking", "Checking…"));
        form.submit();
      }).catch(function (error) {
        busy = false;
        start.disabled = false;
        start.textContent = text("tryAgain", "Try again");
        say(status, "");
        say(problem, explain(error, data.mode));
      });
    }
    start.addEventListener("click", run);
    if (root.getAttribute("data-autostart") === "true") { run(); }
  }

  function postJSON(url, body, csrf) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrf},
      body: JSON.stringify(body)
    }).then(function (response) {
      return response.json().catch(function () {
        return {error: text("unreadable", "The server's answer could not be read (HTTP %(status)s). Reload the page and try again.")
          .replace("%(status)s", String(response.status))};
      });
    });
  }

  function setUpAccount(root) {
    var problem = root.querySelector("[data-passkey-problem]");
    var status = root.querySelector("[data-passkey-status]");
    var start = root.querySelector("[data-passkey-start]");
    if (!supported()) { say(problem, UNSUPPORTED); return; }
    root.querySelector("[data-passkey-ready]").hidden = false;
    var csrf = root.querySelector("[name=csrfmiddlewaretoken]").value;
    var name = root.querySelector("[data-passkey-name]");
    function fail(error) {
      start.disabled = false;
      say(status, "");
      say(problem, error && error.fromServer ? error.message : explain(error, "create"));
    }
    function follow(answer) {
      if (answer.redirect) { window.location.assign(answer.redirect); return true; }
      if (answer.error) { throw {fromServer: true, message: answer.error}; }
      return false;
    }
    name.addEventListener("keydown", function (event) {
      if (event.key === "Enter") { event.preventDefault(); start.click(); }
    });
    start.addEventListener("click", function () {
      if (start.disabled) { return; }
      start.disabled = true;
      say(problem, "");
      say(status, text("followCreate", "Follow your browser's steps to create the passkey…"));
      postJSON(root.getAttribute("data-begin-url"), {}, csrf).then(function (begun) {
        if (follow(begun)) { return null; }
        return ceremony("create", begun.publicKey).then(function (answer) {
          say(status, text("checking", "Checking…"));
          return postJSON(root.getAttribute("data-complete-url"),
                          {ceremony: begun.ceremony, credential: answer, name: name.value}, csrf);
        });
      }).then(function (done) {
        if (done) { follow(done); }
      }).catch(fail);
    });
  }

  function setUp() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-passkey-step]"), setUpStep);
    Array.prototype.forEach.call(document.querySelectorAll("[data-passkey-account]"), setUpAccount);
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", setUp); } else { setUp(); }
}());
