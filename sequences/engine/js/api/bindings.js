// The names a script sees besides the language's own builtins: the API of
// its profile, a console that logs like Log, and the journaled Date, Math
// and Intl.  All of it is hardened: shared by every run in this process,
// changed by none.
const Log = harden({
  debug: function debug() { emitLog("debug", arguments); },
  info: function info() { emitLog("info", arguments); },
  warn: function warn() { emitLog("warn", arguments); },
  error: function error() { emitLog("error", arguments); },
});

const consoleShim = harden({
  log: Log.info,
  info: Log.info,
  debug: Log.debug,
  warn: Log.warn,
  error: Log.error,
});

// Bindings per profile: the names a script of that kind sees.
const PROFILES = harden({
  login: {
    executeStep: executeStep,
    prompt: prompt,
    fail: fail,
    sendError: sendError,
    Log: Log,
    hasRole: hasRole,
    hasAnyOfTheRoles: hasAnyOfTheRoles,
    hasAnyOfTheRolesV2: hasAnyOfTheRolesV2,
    isMemberOfAnyOfGroups: isMemberOfAnyOfGroups,
    assignUserRoles: assignUserRoles,
    removeUserRoles: removeUserRoles,
    sendEmail: sendEmail,
    httpGet: httpGet,
    httpPost: httpPost,
    callAnalytics: callAnalytics,
    callChoreo: callChoreo,
    publishToAnalytics: publishToAnalytics,
    setCookie: setCookie,
    getCookieValue: getCookieValue,
    getUsersWithClaimValues: getUsersWithClaimValues,
    getUniqueUserWithClaimValues: getUniqueUserWithClaimValues,
    updateUserPassword: updateUserPassword,
    resolveMultiAttributeLoginIdentifier: resolveMultiAttributeLoginIdentifier,
    getSecretByName: getSecretByName,
    secrets: secrets,
    getValueFromDecodedAssertion: getValueFromDecodedAssertion,
    getMaskedValue: getMaskedValue,
    filterAuthenticators: filterAuthenticators,
    selectAcrFrom: selectAcrFrom,
    loadLocalLibrary: loadLocalLibrary,
    require: loadLocalLibrary,
    promptIdentifierForStep: promptIdentifierForStep,
    getAssociatedLocalUser: getAssociatedLocalUser,
    doAssociationWithLocalUser: doAssociationWithLocalUser,
    getUserSessions: getUserSessions,
    terminateUserSession: terminateUserSession,
    getAuthenticatedApplications: getAuthenticatedApplications,
    checkSessionExistence: checkSessionExistence,
  },
  // callbacks scripts: their objects come as arguments (js/api/callbacks.js); besides, only logging
  callbacks: {
    Log: Log,
  },
  // Custom authenticator scripts (api/custom.js): logging only; they see no user, flow or network.
  custom: {
    LOG: LOG,
    Log: Log,
    __authflowJavaString: javaString,
  },
});

function scriptGlobals(profile) {
  const bindings = PROFILES[profile];
  if (bindings === undefined) throw new RealTypeError("unknown script profile " + JSONstringify(profile));
  const globals = ObjectAssign({}, bindings);
  globals.console = consoleShim;
  globals.Date = DeterministicDate;
  globals.Math = DeterministicMath;
  if (DeterministicIntl !== undefined) globals.Intl = DeterministicIntl;
  return globals;
}

