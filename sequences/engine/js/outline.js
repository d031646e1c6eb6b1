// The outline of a login script, read from its syntax tree (static analysis: nothing of it runs): from
// onLoginRequest, the steps, prompts, calls, effects and endings it can reach, each with its line, nested
// under the callbacks (onSuccess, onFail, ...) and the conditions that lead to them.  The script's own
// functions are followed where they are called; one already being followed is shown as a loop back to it.
// The console draws the flow diagram from it.  Items: {kind, label, line, options, lanes: [{callback, line, items}]};
// a function's outline is its `body`.

const OUTLINE_CALLS = harden({
  httpGet: "call", httpPost: "call", callChoreo: "call", callAnalytics: "call",
  fail: "end", sendError: "end",
  assignUserRoles: "effect", removeUserRoles: "effect", sendEmail: "effect", setCookie: "effect",
  terminateUserSession: "effect", updateUserPassword: "effect", doAssociationWithLocalUser: "effect",
  publishToAnalytics: "effect", loadLocalLibrary: "library", require: "library",
});
const OUTLINE_MAX_ITEMS = 400;
const OUTLINE_MAX_DEPTH = 48;
const OUTLINE_MAX_VISITS = 50000; // syntax nodes visited (functions are opened at each call: bounded work)
const OUTLINE_LABEL = 80;

function isCallbackName(name) {
  return typeof name === "string" && /^on[A-Z]\w*$/.test(name);
}

function outlineSource(source) {
  if (typeof source !== "string" || source.length > MAX_SOURCE_LENGTH) {
    return { ok: false, error: located("syntax", "the script must be text of at most " + MAX_SOURCE_LENGTH + " characters", null, null) };
  }
  const parsed = parseScript(source);
  if (parsed.error) return { ok: false, error: parsed.error };
  const offset = STRICT_PREFIX.length;
  const text = (node) => {
    const raw = source.slice(node.start - offset, node.end - offset).replace(/\s+/g, " ");
    return raw.length > OUTLINE_LABEL ? raw.slice(0, OUTLINE_LABEL - 1) + "…" : raw;
  };
  const lineOf = (node) => node.loc.start.line;

  // The script's named functions, wherever they are defined (a static outline: the first definition of a name).
  const functions = new RealMap();
  const isFunction = (node) => node && (node.type === "FunctionExpression" || node.type === "ArrowFunctionExpression" ||
                                        node.type === "FunctionDeclaration");
  const collect = (node) => {
    if (node === null || typeof node !== "object") return;
    if (ArrayIsArray(node)) { for (const item of node) collect(item); return; }
    if (typeof node.type !== "string") return;
    if (node.type === "FunctionDeclaration" && node.id && !functions.has(node.id.name)) functions.set(node.id.name, node);
    if (node.type === "VariableDeclarator" && node.id.type === "Identifier" && isFunction(node.init) &&
        !functions.has(node.id.name)) functions.set(node.id.name, node.init);
    if (node.type === "AssignmentExpression" && node.left.type === "Identifier" && isFunction(node.right) &&
        !functions.has(node.left.name)) functions.set(node.left.name, node.right);
    for (const key of ObjectKeys(node)) {
      if (key !== "loc" && key !== "type" && key !== "start" && key !== "end") collect(node[key]);
    }
  };
  collect(parsed.ast);
  const entry = functions.get("onLoginRequest");
  if (entry === undefined) {
    return { ok: false, error: located("entry", "the script does not define onLoginRequest", null, null) };
  }

  let count = 0;
  let visits = 0;
  let truncated = false;
  const following = [];
  const add = (items, item) => {
    if (count >= OUTLINE_MAX_ITEMS) { truncated = true; return; }
    count += 1;
    items.push(item);
  };

  // A callback given as a function or as the name of one of the script's functions.
  const callbackItems = (value, depth) => {
    if (isFunction(value)) return body(value, depth + 1);
    if (value && value.type === "Identifier" && functions.has(value.name)) {
      const items = [];
      followFunction(value.name, value, items, depth + 1);
      return items;
    }
    return [];
  };
  const callbacksOf = (objects, depth) => {
    const lanes = [];
    const options = [];
    for (const object of objects) {
      if (!object || object.type !== "ObjectExpression") continue;
      for (const property of object.properties) {
        if (property.type !== "Property") continue;
        const key = property.key.type === "Identifier" ? property.key.name :
          (property.key.type === "Literal" ? String(property.key.value) : null);
        if (isCallbackName(key)) lanes.push({ callback: key, line: lineOf(property), items: callbackItems(property.value, depth) });
        else if (key !== null) options.push(key + ": " + text(property.value));
      }
    }
    return { lanes: lanes, options: options };
  };
  const followFunction = (name, at, items, depth) => {
    if (following.indexOf(name) >= 0) {
      add(items, { kind: "again", label: name + "()", line: lineOf(at), target: name });
      return;
    }
    const node = functions.get(name);
    following.push(name);
    const inner = body(node, depth + 1);
    following.pop();
    if (inner.length > 0) add(items, { kind: "function", label: name + "()", line: lineOf(at), defined: lineOf(node), body: inner });
  };

  const call = (node, items, depth) => {
    const callee = node.callee;
    const name = callee.type === "Identifier" ? callee.name : null;
    const args = node.arguments;
    if (name === "executeStep" || name === "prompt" || name === "promptIdentifierForStep") {
      const first = args[0];
      const label = name === "executeStep" ? "Step " + (first && first.type === "Literal" ? String(first.value) : text(first || node))
        : name === "prompt" ? "Prompt " + (first && first.type === "Literal" ? JSONstringify(first.value) : text(first || node))
        : "Ask for a username (step " + (first ? text(first) : "?") + ")";
      const found = callbacksOf(ArraySlice.call(args, 1), depth);
      if (name === "prompt") found.options.length = 0; // the prompt's data is not an option of a step
      add(items, { kind: name === "executeStep" ? "step" : "prompt", label: label, line: lineOf(node),
                   options: found.options, lanes: found.lanes });
      return;
    }
    if (name !== null && ObjectHasOwn(OUTLINE_CALLS, name)) {
      const kind = OUTLINE_CALLS[name];
      const found = kind === "call" ? callbacksOf(args, depth) : { lanes: [], options: [] };
      const target = args[0] && args[0].type === "Literal" ? " " + JSONstringify(args[0].value) : "";
      add(items, { kind: kind, label: name + (kind === "call" || kind === "library" ? target : ""), line: lineOf(node),
                   options: [], lanes: found.lanes });
      return;
    }
    if (name !== null && functions.has(name)) {
      for (const argument of args) walk(argument, items, depth + 1);
      followFunction(name, node, items, depth);
      return;
    }
    walk(callee, items, depth + 1);
    // a function handed to another function (forEach, sort...) may run: outline its body in place
    for (const argument of args) {
      if (isFunction(argument)) for (const item of body(argument, depth + 1)) add(items, item);
      else walk(argument, items, depth + 1);
    }
  };

  const branch = (label, node, paths, items, depth) => {
    const lanes = [];
    for (const path of paths) {
      const inner = [];
      if (path.node) walk(path.node, inner, depth + 1);
      if (inner.length > 0) lanes.push({ callback: path.label, line: lineOf(path.at || path.node), items: inner });
    }
    if (lanes.length > 0) add(items, { kind: "branch", label: label, line: lineOf(node), options: [], lanes: lanes });
  };

  const walk = (node, items, depth) => {
    if (node === null || typeof node !== "object") return;
    if (depth > OUTLINE_MAX_DEPTH || ++visits > OUTLINE_MAX_VISITS) { truncated = true; return; }
    if (ArrayIsArray(node)) { for (const item of node) walk(item, items, depth); return; }
    if (typeof node.type !== "string") return;
    switch (node.type) {
      case "FunctionDeclaration":
      case "FunctionExpression":
      case "ArrowFunctionExpression":
        return; // runs only when called
      case "CallExpression":
        call(node, items, depth);
        return;
      case "AssignmentExpression":
        walk(node.right, items, depth + 1);
        if (node.left.type === "MemberExpression" && node.left.object.type === "MemberExpression" &&
            !node.left.object.computed && node.left.object.property.name === "localClaims") {
          add(items, { kind: "effect", label: "set claim " + text(node.left.property), line: lineOf(node), options: [], lanes: [] });
        }
        return;
      case "IfStatement":
        walk(node.test, items, depth + 1);
        branch("if " + text(node.test), node, [{ label: "then", node: node.consequent },
                                               { label: "else", node: node.alternate }], items, depth);
        return;
      case "ConditionalExpression":
        walk(node.test, items, depth + 1);
        branch(text(node.test) + " ?", node, [{ label: "yes", node: node.consequent },
                                              { label: "no", node: node.alternate }], items, depth);
        return;
      case "SwitchStatement":
        walk(node.discriminant, items, depth + 1);
        branch("switch " + text(node.discriminant), node, node.cases.map((c) => ({
          label: c.test ? "case " + text(c.test) : "default", node: c.consequent, at: c })), items, depth);
        return;
      case "ForStatement":
      case "ForInStatement":
      case "ForOfStatement":
      case "WhileStatement":
      case "DoWhileStatement":
        branch(text(node).replace(/\s*\{.*$/, ""), node, [{ label: "each time", node: node.body }], items, depth);
        return;
      default:
        for (const key of ObjectKeys(node)) {
          if (key !== "loc" && key !== "type" && key !== "start" && key !== "end") walk(node[key], items, depth + 1);
        }
    }
  };
  const body = (fn, depth) => {
    const items = [];
    walk(fn.body, items, depth);
    return items;
  };

  following.push("onLoginRequest");
  const items = body(entry, 0);
  return { ok: true, outline: { entry: "onLoginRequest", line: lineOf(entry), items: items, truncated: truncated } };
}

function outlineEntry(source) {
  let verdict;
  try {
    verdict = outlineSource(source);
  } catch (e) {
    verdict = { ok: false, error: located("syntax", "the script could not be outlined (nested too deeply?)", null, null) };
  }
  return JSONstringify(verdict);
}
