// The end-to-end harness: the built worker (build/) under workerd via Miniflare,
// configured from wrangler.toml, with a fresh local D1 (migrations applied) and
// its Bot API calls going to a fake Bot API on loopback.
import { createServer } from 'node:http';
import { readFileSync, readdirSync } from 'node:fs';
import { createHmac, createHash, generateKeyPairSync, sign as edSign } from 'node:crypto';
import assert from 'node:assert/strict';
import { Miniflare } from 'miniflare';
import { unstable_getMiniflareWorkerOptions } from 'wrangler';

export const BOT_TOKEN = '4242:E2E_test-token';
export const WEBHOOK_SECRET = 'e2e_webhook_secret';
export const ADMIN_TOKEN = 'e2e_admin_token';

/** A fake Telegram Bot API that records calls and answers from per-method handlers (`(params, {url}) → answer`). */
export async function fakeBotApi() {
  const calls = [];
  const handlers = new Map();
  const server = createServer(async (req, res) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    const m = req.url.match(/^\/bot([^/]+)(\/test)?\/(\w+)$/);
    const method = m ? m[3] : '?';
    const params = body ? JSON.parse(body) : {};
    calls.push({ method, params, token: m && m[1], test: Boolean(m && m[2]) });
    const handler = handlers.get(method);
    const answer = handler ? await handler(params, { url: req.url }) : { ok: true, result: true };
    const status = answer.ok ? 200 : answer.error_code || 400;
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(answer));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  let slug = 0;
  handlers.set('createInvoiceLink', () => ({ ok: true, result: `https://t.me/$inv${++slug}` }));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    calls,
    on(method, handler) { handlers.set(method, handler); },
    called(method) { return calls.filter((c) => c.method === method); },
    close: () => new Promise((r) => { server.closeAllConnections(); server.close(r); }),
  };
}

/** SQL statements of every migration, in order. */
function migrations() {
  const dir = new URL('../../migrations/', import.meta.url);
  return readdirSync(dir).filter((f) => f.endsWith('.sql')).sort().flatMap((f) =>
    readFileSync(new URL(f, dir), 'utf8')
      .split('\n').filter((l) => !l.trim().startsWith('--')).join('\n')
      .split(';').map((s) => s.trim()).filter(Boolean));
}

/**
 * wrangler.toml's rate limits (`[[ratelimits]]`, which wrangler hands Miniflare as
 * `ratelimits: {NAME: {simple: {limit, period}}}`) with `changes` applied: binding name
 * → requests per period (the period stays), or `null` to leave the binding out.
 */
export function rateLimits(fromToml, changes = {}) {
  const out = structuredClone(fromToml ?? {});
  for (const [name, limit] of Object.entries(changes)) {
    if (limit === null) { delete out[name]; continue; }
    assert.ok(out[name], `wrangler.toml has no rate limit ${name}`);
    out[name].simple.limit = limit;
  }
  return out;
}

/**
 * Limits no test's own traffic reaches (nor the benchmark's thousands of requests a
 * second from one user), for suites that are not about them (see tests/limits.test.mjs).
 * The bindings are still called, as in production.
 */
export const GENEROUS_LIMITS = { LIMIT_INVOICES: 1e9, LIMIT_CHANGES: 1e9, LIMIT_READS: 1e9, LIMIT_PUBLIC: 1e9 };

/**
 * Starts the built worker. `settings` are vars (any setting may also be a secret).
 * `scriptPath` replaces wrangler.toml's `main` (a test-only wrapper around it, or
 * the benchmark's baselines); `migrate: false` skips the migrations; `limits`
 * changes wrangler.toml's rate limits (see `rateLimits`): without it the worker
 * runs with the production limits.
 */
export async function startWorker(settings = {}, { scriptPath, migrate = true, inspectorPort, limits } = {}) {
  const { workerOptions } = unstable_getMiniflareWorkerOptions('wrangler.toml');
  const main = scriptPath ?? readFileSync('wrangler.toml', 'utf8').match(/^main\s*=\s*"([^"]+)"/m)[1];
  const logs = [];
  const mf = new Miniflare({
    ...workerOptions,
    ratelimits: rateLimits(workerOptions.ratelimits, limits),
    modules: true,
    scriptPath: main,
    modulesRoot: '.',
    modulesRules: [
      { type: 'CompiledWasm', include: ['**/*.wasm'] },
      { type: 'ESModule', include: ['**/*.js', '**/*.mjs'] },
    ],
    // Only what the test says, not a developer's .dev.vars.
    bindings: { TELEGRAM_ENV: 'production', STORAGE: 'd1', ...settings },
    // For `make bench-profile`: V8's inspector on this port.
    ...(inspectorPort && { inspectorPort }),
    handleRuntimeStdio(stdout, stderr) {
      for (const s of [stdout, stderr]) s.on('data', (d) => logs.push(String(d)));
    },
  });
  const url = await mf.ready;
  const db = migrate ? await mf.getD1Database('DB') : undefined;
  if (db) await db.batch(migrations().map((s) => db.prepare(s)));
  // Every response `fetch` saw (status, headers, body), for the leak check.
  const responses = [];
  return {
    url: url.href.replace(/\/$/, ''),
    db,
    mf,
    logs,
    responses,
    async fetch(path, init = {}) {
      const res = await fetch(this.url + path, init);
      const text = await res.text();
      responses.push(`${res.status}\n${[...res.headers].map(([k, v]) => `${k}: ${v}`).join('\n')}\n\n${text}`);
      let json;
      try { json = JSON.parse(text); } catch { json = undefined; }
      return { status: res.status, headers: res.headers, text, json };
    },
    /** Stops the worker, then fails if a secret setting shows in its log or in a response. */
    async dispose() {
      await mf.dispose();
      assertNoSecrets(settings, { log: logs.join(''), responses: responses.join('\n') });
    },
  };
}

/** The secret settings' values worth looking for (short test values would match by chance). */
export function secretsOf(settings) {
  const values = ['BOT_TOKEN', 'WEBHOOK_SECRET', 'ADMIN_TOKEN', 'PAYMENT_PROVIDER_TOKEN', 'TONCENTER_API_KEY']
    .map((k) => settings[k]).filter((v) => typeof v === 'string');
  // The part of a bot token after the colon is the secret; the bot id before it is public.
  const parts = values.flatMap((v) => [v, v.split(':').slice(1).join(':')]);
  return [...new Set(parts.filter((v) => v.length >= 8))];
}

/** Throws naming where a secret of `settings` appears in any of `texts` (name → text). */
export function assertNoSecrets(settings, texts) {
  for (const secret of secretsOf(settings)) {
    for (const [where, text] of Object.entries(texts)) {
      if (text.includes(secret)) throw new Error(`a secret setting leaked into the ${where}: …${text.slice(Math.max(0, text.indexOf(secret) - 80), text.indexOf(secret)).replaceAll(secret, '<secret>')}<secret>…`);
    }
  }
}

/** The usual settings, pointing the worker at `api`. */
export function settingsFor(api, extra = {}) {
  return { BOT_TOKEN, WEBHOOK_SECRET, ADMIN_TOKEN, TELEGRAM_API_BASE: api.url, ...extra };
}

const encode = (s) => encodeURIComponent(s).replace(/%20/g, '+');

/** Launch data signed as Telegram signs it (HMAC; plus Ed25519 when `edKey` is given). */
export function signInitData(fields, { token = BOT_TOKEN, edKey, botId } = {}) {
  const all = { auth_date: String(Math.floor(Date.now() / 1000)), ...fields };
  if (edKey) {
    const lines = Object.keys(all).sort().map((k) => `${k}=${all[k]}`).join('\n');
    const sig = edSign(null, Buffer.from(`${botId}:WebAppData\n${lines}`), edKey.privateKey);
    all.signature = sig.toString('base64url');
  }
  const dcs = Object.keys(all).sort().map((k) => `${k}=${all[k]}`).join('\n');
  const secret = createHmac('sha256', 'WebAppData').update(token).digest();
  const hash = createHmac('sha256', secret).update(dcs).digest('hex');
  return Object.entries({ ...all, hash }).map(([k, v]) => `${encode(k)}=${encode(v)}`).join('&');
}

export function userInitData(user, extra = {}) {
  return signInitData({ query_id: 'AAE' + user.id, user: JSON.stringify(user), ...extra });
}

export function tma(user, extra) {
  return { authorization: `tma ${userInitData(user, extra)}`, 'content-type': 'application/json' };
}

/** A fresh Ed25519 key pair and its raw public key in hex. */
export function ed25519Pair() {
  const pair = generateKeyPairSync('ed25519');
  const x = pair.publicKey.export({ format: 'jwk' }).x;
  return { ...pair, publicHex: Buffer.from(x, 'base64url').toString('hex') };
}

/** Login Widget fields signed with SHA256(token). */
export function signLoginWidget(fields, token = BOT_TOKEN) {
  const dcs = Object.keys(fields).sort().map((k) => `${k}=${fields[k]}`).join('\n');
  const secret = createHash('sha256').update(token).digest();
  return { ...fields, hash: createHmac('sha256', secret).update(dcs).digest('hex') };
}

/** Posts an update to the webhook as Telegram does. */
export function deliver(worker, update, secret = WEBHOOK_SECRET) {
  return worker.fetch('/telegram/webhook', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': secret },
    body: JSON.stringify(update),
  });
}

export const admin = (extra = {}) => ({ authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json', ...extra });

/** Every row of every table of the app (D1's own `_cf_*` tables left out), to compare before and after. */
export async function dumpTables(db) {
  const { results: tables } = await db.prepare(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' ORDER BY name").all();
  const out = {};
  for (const { name } of tables) out[name] = (await db.prepare(`SELECT * FROM "${name}" ORDER BY rowid`).all()).results;
  return out;
}

/** Asserts the documented error: `status`, JSON content type, exactly `{"error":{"code","message"}}`. */
export function assertApiError(r, status, code, what = '') {
  const label = `${what} → ${r.status} ${r.text.slice(0, 300)}`;
  assert.equal(r.status, status, label);
  assert.match(r.headers.get('content-type') || '', /^application\/json/, label);
  assert.ok(r.json && typeof r.json === 'object', label);
  assert.deepEqual(Object.keys(r.json), ['error'], label);
  assert.deepEqual(Object.keys(r.json.error).sort(), ['code', 'message'], label);
  assert.equal(r.json.error.code, code, label);
  assert.equal(typeof r.json.error.message, 'string', label);
  assert.ok(r.json.error.message.length > 0, label);
}
