// Warnings about a script that parses (its errors are checkSource's): calls to names that neither the script
// nor the sandbox defines (an API function this server does not have, a typo), and the step numbers
// executeStep is called with (the server compares them with an application's steps). And what an editor
// completes: the names of a kind's API and the context object's fields, read from the runtime itself.

const lintGlobals = new RealMap(); // profile -> a script global object, to ask which names exist

function lintGlobalFor(profile) {
  let g = lintGlobals.get(profile);
  if (g === undefined) {
    g = newScriptGlobal(profile);
    lintGlobals.set(profile, g);
  }
  return g;
}

// Every name the script declares anywhere (variables, functions, parameters, catch bindings, classes,
// assignments to undeclared names): a call to one of them is the script's own business.
function declaredNames(ast) {
  const names = new RealSet();
  const addPattern = (pattern) => {
    if (!pattern) return;
    if (pattern.type === "Identifier") names.add(pattern.name);
    else if (pattern.type === "ObjectPattern") for (const p of pattern.properties) addPattern(p.type === "RestElement" ? p.argument : p.value);
    else if (pattern.type === "ArrayPattern") for (const e of pattern.elements) addPattern(e);
    else if (pattern.type === "AssignmentPattern") addPattern(pattern.left);
    else if (pattern.type === "RestElement") addPattern(pattern.argument);
  };
  walkTree(ast, (node) => {
    if (node.type === "VariableDeclarator") addPattern(node.id);
    else if ((node.type === "FunctionDeclaration" || node.type === "FunctionExpression" ||
              node.type === "ClassDeclaration" || node.type === "ClassExpression") && node.id) names.add(node.id.name);
    if (node.type === "FunctionDeclaration" || node.type === "FunctionExpression" || node.type === "ArrowFunctionExpression") {
      for (const param of node.params) addPattern(param);
    } else if (node.type === "CatchClause") addPattern(node.param);
    else if (node.type === "AssignmentExpression") addPattern(node.left);
  });
  return names;
}

function walkTree(node, visitor) {
  const stack = [node];
  while (stack.length > 0) {
    const current = stack.pop();
    visitor(current);
    for (const key of ObjectKeys(current)) {
      if (key === "loc" || key === "type" || key === "start" || key === "end") continue;
      const child = current[key];
      if (ArrayIsArray(child)) {
        for (const item of child) if (item !== null && typeof item === "object" && typeof item.type === "string") stack.push(item);
      } else if (child !== null && typeof child === "object" && typeof child.type === "string") {
        stack.push(child);
      }
    }
  }
}

// {ok: true, unknownCalls: [{name, line, column}], steps: [{number, line, column}]}; a script that does not
// parse has no warnings (its error is the check's).
function lintEntry(source, kindName) {
  const kind = KINDS[kindName];
  if (kind === undefined) return JSONstringify({ ok: false, error: located("kind", "unknown kind of script " + JSONstringify(kindName), null, null) });
  const parsed = typeof source === "string" && source.length <= MAX_SOURCE_LENGTH ? parseScript(source) : { error: true };
  if (parsed.error) return JSONstringify({ ok: true, unknownCalls: [], steps: [] });
  const declared = declaredNames(parsed.ast);
  const g = lintGlobalFor(kind.profile);
  const unknownCalls = [];
  const steps = [];
  walkTree(parsed.ast, (node) => {
    if (node.type !== "CallExpression") return;
    const callee = node.callee;
    // Log.infox(...): a member the API's object (not one of the script's) does not have
    if (callee.type === "MemberExpression" && !callee.computed && callee.object.type === "Identifier" &&
        callee.property.type === "Identifier" && !declared.has(callee.object.name) &&
        hasOwn(PROFILES[kind.profile], callee.object.name)) {
      const owner = PROFILES[kind.profile][callee.object.name];
      if (owner !== null && typeof owner === "object" && !(callee.property.name in owner)) {
        const at = sourcePosition(callee.property.loc.start);
        unknownCalls.push({ name: callee.object.name + "." + callee.property.name, line: at.line, column: at.column });
      }
      return;
    }
    if (callee.type !== "Identifier") return;
    const name = callee.name;
    if (declared.has(name)) return;
    const at = sourcePosition(callee.loc.start);
    if (!(name in g)) {
      unknownCalls.push({ name: name, line: at.line, column: at.column });
    } else if (name === "executeStep" && node.arguments.length > 0) {
      const first = node.arguments[0];
      if (first.type === "Literal" && typeof first.value === "number") {
        const where = sourcePosition(first.loc.start);
        steps.push({ number: first.value, line: where.line, column: where.column });
      }
    }
  });
  const byPosition = (a, b) => (a.line - b.line) || (a.column - b.column);
  unknownCalls.sort(byPosition);
  steps.sort(byPosition);
  return JSONstringify({ ok: true, unknownCalls: unknownCalls, steps: steps });
}

// {functions: [names], members: {object: [names]}, context: {path: [field names]}}: the API a script of `kindName` sees, and the fields of
// the context object a login run builds (read from a run made for the purpose, not listed by hand).
function describeEntry(kindName) {
  const kind = KINDS[kindName];
  if (kind === undefined) return JSONstringify({ ok: false });
  const bindings = PROFILES[kind.profile];
  const functions = ObjectKeys(bindings).filter((name) => !name.startsWith("__")).sort();
  const members = {}; // the API's objects (Log): their functions
  for (const name of functions) {
    const value = bindings[name];
    if (value !== null && typeof value === "object") members[name] = ObjectKeys(value).sort();
  }
  const context = {};
  if (kind.profile === "login") {
    const sample = newRun({ journal: {}, inputs: { application: { name: "", steps: { 1: [{ authenticator: "", idp: "LOCAL" }] } }, request: {} } }, null);
    const ctx = sample.context;
    context[""] = ObjectKeys(ctx).sort();
    for (const key of ObjectKeys(ctx)) {
      const value = ctx[key];
      if (value !== null && typeof value === "object" && !ArrayIsArray(value) && key !== "steps") context[key] = ObjectKeys(value).sort();
    }
    context["steps[]"] = ObjectKeys(ctx.steps[1]).sort();
    // A user object (context.currentKnownSubject, a step's subject), of a federated identity: made without a read.
    run = sample;
    try {
      context.user = ObjectKeys(makeUser("sample", { idp: "sample" })).sort();
    } finally {
      run = null;
    }
  }
  return JSONstringify({ ok: true, functions: functions, members: members, context: context });
}
