// The local Telegram (`emulator/`, binary `tma-emulator`) for end-to-end tests: build it if
// needed, start it on a free loopback port, stop it, and talk to its control API.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { BOT_TOKEN, WEBHOOK_SECRET, ADMIN_TOKEN, startWorker, admin } from './harness.mjs';

const targetDir = process.env.CARGO_TARGET_DIR || 'target';
export const EMULATOR_BIN = process.env.TMA_EMULATOR_BIN || `${targetDir}/debug/tma-emulator`;
/** Telegram's own client script, as shipped in the npm package. */
export const WEB_APP_JS = 'node_modules/@twa-dev/sdk/src/telegram-web-apps.js';
/** A fixed Ed25519 seed for launch-data signatures (any 32 bytes will do). */
export const SIGNING_SEED = '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60';

/** The raw Ed25519 public key (hex) for a 32-byte seed (hex), computed independently of the emulator. */
export function publicKeyFromSeed(seedHex) {
  const pkcs8 = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), Buffer.from(seedHex, 'hex')]);
  const key = createPublicKey(createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }));
  return Buffer.from(key.export({ format: 'jwk' }).x, 'base64url').toString('hex');
}

/** Builds the emulator binary if it is missing (debug profile). */
export function ensureEmulatorBuilt() {
  if (existsSync(EMULATOR_BIN)) return;
  const r = spawnSync('cargo', ['build', '-p', 'tma-pay-emulator'], { stdio: 'inherit' });
  if (r.status !== 0 || !existsSync(EMULATOR_BIN)) {
    throw new Error(`could not build the emulator (cargo build -p tma-pay-emulator exited ${r.status}); expected ${EMULATOR_BIN}`);
  }
}

/** A loopback port that was free a moment ago (for services that must know each other's URL up front). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls `fn` until it returns a truthy value (returned) or the deadline passes (throws with `what`). */
export async function eventually(fn, { timeout = 10000, interval = 50, what = 'condition' } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      if (e && e.fatal) throw e;
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${what}${last ? `: ${last.message}` : ''}`);
    await sleep(interval);
  }
}

/** The access channel of the default catalog (`catalog.default.json`), as `--chat` takes it. */
export const INSIDERS = -1001234567890;
export const DEFAULT_CHAT = `${INSIDERS}:Insiders`;

/** The slug of an invoice link (`https://t.me/$<slug>`). */
export function slugOf(invoiceLink) {
  const m = String(invoiceLink).match(/\/\$([^/?#]+)$/);
  if (!m) throw new Error(`not an invoice link: ${invoiceLink}`);
  return m[1];
}

/**
 * Starts the emulator. Options: `port` (default: a free one), `appUrl`, `signingSeed`,
 * `webhookUrl`, `webhookSecret`, `webAppJs` (default: Telegram's script from npm), `chats`
 * (`--chat` values: `<id>:<title>[:<options>]`), `args` (extra).
 * Returns `{url, proc, logs, stop, …control helpers}`.
 */
export async function startEmulator(opts = {}) {
  ensureEmulatorBuilt();
  const webAppJs = opts.webAppJs ?? WEB_APP_JS;
  if (webAppJs && !existsSync(webAppJs)) throw new Error(`Telegram's web-app script is missing at ${webAppJs} (run npm ci)`);
  const port = opts.port ?? (await freePort());
  const args = [
    '--listen', `127.0.0.1:${port}`,
    '--bot-token', opts.botToken ?? BOT_TOKEN,
    '--retry-base-ms', '50', '--retry-cap-ms', '500',
  ];
  if (opts.appUrl) args.push('--app-url', opts.appUrl);
  if (webAppJs) args.push('--web-app-js', webAppJs);
  if (opts.signingSeed) args.push('--signing-seed', opts.signingSeed);
  if (opts.webhookUrl) args.push('--webhook-url', opts.webhookUrl);
  if (opts.webhookSecret) args.push('--webhook-secret', opts.webhookSecret);
  if (opts.precheckoutTimeoutMs) args.push('--precheckout-timeout-ms', String(opts.precheckoutTimeoutMs));
  for (const chat of opts.chats ?? []) args.push(`--chat=${chat}`);
  args.push(...(opts.args ?? []));

  const logs = [];
  // Only the flags decide: no TMA_EMULATOR_* from the developer's shell.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TMA_EMULATOR_')));
  const proc = spawn(EMULATOR_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
  let exited = null;
  proc.on('exit', (code, signal) => { exited = { code, signal }; });
  proc.stdout.on('data', (d) => logs.push(String(d)));
  proc.stderr.on('data', (d) => logs.push(String(d)));

  const url = `http://127.0.0.1:${port}`;
  const emu = controlClient(url);
  try {
    await eventually(async () => {
      if (exited) throw Object.assign(new Error(`emulator exited (${JSON.stringify(exited)}): ${logs.join('')}`), { fatal: true });
      const r = await fetch(`${url}/control/info`);
      return r.ok;
    }, { timeout: 15000, what: `the emulator at ${url}` });
  } catch (e) {
    proc.kill('SIGKILL');
    throw e;
  }
  return Object.assign(emu, {
    proc,
    logs,
    async stop() {
      if (exited) return;
      const gone = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 3000);
      await gone;
      clearTimeout(t);
    },
  });
}

/**
 * The built worker and the emulator, wired to each other: the emulator's port is taken
 * first so that each knows the other's address; the worker's page loads Telegram's script
 * from the emulator; the bot is set up through the worker's own `/api/admin/setup`
 * (setWebhook, setMyCommands, setChatMenuButton against the emulator).
 * With `signingSeed`, launch data is Ed25519-signed and the worker knows the key;
 * `settings` adds to or overrides the worker's settings; `scriptPath` and `limits` are passed to `startWorker`;
 * `chats` are the emulator's chats (the default catalog's access channel by default);
 * `users` have started the bot before setup runs.
 */
export async function startWorkerWithEmulator({ signingSeed, settings = {}, scriptPath, limits, chats = [DEFAULT_CHAT], users = [], ton } = {}) {
  const port = await freePort();
  const emuUrl = `http://127.0.0.1:${port}`;
  const w = await startWorker({
    BOT_TOKEN, WEBHOOK_SECRET, ADMIN_TOKEN,
    TELEGRAM_API_BASE: emuUrl,
    TELEGRAM_WEB_APP_JS: `${emuUrl}/telegram-web-app.js`,
    ...(signingSeed ? { TELEGRAM_PUBLIC_KEY: publicKeyFromSeed(signingSeed) } : {}),
    // `ton: {TON_WALLET, …}`: the shop sells for TON, on the emulator's chain and wallet.
    ...(ton ? {
      TONCENTER_API_BASE: `${emuUrl}/toncenter`,
      TON_CONNECT_WALLET_JS: `${emuUrl}/tonconnect-wallet.js`,
      ...ton,
    } : {}),
    ...settings,
  }, { scriptPath, limits });
  const emu = await startEmulator({ port, appUrl: `${w.url}/`, signingSeed, chats });
  // Users who have started the bot before setup runs (operators, say).
  for (const u of users) await emu.upsertUser(u);
  const setup = await w.fetch('/api/admin/setup', { method: 'POST', headers: admin() });
  return { w, emu, setup };
}

/** Helpers for the control API (and the Bot API) of an emulator at `url`. */
export function controlClient(url, token = BOT_TOKEN) {
  async function call(method, path, body) {
    const init = { method, headers: {} };
    if (body !== undefined) {
      init.headers['content-type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    const res = await fetch(url + path, init);
    const text = await res.text();
    let json;
    try { json = JSON.parse(text); } catch { json = undefined; }
    return { status: res.status, json, text };
  }
  /** The JSON of a call that must succeed. */
  async function ok(method, path, body) {
    const r = await call(method, path, body);
    if (r.status < 200 || r.status > 299) throw new Error(`${method} ${path} → ${r.status} ${r.text}`);
    return r.json;
  }
  const q = (params) => {
    const s = new URLSearchParams(Object.entries(params).filter(([, v]) => v != null)).toString();
    return s ? `?${s}` : '';
  };
  return {
    url,
    call,
    get: (path) => ok('GET', path),
    post: (path, body = {}) => ok('POST', path, body),
    info: () => ok('GET', '/control/info'),
    /** `{init_data, url, app_url, user, …}`: fresh signed launch data for that user. */
    launch: (user_id, extra = {}) => ok('GET', `/control/launch${q({ user_id, ...extra })}`),
    /** Request headers of a Mini App call by that user: fresh launch data, a JSON body. */
    async launchHeaders(user_id) {
      const { init_data } = await ok('GET', `/control/launch${q({ user_id })}`);
      return { authorization: `tma ${init_data}`, 'content-type': 'application/json' };
    },
    upsertUser: (user) => ok('POST', '/control/users', user),
    message: (user_id, text) => ok('POST', '/control/messages', { user_id, text }),
    sent: (chat_id) => ok('GET', `/control/sent${q({ chat_id })}`),
    chat: (user_id) => ok('GET', `/control/chat${q({ user_id })}`),
    calls: (method) => ok('GET', `/control/calls${q({ method })}`),
    updates: (kind) => ok('GET', `/control/updates${q({ kind })}`),
    invoice: (slug) => ok('GET', `/control/invoices/${encodeURIComponent(slug)}`),
    pay: (slug, user_id) => ok('POST', `/control/invoices/${encodeURIComponent(slug)}/pay`, { user_id }),
    cancel: (slug) => ok('POST', `/control/invoices/${encodeURIComponent(slug)}/cancel`, {}),
    charges: () => ok('GET', '/control/charges'),
    renew: (telegram_payment_charge_id) => ok('POST', '/control/subscriptions/renew', { telegram_payment_charge_id }),
    redeliver: (update_id, timeout_ms) => ok('POST', '/control/redeliver', { update_id, timeout_ms }),
    reset: () => ok('POST', '/control/reset', {}),
    /** A chat with its members, links, join requests and queries. */
    chatState: (chat_id) => ok('GET', `/control/chats/${chat_id}`),
    createChat: (chat) => ok('POST', '/control/chats', chat),
    setMember: (chat_id, member) => ok('POST', `/control/chats/${chat_id}/members`, member),
    /** The user taps an invite link: `{result: joined|requested|already_member|failed, …}`. */
    tap: (user_id, invite_link) => ok('POST', '/control/invite_links/tap', { user_id, invite_link }),
    /** The user's latest Mini App launch, or null. */
    async lastLaunch(user_id, source) {
      const r = await call('GET', `/control/launch/last${q({ user_id, source })}`);
      return r.status === 404 ? null : r.json;
    },
    userChats: (user_id) => ok('GET', `/control/users/${user_id}/chats`),
    /** Resolves once nothing is pending or in flight (throws on the emulator's 408). */
    waitIdle: (timeout_ms = 10000) => ok('GET', `/control/wait?for=idle&timeout_ms=${timeout_ms}`),
    /** A Bot API call as the bot would make it: `{ok, result}` or `{ok: false, …}`. */
    async botApi(method, params = {}) {
      const r = await call('POST', `/bot${token}/${method}`, params);
      return r.json;
    },
  };
}
