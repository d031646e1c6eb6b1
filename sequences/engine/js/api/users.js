// Users: what the script reads about a user is recorded the first time it is
// read (journal.reads), so later round trips see the same value even when the
// directory changed meanwhile.  Effects of this flow are layered on top.
// Each distinct read is a step of the path the replay digests.
function noteRead(r, what) {
  if (r.seenReads.has(what)) return;
  r.seenReads.add(what);
  trail(r, what);
}

function readUser(username) {
  const r = current();
  noteRead(r, "user:" + username);
  if (hasOwn(r.journal.reads, username)) {
    return r.journal.reads[username];
  }
  if (!hasOwn(r.prefetch, username)) {
    if (r.readCount >= JOURNAL_LIMITS.reads) journalError("too many users read");
    halt({ type: "lookup", username: username });
  }
  r.readCount++;
  const snapshot = r.prefetch[username];
  const record = snapshot === null ? null : { claims: {} };
  r.journal.reads[username] = record;
  r.newReads[username] = record;
  return record;
}

function readUserField(username, field) {
  const r = current();
  const record = readUser(username);
  if (record === null) return field === "claims" ? null : [];
  noteRead(r, "field:" + username + ":" + field);
  if (!hasOwn(record, field)) {
    const snapshot = r.prefetch[username];
    if (snapshot === undefined) halt({ type: "lookup", username: username });
    let value = snapshot[field];
    if (value === undefined && field === "sessions") {
      // Sessions are asked for only when a script reads them (getUserSessions); once read they are journaled here.
      value = lookup("sessions", username, true);
    }
    record[field] = value === undefined || value === null ? [] : value;
    r.newReads[username] = record;
  }
  return record[field];
}

// A single value of the user's record (uniqueId): null when the user or the value is not there.
function readUserAttribute(username, field) {
  const r = current();
  const record = readUser(username);
  if (record === null) return null;
  noteRead(r, "field:" + username + ":" + field);
  if (!hasOwn(record, field)) {
    const snapshot = r.prefetch[username];
    if (snapshot === undefined) halt({ type: "lookup", username: username });
    const value = snapshot[field];
    record[field] = value === undefined || value === null ? null : value;
    r.newReads[username] = record;
  }
  return record[field];
}

function readClaim(username, uri) {
  const r = current();
  const overlay = r.claimOverlay.get(username);
  if (overlay && overlay.has(uri)) return overlay.get(uri);
  const record = readUser(username);
  if (record === null) return null;
  noteRead(r, "claim:" + username + ":" + uri);
  if (!hasOwn(record.claims, uri)) {
    const snapshot = r.prefetch[username];
    if (snapshot === undefined) halt({ type: "lookup", username: username });
    const claims = snapshot.claims || {};
    record.claims[uri] = hasOwn(claims, uri) ? claims[uri] : null;
    r.newReads[username] = record;
  }
  return record.claims[uri];
}

function rolesOf(username) {
  const r = current();
  const roles = readUserField(username, "roles").slice();
  const overlay = r.roleOverlay.get(username) || [];
  for (const change of overlay) {
    const at = roles.indexOf(change.role);
    if (change.add && at < 0) roles.push(change.role);
    if (!change.add && at >= 0) roles.splice(at, 1);
  }
  return roles;
}

// A local user of a named user store is "<STORE>/<name>" (the server's shadow row, the simulator's key):
// scripts see the name and the store apart, as the reference shows them; effects keep the whole name.
function storeOf(username) {
  const at = username.indexOf("/");
  if (at <= 0) return { name: username, domain: DEFAULT_USER_STORE };
  return { name: username.slice(at + 1), domain: username.slice(0, at).toUpperCase() };
}

function makeUser(username, details) {
  const r = current();
  const cached = r.users.get(username);
  if (cached) {
    if (details && details.remoteClaims) Object.assign(cached.remoteClaims, details.remoteClaims);
    if (details && details.idp && details.idp !== "LOCAL" && !userIdp.has(cached)) userIdp.set(cached, details.idp);
    return cached;
  }
  const localClaims = new RealProxy(ObjectCreate(null), {
    get(_t, uri) {
      if (typeof uri !== "string") return undefined;
      return readClaim(username, uri);
    },
    set(_t, uri, value) {
      if (typeof uri !== "string") return false;
      setLocalClaim(user, uri, value);
      return true;
    },
    has(_t, uri) {
      return typeof uri === "string" && readClaim(username, uri) !== null;
    },
    ownKeys() {
      const record = readUser(username);
      return record === null ? [] : ObjectKeys(record.claims).filter((k) => record.claims[k] !== null);
    },
    getOwnPropertyDescriptor(_t, uri) {
      const value = typeof uri === "string" ? readClaim(username, uri) : null;
      return value === null ? undefined : { value: value, writable: true, enumerable: true, configurable: true };
    },
    deleteProperty() {
      return false;
    },
  });
  const store = details && details.idp && details.idp !== "LOCAL" ? null : storeOf(username);
  const user = {
    username: store === null ? username : store.name,
    tenantDomain: tenantOf(r),
    userStoreDomain: store === null ? DEFAULT_USER_STORE : store.domain,
    claims: {},
    remoteClaims: details && details.remoteClaims ? Object.assign({}, details.remoteClaims) : {},
  };
  ObjectDefineProperty(user, "roles", {
    enumerable: true,
    get: () => rolesOf(username),
    set: () => {},
  });
  ObjectDefineProperty(user, "localClaims", { enumerable: true, value: localClaims, writable: false });
  // The directory's stable id of the account (read when asked, like roles); null for a user it does not hold.
  ObjectDefineProperty(user, "uniqueId", {
    enumerable: true,
    get: () => readUserAttribute(username, "uniqueId"),
    set: () => {},
  });
  // The subject the authenticating step identified: the username, or a federated identity provider's subject.
  ObjectDefineProperty(user, "identifier", { enumerable: true, value: username, writable: false });
  ObjectDefineProperty(user, "authenticatedSubjectIdentifier", { enumerable: false, value: username, writable: false });
  userIdentity.set(user, username);
  if (details && details.idp && details.idp !== "LOCAL") userIdp.set(user, details.idp);
  r.users.set(username, user);
  return user;
}

function identify(user, what) {
  if (userIdentity.has(user)) return userIdentity.get(user);
  throw new RealTypeError((what || "argument") + " must be a user object such as context.currentKnownSubject");
}

function stringList(value, what) {
  if (typeof value === "string") return [value];
  if (!ArrayIsArray(value)) throw new RealTypeError(what + " must be a list of names");
  const out = [];
  for (const v of value) {
    if (v === null || v === undefined) continue;
    out.push(String(v));
  }
  return out;
}

