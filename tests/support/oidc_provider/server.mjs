// A real OpenID provider for the federation tests: the npm package oidc-provider (not written by this
// project), configured from the JSON file named on the command line:
//   {"port", "issuer", "clients": [oidc-provider client metadata], "accounts": {id: {"password", "claims"}}}
// Sign-in pages are this file's own small forms (POST /interaction/<uid>: login, password, or action=abort);
// consent is granted at once.  RP-initiated logout (its confirmation page: the library's form and a
// "logout=yes" button) and back-channel logout (to each client's backchannel_logout_uri) are on.  GET /test/last-authorization returns the last authorization request's
// parameters, so that tests can check what the relying party asked for.
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { generateKeyPairSync } from 'node:crypto';
import Provider from 'oidc-provider';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const accounts = config.accounts || {};
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: 'test-key-1', use: 'sig', alg: 'RS256' };

let lastAuthorization = null;

const provider = new Provider(config.issuer, {
  clients: config.clients,
  jwks: { keys: [signingKey] },
  cookies: { keys: ['authflow-test-cookie-key-0123456789'] },
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'given_name', 'family_name', 'preferred_username'],
    groups: ['groups'],
  },
  features: {
    devInteractions: { enabled: false },
    backchannelLogout: { enabled: true },
    rpInitiatedLogout: {
      enabled: true,
      async logoutSource(ctx, form) {
        ctx.body = `<!doctype html><html><body><h1>Test provider sign-out</h1>${form}
          <button type="submit" form="op.logoutForm" value="yes" name="logout">Sign out</button></body></html>`;
      },
      async postLogoutSuccessSource(ctx) {
        ctx.body = '<!doctype html><html><body><h1>Test provider: signed out</h1></body></html>';
      },
    },
  },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  async findAccount(ctx, id) {
    if (!accounts[id]) return undefined;
    return { accountId: id, async claims() { return { sub: id, ...accounts[id].claims }; } };
  },
  // Back-channel logout tokens go to the test's server on 127.0.0.1, which the library's protection against
  // requests to special-use addresses (SSRF) would refuse: this provider only ever talks to test servers.
  fetch: (url, options) => {
    const { dispatcher, ...rest } = options;
    return globalThis.fetch(url, rest);
  },
  ttl: { AccessToken: 600, AuthorizationCode: 60, IdToken: 600, Interaction: 600, Session: 600, Grant: 600 },
});

// Why a request was refused, in the log the test fixture keeps.
for (const event of ['grant.error', 'authorization.error', 'userinfo.error', 'server_error',
  'end_session.error', 'backchannel.error']) {
  provider.on(event, (ctx, err) => console.error(event, err.error, err.error_description, err.error_detail || err.message || '', err.cause ? String(err.cause) : ''));
}

function page(res, status, body) {
  res.writeHead(status, { 'Content-Type': 'text/html; charset=utf-8' });
  res.end(`<!doctype html><html><body>${body}</body></html>`);
}

function readForm(req) {
  return new Promise((resolve, reject) => {
    let data = '';
    req.on('data', (chunk) => { data += chunk; if (data.length > 10000) reject(new Error('too big')); });
    req.on('end', () => resolve(Object.fromEntries(new URLSearchParams(data))));
    req.on('error', reject);
  });
}

async function grantConsent(req, res, details) {
  const { prompt, params, session, grantId } = details;
  const grant = grantId ? await provider.Grant.find(grantId)
    : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
  if (prompt.details.missingOIDCScope) grant.addOIDCScope(prompt.details.missingOIDCScope.join(' '));
  if (prompt.details.missingOIDCClaims) grant.addOIDCClaims(prompt.details.missingOIDCClaims);
  for (const [indicator, scopes] of Object.entries(prompt.details.missingResourceScopes || {})) {
    grant.addResourceScope(indicator, scopes.join(' '));
  }
  await provider.interactionFinished(req, res, { consent: { grantId: await grant.save() } },
    { mergeWithLastSubmission: true });
}

async function interaction(req, res, uid) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) return page(res, 400, 'wrong interaction');
  lastAuthorization = details.params;
  if (details.prompt.name === 'consent') return grantConsent(req, res, details);
  if (req.method === 'GET') {
    return page(res, 200, `<h1>Test provider sign-in</h1><form method="post" action="/interaction/${uid}">
      <input name="login" value="${String(details.params.login_hint || '').replace(/[^\w@.+-]/g, '')}">
      <input name="password" type="password"><button>Sign in</button></form>`);
  }
  const form = await readForm(req);
  if (form.action === 'abort') {
    return provider.interactionFinished(req, res,
      { error: 'access_denied', error_description: 'The user cancelled.' }, { mergeWithLastSubmission: false });
  }
  const account = accounts[form.login];
  if (!account || account.password !== form.password) return page(res, 200, '<p id="error">Wrong password</p>');
  return provider.interactionFinished(req, res, { login: { accountId: form.login } },
    { mergeWithLastSubmission: false });
}

const callback = provider.callback();
const server = http.createServer(async (req, res) => {
  try {
    const url = new URL(req.url, config.issuer);
    const match = url.pathname.match(/^\/interaction\/([\w-]+)$/);
    if (match) return await interaction(req, res, match[1]);
    if (url.pathname === '/test/last-authorization') {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      return res.end(JSON.stringify(lastAuthorization));
    }
    return callback(req, res);
  } catch (err) {
    console.error(err);
    if (!res.headersSent) page(res, 500, 'error');
  }
});
server.listen(config.port, '127.0.0.1', () => console.log(`listening ${config.port}`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
