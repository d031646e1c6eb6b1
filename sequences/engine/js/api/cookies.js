// The script API: cookies and response.
const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const COOKIE_PROPERTIES = ["max-age", "path", "domain", "httpOnly", "secure", "sameSite", "sign", "encrypt"];

function flag(value) {
  return value === true || String(value).toLowerCase() === "true";
}

function setCookie(response, name, value, properties) {
  current();
  if (typeof name !== "string" || !COOKIE_NAME.test(name)) throw new RealTypeError("setCookie: invalid cookie name");
  const given = properties && typeof properties === "object" ? properties : {};
  const props = {};
  for (const key of COOKIE_PROPERTIES) {
    if (given[key] === undefined || given[key] === null) continue;
    if (key === "max-age") props.maxAge = Math.trunc(Number(given[key])) || 0;
    else if (key === "path" || key === "domain" || key === "sameSite") props[key] = String(given[key]);
    else props[key] = flag(given[key]);
  }
  return effect("setCookie", [name, value === undefined || value === null ? "" : String(value), props]) === true;
}

function getCookieValue(request, name, properties) {
  const r = current();
  if (typeof name !== "string") return null;
  const cookies = (r.inputs.request || {}).cookies || {};
  if (!hasOwn(cookies, name)) return null;
  const given = properties && typeof properties === "object" ? properties : {};
  const decrypt = flag(given.decrypt);
  const validate = flag(given.validateSignature);
  if (!decrypt && !validate) return cookies[name];
  return lookup("cookie", { name: name, value: cookies[name], decrypt: decrypt, validateSignature: validate });
}

