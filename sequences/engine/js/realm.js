// The realm a sandbox process runs scripts in: SES's lockdown, plus the
// deterministic clock, randomness and Intl formatting the replay needs.
//
// This file runs first in the runtime bundle, in the start compartment, right
// after ses.umd.min.js and acorn.js were loaded.  It captures what the engine
// keeps for itself (the real Function constructor to compile wrappers, the
// real Date), removes what could run code after a run ended (timers,
// Promise-returning builtins), then calls lockdown(): every intrinsic is
// frozen and tamed (no RegExp legacy statics, no Error stack capabilities,
// no ambient clock or randomness in compartments).

const SCRIPT_URL = "authflow-script";
const LIBRARY_URL = "authflow-library:";
const DEFAULT_TENANT = "carbon.super";
const DEFAULT_USER_STORE = "PRIMARY";

// ---------------------------------------------------------------- captured before lockdown
const FeralFunction = global.Function; // compiles the engine's own wrappers; never reachable from a script
const RealDate = global.Date;
const DateGetTime = RealDate.prototype.getTime;
const DateToISOString = RealDate.prototype.toISOString;
const DateToString = RealDate.prototype.toString;
const RealMath = global.Math;
const RealIntl = global.Intl;
const JSONstringify = JSON.stringify;
const JSONparse = JSON.parse;
const ObjectFreeze = Object.freeze;
const ObjectCreate = Object.create;
const ObjectKeys = Object.keys;
const ObjectAssign = Object.assign;
const ObjectDefineProperty = Object.defineProperty;
const ObjectGetPrototypeOf = Object.getPrototypeOf;
const ObjectGetOwnPropertyDescriptor = Object.getOwnPropertyDescriptor;
const ObjectHasOwn = Object.hasOwn;
const ReflectOwnKeys = Reflect.ownKeys;
const ReflectConstruct = Reflect.construct;
const ArrayIsArray = Array.isArray;
const ArraySlice = Array.prototype.slice;
const NumberIsFinite = Number.isFinite;
const NumberIsInteger = Number.isInteger;
const RealMap = Map;
const RealSet = Set;
const RealWeakMap = WeakMap;
const RealProxy = Proxy;
const RealError = Error;
const RealTypeError = TypeError;
const RealReferenceError = ReferenceError;
const RealEvalError = EvalError;
const RealRangeError = RangeError;
const StringFromCodePoint = String.fromCodePoint;

function hasOwn(object, key) {
  return ObjectHasOwn(object, key);
}

// ---------------------------------------------------------------- deferred work removed
// A Promise job or a timer callback would run after the run that created it
// ended, outside its limits and blamed on the next run.  The syntax that
// makes Promises (async functions, await, import()) is refused when a script
// is checked; the builtins that return one, and the host's timers, go here.
function removeDeferredWork() {
  for (const name of ["setTimeout", "clearTimeout", "setInterval", "clearInterval", "__timer_manager",
                      "queueMicrotask", "SharedArrayBuffer", "Atomics", "WeakRef", "FinalizationRegistry",
                      "WebAssembly", "AsyncDisposableStack"]) {
    const desc = ObjectGetOwnPropertyDescriptor(global, name);
    if (desc === undefined) continue;
    if (desc.configurable) delete global[name];
    else if (desc.writable) global[name] = undefined;
    // else: the host's, fixed; compartments never see the start compartment's globals anyway
  }
  if (hasOwn(Array, "fromAsync")) delete Array.fromAsync;
  if (hasOwn(Promise, "try")) delete Promise.try;
}

// ---------------------------------------------------------------- lockdown
function lockdownRealm() {
  removeDeferredWork();
  global.lockdown({
    errorTaming: "safe", // compartments get no stack capabilities; the engine formats stacks itself
    errorTrapping: "none",
    unhandledRejectionTrapping: "none",
    reporting: "none",
    regExpTaming: "safe", // no RegExp.$1 / RegExp.input: the last match of another run stays unreadable
    localeTaming: "unsafe", // toLocaleString and friends keep their locale behaviour, as scripts expect
    consoleTaming: "unsafe",
    overrideTaming: "moderate", // `obj.toString = f` still works on a script's own objects
    evalTaming: "safe-eval",
    stackFiltering: "verbose",
  });
}

lockdownRealm();
const harden = global.harden;
const Compartment = global.Compartment;

// ---------------------------------------------------------------- the journaled clock
// Date, Math.random and Intl formatting without a date read the journal
// (clockNow / nextRandom, defined with the run state), never the host.
function makeDeterministicDate() {
  function Date(a0, a1, a2, a3, a4, a5, a6) {
    if (new.target === undefined) return DateToString.call(new RealDate(clockNow()));
    if (arguments.length === 0) return ReflectConstruct(RealDate, [clockNow()], new.target);
    return ReflectConstruct(RealDate, ArraySlice.call(arguments), new.target);
  }
  ObjectDefineProperty(Date, "prototype", { value: RealDate.prototype, writable: false });
  Date.now = function now() { return clockNow(); };
  Date.parse = RealDate.parse;
  Date.UTC = RealDate.UTC;
  return harden(Date);
}

function makeDeterministicMath() {
  const math = ObjectCreate(ObjectGetPrototypeOf(RealMath));
  for (const key of ReflectOwnKeys(RealMath)) {
    if (key !== "random") ObjectDefineProperty(math, key, ObjectGetOwnPropertyDescriptor(RealMath, key));
  }
  ObjectDefineProperty(math, "random", { value: function random() { return nextRandom(); }, writable: false,
                                         enumerable: false, configurable: false });
  return harden(math);
}

// Intl is not one of SES's shared intrinsics: the engine patches its clock
// reads and hardens it before any compartment sees it.
function makeDeterministicIntl() {
  if (RealIntl === undefined) return undefined;
  const dtf = RealIntl.DateTimeFormat.prototype;
  const formatGetter = ObjectGetOwnPropertyDescriptor(dtf, "format").get;
  ObjectDefineProperty(dtf, "format", {
    configurable: false,
    get() {
      const bound = formatGetter.call(this);
      return function format(date) { return bound(date === undefined ? clockNow() : date); };
    },
  });
  const formatToParts = dtf.formatToParts;
  ObjectDefineProperty(dtf, "formatToParts", {
    configurable: false,
    writable: false,
    value: function formatToParts(date) { return formatToParts.call(this, date === undefined ? clockNow() : date); },
  });
  return harden(RealIntl);
}

const DeterministicDate = makeDeterministicDate();
const DeterministicMath = makeDeterministicMath();
const DeterministicIntl = makeDeterministicIntl();

// The parser the engine checks scripts with (acorn, loaded before this file).
const parser = (function () {
  const acorn = global.acorn;
  delete global.acorn;
  return ObjectFreeze({ parse: acorn.parse, version: acorn.version });
})();
