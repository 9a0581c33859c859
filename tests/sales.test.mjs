// Issue: what the buyer gets and what the seller sees. Fulfillment, entitlements,
// subscriptions, deep links, operator notices, the orders export and the scheduled
// handler, against the built worker with local D1 (and KV for the main flow), first
// with a fake Bot API, then with the emulator playing Telegram.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWorker, fakeBotApi, settingsFor, tma, deliver, admin } from './support/harness.mjs';
import { startWorkerWithEmulator, slugOf, eventually } from './support/emulator.mjs';

const OPERATOR = 777000;
const CRON = '*/10 * * * *';
let updateId = 5000;

const successfulPayment = (user, order, charge, amount, extra = {}) => ({
  update_id: ++updateId,
  message: {
    message_id: updateId, date: Math.floor(Date.now() / 1000), chat: { id: user.id, type: 'private' }, from: user,
    successful_payment: { currency: 'XTR', total_amount: amount, invoice_payload: order, telegram_payment_charge_id: charge, provider_payment_charge_id: '', ...extra },
  },
});
const subscriptionPayment = (user, order, charge, expires, first) =>
  successfulPayment(user, order, charge, 250, { subscription_expiration_date: expires, is_recurring: true, ...(first ? { is_first_recurring: true } : {}) });
const refundedPayment = (user, order, charge, amount) => ({
  update_id: ++updateId,
  message: { message_id: updateId, date: 1, chat: { id: user.id, type: 'private' },
    refunded_payment: { currency: 'XTR', total_amount: amount, invoice_payload: order, telegram_payment_charge_id: charge } },
});

async function buy(w, user, product) {
  const r = await w.fetch('/api/invoices', { method: 'POST', headers: tma(user), body: JSON.stringify({ product_id: product }) });
  assert.equal(r.status, 201, r.text);
  return r.json.order_id;
}
const get = async (w, path, user) => {
  const r = await w.fetch(path, { headers: tma(user) });
  assert.equal(r.status, 200, r.text);
  return r.json;
};
const entitlements = async (w, user) => (await get(w, '/api/entitlements', user)).entitlements;
const toOperator = (api) => api.called('sendMessage').filter((c) => c.params.chat_id === OPERATOR).map((c) => c.params.text);
async function runScheduled(w) {
  const worker = await w.mf.getWorker();
  const r = await worker.scheduled({ cron: CRON, scheduledTime: new Date() });
  assert.equal(r.outcome, 'ok');
}

for (const storage of ['d1', 'kv']) {
  describe(`goods and entitlements with ${storage}`, () => {
    const buyer = { id: 6600001 + (storage === 'kv' ? 10 : 0), first_name: 'Gus', language_code: 'en' };
    let api, w;
    before(async () => {
      api = await fakeBotApi();
      w = await startWorker(settingsFor(api, { STORAGE: storage, ADMIN_CHAT_IDS: String(OPERATOR) }));
    });
    after(async () => { await w?.dispose(); await api?.close(); });

    test('paid goods are delivered once, shown on the order and owned until refunded', async () => {
      const products = (await w.fetch('/api/products')).text;
      assert.doesNotMatch(products, /addstickers|delivery/, 'the catalog never gives the goods away');
      const order = await buy(w, buyer, 'sticker_pack');
      assert.equal((await get(w, '/api/orders', buyer)).orders[0].delivery, undefined);
      assert.deepEqual(await entitlements(w, buyer), []);

      const pay = successfulPayment(buyer, order, `stx_goods_${storage}`, 50);
      assert.equal((await deliver(w, pay)).status, 200);
      assert.equal((await deliver(w, pay)).status, 200);
      const goods = api.called('sendMessage').filter((c) => c.params.chat_id === buyer.id);
      assert.equal(goods.length, 1, 'sent once, whatever Telegram redelivers');
      assert.match(goods[0].params.text, /Sticker pack/);
      assert.match(toOperator(api).join('\n'), new RegExp(`New sale: Sticker pack.*\\n.*${order}`));

      const [o] = (await get(w, '/api/orders', buyer)).orders;
      assert.match(o.delivery.url, /addstickers/);
      assert.deepEqual((await entitlements(w, buyer)).map((e) => [e.product_id, e.kind, e.order_id]), [['sticker_pack', 'one_time', order]]);

      assert.equal((await deliver(w, refundedPayment(buyer, order, `stx_goods_${storage}`, 50))).status, 200);
      assert.deepEqual(await entitlements(w, buyer), [], 'a refund removes the entitlement');
      assert.match(toOperator(api).join('\n'), /Refunded/);
    });

    test('the export lists the order with its charge', async () => {
      const r = await w.fetch('/api/admin/orders?format=json&status=refunded', { headers: admin() });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.count, 1);
      assert.equal(r.json.rows[0].charge_id, `stx_goods_${storage}`);
      assert.equal(typeof r.json.rows[0].refunded_at, 'number');
    });
  });
}

describe('sales with D1: subscriptions, retries, export, the scheduled handler', () => {
  const buyer = { id: 6610001, first_name: 'Sue', language_code: 'en' };
  const other = { id: 6610002, first_name: 'Eve' };
  let api, w;
  before(async () => {
    api = await fakeBotApi();
    w = await startWorker(settingsFor(api, { ADMIN_CHAT_IDS: String(OPERATOR), BOT_USERNAME: 'ShopBot', MINI_APP_NAME: 'shop' }));
  });
  after(async () => { await w?.dispose(); await api?.close(); });

  test('products carry their share links, and /start buy_<id> opens the product', async () => {
    const { products } = (await w.fetch('/api/products')).json;
    assert.equal(products.find((p) => p.id === 'pro_monthly').link, 'https://t.me/ShopBot/shop?startapp=pro_monthly');
    const r = await deliver(w, { update_id: ++updateId, message: { message_id: 1, date: 1, chat: { id: buyer.id, type: 'private' }, from: buyer, text: '/start buy_sticker_pack' } });
    assert.equal(r.json.method, 'sendMessage');
    assert.match(r.json.text, /^Sticker pack, ⭐ 50/);
    assert.equal(r.json.reply_markup.inline_keyboard[0][0].web_app.url, `${w.url}/?product=sticker_pack`);
  });

  test('a subscription: first payment, renewal, cancel and resume at Telegram', async () => {
    const order = await buy(w, buyer, 'pro_monthly');
    const now = Math.floor(Date.now() / 1000);
    await deliver(w, subscriptionPayment(buyer, order, 'stx_sub_1', now + 30 * 86400, true));
    let [e] = await entitlements(w, buyer);
    assert.deepEqual([e.product_id, e.kind, e.active_until, e.renews], ['pro_monthly', 'subscription', now + 30 * 86400, true]);
    await deliver(w, subscriptionPayment(buyer, order, 'stx_sub_2', now + 60 * 86400, false));
    [e] = await entitlements(w, buyer);
    assert.equal(e.active_until, now + 60 * 86400, 'a renewal extends it');
    assert.match(toOperator(api).join('\n'), /Subscription renewed/);

    const change = (user, action) => w.fetch(`/api/subscriptions/${order}/${action}`, { method: 'POST', headers: tma(user) });
    let r = await change(buyer, 'cancel');
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.subscription.renews, false);
    assert.deepEqual(api.called('editUserStarSubscription').at(-1).params, { user_id: buyer.id, telegram_payment_charge_id: 'stx_sub_1', is_canceled: true });
    assert.equal((await entitlements(w, buyer))[0].renews, false, 'the stored state');
    assert.equal((await w.db.prepare('SELECT renewal_canceled AS c FROM orders WHERE id = ?').bind(order).first()).c, 1);

    api.on('editUserStarSubscription', () => ({ ok: false, error_code: 400, description: 'Bad Request: SUBSCRIPTION_NOT_FOUND' }));
    r = await change(buyer, 'resume');
    assert.equal(r.status, 502);
    assert.equal(r.json.error.code, 'telegram_error');
    assert.equal((await entitlements(w, buyer))[0].renews, false, 'unchanged when Telegram refuses');
    api.on('editUserStarSubscription', () => ({ ok: true, result: true }));
    r = await change(buyer, 'resume');
    assert.equal(r.json.subscription.renews, true);

    r = await change(other, 'cancel');
    assert.equal(r.status, 404);
    assert.equal(r.json.error.code, 'subscription_not_found');
    r = await w.fetch(`/api/subscriptions/${order}/cancel`, { method: 'POST' });
    assert.equal(r.status, 401);
  });

  test('a failed delivery is retried by the scheduled handler, once', async () => {
    const order = await buy(w, other, 'sticker_pack');
    let failures = 1;
    api.on('sendMessage', (p) => (p.chat_id === other.id && failures-- > 0
      ? { ok: false, error_code: 500, description: 'Internal Server Error' } : { ok: true, result: { message_id: 1 } }));
    assert.equal((await deliver(w, successfulPayment(other, order, 'stx_retry', 50))).status, 200);
    const row = () => w.db.prepare('SELECT status, attempts FROM outbox WHERE id = ?').bind(`delivery:${order}`).first();
    assert.deepEqual({ ...(await row()) }, { status: 'pending', attempts: 1 });
    assert.match(toOperator(api).join('\n'), new RegExp(`Delivery of order ${order}.*retrying`));

    await runScheduled(w); // not due yet
    assert.equal(api.called('sendMessage').filter((c) => c.params.chat_id === other.id).length, 1);
    await w.db.prepare('UPDATE outbox SET next_attempt_at = 0 WHERE id = ?').bind(`delivery:${order}`).run();
    await runScheduled(w);
    await runScheduled(w);
    assert.deepEqual({ ...(await row()) }, { status: 'sent', attempts: 2 });
    assert.equal(api.called('sendMessage').filter((c) => c.params.chat_id === other.id).length, 2, 'one failure, one success');
  });

  test('the scheduled handler expires old orders, prunes old update ids, reports differences once', async () => {
    const stale = await buy(w, other, 'sticker_pack');
    await w.db.prepare('UPDATE orders SET created_at = created_at - 2 * 86400 WHERE id = ?').bind(stale).run();
    await w.db.prepare('INSERT INTO processed_updates (update_id, processed_at) VALUES (1, 1000)').run();
    api.on('getStarTransactions', () => ({ ok: true, result: { transactions: [{ id: 'stx_unknown', amount: 7, date: 1, source: { type: 'user' } }] } }));
    const reports = () => toOperator(api).filter((t) => t.startsWith('🔎 Reconciliation'));
    const before = reports().length;
    await runScheduled(w);
    assert.equal((await w.db.prepare('SELECT status FROM orders WHERE id = ?').bind(stale).first()).status, 'expired');
    assert.equal((await w.db.prepare('SELECT COUNT(*) AS n FROM processed_updates WHERE update_id = 1').first()).n, 0);
    assert.equal(reports().length, before + 1);
    assert.match(reports().at(-1), /missing_in_store stx_unknown/);
    await runScheduled(w);
    assert.equal(reports().length, before + 1, 'the same differences are reported once');
    const list = (await get(w, '/api/orders', other)).orders;
    assert.equal(list.find((o) => o.id === stale).status, 'expired');
  });

  test('the export: JSON and CSV with filters, only with the admin token', async () => {
    let r = await w.fetch('/api/admin/orders?format=csv', { headers: admin() });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'text/csv; charset=utf-8');
    const lines = r.text.trimEnd().split('\r\n');
    assert.equal(lines[0], 'order_id,user_id,product_id,status,currency,amount,created_at,paid_at,subscription_expiration_date,charge_id,provider_charge_id,charge_amount,charged_at,is_recurring,refunded_at,access_chat_id,invite_link,access_revoked_at,username,transaction_type,affiliate_commission,net_amount');
    const { n } = await w.db.prepare('SELECT COUNT(*) AS n FROM orders o LEFT JOIN payments p ON p.order_id = o.id').first();
    assert.equal(lines.length - 1, n, 'one row per charge, or per order without one');
    assert.ok(lines.some((l) => l.includes(',stx_sub_2,')));
    r = await w.fetch('/api/admin/orders?status=expired', { headers: admin() });
    assert.ok(r.json.rows.length >= 1 && r.json.rows.every((x) => x.status === 'expired'));
    r = await w.fetch(`/api/admin/orders?since=${Math.floor(Date.now() / 1000) + 3600}`, { headers: admin() });
    assert.equal(r.json.count, 0);
    r = await w.fetch('/api/admin/orders?since=tomorrow', { headers: admin() });
    assert.equal(r.status, 400);
    assert.equal(r.json.error.code, 'invalid_query');
    r = await w.fetch('/api/admin/orders');
    assert.equal(r.status, 401);
  });
});

describe('sales through the emulator', () => {
  const buyer = { id: 6620001, first_name: 'Ema', language_code: 'en' };
  let w, emu;
  before(async () => {
    ({ w, emu } = await startWorkerWithEmulator());
    await emu.upsertUser(buyer);
  });
  after(async () => { await emu?.stop(); await w?.dispose(); });

  const headers = () => emu.launchHeaders(buyer.id);
  async function buyAndPay(product) {
    const r = await w.fetch('/api/invoices', { method: 'POST', headers: await headers(), body: JSON.stringify({ product_id: product }) });
    assert.equal(r.status, 201, r.text);
    const paid = await emu.pay(slugOf(r.json.invoice_link), buyer.id);
    assert.equal(paid.status, 'paid');
    await emu.waitIdle();
    return { orderId: r.json.order_id, paid };
  }
  const owned = async () => (await w.fetch('/api/entitlements', { headers: await headers() })).json.entitlements;

  test('the buyer receives the goods in the chat, once', async () => {
    const { orderId } = await buyAndPay('sticker_pack');
    const goods = (await emu.sent(buyer.id)).filter((m) => (m.text || '').includes(`Order ${orderId}.`));
    assert.equal(goods.length, 1);
    assert.match(goods[0].reply_markup.inline_keyboard[0][0].url, /addstickers/);
    assert.deepEqual((await owned()).map((e) => e.product_id), ['sticker_pack']);
  });

  test('a subscription renews at Telegram, and cancel/resume reach it', async () => {
    const { orderId, paid } = await buyAndPay('pro_monthly');
    let sub = (await owned()).find((e) => e.product_id === 'pro_monthly');
    assert.equal(sub.active_until, paid.subscription_expiration_date);
    const renewal = await emu.renew(paid.telegram_payment_charge_id);
    await emu.waitIdle();
    sub = await eventually(async () => (await owned()).find((e) => e.active_until === renewal.subscription_expiration_date), { what: 'the renewal' });
    assert.equal(sub.order_id, orderId);

    let r = await w.fetch(`/api/subscriptions/${orderId}/cancel`, { method: 'POST', headers: await headers() });
    assert.equal(r.status, 200, r.text);
    const charge = (await emu.charges()).find((c) => c.telegram_payment_charge_id === paid.telegram_payment_charge_id);
    assert.equal(charge.subscription.is_canceled, true, JSON.stringify(charge));
    assert.equal((await emu.renew(paid.telegram_payment_charge_id).catch((e) => e)).message.includes('400'), true, 'a canceled subscription does not renew');
    r = await w.fetch(`/api/subscriptions/${orderId}/resume`, { method: 'POST', headers: await headers() });
    assert.equal(r.json.subscription.renews, true);
    const again = (await emu.charges()).find((c) => c.telegram_payment_charge_id === paid.telegram_payment_charge_id);
    assert.equal(again.subscription.is_canceled, false);
  });
});
