// The script API: sessions.
// A user's sessions are directory data (read once, journaled with the
// user's other reads); the browser's own session is an input of the flow,
// fixed when it started.  terminateUserSession is an effect.
function sessionObject(s) {
  const ua = s.userAgent || {};
  return {
    id: String(s.id),
    ip: s.ip === undefined ? null : s.ip,
    loginTime: s.loginTime,
    lastAccessTime: s.lastAccessTime,
    userAgent: { raw: ua.raw || "", rawString: ua.raw || "", browser: ua.browser || "", platform: ua.platform || "",
                 device: ua.device || "" },
    applications: (s.applications || []).map(applicationObject),
  };
}

function applicationObject(a) {
  return { subject: a.subject || null, appName: a.appName || null, appId: a.appId || null };
}

function getUserSessions(user) {
  const r = current();
  const username = identify(user, "getUserSessions: user");
  const ended = r.endedSessions.get(username);
  const sessions = readUserField(username, "sessions");
  const out = [];
  for (const s of sessions) {
    if (ended && ended.has(String(s.id))) continue;
    out.push(sessionObject(s));
  }
  return out;
}

function terminateUserSession(user, session) {
  const r = current();
  const username = identify(user, "terminateUserSession: user");
  const id = session !== null && typeof session === "object" ? session.id : session;
  if (typeof id !== "string" || id === "") {
    throw new RealTypeError("terminateUserSession: the session must be a session id or a session from getUserSessions");
  }
  const ok = effect("terminateUserSession", [username, id]) === true;
  if (ok) {
    if (!r.endedSessions.has(username)) r.endedSessions.set(username, new RealSet());
    r.endedSessions.get(username).add(id);
  }
  return ok;
}

function browserSession() {
  return current().inputs.session || null;
}

function getAuthenticatedApplications(context) {
  const session = browserSession();
  return session ? (session.applications || []).map(applicationObject) : [];
}

function checkSessionExistence(step, context) {
  const r = current();
  const session = browserSession();
  const options = r.steps[String(Number(step))];
  if (!session || !options) return false;
  const done = session.authenticated || [];
  return options.some((o) => done.some((d) => d.authenticator === o.authenticator && (d.idp || "LOCAL") === o.idp));
}

