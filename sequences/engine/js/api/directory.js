// The script API: directory lookups and changes.
function claimQuery(claimMap, what) {
  const claims = toStringMap(claimMap, what + ": claimMap");
  return ObjectKeys(claims).length ? claims : null;
}

function getUsersWithClaimValues(claimMap, context, profile) {
  const claims = claimQuery(claimMap, "getUsersWithClaimValues");
  if (claims === null) return [];
  return lookup("usersByClaims", { claims: claims }).map((username) => makeUser(username));
}

function getUniqueUserWithClaimValues(claimMap, context, profile) {
  const claims = claimQuery(claimMap, "getUniqueUserWithClaimValues");
  if (claims === null) return null;
  const found = lookup("usersByClaims", { claims: claims });
  return found.length === 1 ? makeUser(found[0]) : null;
}

// updateUserPassword(user, password[, {onSuccess, onFail}]): the handler that fits the outcome runs too.
function updateUserPassword(user, password, handlers) {
  const username = identify(user, "updateUserPassword: user");
  const changed = typeof password === "string" && password !== "" &&
    effect("updateUserPassword", [username, password]) === true;
  if (handlers !== undefined && handlers !== null) {
    if (typeof handlers !== "object") throw new RealTypeError("updateUserPassword: handlers must be {onSuccess, onFail}");
    call(changed ? handlers.onSuccess : handlers.onFail);
  }
  return changed;
}

// The username of the account a sign-in identifier (a username, an email address, a mobile number...) names;
// the server's AUTHFLOW_LOGIN_IDENTIFIER_ATTRIBUTES say which attributes may identify.  As the reference, an
// identifier that resolves to no single account comes back as it was given (to be refused like any wrong name).
const MAX_LOGIN_IDENTIFIER = 254;

function resolveMultiAttributeLoginIdentifier(loginIdentifier, tenantDomain) {
  const r = current();
  if (typeof loginIdentifier !== "string") return null;
  const identifier = loginIdentifier.trim();
  if (identifier === "" || identifier.length > MAX_LOGIN_IDENTIFIER) return loginIdentifier;
  if (tenantDomain !== undefined && tenantDomain !== null && String(tenantDomain) !== tenantOf(r)) return loginIdentifier;
  const username = lookup("loginIdentifier", identifier);
  return typeof username === "string" ? username : loginIdentifier;
}

// Secret names are slugs (authflow.vault): anything else names no secret and asks the server nothing.
const SECRET_NAME = /^[-a-zA-Z0-9_]{1,100}$/;
// Values shorter than this are not searched for in log lines (they would mask ordinary words).
const MIN_REDACTED_SECRET = 4;

function getSecretByName(name) {
  const r = current();
  if (typeof name !== "string" || !SECRET_NAME.test(name)) return null;
  const value = lookup("secret", name, true);
  if (typeof value !== "string") return null;
  if (value.length >= MIN_REDACTED_SECRET && r.secretValues.indexOf(value) < 0) r.secretValues.push(value);
  return value;
}

// `secrets.<name>`: the script's secrets by name, read when used (never journaled, never listed).
const secrets = new RealProxy(ObjectCreate(null), {
  get(_target, name) {
    return typeof name === "string" ? getSecretByName(name) : undefined;
  },
  has(_target, name) {
    return typeof name === "string" && getSecretByName(name) !== null;
  },
  ownKeys() {
    return [];
  },
  getOwnPropertyDescriptor() {
    return undefined;
  },
  set() {
    return false;
  },
  defineProperty() {
    return false;
  },
  deleteProperty() {
    return false;
  },
});

// What a run logs or reports never holds a secret it read: each value becomes "[secret]".
function redactSecrets(r, text) {
  let out = text;
  for (const value of r.secretValues) out = out.split(value).join("[secret]");
  return out;
}

// A federated user (authenticated by an identity provider) may be linked to
// a local account: looked up by (idp, subject), linked as an effect.
function federatedIdentity(user, what) {
  const subject = identify(user, what);
  const idp = userIdp.get(user);
  return idp ? { idp: idp, subject: subject } : null;
}

function getAssociatedLocalUser(federatedUser) {
  const federated = federatedIdentity(federatedUser, "getAssociatedLocalUser: federatedUser");
  if (federated === null) return null;
  const username = lookup("associatedUser", federated);
  return typeof username === "string" ? makeUser(username) : null;
}

function doAssociationWithLocalUser(federatedUser, localUsername, tenantDomain, userStoreDomain) {
  const federated = federatedIdentity(federatedUser, "doAssociationWithLocalUser: federatedUser");
  if (federated === null || typeof localUsername !== "string" || localUsername === "") return false;
  let local = localUsername;
  if (typeof userStoreDomain === "string" && userStoreDomain !== "" && local.indexOf("/") < 0
      && userStoreDomain.toUpperCase() !== DEFAULT_USER_STORE) {
    local = userStoreDomain.toUpperCase() + "/" + local;  // a user of a named store: its local name
  }
  return effect("associateFederatedUser", [federated.idp, federated.subject, local]) === true;
}

