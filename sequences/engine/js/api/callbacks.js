// Callbacks scripts (the Smile CDR dialect): the objects their functions
// receive, and what the server reads back from them.
//
// A callback runs once, without halting: it gets objects built here from the
// plain data the server passed (run inputs "args"), changes them through
// their methods, and its outcome is read back from this file's own records,
// never from what the script left in the objects' properties, except the
// few properties the reference has a script set directly (a failure's
// message, a person's name).

const CALLBACK_FUNCTIONS = harden([
  "onAuthenticateSuccess",
  "onSmartLoginPreContextSelection",
  "onTokenGenerating",
  "onPostAuthorize",
  "authenticate",
  "getUserName",
]);
const MAX_CALLBACK_ITEMS = 200; // authorities, scopes, launch entries, people: each list
const MAX_TEXT = 2048;
const RESERVED_CLAIM_PREFIX = "smile_";

function callbackText(value, what) {
  if (value === null || value === undefined) throw new RealTypeError(what + " is required");
  const text = typeof value === "string" ? value : String(value);
  if (text.length > MAX_TEXT) throw new RealRangeError(what + " is longer than " + MAX_TEXT + " characters");
  return text;
}

function optionalText(value, what) {
  return value === null || value === undefined ? null : callbackText(value, what);
}

function pushCapped(list, item, what) {
  if (list.length >= MAX_CALLBACK_ITEMS) throw new RealRangeError("more than " + MAX_CALLBACK_ITEMS + " " + what);
  list.push(item);
}

// "a b  c" -> ["a", "b", "c"]: scope lists are space-separated, as in OAuth.
function scopeWords(value, what) {
  const words = [];
  for (const word of callbackText(value, what).split(" ")) if (word !== "") words.push(word);
  return words;
}

function addUnique(list, word, what) {
  if (list.indexOf(word) === -1) pushCapped(list, word, what);
}

function callbackStringList(value) {
  const out = [];
  if (ArrayIsArray(value)) for (const item of value) if (typeof item === "string") out.push(item);
  return out;
}

// ---------------------------------------------------------------- onAuthenticateSuccess
function newSuccessRecord(username) {
  return {
    outcome: "success",
    username: username,
    authorities: [],
    userData: {},
    approvedScopes: [],
    launch: [],
    fhirContext: [],
  };
}

// The success outcome a script sees: `username`, and methods writing into `record`.
function successObject(record, outcomes) {
  const outcome = {
    username: record.username,
    getUsername: function getUsername() {
      return outcome.username;
    },
    addAuthority: function addAuthority(permission, argument) {
      const entry = { permission: callbackText(permission, "addAuthority: the permission") };
      const arg = optionalText(argument, "addAuthority: the argument");
      if (arg !== null) entry.argument = arg;
      pushCapped(record.authorities, entry, "authorities");
    },
    setUserData: function setUserData(key, value) {
      const name = callbackText(key, "setUserData: the key");
      if (!(name in record.userData) && ObjectKeys(record.userData).length >= MAX_CALLBACK_ITEMS) {
        throw new RealRangeError("more than " + MAX_CALLBACK_ITEMS + " user data keys");
      }
      record.userData[name] = toPlain(value);
    },
    getUserData: function getUserData(key) {
      const name = callbackText(key, "getUserData: the key");
      return ObjectHasOwn(record.userData, name) ? record.userData[name] : null;
    },
    hasUserData: function hasUserData(key) {
      return ObjectHasOwn(record.userData, callbackText(key, "hasUserData: the key"));
    },
    addApprovedScope: function addApprovedScope(scope) {
      for (const word of scopeWords(scope, "addApprovedScope: the scope")) addUnique(record.approvedScopes, word, "approved scopes");
    },
    addLaunchResourceId: function addLaunchResourceId(type, id) {
      pushCapped(record.launch, {
        type: callbackText(type, "addLaunchResourceId: the resource type"),
        id: callbackText(id, "addLaunchResourceId: the resource id"),
      }, "launch resources");
    },
    addFhirContextReference: function addFhirContextReference(reference, role) {
      const entry = { reference: callbackText(reference, "addFhirContextReference: the reference") };
      const r = optionalText(role, "addFhirContextReference: the role");
      if (r !== null) entry.role = r;
      pushCapped(record.fhirContext, entry, "fhirContext references");
    },
  };
  outcomes.set(outcome, record);
  return outcome;
}

function failureObject(outcomes) {
  const failure = { message: null, unknownUsername: false, incorrectPassword: false };
  outcomes.set(failure, { outcome: "failure" });
  return failure;
}

function authenticateSuccessCall(args) {
  const outcomes = new RealWeakMap();
  const username = typeof args.username === "string" ? args.username : "";
  const claims = args.claims !== null && typeof args.claims === "object" ? args.claims : {};
  const approved = callbackStringList(args.approvedScopes);
  const theOutcome = successObject(newSuccessRecord(username), outcomes);
  const theOutcomeFactory = {
    newSuccess: function newSuccess() {
      return successObject(newSuccessRecord(username), outcomes);
    },
    newFailure: function newFailure() {
      return failureObject(outcomes);
    },
  };
  const theContext = {
    remoteAddress: typeof args.remoteAddress === "string" ? args.remoteAddress : null,
    getClaim: function getClaim(name) {
      const key = callbackText(name, "getClaim: the claim name");
      return ObjectHasOwn(claims, key) ? JSONparse(JSONstringify(claims[key])) : null;
    },
    getStringArrayClaim: function getStringArrayClaim(name) {
      const key = callbackText(name, "getStringArrayClaim: the claim name");
      if (!ObjectHasOwn(claims, key)) return null;
      const value = claims[key];
      if (ArrayIsArray(value)) return callbackStringList(value);
      return typeof value === "string" ? [value] : null;
    },
    getApprovedScopes: function getApprovedScopes() {
      return approved.slice();
    },
  };
  return {
    args: [theOutcome, theOutcomeFactory, theContext],
    read: function (result) {
      const record = result !== null && typeof result === "object" ? outcomes.get(result) : undefined;
      if (record === undefined) {
        throw new RealTypeError("onAuthenticateSuccess must return theOutcome, or an outcome from theOutcomeFactory");
      }
      if (record.outcome === "failure") {
        return {
          outcome: "failure",
          message: optionalText(result.message, "the failure's message"),
          unknownUsername: result.unknownUsername === true,
          incorrectPassword: result.incorrectPassword === true,
        };
      }
      const out = ObjectAssign({}, record);
      out.username = callbackText(result.username, "the outcome's username");
      out.userData = JSONparse(JSONstringify(record.userData));
      return out;
    },
  };
}

// ---------------------------------------------------------------- authenticate
// A scripted credential check: the script decides who signs in (it may set the success's username).
function authenticateCall(args, r) {
  const outcomes = new RealWeakMap();
  const username = typeof args.username === "string" ? args.username : "";
  const password = typeof args.password === "string" ? args.password : "";
  if (password !== "") r.secretValues.push(password); // kept out of its log lines and error messages
  const theRequest = {
    username: username,
    password: password,
    remoteAddress: typeof args.remoteAddress === "string" ? args.remoteAddress : null,
    clientId: typeof args.clientId === "string" ? args.clientId : null,
    getUsername: function getUsername() {
      return username;
    },
    getPassword: function getPassword() {
      return password;
    },
  };
  const theOutcomeFactory = {
    newSuccess: function newSuccess() {
      return successObject(newSuccessRecord(username), outcomes);
    },
    newFailure: function newFailure() {
      return failureObject(outcomes);
    },
  };
  return {
    args: [theRequest, theOutcomeFactory],
    read: function (result) {
      const record = result !== null && typeof result === "object" ? outcomes.get(result) : undefined;
      if (record === undefined) throw new RealTypeError("authenticate must return an outcome from theOutcomeFactory");
      if (record.outcome === "failure") {
        return {
          outcome: "failure",
          message: optionalText(result.message, "the failure's message"),
          unknownUsername: result.unknownUsername === true,
          incorrectPassword: result.incorrectPassword === true,
        };
      }
      return { outcome: "success", username: callbackText(result.username, "the outcome's username") };
    },
  };
}

// ---------------------------------------------------------------- onSmartLoginPreContextSelection
function personObject(record) {
  const scopeMethod = (list, what) => function (scopes) {
    for (const word of scopeWords(scopes, what)) addUnique(record[list], word, "scopes");
  };
  return {
    familyName: null,
    givenName: null,
    birthDate: null,
    associatedPatientContextResourceId: null,
    addAuthority: function addAuthority(permission, argument) {
      const entry = { permission: callbackText(permission, "addAuthority: the permission") };
      const arg = optionalText(argument, "addAuthority: the argument");
      if (arg !== null) entry.argument = arg;
      pushCapped(record.authorities, entry, "authorities");
    },
    addAutoGrantScopes: scopeMethod("autoGrantScopes", "addAutoGrantScopes: the scopes"),
    removeAutoGrantScopes: scopeMethod("removedAutoGrantScopes", "removeAutoGrantScopes: the scopes"),
    addRequestedScopes: scopeMethod("requestedScopes", "addRequestedScopes: the scopes"),
    removeRequestedScopes: scopeMethod("removedRequestedScopes", "removeRequestedScopes: the scopes"),
  };
}

function contextSelectionCall(args) {
  const people = []; // [{object, record}]
  const translations = {};
  const session = {
    username: typeof args.username === "string" ? args.username : "",
    authorities: ArrayIsArray(args.authorities) ? JSONparse(JSONstringify(args.authorities)) : [],
    approvedScopes: callbackStringList(args.approvedScopes),
    userData: args.userData !== null && typeof args.userData === "object" ? JSONparse(JSONstringify(args.userData)) : {},
  };
  session.getUsername = function getUsername() {
    return session.username;
  };
  const choices = {
    addPerson: function addPerson() {
      const record = {
        authorities: [], autoGrantScopes: [], removedAutoGrantScopes: [], requestedScopes: [], removedRequestedScopes: [],
      };
      const person = personObject(record);
      pushCapped(people, { object: person, record: record }, "people");
      return person;
    },
    addDisplayTranslation: function addDisplayTranslation(scope, display) {
      const key = callbackText(scope, "addDisplayTranslation: the scope");
      if (!(key in translations) && ObjectKeys(translations).length >= MAX_CALLBACK_ITEMS) {
        throw new RealRangeError("more than " + MAX_CALLBACK_ITEMS + " display translations");
      }
      translations[key] = callbackText(display, "addDisplayTranslation: the display text");
    },
  };
  return {
    args: [session, choices],
    read: function () {
      const out = [];
      for (let i = 0; i < people.length; i++) {
        const p = people[i].object;
        const where = "person " + (i + 1);
        const entry = ObjectAssign({}, people[i].record);
        entry.familyName = optionalText(p.familyName, where + ": familyName");
        entry.givenName = optionalText(p.givenName, where + ": givenName");
        entry.birthDate = optionalText(p.birthDate, where + ": birthDate");
        entry.patient = callbackText(p.associatedPatientContextResourceId, where + ": associatedPatientContextResourceId");
        out.push(entry);
      }
      return { people: out, translations: ObjectAssign({}, translations) };
    },
  };
}

// ---------------------------------------------------------------- onTokenGenerating
function tokenGeneratingCall(args) {
  const hasUser = args.session !== null && typeof args.session === "object";
  const record = {
    approvedScopes: callbackStringList(hasUser ? args.session.approvedScopes : args.approvedScopes),
    launch: [],
    launchParameters: {},
    userData: {},
    claims: {},
  };
  let session = null;
  if (hasUser) {
    session = {
      username: typeof args.session.username === "string" ? args.session.username : "",
      approvedScopes: record.approvedScopes.slice(),
      getOidcClientId: function getOidcClientId() {
        return typeof args.clientId === "string" ? args.clientId : null;
      },
      addApprovedScope: function addApprovedScope(scope) {
        for (const word of scopeWords(scope, "addApprovedScope: the scope")) addUnique(record.approvedScopes, word, "approved scopes");
        session.approvedScopes = record.approvedScopes.slice();
      },
      removeApprovedScope: function removeApprovedScope(scope) {
        for (const word of scopeWords(scope, "removeApprovedScope: the scope")) {
          const at = record.approvedScopes.indexOf(word);
          if (at !== -1) record.approvedScopes.splice(at, 1);
        }
        session.approvedScopes = record.approvedScopes.slice();
      },
      addLaunchResourceId: function addLaunchResourceId(type, id) {
        pushCapped(record.launch, {
          type: callbackText(type, "addLaunchResourceId: the resource type"),
          id: callbackText(id, "addLaunchResourceId: the resource id"),
        }, "launch resources");
      },
      addLaunchContextParameter: function addLaunchContextParameter(name, value) {
        const key = callbackText(name, "addLaunchContextParameter: the name");
        if (!(key in record.launchParameters) && ObjectKeys(record.launchParameters).length >= MAX_CALLBACK_ITEMS) {
          throw new RealRangeError("more than " + MAX_CALLBACK_ITEMS + " launch context parameters");
        }
        record.launchParameters[key] = toPlain(value);
      },
      setUserData: function setUserData(key, value) {
        record.userData[callbackText(key, "setUserData: the key")] = toPlain(value);
      },
    };
  }
  const params = args.requestParameters !== null && typeof args.requestParameters === "object" ? args.requestParameters : {};
  const details = {
    launch: typeof args.launch === "string" ? args.launch : null,
    // The context an EHR registered for that launch ({patient, encounter}), or null.
    launchContext: args.launchContext !== null && typeof args.launchContext === "object"
      ? JSONparse(JSONstringify(args.launchContext)) : null,
    addAccessTokenClaim: function addAccessTokenClaim(name, value) {
      const key = callbackText(name, "addAccessTokenClaim: the claim name");
      if (key.indexOf(RESERVED_CLAIM_PREFIX) === 0) {
        throw new RealError("addAccessTokenClaim: claims whose name starts with " + JSONstringify(RESERVED_CLAIM_PREFIX) +
                            " are reserved (" + JSONstringify(key) + ")");
      }
      if (!(key in record.claims) && ObjectKeys(record.claims).length >= MAX_CALLBACK_ITEMS) {
        throw new RealRangeError("more than " + MAX_CALLBACK_ITEMS + " access token claims");
      }
      record.claims[key] = toPlain(value);
    },
    getAudience: function getAudience() {
      return typeof args.audience === "string" ? args.audience : null;
    },
    getRequestParameters: function getRequestParameters() {
      return JSONparse(JSONstringify(params));
    },
  };
  return {
    args: [session, details],
    read: function () {
      return JSONparse(JSONstringify(record));
    },
  };
}

// ---------------------------------------------------------------- onPostAuthorize
// Told about a grant already made: it cannot change or cancel it, so nothing is read back.
function postAuthorizeCall(args) {
  const details = {
    grantType: typeof args.grantType === "string" ? args.grantType : null,
    grantedScopes: callbackStringList(args.grantedScopes),
    clientId: typeof args.clientId === "string" ? args.clientId : null,
    username: typeof args.username === "string" ? args.username : null,
    // Cross-organization (CODAP) requests only, as in the reference: null otherwise.
    requestingPractitioner: null,
    requestedRecord: null,
  };
  return {
    args: [details],
    read: function () {
      return null;
    },
  };
}

// ---------------------------------------------------------------- getUserName
// The local username for a user a federated provider vouched for. The server
// checks the answer: anything but a string is reported, never guessed at.
function userNameCall(args) {
  const claims = args.claims !== null && typeof args.claims === "object" ? args.claims : {};
  const server = args.server !== null && typeof args.server === "object" ? args.server : {};
  return {
    args: [JSONparse(JSONstringify(claims)), JSONparse(JSONstringify(server))],
    read: function (result) {
      if (typeof result === "string") return { username: result.length > MAX_TEXT ? result.slice(0, MAX_TEXT) : result };
      return { username: null, returned: result === null ? "null" : typeof result };
    },
  };
}

const CALLBACK_BUILDERS = harden({
  onAuthenticateSuccess: authenticateSuccessCall,
  onSmartLoginPreContextSelection: contextSelectionCall,
  onTokenGenerating: tokenGeneratingCall,
  onPostAuthorize: postAuthorizeCall,
  authenticate: authenticateCall,
  getUserName: userNameCall,
});

// The arguments and the reader of callback `entry`, from the run's inputs; null for other entry points.
function callbackInvocation(entry, args, r) {
  if (!ObjectHasOwn(CALLBACK_BUILDERS, entry)) return null;
  return CALLBACK_BUILDERS[entry](args !== null && typeof args === "object" ? args : {}, r);
}
