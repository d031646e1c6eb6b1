// The script API: effects.
// An effect halts the run; Python applies it once, journals its result and
// runs the script again, which then reads the result from the journal.
function effect(name, args) {
  const answer = nextAnswer("effect", { type: "effect", name: name, args: args }, describeEffect(name, args),
                            (a) => a.name === name);
  return answer.r;
}

// Arguments that are secrets (a new password, a cookie's value) stay out of
// the path digest; sequences/engine/driver.py hides the password from logs too.
const SECRET_EFFECT_ARGUMENTS = harden({ updateUserPassword: [1], setCookie: [1] });

function describeEffect(name, args) {
  const hidden = SECRET_EFFECT_ARGUMENTS[name] || [];
  return name + JSONstringify(args.map((a, i) => (hidden.indexOf(i) >= 0 ? null : a)));
}

function assignUserRoles(user, roles) {
  const username = identify(user, "assignUserRoles: user");
  const names = stringList(roles, "assignUserRoles: roles");
  const ok = effect("assignUserRoles", [username, names]) === true;
  if (ok) overlayRoles(username, names, true);
  return ok;
}

function removeUserRoles(user, roles) {
  const username = identify(user, "removeUserRoles: user");
  const names = stringList(roles, "removeUserRoles: roles");
  const ok = effect("removeUserRoles", [username, names]) === true;
  if (ok) overlayRoles(username, names, false);
  return ok;
}

function overlayRoles(username, names, add) {
  const r = current();
  if (!r.roleOverlay.has(username)) r.roleOverlay.set(username, []);
  for (const role of names) r.roleOverlay.get(username).push({ role: role, add: add });
}

function setLocalClaim(user, uri, value) {
  const username = identify(user);
  const text = value === null || value === undefined ? null : String(value);
  const ok = effect("setLocalClaim", [username, uri, text]) === true;
  if (ok) {
    const r = current();
    if (!r.claimOverlay.has(username)) r.claimOverlay.set(username, new RealMap());
    r.claimOverlay.get(username).set(uri, text);
  }
  return ok;
}

// sendEmail(user, templateId, placeholders): an effect, so a login sends it
// once however often the script is replayed.  True when the email was
// queued; false for an unknown template or a user without an email address.
function sendEmail(user, templateId, placeholders) {
  const username = identify(user, "sendEmail: user");
  if (typeof templateId !== "string" || templateId === "") {
    throw new RealTypeError("sendEmail: templateId must be a non-empty string");
  }
  const values = toStringMap(placeholders, "sendEmail: placeholders");
  return effect("sendEmail", [username, templateId, values]) === true;
}

// ---------------------------------------------------------------- role & group checks
function hasRole(user, role) {
  return rolesOf(identify(user, "hasRole: user")).indexOf(String(role)) >= 0;
}

function hasAnyOfTheRoles(user, roles) {
  const have = rolesOf(identify(user, "hasAnyOfTheRoles: user"));
  return stringList(roles, "hasAnyOfTheRoles: roles").some((role) => have.indexOf(role) >= 0);
}

// The reference's role check against the login's last authenticated user (not a user passed in): false
// before any step identified someone, and for a user a federated identity provider authenticated.
function hasAnyOfTheRolesV2(context, roles) {
  const r = current();
  if (context !== r.context) {
    throw new RealTypeError("hasAnyOfTheRolesV2: the first argument must be the context (hasAnyOfTheRoles takes a user)");
  }
  const names = stringList(roles, "hasAnyOfTheRolesV2: roles");
  if (r.lastAuthenticatedUser === null) return false;
  const have = rolesOf(r.lastAuthenticatedUser);
  return names.some((role) => have.indexOf(role) >= 0);
}

function isMemberOfAnyOfGroups(user, groups) {
  const have = readUserField(identify(user, "isMemberOfAnyOfGroups: user"), "groups");
  return stringList(groups, "isMemberOfAnyOfGroups: groups").some((g) => have.indexOf(g) >= 0);
}

