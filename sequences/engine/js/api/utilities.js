// The script API: utilities (no server data).
const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

function base64UrlDecode(text) {
  const clean = String(text).replace(/-/g, "+").replace(/_/g, "/").replace(/=+$/, "");
  if (!/^[A-Za-z0-9+/]*$/.test(clean) || clean.length % 4 === 1) throw new RealTypeError("not base64url");
  const bytes = [];
  let buffer = 0, bits = 0;
  for (let i = 0; i < clean.length; i++) {
    buffer = (buffer << 6) | B64.indexOf(clean[i]);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      bytes.push((buffer >> bits) & 0xff);
    }
  }
  return utf8Decode(bytes);
}

function utf8Decode(bytes) {
  let out = "";
  for (let i = 0; i < bytes.length;) {
    const b = bytes[i++];
    let code;
    if (b < 0x80) code = b;
    else if (b >= 0xc0 && b < 0xe0) code = ((b & 0x1f) << 6) | (bytes[i++] & 0x3f);
    else if (b >= 0xe0 && b < 0xf0) code = ((b & 0x0f) << 12) | ((bytes[i++] & 0x3f) << 6) | (bytes[i++] & 0x3f);
    else code = ((b & 0x07) << 18) | ((bytes[i++] & 0x3f) << 12) | ((bytes[i++] & 0x3f) << 6) | (bytes[i++] & 0x3f);
    out += String.fromCodePoint(code);
  }
  return out;
}

// Decodes a JWT's header or payload: the signature is NOT checked.
function getValueFromDecodedAssertion(jwt, name, inPayload) {
  current();
  if (typeof jwt !== "string" || typeof name !== "string") return null;
  const parts = jwt.split(".");
  if (parts.length < 2) return null;
  let decoded;
  try {
    decoded = JSONparse(base64UrlDecode(parts[inPayload === false || String(inPayload) === "false" ? 0 : 1]));
  } catch (e) {
    if (e === HALT) throw e;
    return null;
  }
  if (decoded === null || typeof decoded !== "object" || !hasOwn(decoded, name)) return null;
  const value = decoded[name];
  if (value === null || value === undefined) return null;
  return typeof value === "object" ? JSONstringify(value) : String(value);
}

function maskPart(part) {
  if (part.length <= 2) return "*".repeat(part.length);
  return part[0] + "*".repeat(part.length - 2) + part[part.length - 1];
}

function getMaskedValue(value) {
  if (value === null || value === undefined) return value;
  const text = String(value);
  const at = text.lastIndexOf("@");
  if (at > 0) {
    const domain = text.slice(at + 1);
    const dot = domain.lastIndexOf(".");
    const host = dot > 0 ? maskPart(domain.slice(0, dot)) + domain.slice(dot) : maskPart(domain);
    return maskPart(text.slice(0, at)) + "@" + host;
  }
  return maskPart(text);
}

function filterAuthenticators(options, exclude) {
  if (!ArrayIsArray(options)) return [];
  const out = [];
  for (const o of options) {
    if (!o || typeof o !== "object" || (exclude !== undefined && o.authenticator === exclude)) continue;
    const idp = o.idp === undefined || o.idp === null ? "LOCAL" : String(o.idp);
    out.push(idp === "LOCAL" ? { authenticator: String(o.authenticator) } : { idp: idp });
  }
  return out;
}

function requestedAcrs(r) {
  const values = ((r.inputs.request || {}).params || {}).acr_values || [];
  return String(values[0] || "").split(" ").filter((v) => v !== "");
}

function selectAcrFrom(context, acrList) {
  const r = current();
  const supported = stringList(acrList || [], "selectAcrFrom: acrList");
  for (const acr of requestedAcrs(r)) if (supported.indexOf(acr) >= 0) return acr;
  return null;
}

