// Drives a flowengine flow with Ping's unmodified DaVinci client SDK (2.1.0), headless in Node.
// Usage: node drive.mjs <wellknown URL> <scenario>; prints one JSON line per step, then "done".
// Scenarios: "form" (a mistake, a fix, the welcome message, success, token exchange),
// "cancel" (the form's FLOW_BUTTON), "poll" (flow `poller`: a QR code polled until the flow
// moves on, then success) and "registration" (flow `registration`: <scenario> is followed by the
// form's values as JSON; at each QR code the harness prints the step and waits for a line on
// stdin, "poll", so the test can play the phone first; then the results message and the ending,
// and the token exchange when the flow succeeded).
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
// WebCrypto (PKCE) is a global from Node 19 on; Debian 12's nodejs is 18.
globalThis.crypto ??= (await import('node:crypto')).webcrypto;
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
// The registration's screens in full: each collector's output as the app would render it.
const detail = (node) => ({
  status: node.status,
  name: node.client?.name ?? null,
  collectors: (node.client?.collectors ?? []).map(({ type, output }) => ({
    ...output,
    type,
    wireType: output?.type,
    ...(output?.src && { src: `${output.src.slice(0, 22)}… (${output.src.length} characters)` }),
  })),
  error: node.error ?? null,
  token: client.getServer()?.interactionToken ?? null,
  interactionId: client.getServer()?.interactionId ?? null,
});
const exchange = async (node) => {
  const { code, state } = node.client.authorization;
  const oauth = await oidc({ config });
  const tokens = await oauth.token.exchange(code, state);
  const claims = tokens.idToken ? JSON.parse(Buffer.from(tokens.idToken.split('.')[1], 'base64url')) : null;
  return { hasAccessToken: Boolean(tokens.accessToken), hasIdToken: Boolean(tokens.idToken), claims, error: tokens.error ?? null };
};

const client = await davinci({ config });
const acr = { poll: 'poller', registration: 'registration' }[scenario] ?? 'form';
let node = await client.start({ query: { acr_values: acr } });
out('start', { ...view(node), token: client.getServer()?.interactionToken ?? null });
const fill = (values) => {
  for (const c of client.getCollectors()) {
    if (c.output && c.output.key in values) client.update(c)(values[c.output.key]);
  }
};
const valid = { given_name: 'Ada', email: 'ada@example.com', age: '36', plan: 'pro', password: 'correct horse' };

if (scenario === 'registration') {
  const { createInterface } = await import('node:readline');
  const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
  fill(JSON.parse(process.argv[4]));
  node = await client.next();
  out('qr', detail(node));
  let polls = 0;
  for (;;) {
    const polling = client.getCollectors().find((c) => c.type === 'PollingCollector');
    if (!polling || node.status !== 'continue' || polls > 20) break;
    const { value: command } = await lines.next();
    if (command !== 'poll') break;
    const status = await client.pollStatus(polling)();
    client.update(polling)(status);
    node = await client.next();
    polls += 1;
    out('poll', { ...detail(node), pollStatus: status });
  }
  lines.return?.();
  process.stdin.destroy();
  if (node.status === 'continue') {
    node = await client.next(); // the results message's Continue
    out('end', { ...detail(node), authorization: node.client?.authorization ?? null });
    if (node.status === 'success') out('tokens', await exchange(node));
  }
} else if (scenario === 'poll') {
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
  const { hasAccessToken, hasIdToken, error } = await exchange(node);
  out('tokens', { hasAccessToken, hasIdToken, error });
}
console.log('done');
