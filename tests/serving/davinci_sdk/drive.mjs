// Drives a flowengine flow with Ping's unmodified DaVinci client SDK (2.1.0), headless in Node.
// Usage: node drive.mjs <wellknown URL> <scenario>; prints one JSON line per step, then "done".
// Scenarios: "form" (a mistake, a fix, the welcome message, success, token exchange),
// "cancel" (the form's FLOW_BUTTON) and "poll" (flow `poller`: a QR code polled until the flow
// moves on, then success).
class MemoryStorage {
  #m = new Map();
  get length() { return this.#m.size; }
  key(i) { return [...this.#m.keys()][i] ?? null; }
  getItem(k) { return this.#m.has(String(k)) ? this.#m.get(String(k)) : null; }
  setItem(k, v) { this.#m.set(String(k), String(v)); }
  removeItem(k) { this.#m.delete(String(k)); }
  clear() { this.#m.clear(); }
}
globalThis.sessionStorage ??= new MemoryStorage();
globalThis.localStorage ??= new MemoryStorage();
const { davinci } = await import('@forgerock/davinci-client');
const { oidc } = await import('@forgerock/oidc-client');

const [wellknown, scenario] = process.argv.slice(2);
const config = {
  clientId: 'flowengine-dev',
  redirectUri: 'http://127.0.0.1:3000/callback',
  scope: 'openid profile',
  serverConfig: { wellknown },
};
const out = (what, value) => console.log(JSON.stringify({ what, ...value }));
const view = (node) => ({
  status: node.status,
  collectors: (node.client?.collectors ?? []).map((c) => ({ type: c.type, key: c.output?.key, label: c.output?.label })),
  error: node.error ?? null,
});

const client = await davinci({ config });
let node = await client.start({ query: { acr_values: scenario === 'poll' ? 'poller' : 'form' } });
out('start', { ...view(node), token: client.getServer()?.interactionToken ?? null });
const fill = (values) => {
  for (const c of client.getCollectors()) {
    if (c.output && c.output.key in values) client.update(c)(values[c.output.key]);
  }
};
const valid = { given_name: 'Ada', email: 'ada@example.com', age: '36', plan: 'pro', password: 'correct horse' };

if (scenario === 'poll') {
  let polls = 0;
  for (;;) {
    const polling = client.getCollectors().find((c) => c.type === 'PollingCollector');
    if (!polling || polls > 50) break;
    const status = await client.pollStatus(polling)();
    client.update(polling)(status);
    node = await client.next();
    polls += 1;
    out('poll', { ...view(node), pollStatus: status, token: client.getServer()?.interactionToken ?? null });
  }
  out('polled', {
    polls,
    status: node.status,
    authorization: node.client?.authorization ?? null,
    interactionId: client.getServer()?.interactionId ?? null,
  });
} else if (scenario === 'cancel') {
  node = await client.flow({ action: 'cancel' })();
  out('cancel', view(node));
} else {
  fill({ ...valid, email: 'ada-at-example' });
  node = await client.next();
  out('mistake', { ...view(node), errorCollectors: client.getErrorCollectors() });
  fill(valid);
  node = await client.next();
  out('welcome', view(node));
  node = await client.next();
  out('success', { status: node.status, authorization: node.client?.authorization ?? null });
  const { code, state } = node.client.authorization;
  const oauth = await oidc({ config });
  const tokens = await oauth.token.exchange(code, state);
  out('tokens', { hasAccessToken: Boolean(tokens.accessToken), hasIdToken: Boolean(tokens.idToken), error: tokens.error ?? null });
}
console.log('done');
