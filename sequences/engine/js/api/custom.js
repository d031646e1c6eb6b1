// The API of custom authenticator scripts (`execute` functions): logging with
// SLF4J-style `{}` placeholders, and the Java string idioms such scripts use
// on their payload strings (`a.equals(b)`, `a.equalsIgnoreCase(b)`).
//
// String.prototype cannot carry `equals`: lockdown removes what the language
// does not define and freezes the rest.  Instead, when a custom authenticator
// script is compiled, each call `X.equals(...)` becomes
// `__authflowJavaString(X).equals(...)` (programs.js): a string gets a small
// hardened view with the Java methods, any other value is passed through, so
// an object's own `equals` keeps working.

function slf4jMessage(args) {
  if (args.length < 2 || typeof args[0] !== "string" || args[0].indexOf("{}") < 0) return args;
  const pattern = args[0];
  let out = "";
  let next = 1;
  let from = 0;
  for (;;) {
    const at = pattern.indexOf("{}", from);
    if (at < 0 || next >= args.length) break;
    const value = args[next++];
    out += pattern.slice(from, at) + (typeof value === "string" ? value : safeString(value));
    from = at + 2;
  }
  out += pattern.slice(from);
  const rest = [out];
  for (; next < args.length; next++) rest.push(args[next]); // extra arguments, as SLF4J appends a throwable
  return rest;
}

const LOG = harden({
  debug: function debug() { emitLog("debug", slf4jMessage(arguments)); },
  info: function info() { emitLog("info", slf4jMessage(arguments)); },
  warn: function warn() { emitLog("warn", slf4jMessage(arguments)); },
  error: function error() { emitLog("error", slf4jMessage(arguments)); },
  trace: function trace() { emitLog("debug", slf4jMessage(arguments)); },
});

function javaString(value) {
  if (typeof value !== "string") return value;
  return harden({
    equals: function equals(other) { return typeof other === "string" && other === value; },
    equalsIgnoreCase: function equalsIgnoreCase(other) {
      return typeof other === "string" && other.length === value.length &&
        other.toUpperCase().toLowerCase() === value.toUpperCase().toLowerCase();
    },
  });
}
harden(javaString);

const JAVA_STRING_HELPER = "__authflowJavaString";
const JAVA_STRING_METHODS = harden(["equals", "equalsIgnoreCase"]);

// The source of a custom authenticator script with its Java string calls routed
// through the helper; `ast` is the parse of STRICT_PREFIX + source.  Insertions
// stay on their line, so error lines keep matching the administrator's text.
function withJavaStrings(source, ast, offset) {
  const inserts = [];
  const visit = (node) => {
    if (node.type === "CallExpression" && node.callee.type === "MemberExpression" && !node.callee.computed &&
        node.callee.property.type === "Identifier" && JAVA_STRING_METHODS.indexOf(node.callee.property.name) >= 0 &&
        node.callee.object.type !== "Super" && !node.callee.optional) {
      inserts.push({ at: node.callee.object.start - offset, text: JAVA_STRING_HELPER + "(", order: 0 });
      inserts.push({ at: node.callee.object.end - offset, text: ")", order: 1 });
    }
    for (const key of ObjectKeys(node)) {
      if (key === "loc" || key === "type" || key === "start" || key === "end") continue;
      const child = node[key];
      if (ArrayIsArray(child)) {
        for (const item of child) if (item !== null && typeof item === "object" && typeof item.type === "string") visit(item);
      } else if (child !== null && typeof child === "object" && typeof child.type === "string") {
        visit(child);
      }
    }
  };
  visit(ast);
  if (inserts.length === 0) return source;
  // Back to front, so earlier positions stay valid; at one position, closings before openings.
  inserts.sort((a, b) => (b.at - a.at) || (a.order - b.order));
  let out = source;
  for (const insert of inserts) out = out.slice(0, insert.at) + insert.text + out.slice(insert.at);
  return out;
}
