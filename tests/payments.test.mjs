// Issue: payments. products → invoice → pre-checkout → payment → orders →
// duplicate payment → refund, and the failure paths, against the built worker
// with local D1 (and the same flow once with KV).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { startWorker, fakeBotApi, settingsFor, tma, deliver, admin, WEBHOOK_SECRET } from './support/harness.mjs';

const buyer = { id: 5550001, first_name: 'Bob', language_code: 'en' };
const other = { id: 5550002, first_name: 'Eve' };
let updateId = 1000;

const preCheckout = (user, order, currency, amount) => ({
  update_id: ++updateId,
  pre_checkout_query: { id: 'pcq' + updateId, from: user, currency, total_amount: amount, invoice_payload: order },
});
const successfulPayment = (user, order, charge, amount, extra = {}) => ({
  update_id: ++updateId,
  message: {
    message_id: updateId, date: Math.floor(Date.now() / 1000), chat: { id: user.id, type: 'private' }, from: user,
    successful_payment: { currency: 'XTR', total_amount: amount, invoice_payload: order, telegram_payment_charge_id: charge, provider_payment_charge_id: '', ...extra },
  },
});

async function buy(w, user, product) {
  const r = await w.fetch('/api/invoices', { method: 'POST', headers: tma(user), body: JSON.stringify({ product_id: product }) });
  assert.equal(r.status, 201, r.text);
  assert.match(r.json.invoice_link, /^https:\/\/t\.me\//);
  return r.json.order_id;
}

async function orders(w, user) {
  const r = await w.fetch('/api/orders', { headers: tma(user) });
  assert.equal(r.status, 200, r.text);
  return r.json.orders;
}

for (const storage of ['d1', 'kv']) {
  describe(`purchase flow with ${storage}`, () => {
    let api, w;
    before(async () => {
      api = await fakeBotApi();
      w = await startWorker(settingsFor(api, { STORAGE: storage }));
    });
    after(async () => { await w?.dispose(); await api?.close(); });

    test('the catalog lists a one-time product and a subscription', async () => {
      const r = await w.fetch('/api/products');
      assert.equal(r.status, 200);
      const byId = Object.fromEntries(r.json.products.map((p) => [p.id, p]));
      assert.deepEqual(Object.keys(byId[ 'sticker_pack']).sort(), ['amount', 'currency', 'description', 'id', 'title']);
      assert.equal(byId.pro_monthly.subscription_period, 2592000);
    });

    test('buy, pay once, see it paid, refund', async () => {
      const order = await buy(w, buyer, 'sticker_pack');
      const invoice = api.called('createInvoiceLink').at(-1).params;
      assert.deepEqual(
        { currency: invoice.currency, provider_token: invoice.provider_token, prices: invoice.prices, payload: invoice.payload },
        { currency: 'XTR', provider_token: '', prices: [{ label: 'Sticker pack', amount: 50 }], payload: `${order}:sticker_pack` },
      );
      assert.equal(api.called('createInvoiceLink').at(-1).token, '4242:E2E_test-token');
      // Telegram hands the payload back in every update about this invoice.
      const { payload } = invoice;
      assert.equal((await orders(w, buyer))[0].status, 'pending');

      let r = await deliver(w, preCheckout(buyer, payload, 'XTR', 50));
      assert.equal(r.status, 200);
      assert.deepEqual(r.json, { method: 'answerPreCheckoutQuery', pre_checkout_query_id: 'pcq' + updateId, ok: true });

      // The product has goods: they go out (receipt first) in a call of their own.
      const pay = successfulPayment(buyer, payload, `stx_${storage}_1`, 50);
      r = await deliver(w, pay);
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.json, {});
      const goods = api.called('sendMessage');
      assert.equal(goods.length, 1);
      assert.equal(goods[0].params.chat_id, buyer.id);
      assert.match(goods[0].params.text, /Sticker pack/);
      assert.match(goods[0].params.reply_markup.inline_keyboard[0][0].url, /addstickers/);

      // Redelivery (same update) and a re-sent payment (new update, same charge): no effect.
      assert.deepEqual((await deliver(w, pay)).json, {});
      assert.deepEqual((await deliver(w, { ...pay, update_id: ++updateId })).json, {});
      assert.equal(api.called('sendMessage').length, 1, 'the goods are sent once');

      const [o] = await orders(w, buyer);
      assert.equal(o.id, order);
      assert.equal(o.status, 'paid');
      assert.equal(o.telegram_payment_charge_id, `stx_${storage}_1`);
      assert.equal(typeof o.paid_at, 'number');
      assert.deepEqual(await orders(w, other), []);

      if (storage === 'd1') {
        const { results } = await w.db.prepare('SELECT COUNT(*) AS n, MIN(raw_update) AS raw FROM payments WHERE order_id = ?').bind(order).all();
        assert.equal(results[0].n, 1);
        assert.equal(JSON.parse(results[0].raw).update_id, pay.update_id, 'the raw update is kept for audit');
      }

      // Paying the same order again is declined at pre-checkout.
      r = await deliver(w, preCheckout(buyer, payload, 'XTR', 50));
      assert.equal(r.json.ok, false);

      r = await w.fetch('/api/admin/refunds', { method: 'POST', headers: admin(), body: JSON.stringify({ order_id: order }) });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.order.status, 'refunded');
      assert.deepEqual(api.called('refundStarPayment').at(-1).params, { user_id: buyer.id, telegram_payment_charge_id: `stx_${storage}_1` });

      // Telegram's refunded_payment update changes nothing more.
      r = await deliver(w, { update_id: ++updateId, message: { message_id: 1, date: 1, chat: { id: buyer.id, type: 'private' },
        refunded_payment: { currency: 'XTR', total_amount: 50, invoice_payload: payload, telegram_payment_charge_id: `stx_${storage}_1` } } });
      assert.equal(r.status, 200);
      assert.equal((await orders(w, buyer))[0].status, 'refunded');
    });

    test('an invoice from before payloads named the product, or a payload that does not fit: the stored order decides', async () => {
      const user = { id: 5550100 + (storage === 'kv' ? 1 : 0), first_name: 'Old' };
      const old = await buy(w, user, 'sticker_pack');
      const odd = await buy(w, user, 'sticker_pack');
      const before = api.called('sendMessage').length;
      for (const [payload, charge] of [[old, `stx_${storage}_old`], [`${odd}:pro_monthly`, `stx_${storage}_odd`]]) {
        const r = await deliver(w, successfulPayment(user, payload, charge, 50));
        assert.equal(r.status, 200, r.text);
        assert.deepEqual(r.json, {}, 'the receipt goes with the goods');
      }
      const goods = api.called('sendMessage').slice(before);
      assert.deepEqual(goods.map((c) => c.params.chat_id), [user.id, user.id]);
      for (const [i, order] of [old, odd].entries()) {
        const { text } = goods[i].params;
        assert.ok(text.includes('Sticker pack') && text.includes(`Order ${order}.`), text);
      }
      const mine = await orders(w, user);
      assert.deepEqual(mine.map((o) => o.status), ['paid', 'paid']);
    });
  });
}

describe('payments with D1: failure paths', () => {
  let api, w;
  before(async () => {
    api = await fakeBotApi();
    w = await startWorker(settingsFor(api));
  });
  after(async () => { await w?.dispose(); await api?.close(); });

  const count = async (sql, ...args) => (await w.db.prepare(sql).bind(...args).first()).n;

  test('pre-checkout declines another user, a wrong amount and an unknown order', async () => {
    const order = await buy(w, buyer, 'sticker_pack');
    for (const update of [preCheckout(other, order, 'XTR', 50), preCheckout(buyer, order, 'XTR', 1), preCheckout(buyer, 'nope', 'XTR', 50)]) {
      const r = await deliver(w, update);
      assert.equal(r.status, 200);
      assert.equal(r.json.ok, false);
      assert.ok(r.json.error_message.length > 10);
    }
  });

  test('Telegram refusing or unreachable: 502, and the order is failed, not pending', async () => {
    api.on('createInvoiceLink', () => ({ ok: false, error_code: 400, description: 'Bad Request: currency is invalid' }));
    let r = await w.fetch('/api/invoices', { method: 'POST', headers: tma(other), body: '{"product_id":"sticker_pack"}' });
    assert.equal(r.status, 502);
    assert.equal(r.json.error.code, 'telegram_error');
    const unreachable = await startWorker(settingsFor({ url: 'http://127.0.0.1:9' }));
    try {
      r = await unreachable.fetch('/api/invoices', { method: 'POST', headers: tma(other), body: '{"product_id":"sticker_pack"}' });
      assert.equal(r.status, 502);
      assert.equal(await (async () => (await unreachable.db.prepare("SELECT COUNT(*) AS n FROM orders WHERE status = 'failed'").first()).n)(), 1);
    } finally { await unreachable.dispose(); }
    const statuses = (await orders(w, other)).map((o) => o.status);
    assert.deepEqual(statuses, ['failed']);
    api.on('createInvoiceLink', () => ({ ok: true, result: 'https://t.me/$again' }));
  });

  test('unknown product is 404, a card product without provider token 503', async () => {
    let r = await w.fetch('/api/invoices', { method: 'POST', headers: tma(buyer), body: '{"product_id":"nope"}' });
    assert.equal(r.status, 404);
    assert.equal(r.json.error.code, 'product_not_found');
    const card = await startWorker(settingsFor(api, { CATALOG: '[{"id":"eur","kind":"service","title":"Tip","description":"A tip","currency":"EUR","amount":199}]' }));
    try {
      r = await card.fetch('/api/invoices', { method: 'POST', headers: tma(buyer), body: '{"product_id":"eur"}' });
      assert.equal(r.status, 503);
      assert.equal(r.json.error.code, 'payment_provider_not_configured');
    } finally { await card.dispose(); }
  });

  test('the webhook needs its secret and a valid update', async () => {
    const before = await count('SELECT COUNT(*) AS n FROM payments');
    const update = successfulPayment(buyer, 'x', 'stx_forged', 50);
    for (const secret of ['', 'wrong']) {
      const r = await deliver(w, update, secret);
      assert.equal(r.status, 401);
      assert.equal(r.json.error.code, 'invalid_webhook_secret');
    }
    assert.equal(await count('SELECT COUNT(*) AS n FROM payments'), before, 'nothing processed');
    const r = await w.fetch('/telegram/webhook', { method: 'POST', headers: { 'x-telegram-bot-api-secret-token': 'e2e_webhook_secret' }, body: '{"update_id":' });
    assert.equal(r.status, 400);
  });

  test('a subscription: first payment then a renewal extends it', async () => {
    const order = await buy(w, buyer, 'pro_monthly');
    assert.equal(api.called('createInvoiceLink').at(-1).params.subscription_period, 2592000);
    const now = Math.floor(Date.now() / 1000);
    await deliver(w, successfulPayment(buyer, order, 'stx_sub_1', 250, { subscription_expiration_date: now + 2592000, is_recurring: true, is_first_recurring: true }));
    const r = await deliver(w, successfulPayment(buyer, order, 'stx_sub_2', 250, { subscription_expiration_date: now + 2 * 2592000, is_recurring: true }));
    assert.match(r.json.text, /renewed/);
    const o = (await orders(w, buyer)).find((x) => x.id === order);
    assert.equal(o.status, 'paid');
    assert.equal(o.subscription_expiration_date, now + 2 * 2592000);
    assert.equal(await count('SELECT COUNT(*) AS n FROM payments WHERE order_id = ?', order), 2);
  });

  test('commands answer in the webhook response, once per update', async () => {
    const start = { update_id: ++updateId, message: { message_id: 1, date: 1, chat: { id: buyer.id, type: 'private' }, from: buyer, text: '/start' } };
    let r = await deliver(w, start);
    assert.equal(r.json.method, 'sendMessage');
    assert.equal(r.json.reply_markup.inline_keyboard[0][0].web_app.url, w.url + '/');
    r = await deliver(w, start);
    assert.deepEqual(r.json, {});
    for (const [cmd, word] of [['/paysupport', /payment/], ['/terms', /Terms/], ['/help', /\/start/]]) {
      r = await deliver(w, { update_id: ++updateId, message: { message_id: 1, date: 1, chat: { id: buyer.id, type: 'private' }, text: cmd } });
      assert.match(r.json.text, word);
    }
  });

  test('admin: token required; setup registers webhook, commands and menu button', async () => {
    let r = await w.fetch('/api/admin/setup', { method: 'POST', headers: admin({ authorization: 'Bearer wrong' }) });
    assert.equal(r.status, 401);
    r = await w.fetch('/api/admin/setup', { method: 'POST', headers: admin() });
    assert.equal(r.status, 200, r.text);
    const hook = api.called('setWebhook').at(-1).params;
    assert.equal(hook.url, w.url + '/telegram/webhook');
    assert.equal(hook.secret_token, 'e2e_webhook_secret');
    assert.ok(hook.allowed_updates.includes('pre_checkout_query'));
    assert.equal(api.called('setChatMenuButton').at(-1).params.menu_button.web_app.url, w.url + '/');
    assert.ok(api.called('setMyCommands').at(-1).params.commands.some((c) => c.command === 'paysupport'));
    const closed = await startWorker(settingsFor(api, { ADMIN_TOKEN: '' }));
    try {
      r = await closed.fetch('/api/admin/setup', { method: 'POST', headers: admin() });
      assert.equal(r.status, 403);
    } finally { await closed.dispose(); }
  });

  test('admin refund of an unpaid order is 409; reconcile reports differences', async () => {
    const order = await buy(w, other, 'sticker_pack');
    let r = await w.fetch('/api/admin/refunds', { method: 'POST', headers: admin(), body: JSON.stringify({ order_id: order }) });
    assert.equal(r.status, 409);
    await deliver(w, successfulPayment(other, order, 'stx_rec', 50));
    api.on('getStarTransactions', () => ({ ok: true, result: { transactions: [
      { id: 'stx_rec', amount: 50, date: 1, source: { type: 'user' } },
      { id: 'stx_unknown', amount: 7, date: 1, source: { type: 'user' } },
    ] } }));
    r = await w.fetch('/api/admin/reconcile', { headers: admin() });
    assert.equal(r.status, 200, r.text);
    const problems = Object.fromEntries(r.json.differences.map((d) => [d.charge_id, d.problem]));
    assert.equal(problems.stx_unknown, 'missing_in_store');
    assert.equal(problems.stx_rec, undefined);
    assert.equal(problems.stx_sub_1, 'missing_at_telegram');
  });
});

describe('D1 round trips per payment state change', () => {
  // The bench's counting entry around the built worker: each D1 run/all/first/raw
  // or batch is one round trip, reported for requests that ask.
  let api, w;
  before(async () => {
    mkdirSync('build/.counted', { recursive: true });
    writeFileSync('build/.counted/entry.mjs',
      "import inner from '../index.js';\nimport { withD1Count } from '../../bench/workers/d1-count.mjs';\nexport default withD1Count(inner);\n");
    api = await fakeBotApi();
    w = await startWorker(settingsFor(api), { scriptPath: 'build/.counted/entry.mjs' });
  });
  after(async () => { await w?.dispose(); await api?.close(); });

  const roundTrips = async (update) => {
    const r = await w.fetch('/telegram/webhook', {
      method: 'POST', body: JSON.stringify(update),
      headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': WEBHOOK_SECRET, 'x-bench-count': '1' },
    });
    assert.equal(r.status, 200, r.text);
    return Number(r.headers.get('x-bench-d1-calls'));
  };

  test('a payment and the goods it owes are one batch; sending them is one more', async () => {
    const order = await buy(w, buyer, 'sticker_pack');
    const { payload } = api.called('createInvoiceLink').at(-1).params;
    assert.equal(await roundTrips(preCheckout(buyer, payload, 'XTR', 50)), 1);
    assert.equal(await roundTrips(successfulPayment(buyer, payload, 'stx_rt_1', 50)), 2);
    assert.equal(api.called('sendMessage').length, 1, 'the goods went out');
    assert.equal((await w.db.prepare("SELECT status FROM outbox WHERE id = ?").bind(`delivery:${order}`).first()).status, 'sent');
    // A redelivery: the batch again (nothing new is queued), nothing to send.
    assert.equal(await roundTrips(successfulPayment(buyer, payload, 'stx_rt_1', 50)), 1);
    // A bare order id (an invoice from before): the goods are queued separately.
    const old = await buy(w, buyer, 'sticker_pack');
    assert.equal(await roundTrips(successfulPayment(buyer, old, 'stx_rt_2', 50)), 3);
    assert.equal(api.called('sendMessage').length, 2);
  });
});
