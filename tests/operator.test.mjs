// Issue 19, the operator's view: who may use the operator routes (the admin token, or
// the launch data of a user in ADMIN_CHAT_IDS), and what they answer against sales
// made through the emulator: the summary's figures, an order's detail, the list's
// filters, export links, and an affiliate's commission taking the net below the gross.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { tma, admin } from './support/harness.mjs';
import { startWorkerWithEmulator, slugOf } from './support/emulator.mjs';

const OPERATOR = { id: 4_200_001, first_name: 'Olga', username: 'olga_ops', language_code: 'en' };
const BUYER = { id: 4_200_002, first_name: 'Zed', username: 'Zed_Buyer', language_code: 'en' };
const REFERRED = { id: 4_200_003, first_name: 'Rita', username: 'rita_r', language_code: 'en' };
const STRANGER = { id: 4_200_004, first_name: 'Sam', language_code: 'en' };

/** Every operator route: a new one goes here, and each check below covers it. */
const OPERATOR_ROUTES = [
  ['POST', '/api/admin/refunds', { order_id: 'nope' }],
  ['POST', '/api/admin/setup', {}],
  ['GET', '/api/admin/reconcile'],
  ['GET', '/api/admin/orders'],
  ['GET', '/api/admin/orders?format=csv'],
  ['GET', '/api/admin/orders/nope'],
  ['GET', '/api/admin/access'],
  ['GET', '/api/admin/summary'],
  ['POST', '/api/admin/export-links', { query: 'status=paid' }],
];

const today = () => new Date().toISOString().slice(0, 10);

describe('the operator view', () => {
  let w, emu;
  const orders = {};
  before(async () => {
    ({ w, emu } = await startWorkerWithEmulator({
      settings: { ADMIN_CHAT_IDS: String(OPERATOR.id) },
      users: [OPERATOR, BUYER, REFERRED, STRANGER],
    }));
  });
  after(async () => { await emu?.stop(); await w?.dispose(); });

  const as = (user) => tma(user);
  const call = (user, method, path, body) => w.fetch(path, {
    method, headers: user ? as(user) : admin(), body: body === undefined ? undefined : JSON.stringify(body),
  });
  async function buyAndPay(user, product) {
    const r = await w.fetch('/api/invoices', { method: 'POST', headers: as(user), body: JSON.stringify({ product_id: product }) });
    assert.equal(r.status, 201, r.text);
    const paid = await emu.pay(slugOf(r.json.invoice_link), user.id);
    assert.equal(paid.status, 'paid', JSON.stringify(paid));
    await emu.waitIdle();
    return { id: r.json.order_id, charge: paid.telegram_payment_charge_id };
  }
  const list = async (query) => {
    const r = await call(OPERATOR, 'GET', `/api/admin/orders?${query}`);
    assert.equal(r.status, 200, r.text);
    return [...new Set(r.json.rows.map((row) => row.order_id))].sort();
  };

  test('a user who is not an operator is refused on every operator route', async () => {
    for (const [method, path, body] of OPERATOR_ROUTES) {
      const r = await call(STRANGER, method, path, body);
      assert.equal(r.status, 403, `${method} ${path}: ${r.text}`);
      assert.equal(r.json?.error?.code, 'not_operator', `${method} ${path}`);
    }
    const verify = await w.fetch('/api/verify', { method: 'POST', headers: as(STRANGER) });
    assert.equal(verify.json.operator, false);
    const mine = await w.fetch('/api/verify', { method: 'POST', headers: as(OPERATOR) });
    assert.equal(mine.json.operator, true);
  });

  test('sales through the emulator: two sticker packs, a subscription, one referred buyer', async () => {
    // Rita came through an affiliate whose program pays 200 per mille.
    await emu.post('/control/affiliates', { user_id: REFERRED.id, affiliate_user_id: 4_200_099, commission_per_mille: 200 });
    orders.a = await buyAndPay(BUYER, 'sticker_pack');
    orders.b = await buyAndPay(BUYER, 'pro_monthly');
    orders.c = await buyAndPay(BUYER, 'sticker_pack');
    orders.r = await buyAndPay(REFERRED, 'sticker_pack');
  });

  test("an order's detail before and after its refund", async () => {
    let r = await call(OPERATOR, 'GET', `/api/admin/orders/${orders.c.id}`);
    assert.equal(r.status, 200, r.text);
    const d = r.json;
    assert.equal(d.order.status, 'paid');
    assert.equal(d.order.username, BUYER.username);
    assert.equal(d.order.product_title, 'Sticker pack');
    assert.equal(d.refundable, true);
    assert.deepEqual(d.charges.map((c) => [c.charge_id, c.amount, c.currency, c.refunded_at]), [[orders.c.charge, 50, 'XTR', null]]);
    const goods = d.deliveries.find((x) => x.what === 'delivery');
    assert.ok(goods, JSON.stringify(d.deliveries));
    assert.equal(goods.state, 'sent');
    assert.equal(d.access, null);

    r = await call(OPERATOR, 'POST', '/api/admin/refunds', { order_id: orders.c.id });
    assert.equal(r.status, 200, r.text);
    await emu.waitIdle();
    r = await call(OPERATOR, 'GET', `/api/admin/orders/${orders.c.id}`);
    assert.equal(r.json.order.status, 'refunded');
    assert.equal(r.json.refundable, false);
    assert.ok(r.json.charges[0].refunded_at > 0);
    assert.equal((await call(OPERATOR, 'GET', '/api/admin/orders/nope')).json.error.code, 'order_not_found');
  });

  test("the summary's figures are the sales the test made", async () => {
    const r = await call(OPERATOR, 'GET', '/api/admin/summary');
    assert.equal(r.status, 200, r.text);
    const s = r.json;
    assert.equal(s.days, 30);
    const xtr = s.currencies.find((c) => c.currency === 'XTR');
    // 50 + 250 + 50 + 50 paid, 50 refunded.
    assert.deepEqual(
      [xtr.gross, xtr.refunded, xtr.paid_orders, xtr.refunds],
      [400, 50, 4, 1],
    );
    assert.equal(xtr.refund_rate, 0.25);
    assert.equal(xtr.per_day.length, 30);
    assert.deepEqual(xtr.per_day.at(-1), { date: today(), gross: 400, refunded: 50, orders: 4 });
    assert.ok(xtr.per_day.slice(0, -1).every((d) => d.gross === 0 && d.refunded === 0 && d.orders === 0));
    // Rita's 50 paid 10 to the affiliate: the bot kept 390 less the 50 refunded.
    assert.equal(xtr.net, 340);
    assert.ok(xtr.net < xtr.gross - xtr.refunded, 'the commission takes the net below the gross');
    assert.deepEqual(s.star_balance, { amount: 340 });
    assert.equal(s.reconciliation.in_sync, true, JSON.stringify(s.reconciliation));
    assert.equal(s.subscriptions.active, 1);
    assert.deepEqual(s.subscriptions.renewing_30d, [{ currency: 'XTR', count: 1, amount: 250 }]);
    assert.equal((await call(OPERATOR, 'GET', '/api/admin/summary?days=90')).json.currencies[0].per_day.length, 90);
    assert.equal((await call(OPERATOR, 'GET', '/api/admin/summary?days=31')).json.error.code, 'invalid_query');
  });

  test("the operator's launch data reads what the token reads", async () => {
    for (const path of ['/api/admin/orders', '/api/admin/orders?format=csv&status=paid', '/api/admin/summary', '/api/admin/reconcile']) {
      const byToken = await call(null, 'GET', path);
      const byLaunch = await call(OPERATOR, 'GET', path);
      assert.equal(byToken.status, 200, `${path}: ${byToken.text}`);
      assert.equal(byLaunch.status, 200, `${path}: ${byLaunch.text}`);
      const same = (r) => (r.json ? { ...r.json, until: undefined } : r.text);
      assert.deepEqual(same(byLaunch), same(byToken), path);
    }
  });

  test('the list filters by q, status, product and currency', async () => {
    const { a, b, c, r } = orders;
    const ids = (...os) => os.map((o) => o.id).sort();
    assert.deepEqual(await list('q=%40zed_buyer'), ids(a, b, c));
    assert.deepEqual(await list('q=ZED_BUYER&status=paid'), ids(a, b));
    assert.deepEqual(await list(`q=${REFERRED.id}`), ids(r));
    assert.deepEqual(await list(`q=${c.id}`), ids(c));
    assert.deepEqual(await list('status=refunded'), ids(c));
    assert.deepEqual(await list('product=pro_monthly'), ids(b));
    assert.deepEqual(await list('currency=XTR&product=sticker_pack'), ids(a, c, r));
    assert.deepEqual(await list('currency=TON'), []);
    const row = (await call(OPERATOR, 'GET', `/api/admin/orders?q=${r.id}`)).json.rows[0];
    assert.equal(row.username, REFERRED.username);
    assert.equal(row.transaction_type, 'invoice_payment');
    assert.equal(row.affiliate_commission, 10);
    assert.equal(row.net_amount, 40);
    assert.ok(row.net_amount < row.charge_amount);
  });

  test('an export link downloads its CSV without headers; a tampered one is refused', async () => {
    const r = await call(OPERATOR, 'POST', '/api/admin/export-links', { query: 'status=paid&q=%40zed_buyer' });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.json.file_name, `orders-${today()}.csv`);
    const url = new URL(r.json.url);
    assert.equal(url.pathname, '/api/admin/orders.csv');
    const path = url.pathname + url.search;
    const csv = await w.fetch(path);
    assert.equal(csv.status, 200, csv.text);
    assert.match(csv.headers.get('content-type'), /^text\/csv/);
    const lines = csv.text.trim().split('\r\n');
    assert.equal(lines.length, 3, csv.text);
    assert.ok(lines.slice(1).every((l) => l.includes(BUYER.username)));
    assert.ok(csv.text.includes(orders.a.id) && !csv.text.includes(orders.c.id));
    for (const tampered of [path.replace('status=paid', 'status=refunded'), path.replace(/expires=\d+/, (m) => `${m}9`), path.slice(0, -1) + (path.endsWith('0') ? '1' : '0')]) {
      const bad = await w.fetch(tampered);
      assert.equal(bad.status, 403, tampered);
      assert.equal(bad.json.error.code, 'invalid_export_link');
    }
  });
});
