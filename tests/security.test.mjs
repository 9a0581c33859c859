// The security review, as tests against the built worker (local D1): secrets never
// reach a log or a response, users act only as themselves and pay catalog prices,
// orders are paid once and by their owner, admin routes need the token, and the page
// escapes what it shows (headless Chromium) and carries a strict CSP.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startWorker, fakeBotApi, settingsFor, tma, deliver, admin, signInitData, assertApiError, assertNoSecrets, secretsOf,
  BOT_TOKEN, ADMIN_TOKEN, WEBHOOK_SECRET, GENEROUS_LIMITS,
} from './support/harness.mjs';
import { startWorkerWithEmulator } from './support/emulator.mjs';
import { launchChromium } from './support/browser.mjs';

const alice = { id: 9100001, first_name: 'Alice' };
const mallory = { id: 9100002, first_name: 'Mallory' };
const PROVIDER_TOKEN = '284685063:TEST:provider-secret-value';

let updateId = 500;
const paymentUpdate = (user, order, charge, amount = 50) => ({
  update_id: ++updateId,
  message: { message_id: updateId, date: 1, chat: { id: user.id, type: 'private' }, from: user,
    successful_payment: { currency: 'XTR', total_amount: amount, invoice_payload: order, telegram_payment_charge_id: charge, provider_payment_charge_id: '' } },
});
const preCheckout = (user, order, amount = 50, currency = 'XTR') => ({
  update_id: ++updateId,
  pre_checkout_query: { id: `q${updateId}`, from: user, currency, total_amount: amount, invoice_payload: order },
});

async function invoice(w, user, body = { product_id: 'sticker_pack' }) {
  const r = await w.fetch('/api/invoices', { method: 'POST', headers: tma(user), body: JSON.stringify(body) });
  assert.equal(r.status, 201, r.text);
  return r.json.order_id;
}

describe('secrets never reach a log or a response', () => {
  test('the leak check itself finds a leaked secret (and ignores the public bot id)', () => {
    const settings = settingsFor({ url: 'http://x' }, { PAYMENT_PROVIDER_TOKEN: PROVIDER_TOKEN });
    for (const secret of [BOT_TOKEN, BOT_TOKEN.split(':')[1], WEBHOOK_SECRET, ADMIN_TOKEN, PROVIDER_TOKEN]) {
      assert.throws(() => assertNoSecrets(settings, { log: `line\nGET /x?${secret} 500` }), /leaked into the log/);
    }
    assert.doesNotThrow(() => assertNoSecrets(settings, { log: `bot ${BOT_TOKEN.split(':')[0]} answered` }));
    assert.equal(secretsOf(settings).length, 6);
  });

  test('every failure path (Telegram errors that echo the URL, 429, storage down, a panic, bad auth) leaks nothing', async () => {
    const api = await fakeBotApi();
    const settings = settingsFor(api, { PAYMENT_PROVIDER_TOKEN: PROVIDER_TOKEN, TEST_PANIC_ROUTE: '1',
      CATALOG: JSON.stringify([
        { id: 'sticker_pack', title: 'Sticker pack', description: 'Stickers', currency: 'XTR', amount: 50 },
        { id: 'card', kind: 'physical', title: 'Card thing', description: 'By card', currency: 'EUR', amount: 199 },
      ]) });
    const w = await startWorker(settings);
    try {
      const paidOrder = await invoice(w, alice);
      assert.equal((await deliver(w, paymentUpdate(alice, paidOrder, 'stx_sec_1'))).status, 200);

      // A Bot API (or a proxy in front of it) whose errors quote the request URL, token included.
      const echo = (_, { url }) => ({ ok: false, error_code: 400, description: `Bad Request: cannot POST ${url}` });
      for (const m of ['createInvoiceLink', 'refundStarPayment', 'setWebhook', 'getStarTransactions']) api.on(m, echo);
      assertApiError(await w.fetch('/api/invoices', { method: 'POST', headers: tma(alice), body: '{"product_id":"sticker_pack"}' }), 502, 'telegram_error', 'invoice');
      assertApiError(await w.fetch('/api/invoices', { method: 'POST', headers: tma(alice), body: '{"product_id":"card"}' }), 502, 'telegram_error', 'card invoice');
      const refund = await w.fetch('/api/admin/refunds', { method: 'POST', headers: admin(), body: JSON.stringify({ order_id: paidOrder }) });
      assertApiError(refund, 502, 'telegram_error', 'refund');
      assert.match(refund.json.error.message, /cannot POST \/bot/, 'the operator still sees what Telegram said');
      assertApiError(await w.fetch('/api/admin/setup', { method: 'POST', headers: admin() }), 502, 'telegram_error', 'setup');
      assertApiError(await w.fetch('/api/admin/reconcile', { headers: admin() }), 502, 'telegram_error', 'reconcile');

      api.on('createInvoiceLink', () => ({ ok: false, error_code: 429, description: 'Too Many Requests: retry after 3', parameters: { retry_after: 3 } }));
      const limited = await w.fetch('/api/invoices', { method: 'POST', headers: tma(alice), body: '{"product_id":"sticker_pack"}' });
      assertApiError(limited, 503, 'telegram_rate_limited', '429');
      assert.equal(limited.headers.get('retry-after'), '3');

      // Storage down: the D1 error goes to the log, a generic message to the client.
      await w.db.exec('ALTER TABLE orders RENAME TO orders_away');
      assertApiError(await w.fetch('/api/orders', { headers: tma(alice) }), 503, 'storage_unavailable', 'storage down');
      await w.db.exec('ALTER TABLE orders_away RENAME TO orders');

      assertApiError(await w.fetch('/api/test/panic', { method: 'POST' }), 500, 'internal', 'panic');
      assertApiError(await w.fetch('/api/test/panic?when=now', { method: 'POST' }), 500, 'internal', 'panic now');
      assertApiError(await deliver(w, paymentUpdate(alice, paidOrder, 'x'), 'wrong'), 401, 'invalid_webhook_secret');
      assertApiError(await w.fetch('/api/admin/setup', { method: 'POST', headers: admin({ authorization: 'Bearer nope' }) }), 401, 'invalid_admin_token');
      assert.equal((await w.fetch('/healthz')).status, 200);

      // Not vacuous: the token was in use, and the failures were logged.
      assert.ok(api.calls.length >= 6 && api.calls.every((c) => c.token === BOT_TOKEN));
      const log = w.logs.join('');
      for (const expected of ['createInvoiceLink for order', 'refundStarPayment failed', 'getStarTransactions failed', 'no such table', 'panicked at']) {
        assert.ok(log.includes(expected), `the log has "${expected}"`);
      }
      assertNoSecrets(settings, { log, responses: w.responses.join('\n') });
    } finally {
      await w.dispose();
      await api.close();
    }
  });

  test('an unreachable Bot API and a malformed setting leak nothing either', async () => {
    const down = settingsFor({ url: 'http://127.0.0.1:9' });
    const w = await startWorker(down);
    const bad = { ...settingsFor({ url: 'http://127.0.0.1:9' }), INIT_DATA_MAX_AGE: ADMIN_TOKEN };
    const w2 = await startWorker(bad);
    try {
      assertApiError(await w.fetch('/api/invoices', { method: 'POST', headers: tma(alice), body: '{"product_id":"sticker_pack"}' }), 502, 'telegram_error');
      assertApiError(await w.fetch('/api/admin/setup', { method: 'POST', headers: admin() }), 502, 'telegram_error');
      assertNoSecrets(down, { log: w.logs.join(''), responses: w.responses.join('\n') });
      const r = await w2.fetch('/api/products');
      assertApiError(r, 503, 'not_configured');
      assert.match(r.json.error.message, /INIT_DATA_MAX_AGE/);
      assertNoSecrets(bad, { log: w2.logs.join(''), responses: w2.responses.join('\n') });
    } finally {
      await w.dispose();
      await w2.dispose();
    }
  });
});

describe('who may do what', () => {
  let api, w;
  before(async () => {
    api = await fakeBotApi();
    // Alice buys more often than the production limits allow (invoices a minute, pending
    // orders at once); the limits have their own file (tests/limits.test.mjs).
    w = await startWorker(settingsFor(api, { MAX_PENDING_ORDERS: '100' }), { limits: GENEROUS_LIMITS });
  });
  after(async () => { await w?.dispose(); await api?.close(); });

  const ordersOf = async (user, query = '') => {
    const r = await w.fetch(`/api/orders${query}`, { headers: tma(user) });
    assert.equal(r.status, 200, r.text);
    return r.json.orders;
  };

  test('a user sees only their own orders, whatever the query says', async () => {
    const a = await invoice(w, alice);
    const m = await invoice(w, mallory);
    assert.deepEqual((await ordersOf(alice)).map((o) => o.id), [a]);
    assert.deepEqual((await ordersOf(mallory, `?user_id=${alice.id}&id=${a}`)).map((o) => o.id), [m]);
    // Launch data is bound to its user: swapping the user breaks the hash.
    const forged = signInitData({ user: JSON.stringify(mallory) }).replace(encodeURIComponent(String(mallory.id)), String(alice.id));
    assertApiError(await w.fetch('/api/orders', { headers: { authorization: `tma ${forged}` } }), 401, 'invalid_hash');
  });

  test('an invoice is for the caller at the catalog price, whatever else the body says', async () => {
    const before = api.called('createInvoiceLink').length;
    const order = await invoice(w, mallory, {
      product_id: 'sticker_pack', user_id: alice.id, amount: 1, total_amount: 1, currency: 'EUR', prices: [{ label: 'x', amount: 1 }],
      title: 'Free', payload: 'chosen', subscription_period: 60, provider_token: 'x', status: 'paid',
    });
    const [call] = api.called('createInvoiceLink').slice(before);
    assert.deepEqual(call.params.prices, [{ label: 'Sticker pack', amount: 50 }]);
    assert.equal(call.params.currency, 'XTR');
    assert.equal(call.params.title, 'Sticker pack');
    assert.equal(call.params.payload, `${order}:sticker_pack`, 'the payload is ours, not the body\'s');
    assert.equal(call.params.subscription_period, undefined);
    const row = await w.db.prepare('SELECT user_id, amount, currency, status FROM orders WHERE id = ?').bind(order).first();
    assert.deepEqual(row, { user_id: mallory.id, amount: 50, currency: 'XTR', status: 'pending' });
    // Order ids (the invoice payload's first part): 16 random bytes, not guessable or sequential.
    const ids = new Set([order]);
    for (let i = 0; i < 20; i++) ids.add(await invoice(w, mallory));
    assert.equal(ids.size, 21);
    for (const id of ids) assert.match(id, /^[A-Za-z0-9_-]{22}$/);
  });

  test('pre-checkout accepts only the owner, the catalog price, and an unpaid order', async () => {
    const order = await invoice(w, alice);
    for (const [update, why] of [
      [preCheckout(mallory, order), 'another user'],
      [preCheckout(alice, order, 1), 'a lower amount'],
      [preCheckout(alice, order, 5000), 'a higher amount'],
      [preCheckout(alice, order, 50, 'EUR'), 'another currency'],
      [preCheckout(alice, 'made-up-order'), 'an unknown order'],
    ]) {
      const r = await deliver(w, update);
      assert.equal(r.status, 200);
      assert.equal(r.json.ok, false, why);
      assert.ok(r.json.error_message, why);
    }
    assert.equal((await deliver(w, preCheckout(alice, order))).json.ok, true);
    assert.equal((await deliver(w, paymentUpdate(alice, order, 'stx_own'))).status, 200);
    // Paid: a second payment of the same order is refused before any money moves.
    const again = await deliver(w, preCheckout(alice, order));
    assert.equal(again.json.ok, false);
    assert.match(again.json.error_message, /already been paid/);
    // And a failed order (no invoice) can never be paid.
    api.on('createInvoiceLink', () => ({ ok: false, error_code: 400, description: 'Bad Request' }));
    await w.fetch('/api/invoices', { method: 'POST', headers: tma(alice), body: '{"product_id":"sticker_pack"}' });
    api.on('createInvoiceLink', () => ({ ok: true, result: 'https://t.me/$ok' }));
    const failed = (await ordersOf(alice)).find((o) => o.status === 'failed');
    assert.ok(failed);
    assert.equal((await deliver(w, preCheckout(alice, failed.id))).json.ok, false);
  });

  test('admin routes are closed (403) without an ADMIN_TOKEN, even to an empty bearer', async () => {
    for (const token of [undefined, '', '   ']) {
      const settings = settingsFor(api, { ADMIN_TOKEN: token });
      if (token === undefined) delete settings.ADMIN_TOKEN;
      const closed = await startWorker(settings);
      try {
        for (const [method, path] of [['POST', '/api/admin/refunds'], ['POST', '/api/admin/setup'], ['GET', '/api/admin/reconcile']]) {
          for (const authorization of ['Bearer ', 'Bearer undefined', `Bearer ${ADMIN_TOKEN}`]) {
            const r = await closed.fetch(path, { method, headers: { authorization, 'content-type': 'application/json' }, body: method === 'POST' ? '{"order_id":"x"}' : undefined });
            assertApiError(r, 403, 'admin_disabled', `${JSON.stringify(token)} ${path} ${authorization}`);
          }
        }
      } finally { await closed.dispose(); }
    }
  });

  test('no CORS: another origin can neither preflight nor read the API', async () => {
    const headers = { origin: 'https://evil.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' };
    for (const path of ['/api/invoices', '/api/orders', '/api/admin/setup', '/telegram/webhook']) {
      const r = await w.fetch(path, { method: 'OPTIONS', headers });
      assert.notEqual(r.status, 204, path);
      assert.equal(r.headers.get('access-control-allow-origin'), null, path);
      assert.equal(r.headers.get('access-control-allow-headers'), null, path);
    }
    const r = await w.fetch('/api/orders', { headers: { ...tma(alice), origin: 'https://evil.example' } });
    assert.equal(r.headers.get('access-control-allow-origin'), null);
  });
});

describe('the page', () => {
  test('carries a CSP that allows scripts from itself and telegram.org only, and the usual hardening headers', async () => {
    const api = await fakeBotApi();
    const w = await startWorker(settingsFor(api));
    try {
      for (const path of ['/', '/index.html']) {
        const r = await w.fetch(path);
        assert.equal(r.status, 200);
        const csp = Object.fromEntries(r.headers.get('content-security-policy').split(';').map((d) => d.trim().split(/\s+/)).map(([k, ...v]) => [k, v]));
        assert.deepEqual(csp['script-src'], ["'self'", 'https://telegram.org']);
        assert.deepEqual(csp['default-src'], ["'self'"]);
        assert.deepEqual(csp['connect-src'], ["'self'"]);
        assert.deepEqual(csp['object-src'], ["'none'"]);
        assert.deepEqual(csp['base-uri'], ["'none'"]);
        assert.deepEqual(csp['form-action'], ["'self'"]);
        for (const [directive, sources] of Object.entries(csp)) {
          if (directive === 'style-src') continue; // inline styles only; no script runs from them
          assert.ok(!sources.includes("'unsafe-inline'") && !sources.includes("'unsafe-eval'"), directive);
        }
        assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
        assert.equal(r.headers.get('referrer-policy'), 'strict-origin-when-cross-origin');
        // The HTML itself: no inline script, no handler attributes, one outside script (Telegram's).
        assert.doesNotMatch(r.text, /<script(?![^>]*\bsrc=)[^>]*>/i, 'no inline <script>');
        assert.doesNotMatch(r.text, /\son[a-z]+\s*=/i, 'no inline event handlers');
        const outside = [...r.text.matchAll(/(?:src|href)="(https?:[^"]+)"/g)].map((m) => m[1]);
        assert.deepEqual(outside, ['https://telegram.org/js/telegram-web-app.js']);
      }
      // JSON answers are never sniffed into HTML.
      const j = await w.fetch('/api/nope');
      assert.match(j.headers.get('content-type'), /^application\/json/);
    } finally {
      await w.dispose();
      await api.close();
    }
  });

  test('shows hostile names and catalog text as text (Chromium, inside the emulated client)', async () => {
    const title = '<img src=x onerror=__xss=1>';
    const description = '<script>__xss=2</script><b>bold</b> "quotes" & \'apostrophes\' &amp;';
    const victim = { id: 9100003, first_name: '<img src=x onerror=__xss=3>', last_name: '</span><script>__xss=4</script>', username: 'u_b', language_code: 'en' };
    const { w, emu, setup } = await startWorkerWithEmulator({ settings: { CATALOG: JSON.stringify([
      { id: 'evil', title, description, currency: 'XTR', amount: 5 },
    ]) } });
    let browser;
    try {
      assert.equal(setup.status, 200, setup.text);
      await emu.upsertUser(victim);
      browser = await launchChromium();
      const page = await browser.newPage();
      const errors = [];
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) errors.push(m.text()); });
      await page.goto(`${emu.url}/?user_id=${victim.id}`);
      await page.locator('body[data-ready="true"]').waitFor({ timeout: 10000 });
      const app = page.frameLocator('#app-frame');
      const name = `${victim.first_name} ${victim.last_name}`;
      await app.locator('#user-name', { hasText: name }).waitFor({ timeout: 15000 });
      const card = app.locator('#products .product[data-product-id="evil"]');
      await card.waitFor();
      assert.equal(await card.locator('.product-title').textContent(), title);
      assert.equal(await card.locator('.product-desc').textContent(), description);
      await card.locator('.product-main').click();
      await app.locator('#product-view .detail-title').waitFor();
      assert.equal(await app.locator('#product-view .detail-title').textContent(), title);

      const frame = page.frames().find((f) => f.url().startsWith(`${w.url}/`));
      const dom = await frame.evaluate(() => ({
        xss: window.__xss,
        injected: document.querySelectorAll('img[src="x"], b, script:not([src])').length,
        nameChildren: document.getElementById('user-name').children.length,
      }));
      assert.deepEqual(dom, { xss: undefined, injected: 0, nameChildren: 0 });
      assert.deepEqual(errors, []);
    } finally {
      await browser?.close();
      await emu.stop();
      await w.dispose();
    }
  });
});
