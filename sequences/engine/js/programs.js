// Checking and compiling scripts.
//
// A script is parsed with a real parser (acorn) before anything of it runs:
// syntax errors get their line and column, and what the sandbox does not
// support is refused (async functions, await, generators, import).  A
// program then gets a Compartment of its own: a global object holding the
// language's builtins (frozen by lockdown) and the API of its profile, with
// no way to make code from strings, hardened so that no run can leave
// anything in it.  Each run evaluates the script's top level afresh in a
// scope of its own, so nothing one run (for one user) defines is seen by the
// next.
//
// The script's code is strict.  Two sloppy-mode habits of scripts written for
// other engines keep working: assigning to an undeclared name creates a
// global for this run, and `typeof` of an undeclared name is "undefined";
// reading an undeclared name is a ReferenceError, as everywhere.

// Entry points any profile may call; the compiled script exports them all.
const ENTRY_POINTS = harden([
  "onLoginRequest",
  "onAuthenticateSuccess",
  "onSmartLoginPreContextSelection",
  "onTokenGenerating",
  "onPostAuthorize",
  "authenticate",
  "getUserName",
  "execute",
]);
// What each kind of script must define, and the API it sees.
const KINDS = harden({
  login: { profile: "login", required: ["onLoginRequest"] },
  library: { profile: "login", required: [] },
  // an application's callbacks script: at least one of the callback functions (js/api/callbacks.js)
  callbacks: { profile: "callbacks", required: [], anyOf: CALLBACK_FUNCTIONS },
  // A custom authenticator's registration, authentication or deregistration script (api/custom.js).
  "custom-authenticator": { profile: "custom", required: ["execute"], javaStrings: true },
});
const MAX_PROGRAMS = 64;
const MAX_SOURCE_LENGTH = 256 * 1024;
// The wrappers are compiled as Function bodies: V8 puts "function anonymous(\n) {\n" before them.
const HEADER_LINES = 2;
const BODY_PREFIX = "with (this.t) { with (this.s) { return function () { \"use strict\"; ";
const LIBRARY_PREFIX = "with (this.t) { with (this.s) { return function (module, exports) { \"use strict\"; ";
const STRICT_PREFIX = "\"use strict\"; ";

const programs = new RealMap(); // program key -> compiled program (least recently used first)

// ---------------------------------------------------------------- checking
function located(kind, message, line, column) {
  return { kind: kind, message: message, line: line, column: column };
}

// Acorn reports 1-based lines and 0-based columns, of the text with the strict prefix.
function sourcePosition(loc) {
  const column = loc.line === 1 ? loc.column - STRICT_PREFIX.length : loc.column;
  return { line: loc.line, column: column + 1 };
}

function parseScript(source) {
  try {
    return { ast: parser.parse(STRICT_PREFIX + source, {
      ecmaVersion: "latest", sourceType: "script", locations: true,
      allowReturnOutsideFunction: false, allowHashBang: false, allowAwaitOutsideFunction: false,
    }) };
  } catch (e) {
    if (!(e instanceof SyntaxError) || !e.loc) {
      return { error: located("syntax", "the script cannot be parsed: " + String(e && e.message), null, null) };
    }
    const at = sourcePosition(e.loc);
    const message = String(e.message).replace(/ \(\d+:\d+\)$/, "");
    return { error: located("syntax", "SyntaxError: " + message, at.line, at.column) };
  }
}

const REFUSALS = harden({
  async: "async functions are not supported: scripts run synchronously (the API needs no Promises)",
  generator: "generator functions are not supported: scripts run to completion in one call",
  await: "await is not supported: scripts run synchronously",
  import: "import is not available to scripts",
});

// One pass over the tree: the first construct the sandbox refuses, the names
// that must read as undefined rather than throw when undeclared (typeof
// operands and assignment targets), and the names the top level defines.
function analyze(ast) {
  const soft = new RealSet(ENTRY_POINTS);
  const topLevel = new RealSet();
  let refusal = null;
  const refuse = (what, node) => {
    if (refusal === null || node.start < refusal.node.start) refusal = { what: what, node: node };
  };
  const addTargets = (pattern) => {
    if (!pattern) return;
    if (pattern.type === "Identifier") soft.add(pattern.name);
    else if (pattern.type === "ObjectPattern") for (const p of pattern.properties) addTargets(p.type === "RestElement" ? p.argument : p.value);
    else if (pattern.type === "ArrayPattern") for (const e of pattern.elements) addTargets(e);
    else if (pattern.type === "AssignmentPattern") addTargets(pattern.left);
    else if (pattern.type === "RestElement") addTargets(pattern.argument);
  };
  const visit = (node, parent) => {
    switch (node.type) {
      case "FunctionDeclaration":
      case "FunctionExpression":
      case "ArrowFunctionExpression": {
        const method = parent && (parent.type === "Property" || parent.type === "MethodDefinition") && parent.value === node;
        if (node.async) refuse("async", method ? parent : node);
        if (node.generator) refuse("generator", method ? parent : node);
        break;
      }
      case "AwaitExpression":
        refuse("await", node);
        break;
      case "ForOfStatement":
        if (node.await) refuse("await", node);
        addTargets(node.left);
        break;
      case "ForInStatement":
        addTargets(node.left);
        break;
      case "ImportExpression":
        refuse("import", node);
        break;
      case "MetaProperty":
        if (node.meta && node.meta.name === "import") refuse("import", node);
        break;
      case "UnaryExpression":
        if (node.operator === "typeof" && node.argument.type === "Identifier") soft.add(node.argument.name);
        break;
      case "AssignmentExpression":
        addTargets(node.left);
        break;
      case "UpdateExpression":
        addTargets(node.argument);
        break;
      default:
        break;
    }
    for (const key of ObjectKeys(node)) {
      if (key === "loc" || key === "type" || key === "start" || key === "end") continue;
      const child = node[key];
      if (ArrayIsArray(child)) {
        for (const item of child) if (item !== null && typeof item === "object" && typeof item.type === "string") visit(item, node);
      } else if (child !== null && typeof child === "object" && typeof child.type === "string") {
        visit(child, node);
      }
    }
  };
  for (const statement of ast.body) {
    if (statement.type === "VariableDeclaration") {
      for (const d of statement.declarations) if (d.id.type === "Identifier") topLevel.add(d.id.name);
    } else if ((statement.type === "FunctionDeclaration" || statement.type === "ClassDeclaration") && statement.id) {
      topLevel.add(statement.id.name);
    } else if (statement.type === "ExpressionStatement" && statement.expression.type === "AssignmentExpression" &&
               statement.expression.left.type === "Identifier") {
      topLevel.add(statement.expression.left.name);
    }
    visit(statement, ast);
  }
  return { soft: soft, topLevel: topLevel, refusal: refusal };
}

// {ok: true, soft} or {ok: false, error: {kind, message, line, column}}.
function checkSource(source, kindName) {
  if (typeof source !== "string") return { ok: false, error: located("syntax", "the script must be text", null, null) };
  if (source.length > MAX_SOURCE_LENGTH) {
    return { ok: false, error: located("syntax", "the script is longer than " + MAX_SOURCE_LENGTH + " characters", null, null) };
  }
  const kind = KINDS[kindName];
  if (kind === undefined) return { ok: false, error: located("kind", "unknown kind of script " + JSONstringify(kindName), null, null) };
  const parsed = parseScript(source);
  if (parsed.error) return { ok: false, error: parsed.error };
  let analysis;
  try {
    analysis = analyze(parsed.ast);
  } catch (e) {
    return { ok: false, error: located("syntax", "the script is nested too deeply to check", null, null) };
  }
  if (analysis.refusal !== null) {
    const at = sourcePosition(analysis.refusal.node.loc.start);
    return { ok: false, error: located("refused", REFUSALS[analysis.refusal.what], at.line, at.column) };
  }
  for (const name of kind.required) {
    if (!analysis.topLevel.has(name)) {
      const example = name === "execute" ? "function execute(requestPayload, userIdentifier) { ... }"
        : "var " + name + " = function (context) { ... };";
      return { ok: false, error: located("entry", "the script does not define " + name + ", the function a " + kindName +
                                         " script must define (for example: " + example + ")", null, null) };
    }
  }
  if (kind.anyOf && !kind.anyOf.some((name) => analysis.topLevel.has(name))) {
    return { ok: false, error: located("entry", "the script defines none of the functions a " + kindName + " script is for (" +
                                       kind.anyOf.join(", ") + ")", null, null) };
  }
  return { ok: true, soft: analysis.soft, ast: parsed.ast };
}

// ---------------------------------------------------------------- compartments
function refusal(name) {
  const stub = function () {
    throw new RealEvalError(name + " is not available to scripts (no code from strings)");
  };
  ObjectDefineProperty(stub, "name", { value: name });
  if (name === "Function") ObjectDefineProperty(stub, "prototype", { value: FeralFunction.prototype });
  return harden(stub);
}

const CODE_FROM_STRINGS = harden({ eval: refusal("eval"), Function: refusal("Function"), Compartment: refusal("Compartment") });
// Builtins a compartment has that a script must not: Promise (deferred work) and lockdown.
const WITHHELD = harden(["Promise", "lockdown"]);

function newScriptGlobal(profile) {
  const compartment = new Compartment({ __options__: true, globals: scriptGlobals(profile) });
  const g = compartment.globalThis;
  for (const name of ObjectKeys(CODE_FROM_STRINGS)) {
    ObjectDefineProperty(g, name, { value: CODE_FROM_STRINGS[name], writable: false, enumerable: false, configurable: false });
  }
  for (const name of WITHHELD) delete g[name];
  return harden(g);
}

// The last scope of every name a script uses: names nothing else defines end
// here instead of reaching the start compartment's global object.
function makeTerminator(soft) {
  return new RealProxy(ObjectFreeze(ObjectCreate(null)), harden({
    has(_target, name) {
      return typeof name === "string";
    },
    get(_target, name) {
      if (typeof name !== "string" || soft.has(name)) return undefined;
      throw new RealReferenceError(name + " is not defined");
    },
    set(_target, name, value) {
      // An assignment to an undeclared name: a global of this run only.
      const r = run;
      if (r === null || typeof name !== "string") return false;
      ObjectDefineProperty(r.scope, name, { value: value, writable: true, enumerable: true, configurable: true });
      return true;
    },
  }));
}

function exporter() {
  return ENTRY_POINTS.map((n) => JSONstringify(n) + ": typeof " + n + " === \"function\" ? " + n + " : undefined").join(", ");
}

function compileWrapper(prefix, source, suffix, url) {
  try {
    return { outer: FeralFunction(prefix + source + suffix + "\n//# sourceURL=" + url) };
  } catch (e) {
    return { error: located("syntax", String(e && e.name) + ": " + String(e && e.message), null, null) };
  }
}

// Compiles and caches program `key`: {ok: true} or {ok: false, error}.
function compileProgram(key, source, kindName) {
  const verdict = checkSource(source, kindName);
  if (!verdict.ok) return verdict;
  const kind = KINDS[kindName];
  const text = kind.javaStrings ? withJavaStrings(source, verdict.ast, STRICT_PREFIX.length) : source;
  const built = compileWrapper(BODY_PREFIX, text, "\n;return {" + exporter() + "};\n}; } }", SCRIPT_URL);
  if (built.error) return { ok: false, error: built.error };
  const program = {
    kind: kindName,
    global: newScriptGlobal(kind.profile),
    terminator: makeTerminator(verdict.soft),
    outer: built.outer,
    libraries: new RealMap(),
  };
  programs.delete(key);
  programs.set(key, program);
  if (programs.size > MAX_PROGRAMS) programs.delete(programs.keys().next().value);
  return { ok: true };
}

function programFor(key) {
  const program = programs.get(key);
  if (program !== undefined) {
    programs.delete(key); // most recently used last
    programs.set(key, program);
  }
  return program;
}

// Evaluates the script's top level for run `r`: its entry points, closed over this run's scope.
function instantiate(program, r) {
  r.scope = ObjectCreate(program.global);
  return program.outer.call(ObjectFreeze({ t: program.terminator, s: r.scope }))();
}

// A library is compiled into the program that loads it, with the same global
// object; its frames are reported with its own lines.
function libraryFor(program, name, key, source) {
  const cacheKey = name + ":" + key;
  let compiled = program.libraries.get(cacheKey);
  if (compiled === undefined) {
    compiled = compileLibrary(program, name, source);
    program.libraries.set(cacheKey, compiled);
  }
  return compiled;
}

function compileLibrary(program, name, source) {
  const verdict = checkSource(source, "library");
  if (!verdict.ok) {
    const e = verdict.error;
    return { error: (e.line ? "line " + e.line + ": " : "") + e.message };
  }
  const built = compileWrapper(LIBRARY_PREFIX, source, "\n;}; } }", LIBRARY_URL + encodeURIComponent(name));
  if (built.error) return { error: built.error.message };
  const terminator = makeTerminator(verdict.soft);
  return {
    instantiate: (r) => built.outer.call(ObjectFreeze({ t: terminator, s: r.scope })),
  };
}
