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

function updateUserPassword(user, password) {
  const username = identify(user, "updateUserPassword: user");
  if (typeof password !== "string" || password === "") return false;
  return effect("updateUserPassword", [username, password]) === true;
}

function getSecretByName(name) {
  if (typeof name !== "string" || name === "") return null;
  const value = lookup("secret", name, true);
  return typeof value === "string" ? value : null;
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

