// Issue: the foundation. Health, routing, identity checks, the page, against the built worker.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startWorker, fakeBotApi, settingsFor, tma, userInitData, signInitData, ed25519Pair, signLoginWidget, BOT_TOKEN,
} from './support/harness.mjs';

const alice = { id: 1001, first_name: 'Alice', last_name: 'Liddell', username: 'alice', language_code: 'zh-hans', is_premium: true, allows_write_to_pm: true, photo_url: 'https:\/\/t.me\/i\/userpic\/320\/a.svg' };
const key = ed25519Pair();
let api, w;

before(async () => {
  api = await fakeBotApi();
  w = await startWorker(settingsFor(api, { TELEGRAM_PUBLIC_KEY: key.publicHex, INIT_DATA_MAX_AGE: '3600' }));
});
after(async () => { await w?.dispose(); await api?.close(); });

test('healthz reports the crate version', async () => {
  const r = await w.fetch('/healthz');
  assert.equal(r.status, 200);
  assert.deepEqual(r.json, { ok: true, version: '0.1.0' });
});

test('unknown API routes are 404 JSON and wrong methods 405 JSON', async () => {
  let r = await w.fetch('/api/does-not-exist');
  assert.equal(r.status, 404);
  assert.equal(r.json.error.code, 'not_found');
  r = await w.fetch('/api/verify');
  assert.equal(r.status, 405);
  assert.equal(r.json.error.code, 'method_not_allowed');
  assert.equal(r.headers.get('allow'), 'POST');
});

test('verify returns every user field of genuine launch data', async () => {
  const r = await w.fetch('/api/verify', { method: 'POST', headers: tma(alice, { start_param: 'sticker_pack', chat_type: 'sender', chat_instance: '-99' }) });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json.user, alice);
  assert.equal(r.json.start_param, 'sticker_pack');
  assert.equal(r.json.chat_type, 'sender');
  assert.equal(r.json.chat_instance, '-99');
  assert.equal(r.json.query_id, 'AAE1001');
  assert.equal(typeof r.json.auth_date, 'number');
});

test('verify refuses bad launch data with distinct 401 codes', async () => {
  const cases = [
    [{}, 'missing_init_data'],
    [{ authorization: 'Bearer x' }, 'missing_init_data'],
    [{ authorization: 'tma user=%7B&auth_date=1' }, 'malformed_init_data'],
    [{ authorization: 'tma ' + userInitData(alice).replace('Alice', 'Mallory') }, 'invalid_hash'],
    [{ authorization: 'tma ' + signInitData({ user: JSON.stringify(alice) }, { token: '1:other' }) }, 'invalid_hash'],
    [{ authorization: 'tma ' + signInitData({ user: JSON.stringify(alice), auth_date: '1000' }) }, 'expired_init_data'],
    [{ authorization: 'tma auth_date=1&hash=' + encodeURIComponent('ñ'.repeat(64)) }, 'invalid_hash'],
    [{ authorization: 'tma ' + 'a=b&'.repeat(5000) }, 'malformed_init_data'],
  ];
  for (const [headers, code] of cases) {
    const r = await w.fetch('/api/verify', { method: 'POST', headers });
    assert.equal(r.status, 401, JSON.stringify(headers).slice(0, 80));
    assert.equal(r.json.error.code, code, JSON.stringify(headers).slice(0, 80));
    assert.equal(typeof r.json.error.message, 'string');
  }
});

test('third-party verification checks the Ed25519 signature with only the bot id', async () => {
  const botId = Number(BOT_TOKEN.split(':')[0]);
  const init = signInitData({ user: JSON.stringify(alice), chat_type: 'private' }, { edKey: key, botId });
  const post = (body) => w.fetch('/api/verify/third-party', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  let r = await post({ init_data: init, bot_id: botId });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.valid, true);
  assert.equal(r.json.user.id, alice.id);
  r = await post({ init_data: init, bot_id: botId + 1 });
  assert.equal(r.status, 401);
  assert.equal(r.json.error.code, 'invalid_signature');
  r = await post({ init_data: userInitData(alice), bot_id: botId });
  assert.equal(r.json.error.code, 'invalid_signature');
  r = await post({ init_data: init });
  assert.equal(r.status, 400);
  assert.equal(r.json.error.code, 'invalid_json');
  r = await w.fetch('/api/verify/third-party', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{}' });
  assert.equal(r.status, 415);
});

test('the Ed25519 check runs in the runtime: any change to the data or the signature is refused', async () => {
  const botId = Number(BOT_TOKEN.split(':')[0]);
  const post = (initData) => w.fetch('/api/verify/third-party', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ init_data: initData, bot_id: botId }) });
  const init = signInitData({ user: JSON.stringify(alice), chat_type: 'private', start_param: 'pack' }, { edKey: key, botId });
  const sig = Buffer.from(new URLSearchParams(init).get('signature'), 'base64url');
  const withField = (k, v) => { const p = new URLSearchParams(init); p.set(k, v); return p.toString(); };
  const flipped = (i) => { const s = Buffer.from(sig); s[i] ^= 1; return s.toString('base64url'); };
  // Re-encoded but unchanged, it still passes: the refusals below are the changes'.
  let r = await post(withField('chat_type', 'private'));
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.start_param, 'pack');
  const refused = {
    'a changed field': withField('chat_type', 'group'),
    'another changed field': withField('start_param', 'other'),
    'a bit of R flipped': withField('signature', flipped(0)),
    'a bit of S flipped': withField('signature', flipped(63)),
    '63 bytes': withField('signature', sig.subarray(0, 63).toString('base64url')),
    'all zeros': withField('signature', Buffer.alloc(64).toString('base64url')),
    'another key': signInitData({ user: JSON.stringify(alice) }, { edKey: ed25519Pair(), botId }),
    // Forged and old: invalid, not expired.
    'another key, old': signInitData({ user: JSON.stringify(alice), auth_date: '1000' }, { edKey: ed25519Pair(), botId }),
  };
  for (const [name, initData] of Object.entries(refused)) {
    r = await post(initData);
    assert.equal(r.status, 401, name);
    assert.equal(r.json.error.code, 'invalid_signature', name);
    assert.equal(r.json.error.message, 'initData signature is invalid', name);
  }
  r = await post(signInitData({ user: JSON.stringify(alice), auth_date: '1000' }, { edKey: key, botId }));
  assert.equal(r.status, 401);
  assert.equal(r.json.error.code, 'expired_init_data');
});

test('a TELEGRAM_PUBLIC_KEY that is no curve point verifies nothing: 401, never 500', async () => {
  const botId = Number(BOT_TOKEN.split(':')[0]);
  // 32 bytes that encode no curve point (y = 2 has no x).
  const w2 = await startWorker(settingsFor(api, { TELEGRAM_PUBLIC_KEY: '02' + '00'.repeat(31) }));
  try {
    const init = signInitData({ user: JSON.stringify(alice) }, { edKey: key, botId });
    const r = await w2.fetch('/api/verify/third-party', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ init_data: init, bot_id: botId }) });
    assert.equal(r.status, 401, r.text);
    assert.equal(r.json.error.code, 'invalid_signature');
  } finally { await w2.dispose(); }
});

test('the Login Widget check uses SHA256(token) as the key', async () => {
  const now = Math.floor(Date.now() / 1000);
  const fields = signLoginWidget({ id: 1001, first_name: 'Alice', username: 'alice', photo_url: 'https://t.me/i/a.jpg', auth_date: now });
  const post = (body) => w.fetch('/api/login-widget', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  let r = await post(fields);
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json.user, { id: 1001, first_name: 'Alice', username: 'alice', photo_url: 'https://t.me/i/a.jpg', auth_date: now });
  r = await post({ ...fields, username: 'mallory' });
  assert.equal(r.json.error.code, 'invalid_hash');
  r = await post(signLoginWidget({ id: 1, first_name: 'Old', auth_date: now - 7200 }));
  assert.equal(r.json.error.code, 'expired_init_data');
});

test('the page is served with a CSP and the Telegram script', async () => {
  const r = await w.fetch('/');
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /text\/html/);
  assert.match(r.text, /<script src="https:\/\/telegram.org\/js\/telegram-web-app.js"><\/script>/);
  assert.match(r.headers.get('content-security-policy'), /script-src 'self' https:\/\/telegram.org;/);
  const css = await w.fetch('/app.css');
  assert.equal(css.status, 200);
});

test('bodies over the cap are refused with 413 before anything is stored', async () => {
  const r = await w.fetch('/api/login-widget', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ x: 'y'.repeat(20000) }) });
  assert.equal(r.status, 413);
  assert.equal(r.json.error.code, 'payload_too_large');
});
