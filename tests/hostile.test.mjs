// Hostile input on every route, against the built worker with local D1: wrong or
// missing auth, oversized bodies, wrong content types, malformed JSON, wrong JSON
// types, huge numbers, deep nesting, unicode, and injection attempts in every
// string that reaches SQL. Each answer is the documented JSON error with the right
// status, and the database is byte-for-byte unchanged afterwards; strings that are
// stored come back exactly as sent.
import { test, describe, before, after } from 'node:test';
import { request } from 'node:http';
import assert from 'node:assert/strict';
import {
  startWorker, fakeBotApi, settingsFor, tma, deliver, admin, signInitData, dumpTables, assertApiError,
  ADMIN_TOKEN, WEBHOOK_SECRET, GENEROUS_LIMITS,
} from './support/harness.mjs';

const buyer = { id: 6600001, first_name: 'Hostile', last_name: 'Tester' };
const json = { 'content-type': 'application/json' };
const hook = { ...json, 'x-telegram-bot-api-secret-token': WEBHOOK_SECRET };
const user = (extra) => ({ ...tma(buyer), ...extra });

// Strings that try to break out of SQL, HTML, JSON, paths or encodings.
const NASTY = [
  "'; DROP TABLE orders; --",
  "x' OR '1'='1",
  'x" OR "1"="1',
  "1; DELETE FROM payments WHERE 1=1; --",
  "') ON CONFLICT DO NOTHING; UPDATE orders SET status='paid'; --",
  '<script>alert(1)</script>',
  '"><img src=x onerror=alert(1)>',
  '{{7*7}}${7*7}',
  '../../etc/passwd',
  '%00%27%22',
  'ж漢字🙂 ‮RTL‬ ﷽',
  'a\u0000b',
  '\\u0000\\"',
  'x'.repeat(2000),
];

// Bodies a client must never get past the door with.
const deep = (n) => '['.repeat(n) + ']'.repeat(n);
const MALFORMED_JSON = ['', '{', '{"product_id":', 'null x', "{'product_id':'a'}", '{"a":1,}', '\u00ff\u00fe', '{"product_id":"\\ud800"}', deep(5000)];

let api, w, order, snapshot;

before(async () => {
  api = await fakeBotApi();
  // One buyer sends every case, far past the production limits: they are not what this
  // file tests (tests/limits.test.mjs does), so they are raised here.
  w = await startWorker(settingsFor(api), { limits: GENEROUS_LIMITS });
  // Some data first, so that "unchanged" means something.
  const r = await w.fetch('/api/invoices', { method: 'POST', headers: tma(buyer), body: '{"product_id":"sticker_pack"}' });
  assert.equal(r.status, 201, r.text);
  order = r.json.order_id;
  const paid = await deliver(w, { update_id: 1, message: { message_id: 1, date: 1, chat: { id: buyer.id, type: 'private' }, from: buyer,
    successful_payment: { currency: 'XTR', total_amount: 50, invoice_payload: order, telegram_payment_charge_id: 'stx_seed', provider_payment_charge_id: '' } } });
  assert.equal(paid.status, 200, paid.text);
  await w.fetch('/api/invoices', { method: 'POST', headers: tma(buyer), body: '{"product_id":"pro_monthly"}' });
  snapshot = await dumpTables(w.db);
  assert.equal(snapshot.orders.length, 2);
  assert.equal(snapshot.payments.length, 1);
});
after(async () => { await w?.dispose(); await api?.close(); });

/** Sends each case and checks its error; then the database must be as it was. */
async function refuseAll(cases) {
  for (const c of cases) {
    const r = await w.fetch(c.path, { method: c.method, headers: c.headers ?? {}, body: c.body });
    assertApiError(r, c.status, c.code, `${c.method} ${c.path.slice(0, 60)} ${c.name}`);
  }
  assert.deepEqual(await dumpTables(w.db), snapshot, 'nothing stored, nothing changed');
}

describe('authentication on every route that needs it', () => {
  const expired = signInitData({ user: JSON.stringify(buyer), auth_date: '1000' });
  const forged = signInitData({ user: JSON.stringify(buyer) }, { token: '4242:another-bots-token' });
  const tmaCases = [
    ['no header', {}, 'missing_init_data'],
    ['empty tma', { authorization: 'tma ' }, 'missing_init_data'],
    ['bearer instead of tma', { authorization: `Bearer ${ADMIN_TOKEN}` }, 'missing_init_data'],
    ['another bot', { authorization: `tma ${forged}` }, 'invalid_hash'],
    ['expired', { authorization: `tma ${expired}` }, 'expired_init_data'],
    ['garbage', { authorization: 'tma %%%' }, 'malformed_init_data'],
    ['latin-1 bytes', { authorization: 'tma user=\u00ff&hash=\u00fe' }, 'invalid_hash'],
    ['no user', { authorization: `tma ${signInitData({ query_id: 'x' })}` }, 'missing_user'],
  ];

  const tmaRoutes = [['POST', '/api/verify'], ['POST', '/api/invoices'], ['GET', '/api/orders'], ['GET', '/api/entitlements'],
    ['POST', '/api/subscriptions/any_order/cancel'], ['POST', '/api/subscriptions/any_order/resume']];
  for (const [method, path] of tmaRoutes) {
    test(`${method} ${path} refuses launch data that is missing, forged, expired or malformed`, async () => {
      const cases = tmaCases
        .filter(([name]) => !(path === '/api/verify' && name === 'no user')) // verify accepts a launch without a user
        .map(([name, headers, code]) => ({
          name, method, path, status: 401, code,
          headers: { ...json, ...headers }, body: method === 'POST' ? '{"product_id":"sticker_pack"}' : undefined,
        }));
      await refuseAll(cases);
    });
  }

  for (const [method, path] of [['POST', '/api/admin/refunds'], ['POST', '/api/admin/setup'], ['GET', '/api/admin/reconcile'], ['GET', '/api/admin/orders?format=csv'],
    ['GET', '/api/admin/orders/x'], ['GET', '/api/admin/summary'], ['POST', '/api/admin/export-links']]) {
    test(`${method} ${path} needs the exact admin token, before anything else`, async () => {
      const body = method === 'POST' ? JSON.stringify({ order_id: order }) : undefined;
      const cases = [
        ['no header', {}],
        ['empty bearer', { authorization: 'Bearer ' }],
        ['wrong token', { authorization: 'Bearer nope' }],
        ['a prefix of it', { authorization: `Bearer ${ADMIN_TOKEN.slice(0, -1)}` }],
        ['it plus more', { authorization: `Bearer ${ADMIN_TOKEN}x` }],
        ['other case', { authorization: `Bearer ${ADMIN_TOKEN.toUpperCase()}` }],
        ['basic scheme', { authorization: `Basic ${ADMIN_TOKEN}` }],
        ['in another header', { 'x-admin-token': ADMIN_TOKEN }],
      ].map(([name, headers]) => ({ name, method, path, status: 401, code: 'invalid_admin_token', headers: { ...json, ...headers }, body }));
      // The tma scheme is an operator's launch data: the token is none, and a buyer's is no operator's.
      cases.push({ name: 'tma scheme', method, path, status: 401, code: 'malformed_init_data', headers: { ...json, authorization: `tma ${ADMIN_TOKEN}` }, body });
      cases.push({ name: "a buyer's launch data", method, path, status: 403, code: 'not_operator', headers: tma(buyer), body });
      // Malformed bodies are not even read without the token.
      if (method === 'POST') cases.push({ name: 'bad body, no token', method, path, status: 401, code: 'invalid_admin_token', headers: json, body: '{' });
      await refuseAll(cases);
      const q = await w.fetch(`${path}?token=${ADMIN_TOKEN}&authorization=Bearer+${ADMIN_TOKEN}`, { method, headers: json, body });
      assertApiError(q, 401, 'invalid_admin_token', 'token in the query string');
      assert.equal(api.called('refundStarPayment').length + api.called('setWebhook').length + api.called('getStarTransactions').length + api.called('getMyStarBalance').length, 0);
    });
  }

  test('the webhook needs the exact secret header, before it reads the body', async () => {
    const update = JSON.stringify({ update_id: 2, message: { message_id: 2, date: 1, chat: { id: 1, type: 'private' }, text: '/start' } });
    const cases = [
      ['no secret', json],
      ['empty secret', { ...json, 'x-telegram-bot-api-secret-token': '' }],
      ['wrong secret', { ...json, 'x-telegram-bot-api-secret-token': 'nope' }],
      ['other case', { ...json, 'x-telegram-bot-api-secret-token': WEBHOOK_SECRET.toUpperCase() }],
      ['prefix', { ...json, 'x-telegram-bot-api-secret-token': WEBHOOK_SECRET.slice(0, 5) }],
      ['as a bearer', { ...json, authorization: `Bearer ${WEBHOOK_SECRET}` }],
    ].map(([name, headers]) => ({ name, method: 'POST', path: '/telegram/webhook', status: 401, code: 'invalid_webhook_secret', headers, body: update }));
    cases.push({ name: 'in the query', method: 'POST', path: `/telegram/webhook?secret_token=${WEBHOOK_SECRET}`, status: 401, code: 'invalid_webhook_secret', headers: json, body: update });
    cases.push({ name: 'malformed, no secret', method: 'POST', path: '/telegram/webhook', status: 401, code: 'invalid_webhook_secret', headers: json, body: '{' });
    await refuseAll(cases);
  });
});

/**
 * POSTs a chunked body with no declared length, so that only the worker's own count can
 * refuse it: `chunks` pieces of `chunk`, one every `everyMs`. Resolves with the answer as
 * soon as it comes (the worker may answer and hang up before the body is all sent).
 */
function postChunked(path, headers, chunk, chunks = 1, everyMs = 0) {
  return new Promise((resolve, reject) => {
    let answered = false;
    let sent = 0;
    let drip;
    const req = request(new URL(path, w.url), { method: 'POST', headers: { ...headers, 'transfer-encoding': 'chunked' } }, (res) => {
      answered = true;
      let text = '';
      res.on('data', (d) => { text += d; });
      res.on('end', () => {
        clearInterval(drip);
        req.destroy();
        let json;
        try { json = JSON.parse(text); } catch { json = undefined; }
        resolve({ status: res.statusCode, headers: new Headers(res.headers), text, json });
      });
    });
    // Writing into a connection the worker already answered and closed fails; the answer counts.
    req.on('error', (e) => { clearInterval(drip); if (!answered) setTimeout(() => answered || reject(e), 500); });
    const write = () => {
      if (req.destroyed) return clearInterval(drip);
      if (sent++ >= chunks) { clearInterval(drip); req.end(); return; }
      req.write(chunk);
    };
    if (everyMs) drip = setInterval(write, everyMs);
    else while (sent <= chunks && !req.destroyed) write();
  });
}

describe('bodies: size, content type, syntax, types', () => {
  // Each JSON route with a valid caller, so that only the body is wrong.
  const routes = [
    { path: '/api/verify/third-party', headers: {}, limit: 16 * 1024 },
    { path: '/api/login-widget', headers: {}, limit: 16 * 1024 },
    { path: '/api/invoices', headers: tma(buyer), limit: 16 * 1024 },
    { path: '/api/admin/refunds', headers: admin(), limit: 16 * 1024 },
  ];

  test('over the size cap: 413, whether the length is declared or the body is streamed', async () => {
    const all = [...routes, { path: '/telegram/webhook', headers: hook, limit: 256 * 1024 }, { path: '/api/verify', headers: tma(buyer), limit: 16 * 1024 }];
    for (const r of all) {
      const big = JSON.stringify({ product_id: 'x'.repeat(r.limit) });
      const declared = await w.fetch(r.path, { method: 'POST', headers: { ...r.headers, 'content-type': 'application/json' }, body: big });
      assertApiError(declared, 413, 'payload_too_large', `${r.path} declared`);
      const chunked = await postChunked(r.path, { ...r.headers, 'content-type': 'application/json' }, big);
      assertApiError(chunked, 413, 'payload_too_large', `${r.path} streamed`);
    }
    assert.deepEqual(await dumpTables(w.db), snapshot);
  });

  test('an endless body with no declared length is cut off at the cap, not read to the end', async () => {
    // 1 KiB every 10 ms for up to 20 s; the answer must come long before the end.
    const started = Date.now();
    const answer = await postChunked('/api/invoices', tma(buyer), 'x'.repeat(1024), 2000, 10);
    assert.equal(answer.status, 413, answer.text);
    assert.equal(JSON.parse(answer.text).error.code, 'payload_too_large');
    assert.ok(Date.now() - started < 5000, `answered after ${Date.now() - started} ms`);
    assert.deepEqual(await dumpTables(w.db), snapshot);
  });

  test('wrong or missing content type: 415', async () => {
    const cases = [];
    for (const r of routes) {
      for (const ct of [undefined, 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/json-patch+json', 'text/json', 'application/jsonx']) {
        const headers = { ...r.headers };
        delete headers['content-type'];
        if (ct) headers['content-type'] = ct;
        cases.push({ name: `content-type ${ct}`, method: 'POST', path: r.path, headers, body: '{"product_id":"sticker_pack","order_id":"x","init_data":"a","bot_id":1}', status: 415, code: 'unsupported_media_type' });
      }
    }
    await refuseAll(cases);
    // The media type is matched without case or parameters.
    const ok = await w.fetch('/api/invoices', { method: 'POST', headers: { ...tma(buyer), 'content-type': 'Application/JSON; charset=UTF-8' }, body: '{"product_id":"nope"}' });
    assertApiError(ok, 404, 'product_not_found', 'JSON with parameters');
  });

  test('malformed JSON, including lone surrogates and nesting 5000 deep: 400 invalid_json', async () => {
    const cases = routes.flatMap((r) => MALFORMED_JSON.map((body, i) => ({
      name: `malformed #${i}`, method: 'POST', path: r.path, headers: { ...r.headers, ...json }, body, status: 400, code: 'invalid_json',
    })));
    await refuseAll(cases);
  });

  test('well-formed JSON of the wrong shape or type: 400 invalid_json, with no echo of the input', async () => {
    const shapes = {
      '/api/invoices': ['[]', '"sticker_pack"', 'null', '1', '{}', '{"product_id":1}', '{"product_id":null}', '{"product_id":["sticker_pack"]}',
        '{"product_id":{"$ne":""}}', '{"product_id":true}', '{"product_id":1e400}'],
      '/api/admin/refunds': ['[]', '{}', '{"order_id":7}', '{"order_id":null}', '{"order_id":["a"]}', '{"order_id":{"$gt":""}}'],
      '/api/verify/third-party': ['{}', '{"init_data":"a"}', '{"init_data":"a","bot_id":"1"}', '{"init_data":"a","bot_id":-1}',
        '{"init_data":"a","bot_id":1.5}', '{"init_data":"a","bot_id":18446744073709551616}', '{"init_data":"a","bot_id":1e400}',
        '{"init_data":1,"bot_id":1}', '{"init_data":null,"bot_id":1}'],
      '/api/login-widget': ['[]', '"x"', '1', 'null'],
    };
    const cases = routes.flatMap((r) => (shapes[r.path] || []).map((body) => ({
      name: body, method: 'POST', path: r.path, headers: { ...r.headers, ...json }, body, status: 400, code: 'invalid_json',
    })));
    await refuseAll(cases);
    const r = await w.fetch('/api/invoices', { method: 'POST', headers: tma(buyer), body: '{"product_id":{"<script>":"secret-looking-input"}}' });
    assertApiError(r, 400, 'invalid_json');
    assert.doesNotMatch(r.text, /script|secret-looking-input/, 'the error does not echo the input');
  });

  test('the Login Widget refuses nested values and forged or absent hashes as 401', async () => {
    const cases = [
      ['{}', 'malformed_init_data'],
      ['{"id":1,"hash":7}', 'malformed_init_data'],
      ['{"id":1,"auth_date":1,"hash":"00"}', 'invalid_hash'],
      [`{"id":1,"auth_date":1,"hash":"${'0'.repeat(64)}"}`, 'invalid_hash'],
      [`{"id":{"a":1},"auth_date":1,"hash":"${'0'.repeat(64)}"}`, 'malformed_init_data'],
      [`{"id":1,"auth_date":1e400,"hash":"${'0'.repeat(64)}"}`, 'invalid_json'],
    ].map(([body, code]) => ({ name: body, method: 'POST', path: '/api/login-widget', headers: json, body, status: code === 'invalid_json' ? 400 : 401, code }));
    await refuseAll(cases);
  });
});

describe('the webhook', () => {
  const msg = (extra) => ({ message_id: 9, date: 1, chat: { id: buyer.id, type: 'private' }, from: buyer, ...extra });
  const pay = (sp) => ({ update_id: 77, message: msg({ successful_payment: { currency: 'XTR', total_amount: 50, invoice_payload: order, telegram_payment_charge_id: 'stx_never', provider_payment_charge_id: '', ...sp } }) });

  test('refuses updates that are not JSON or not Updates with 400 invalid_update, storing nothing', async () => {
    const bodies = [
      ...MALFORMED_JSON,
      '[]', '{}', '{"update_id":"1"}', '{"update_id":1.5}', '{"update_id":1e400}', '{"update_id":99999999999999999999}',
      '{"update_id":null}',
      JSON.stringify({ update_id: 3, message: { chat: { id: 1 } } }),
      JSON.stringify({ update_id: 3, message: msg({ chat: { id: 'x' } }) }),
      JSON.stringify({ update_id: 3, pre_checkout_query: { id: 'q', currency: 'XTR', total_amount: 50, invoice_payload: order } }),
      JSON.stringify(pay({ total_amount: '50' })),
      JSON.stringify(pay({ total_amount: 1e20 })),
      JSON.stringify(pay({ total_amount: 5.5 })),
      JSON.stringify(pay({ telegram_payment_charge_id: 7 })),
      JSON.stringify(pay({ invoice_payload: null })),
      JSON.stringify(pay({ is_recurring: 'yes' })),
      JSON.stringify(pay({ subscription_expiration_date: 'soon' })),
      `{"update_id":4,"message":{"x":${deep(100000)}}}`,
    ];
    await refuseAll(bodies.map((body, i) => ({ name: `update #${i}`, method: 'POST', path: '/telegram/webhook', headers: hook, body, status: 400, code: 'invalid_update' })));
  });

  test('updates it does not handle are acknowledged and change nothing', async () => {
    for (const u of [
      { update_id: 5 },
      { update_id: 6, edited_message: msg({ text: '/start' }) },
      { update_id: 7, message: msg({ text: 'hello' }) },
      { update_id: 8, message: msg({ text: '/unknowncommand' }) },
      { update_id: 9, message: msg({ text: '/' }) },
      { update_id: 10, callback_query: { id: 'c', data: NASTY[0] } },
      { update_id: 11, message: msg({ photo: [{ file_id: NASTY[0] }] }) },
    ]) {
      const r = await deliver(w, u);
      assert.equal(r.status, 200, r.text);
    }
    const now = await dumpTables(w.db);
    // An unknown command gets a reply and claims its update id; nothing else moves.
    assert.deepEqual({ ...now, processed_updates: undefined }, { ...snapshot, processed_updates: undefined });
    snapshot = now;
  });
});

describe('injection attempts are data', () => {
  test('unknown or hostile ids are refused as unknown, without touching storage', async () => {
    const cases = [];
    for (const s of NASTY) {
      cases.push({ name: `product ${s.slice(0, 20)}`, method: 'POST', path: '/api/invoices', headers: tma(buyer), body: JSON.stringify({ product_id: s }), status: 404, code: 'product_not_found' });
      cases.push({ name: `order ${s.slice(0, 20)}`, method: 'POST', path: '/api/admin/refunds', headers: admin(), body: JSON.stringify({ order_id: s }), status: 404, code: 'order_not_found' });
    }
    for (const p of ['/api/%27%3B%20DROP%20TABLE%20orders', '/api/..%2Fadmin%2Fsetup', `/api/${'ж'.repeat(3000)}`, '/api/admin', '/api/test/panic-not', '/api/orders/../admin/setup/x']) {
      cases.push({ name: 'path', method: 'GET', path: p, status: 404, code: 'not_found' });
    }
    await refuseAll(cases);
    // The long path is not echoed in full.
    const r = await w.fetch(`/api/${'ж'.repeat(3000)}`);
    assert.ok(r.text.length < 600, `${r.text.length} bytes`);
    assert.equal(api.called('refundStarPayment').length, 0);
  });

  test('pre-checkout with hostile payloads is declined and writes nothing', async () => {
    for (const s of NASTY) {
      const r = await deliver(w, { update_id: 20, pre_checkout_query: { id: s, from: { id: buyer.id, first_name: s }, currency: 'XTR', total_amount: 50, invoice_payload: s } });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.ok, false);
      assert.equal(r.json.pre_checkout_query_id, s, 'the query id is echoed back exactly');
    }
    const now = await dumpTables(w.db);
    assert.deepEqual(now.orders, snapshot.orders);
    assert.deepEqual(now.payments, snapshot.payments);
  });

  test('hostile strings in a payment are stored exactly and break nothing', async () => {
    let id = 1000;
    for (const s of NASTY) {
      const r = await deliver(w, { update_id: ++id, message: { message_id: id, date: 1, chat: { id: buyer.id, type: 'private' }, from: { id: buyer.id, first_name: s },
        successful_payment: { currency: 'XTR', total_amount: 50, invoice_payload: `${s}#payload`, telegram_payment_charge_id: `${s}#charge`, provider_payment_charge_id: s } } });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.method, 'sendMessage');
      // Telegram's refund of that charge finds it by the same string.
      const refund = await deliver(w, { update_id: ++id, message: { message_id: id, date: 1, chat: { id: buyer.id, type: 'private' },
        refunded_payment: { currency: 'XTR', total_amount: 50, invoice_payload: `${s}#payload`, telegram_payment_charge_id: `${s}#charge` } } });
      assert.equal(refund.status, 200, refund.text);
    }
    const { results } = await w.db.prepare("SELECT telegram_payment_charge_id AS c, order_id AS o, provider_payment_charge_id AS p, refunded_at FROM payments WHERE telegram_payment_charge_id != 'stx_seed'").all();
    const stored = new Map(results.map((row) => [row.c, row]));
    for (const s of NASTY) {
      const row = stored.get(`${s}#charge`);
      assert.ok(row, `charge ${JSON.stringify(s.slice(0, 30))} stored under its exact id`);
      assert.equal(row.o, `${s}#payload`);
      assert.equal(row.p, s);
      assert.ok(row.refunded_at > 0, 'and refunded by the same exact id');
    }
    assert.equal(results.length, NASTY.length);
    // The tables and the earlier rows are intact.
    const now = await dumpTables(w.db);
    assert.deepEqual(now.orders, snapshot.orders);
    assert.deepEqual(now.payments.filter((p) => p.telegram_payment_charge_id === 'stx_seed'), snapshot.payments);
    const mine = await w.fetch('/api/orders', { headers: tma(buyer) });
    assert.equal(mine.status, 200);
    assert.equal(mine.json.orders.length, 2);
    snapshot = now;
  });
});

describe('routing', () => {
  test('every route answers a wrong method with 405 and the allowed one', async () => {
    const table = [
      ['GET', '/healthz'], ['GET', '/'], ['POST', '/api/verify'], ['POST', '/api/verify/third-party'], ['POST', '/api/login-widget'],
      ['GET', '/api/products'], ['POST', '/api/invoices'], ['GET', '/api/orders'], ['POST', '/telegram/webhook'],
      ['POST', '/api/admin/refunds'], ['POST', '/api/admin/setup'], ['GET', '/api/admin/reconcile'],
      ['GET', '/api/entitlements'], ['POST', '/api/subscriptions/o1/cancel'], ['POST', '/api/subscriptions/o1/resume'],
      ['GET', '/api/admin/orders'], ['GET', '/api/admin/orders/o1'], ['GET', '/api/admin/summary'],
      ['POST', '/api/admin/export-links'], ['GET', '/api/admin/orders.csv'],
    ];
    for (const [allowed, path] of table) {
      for (const method of ['GET', 'POST', 'PUT', 'DELETE', 'PATCH']) {
        if (method === allowed) continue;
        const r = await w.fetch(path, { method, headers: json, body: method === 'GET' ? undefined : '{}' });
        assertApiError(r, 405, 'method_not_allowed', `${method} ${path}`);
        assert.equal(r.headers.get('allow'), allowed);
      }
    }
    assert.deepEqual(await dumpTables(w.db), snapshot);
  });

  test('the export refuses a hostile query and a subscription id with injection in it is just unknown', async () => {
    for (const q of ["status=paid'%3B%20DROP%20TABLE%20orders--", 'since=1%20OR%201%3D1', 'format=xlsx', 'limit=-1', 'limit=1e9']) {
      assertApiError(await w.fetch(`/api/admin/orders?${q}`, { headers: admin() }), 400, 'invalid_query', q);
    }
    const id = encodeURIComponent("x' OR '1'='1");
    assertApiError(await w.fetch(`/api/subscriptions/${id}/cancel`, { method: 'POST', headers: tma(buyer) }), 404, 'subscription_not_found');
    assert.deepEqual(await dumpTables(w.db), snapshot);
  });

  test('the test-only panic route does not exist unless TEST_PANIC_ROUTE=1', async () => {
    const r = await w.fetch('/api/test/panic', { method: 'POST' });
    assertApiError(r, 404, 'not_found');
    const unknown = await w.fetch('/api/test/other', { method: 'POST' });
    assert.equal(r.json.error.message.replace('panic', 'other'), unknown.json.error.message, 'indistinguishable from an unknown route');
    assert.equal((await w.fetch('/healthz')).status, 200);
  });
});
