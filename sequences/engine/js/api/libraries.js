// Shared libraries (loadLocalLibrary / require).
//
// loadLocalLibrary(name) (and require(name)) runs an administrator's library
// with the same bindings and returns what it exports (module.exports or
// exports).  The version a flow first loads is journaled: replays, and the
// rest of the flow, use that version.
function loadLocalLibrary(name) {
  const r = current();
  if (typeof name !== "string" || name === "") throw new RealTypeError("loadLocalLibrary: name must be a string");
  const library = lookup("library", name);
  if (library === null) throw new RealError("loadLocalLibrary: there is no library named " + JSONstringify(name));
  const cacheKey = name + ":" + library.key;
  if (r.libraries.has(cacheKey)) return r.libraries.get(cacheKey);
  const compiled = libraryFor(r.program, name, library.key, library.source);
  if (compiled.error) {
    throw new RealError("loadLocalLibrary: library " + JSONstringify(name) + " does not compile: " + compiled.error);
  }
  const module = { exports: {} };
  compiled.instantiate(r)(module, module.exports);
  r.libraries.set(cacheKey, module.exports);
  return module.exports;
}

