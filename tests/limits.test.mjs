// Issue: abuse limits. Against the built worker under Miniflare with wrangler.toml's
// Rate Limiting bindings (made small per worker through the harness's `limits`): a burst
// from one user is cut at the limit while another user still gets through; the public
// routes count per client address (CF-Connecting-IP, which Miniflare passes on when the
// request brings one and sets to the peer's address otherwise); the webhook is never
// limited, even in a flood; a refused request stores nothing (the tables are dumped
// before and after) and calls nothing (the fake Bot API records every call); a user's
// pending orders stop at MAX_PENDING_ORDERS, with D1 and with KV; a missing binding is
// a 503 that names it.
//
// Miniflare counts in fixed windows aligned to the period (floor(now / period)), so each
// burst first waits, if it must, for a window with time enough left in it.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startWorker, fakeBotApi, settingsFor, tma, deliver, dumpTables, assertApiError, rateLimits, GENEROUS_LIMITS,
} from './support/harness.mjs';
import { unstable_getMiniflareWorkerOptions } from 'wrangler';

const alice = { id: 8800001, first_name: 'Alice' };
const bob = { id: 8800002, first_name: 'Bob' };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Waits, if need be, until the current `period`-second window has at least `needMs` left. */
async function roomInWindow(period, needMs) {
  const ms = period * 1000;
  const left = ms - (Date.now() % ms);
  if (left < needMs) await sleep(left + 50);
}

const invoice = (w, user, product = 'sticker_pack') =>
  w.fetch('/api/invoices', { method: 'POST', headers: tma(user), body: JSON.stringify({ product_id: product }) });

/** Asserts the documented 429: the error shape, `rate_limited`, and `Retry-After` = the binding's period. */
function assertLimited(r, period, what) {
  assertApiError(r, 429, 'rate_limited', what);
  assert.equal(r.headers.get('retry-after'), String(period), what);
}

const statuses = (rs) => rs.map((r) => r.status).sort();

test("wrangler.toml's limits reach Miniflare as Rate Limiting bindings with their production values", () => {
  const { workerOptions } = unstable_getMiniflareWorkerOptions('wrangler.toml');
  const simple = Object.fromEntries(Object.entries(workerOptions.ratelimits).map(([k, v]) => [k, v.simple]));
  assert.deepEqual(simple, {
    LIMIT_INVOICES: { limit: 10, period: 60 },
    LIMIT_CHANGES: { limit: 10, period: 60 },
    LIMIT_READS: { limit: 120, period: 60 },
    LIMIT_PUBLIC: { limit: 100, period: 10 },
  });
  // The harness changes only what a test asks for, and leaves wrangler.toml's object alone.
  const changed = rateLimits(workerOptions.ratelimits, { LIMIT_READS: 3, LIMIT_PUBLIC: null });
  assert.deepEqual(changed.LIMIT_READS.simple, { limit: 3, period: 60 });
  assert.equal(changed.LIMIT_PUBLIC, undefined);
  assert.equal(workerOptions.ratelimits.LIMIT_READS.simple.limit, 120);
});

describe('per user', () => {
  let api, w;
  before(async () => {
    api = await fakeBotApi();
    w = await startWorker(settingsFor(api), { limits: { LIMIT_INVOICES: 3, LIMIT_READS: 5, LIMIT_CHANGES: 2 } });
  });
  after(async () => { await w?.dispose(); await api?.close(); });

  test('a burst of invoices is cut at the limit: the rest store nothing and call nothing; another user still buys', async () => {
    await roomInWindow(60, 8000);
    for (let i = 0; i < 3; i++) assert.equal((await invoice(w, alice)).status, 201);
    const before = await dumpTables(w.db);
    const calls = api.calls.length;
    const burst = await Promise.all(Array.from({ length: 12 }, () => invoice(w, alice)));
    for (const r of burst) assertLimited(r, 60, 'over the invoice limit');
    assert.deepEqual(await dumpTables(w.db), before, 'nothing stored');
    assert.equal(api.calls.length, calls, 'no Bot API call');
    // A malformed request over the limit is refused the same way, before its body is read.
    assertLimited(await w.fetch('/api/invoices', { method: 'POST', headers: tma(alice), body: '{' }), 60, 'malformed, over the limit');

    const r = await invoice(w, bob);
    assert.equal(r.status, 201, r.text);
    assert.equal(api.called('createInvoiceLink').length, 4);
    assert.equal(api.called('createInvoiceLink').at(-1).params.payload, `${r.json.order_id}:sticker_pack`);
    // Reading is counted apart from buying.
    assert.equal((await w.fetch('/api/orders', { headers: tma(alice) })).status, 200);
  });

  test('reads and subscription changes have limits of their own', async () => {
    await roomInWindow(60, 8000);
    const reads = await Promise.all(Array.from({ length: 9 }, (_, i) =>
      w.fetch(i % 2 ? '/api/entitlements' : '/api/orders', { headers: tma(bob) })));
    assert.equal(reads.filter((r) => r.status === 200).length, 5, statuses(reads).join());
    for (const r of reads.filter((x) => x.status !== 200)) assertLimited(r, 60, 'over the read limit');
    assertLimited(await w.fetch('/api/verify', { method: 'POST', headers: tma(bob) }), 60, 'verify counts as a read');

    const change = (what) => w.fetch(`/api/subscriptions/nope/${what}`, { method: 'POST', headers: tma(bob) });
    assertApiError(await change('cancel'), 404, 'subscription_not_found');
    assertApiError(await change('resume'), 404, 'subscription_not_found');
    assertLimited(await change('cancel'), 60, 'over the change limit');
    assert.equal(api.called('editUserStarSubscription').length, 0);
  });

  test('launch data that fails its check counts nowhere', async () => {
    await roomInWindow(60, 8000);
    // Alice's launch data with another name: it names her id, but fails the check.
    const forged = { ...tma(alice), authorization: tma(alice).authorization.replace('Alice', 'Mallory') };
    for (let i = 0; i < 10; i++) {
      assertApiError(await w.fetch('/api/verify', { method: 'POST', headers: forged }), 401, 'invalid_hash');
    }
    // Ten refusals later (twice her read limit), Alice's own reads are untouched.
    for (let i = 0; i < 3; i++) assert.equal((await w.fetch('/api/verify', { method: 'POST', headers: tma(alice) })).status, 200);
  });
});

describe('per client address', () => {
  let api, w;
  before(async () => {
    api = await fakeBotApi();
    w = await startWorker(settingsFor(api), { limits: { LIMIT_PUBLIC: 4 } });
  });
  after(async () => { await w?.dispose(); await api?.close(); });

  const json = { 'content-type': 'application/json' };
  const from = (ip, extra = {}) => ({ ...json, 'cf-connecting-ip': ip, ...extra });

  test('the page, the catalog and the identity checks share a limit per address; other addresses pass', async () => {
    await roomInWindow(10, 6000);
    const ip = '198.51.100.7';
    assert.equal((await w.fetch('/', { headers: from(ip) })).status, 200);
    assert.equal((await w.fetch('/api/products', { headers: from(ip) })).status, 200);
    assertApiError(await w.fetch('/api/login-widget', { method: 'POST', headers: from(ip), body: '{}' }), 401, 'malformed_init_data');
    assertApiError(await w.fetch('/api/verify/third-party', { method: 'POST', headers: from(ip), body: '{}' }), 400, 'invalid_json');
    for (const [path, init] of [['/', {}], ['/index.html', {}], ['/api/products', {}],
      ['/api/login-widget', { method: 'POST', body: '{}' }], ['/api/verify/third-party', { method: 'POST', body: '{}' }]]) {
      assertLimited(await w.fetch(path, { ...init, headers: from(ip) }), 10, `${path} over the limit`);
    }
    // Another address is not held back, nor is a request that brings no address
    // (Miniflare then sets the peer's, 127.0.0.1).
    assert.equal((await w.fetch('/', { headers: from('198.51.100.8') })).status, 200);
    assert.equal((await w.fetch('/api/products')).status, 200);
    // The webhook and a user's own routes are not counted by address.
    assert.equal((await w.fetch('/api/orders', { headers: { ...tma(alice), 'cf-connecting-ip': ip } })).status, 200);
    assert.equal(api.calls.length, 0);
  });

  test('an IPv6 client is counted by its /64', async () => {
    await roomInWindow(10, 6000);
    const hosts = ['2001:db8:7:1::1', '2001:db8:7:1::2', '2001:db8:7:1:aaaa::3', '2001:db8:7:1:ffff:ffff:ffff:ffff'];
    for (const ip of hosts) assert.equal((await w.fetch('/api/products', { headers: from(ip) })).status, 200, ip);
    assertLimited(await w.fetch('/api/products', { headers: from('2001:db8:7:1::99') }), 10, 'the same /64');
    assert.equal((await w.fetch('/api/products', { headers: from('2001:db8:7:2::1') })).status, 200, 'the next /64');
  });

  test('the limit lifts when its period is over', async () => {
    await roomInWindow(10, 6000);
    const ip = '198.51.100.9';
    const hits = await Promise.all(Array.from({ length: 6 }, () => w.fetch('/api/products', { headers: from(ip) })));
    assert.deepEqual(statuses(hits), [200, 200, 200, 200, 429, 429]);
    await sleep(10000 - (Date.now() % 10000) + 50);
    assert.equal((await w.fetch('/api/products', { headers: from(ip) })).status, 200);
  });
});

describe('the webhook is never limited', () => {
  let api, w;
  before(async () => {
    api = await fakeBotApi();
    // Every limit at one request: the flood below would trip any of them.
    w = await startWorker(settingsFor(api), { limits: { LIMIT_INVOICES: 1, LIMIT_CHANGES: 1, LIMIT_READS: 1, LIMIT_PUBLIC: 1 } });
  });
  after(async () => { await w?.dispose(); await api?.close(); });

  test('a flood of updates, commands and payments is answered in full', async () => {
    await roomInWindow(60, 3000);
    const r = await invoice(w, alice);
    assert.equal(r.status, 201, r.text);
    const order = r.json.order_id;
    assertLimited(await invoice(w, alice), 60, 'the user is over their limit');

    let id = 1;
    const updates = [];
    for (let i = 0; i < 150; i++) {
      updates.push({ update_id: id++, message: { message_id: id, date: 1, chat: { id: 9000 + i, type: 'private' }, from: { id: 9000 + i, first_name: 'U' }, text: '/start' } });
      updates.push({ update_id: id++, pre_checkout_query: { id: `q${i}`, from: alice, currency: 'XTR', total_amount: 50, invoice_payload: `${order}:sticker_pack` } });
    }
    const payment = { update_id: id++, message: { message_id: 1, date: 1, chat: { id: alice.id, type: 'private' }, from: alice,
      successful_payment: { currency: 'XTR', total_amount: 50, invoice_payload: `${order}:sticker_pack`, telegram_payment_charge_id: 'stx_flood', provider_payment_charge_id: '' } } };
    for (let i = 0; i < 100; i++) updates.push(payment);
    let next = 0;
    const answers = [];
    await Promise.all(Array.from({ length: 32 }, async () => {
      while (next < updates.length) {
        const u = updates[next++];
        answers.push([u, await deliver(w, u)]);
      }
    }));
    assert.equal(answers.length, 400);
    for (const [u, a] of answers) assert.equal(a.status, 200, `update ${u.update_id}: ${a.text}`);
    const starts = answers.filter(([u]) => u.message?.text === '/start');
    assert.ok(starts.every(([, a]) => a.json.method === 'sendMessage'), 'every /start answered');
    const payments = (await w.db.prepare('SELECT telegram_payment_charge_id AS c FROM payments').all()).results;
    assert.deepEqual(payments, [{ c: 'stx_flood' }], 'the payment stored once');
    assert.equal((await w.db.prepare('SELECT status FROM orders WHERE id = ?').bind(order).first()).status, 'paid');
  });
});

for (const storage of ['d1', 'kv']) {
  describe(`the pending-order cap with ${storage}`, () => {
    let api, w;
    before(async () => {
      api = await fakeBotApi();
      w = await startWorker(settingsFor(api, { STORAGE: storage, MAX_PENDING_ORDERS: '3' }), { limits: GENEROUS_LIMITS });
    });
    after(async () => { await w?.dispose(); await api?.close(); });

    test('a user gets MAX_PENDING_ORDERS pending orders and no more; a refusal stores and calls nothing', async () => {
      let created;
      if (storage === 'd1') {
        // D1 counts and inserts in one statement: even a concurrent burst stops at the cap.
        created = await Promise.all(Array.from({ length: 10 }, () => invoice(w, alice)));
      } else {
        // KV has no transactions (README, Limits): its cap holds for requests one after another.
        created = [];
        for (let i = 0; i < 6; i++) created.push(await invoice(w, alice));
      }
      const ok = created.filter((r) => r.status === 201);
      assert.equal(ok.length, 3, statuses(created).join());
      for (const r of created.filter((x) => x.status !== 201)) assertApiError(r, 409, 'too_many_pending_orders', 'over the cap');
      assert.equal(api.called('createInvoiceLink').length, 3, 'an invoice only for each stored order');

      const mine = async () => (await w.fetch('/api/orders', { headers: tma(alice) })).json.orders;
      assert.deepEqual((await mine()).map((o) => o.status), ['pending', 'pending', 'pending']);
      const before = storage === 'd1' ? await dumpTables(w.db) : undefined;
      assertApiError(await invoice(w, alice, 'pro_monthly'), 409, 'too_many_pending_orders', 'another product, still over');
      if (before) assert.deepEqual(await dumpTables(w.db), before, 'nothing stored');
      assert.equal(api.called('createInvoiceLink').length, 3);

      // Another user has a cap of their own; paying an order frees a place.
      assert.equal((await invoice(w, bob)).status, 201);
      const paid = await deliver(w, { update_id: 1, message: { message_id: 1, date: 1, chat: { id: alice.id, type: 'private' }, from: alice,
        successful_payment: { currency: 'XTR', total_amount: 50, invoice_payload: `${ok[0].json.order_id}:sticker_pack`, telegram_payment_charge_id: `stx_cap_${storage}`, provider_payment_charge_id: '' } } });
      assert.equal(paid.status, 200, paid.text);
      assert.equal((await invoice(w, alice)).status, 201);
      assertApiError(await invoice(w, alice), 409, 'too_many_pending_orders', 'full again');
    });
  });
}

describe('a missing binding', () => {
  let api, w;
  before(async () => {
    api = await fakeBotApi();
    w = await startWorker(settingsFor(api), { limits: { LIMIT_INVOICES: null } });
  });
  after(async () => { await w?.dispose(); await api?.close(); });

  test('refuses what it guards with a 503 naming it, and nothing else', async () => {
    const before = await dumpTables(w.db);
    const r = await invoice(w, alice);
    assertApiError(r, 503, 'not_configured', 'no LIMIT_INVOICES');
    assert.match(r.json.error.message, /LIMIT_INVOICES/);
    assert.deepEqual(await dumpTables(w.db), before, 'nothing stored');
    assert.equal(api.calls.length, 0, 'no Bot API call');
    assert.match(w.logs.join(''), /LIMIT_INVOICES binding is missing/);
    // The other routes work.
    assert.equal((await w.fetch('/api/orders', { headers: tma(alice) })).status, 200);
    assert.equal((await w.fetch('/api/products')).status, 200);
    const start = await deliver(w, { update_id: 1, message: { message_id: 1, date: 1, chat: { id: 1, type: 'private' }, from: { id: 1, first_name: 'A' }, text: '/start' } });
    assert.equal(start.status, 200);
  });
});
