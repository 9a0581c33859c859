// Mini App + local Telegram: the built worker (local D1) and the emulator (`tma-emulator`)
// talking to each other over loopback. The worker calls the emulator's Bot API; the emulator
// delivers updates to the worker's webhook and runs the methods in its replies. The tests play
// the user through the emulator's control API and check what each side recorded.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { admin, BOT_TOKEN, WEBHOOK_SECRET } from './support/harness.mjs';
import { startWorkerWithEmulator, publicKeyFromSeed, slugOf, eventually, SIGNING_SEED } from './support/emulator.mjs';

const BOT_ID = Number(BOT_TOKEN.split(':')[0]);

// One user per scenario, so no test sees another's orders.
const users = {
  starter: { id: 7100001, first_name: 'Stella', last_name: 'Starter', username: 'stella', language_code: 'en' },
  buyer: { id: 7100002, first_name: 'Bob', last_name: 'Buyer', language_code: 'en' },
  owner: { id: 7100003, first_name: 'Olga', language_code: 'en' },
  intruder: { id: 7100004, first_name: 'Eve', language_code: 'en' },
  canceller: { id: 7100005, first_name: 'Carl', language_code: 'en' },
  redelivery: { id: 7100006, first_name: 'Rita', language_code: 'en' },
  refunded: { id: 7100007, first_name: 'Rufus', language_code: 'en' },
  subscriber: { id: 7100008, first_name: 'Sam', language_code: 'en', is_premium: true },
};

describe('Mini App + local Telegram (emulator ⇄ worker with D1)', () => {
  let w, emu, setup;

  before(async () => {
    ({ w, emu, setup } = await startWorkerWithEmulator({ signingSeed: SIGNING_SEED }));
    for (const u of Object.values(users)) await emu.upsertUser(u);
  });

  after(async () => {
    await emu?.stop();
    await w?.dispose();
  });

  /* ---------- helpers ---------- */

  const tmaHeaders = (user) => emu.launchHeaders(user.id);

  async function createInvoice(user, productId) {
    const r = await w.fetch('/api/invoices', {
      method: 'POST', headers: await tmaHeaders(user), body: JSON.stringify({ product_id: productId }),
    });
    assert.equal(r.status, 201, r.text);
    // The invoice payload names the order and its product.
    const payload = `${r.json.order_id}:${productId}`;
    return { orderId: r.json.order_id, payload, link: r.json.invoice_link, slug: slugOf(r.json.invoice_link) };
  }

  async function ordersOf(user) {
    const r = await w.fetch('/api/orders', { headers: await tmaHeaders(user) });
    assert.equal(r.status, 200, r.text);
    return r.json.orders;
  }

  async function orderOf(user, orderId) {
    const o = (await ordersOf(user)).find((x) => x.id === orderId);
    assert.ok(o, `order ${orderId} is listed for user ${user.id}`);
    return o;
  }

  async function paymentRows(orderId) {
    const { results } = await w.db.prepare('SELECT * FROM payments WHERE order_id = ? ORDER BY paid_at, rowid').bind(orderId).all();
    return results;
  }

  const receiptsFor = async (user, orderId) =>
    (await emu.sent(user.id)).filter((m) => typeof m.text === 'string' && m.text.includes(`Order ${orderId}.`));

  /** Creates an invoice, pays it as its owner and waits for the webhook to settle. */
  async function buyAndPay(user, productId) {
    const inv = await createInvoice(user, productId);
    const paid = await emu.pay(inv.slug, user.id);
    assert.equal(paid.status, 'paid', JSON.stringify(paid));
    await emu.waitIdle();
    return { ...inv, paid };
  }

  /* ---------- tests ---------- */

  test('admin setup registers the webhook, the commands and the menu Mini App with the emulator', async () => {
    assert.equal(setup.status, 200, setup.text);
    const info = await emu.info();
    assert.equal(info.webhook.url, `${w.url}/telegram/webhook`);
    assert.equal(info.public_key, publicKeyFromSeed(SIGNING_SEED), 'the emulator signs with the key the worker trusts');

    const [hook] = await emu.calls('setWebhook');
    assert.equal(hook.response.ok, true, JSON.stringify(hook.response));
    assert.equal(hook.params.secret_token, WEBHOOK_SECRET);
    assert.deepEqual(hook.params.allowed_updates, ['message', 'pre_checkout_query', 'chat_member', 'chat_join_request']);

    const commands = await emu.botApi('getMyCommands');
    assert.deepEqual(commands.result.map((c) => c.command), ['start', 'paysupport', 'terms', 'help']);
    const menu = await emu.botApi('getChatMenuButton');
    assert.deepEqual(menu.result, { type: 'web_app', text: 'Shop', web_app: { url: `${w.url}/` } });
    // The launch data the emulator hands out now opens the worker's page.
    const launch = await emu.launch(users.starter.id);
    assert.equal(launch.app_url, `${w.url}/`);
    assert.ok(launch.url.startsWith(`${w.url}/#tgWebAppData=`), launch.url);
  });

  test('/start from a user → the reply from the webhook body reaches the chat with a web_app button to the page', async () => {
    const { update_id } = await emu.message(users.starter.id, '/start');
    await emu.waitIdle();

    const [update] = (await emu.updates('message')).filter((u) => u.update_id === update_id);
    assert.equal(update.status, 'delivered');
    assert.equal(update.attempts.at(-1).http_status, 200);
    assert.equal(update.attempts.at(-1).url, `${w.url}/telegram/webhook`);

    const sent = await emu.sent(users.starter.id);
    assert.equal(sent.length, 1, JSON.stringify(sent));
    assert.match(sent[0].text, /Welcome!/);
    const button = sent[0].reply_markup.inline_keyboard[0][0];
    assert.equal(button.web_app.url, `${w.url}/`);

    const [call] = (await emu.calls('sendMessage')).filter((c) => Number(c.params.chat_id) === users.starter.id);
    assert.equal(call.via, 'webhook_response', 'the reply rode in the webhook response');
    assert.equal(call.response.ok, true);

    // The page that button opens is the worker's, pointed at the emulator's copy of telegram-web-app.js.
    const page = await w.fetch('/');
    assert.equal(page.status, 200);
    assert.ok(page.text.includes(`<script src="${emu.url}/telegram-web-app.js"></script>`), 'script tag rewritten');
    assert.match(page.headers.get('content-security-policy'), new RegExp(`script-src 'self' ${emu.url.replace(/\./g, '\\.')};`));
    const js = await fetch(`${emu.url}/telegram-web-app.js`);
    assert.equal(js.status, 200);
    assert.match(js.headers.get('content-type'), /javascript/);
    assert.match(await js.text(), /window\.Telegram/);
  });

  test('launch data from the emulator passes the worker’s HMAC check and its Ed25519 third-party check', async () => {
    const launch = await emu.launch(users.starter.id, { start_param: 'sticker_pack' });
    const v = await w.fetch('/api/verify', { method: 'POST', headers: { authorization: `tma ${launch.init_data}` } });
    assert.equal(v.status, 200, v.text);
    assert.equal(v.json.user.id, users.starter.id);
    assert.equal(v.json.user.username, 'stella');
    assert.equal(v.json.start_param, 'sticker_pack');

    const t = await w.fetch('/api/verify/third-party', {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ init_data: launch.init_data, bot_id: BOT_ID }),
    });
    assert.equal(t.status, 200, t.text);
    assert.equal(t.json.valid, true);
    assert.equal(t.json.user.id, users.starter.id);

    // A tampered launch is refused.
    const forged = launch.init_data.replace(/Stella/g, 'Mallory');
    const bad = await w.fetch('/api/verify', { method: 'POST', headers: { authorization: `tma ${forged}` } });
    assert.equal(bad.status, 401, bad.text);
  });

  test('buy: invoice → pay in the emulator → pre-checkout ok → successful_payment → receipt → paid', async () => {
    const user = users.buyer;
    const inv = await createInvoice(user, 'sticker_pack');
    assert.match(inv.link, /^https:\/\/t\.me\/\$/);
    const invoice = await emu.invoice(inv.slug);
    assert.equal(invoice.currency, 'XTR');
    assert.equal(invoice.total_amount, 50);
    assert.equal(invoice.payload, inv.payload);
    assert.equal((await orderOf(user, inv.orderId)).status, 'pending');

    const paid = await emu.pay(inv.slug, user.id);
    assert.equal(paid.status, 'paid', JSON.stringify(paid));
    assert.match(paid.telegram_payment_charge_id, /^stx/);
    await emu.waitIdle();

    // The pre-checkout answer came back in the webhook reply.
    const answer = (await emu.calls('answerPreCheckoutQuery')).find((c) => c.params.pre_checkout_query_id === paid.pre_checkout_query_id);
    assert.ok(answer, 'answerPreCheckoutQuery recorded');
    assert.equal(answer.params.ok, true);
    assert.equal(answer.via, 'webhook_response');
    assert.equal(answer.response.ok, true);

    // successful_payment was delivered and acknowledged.
    const sp = (await emu.updates('message')).find((u) =>
      u.update.message?.successful_payment?.telegram_payment_charge_id === paid.telegram_payment_charge_id);
    assert.ok(sp, 'successful_payment update exists');
    assert.equal(sp.status, 'delivered');
    assert.equal(sp.attempts.at(-1).http_status, 200);

    // The receipt is in the user's chat.
    const receipts = await receiptsFor(user, inv.orderId);
    assert.equal(receipts.length, 1, JSON.stringify(receipts));
    assert.match(receipts[0].text, /^✅ Payment received: Sticker pack, /);

    // The worker's view and the database agree.
    const order = await orderOf(user, inv.orderId);
    assert.equal(order.status, 'paid');
    assert.equal(order.telegram_payment_charge_id, paid.telegram_payment_charge_id);
    assert.equal(order.amount, 50);
    const rows = await paymentRows(inv.orderId);
    assert.equal(rows.length, 1);
    assert.equal(rows[0].telegram_payment_charge_id, paid.telegram_payment_charge_id);
    assert.equal(rows[0].user_id, user.id);
    assert.equal(rows[0].amount, 50);
    assert.equal(rows[0].applied, 1);
    assert.equal(rows[0].refunded_at, null);

    // Telegram's side: one Star transaction from this user.
    const tx = await emu.botApi('getStarTransactions');
    const mine = tx.result.transactions.filter((t) => t.id === paid.telegram_payment_charge_id);
    assert.equal(mine.length, 1);
    assert.equal(mine[0].amount, 50);
    assert.equal(mine[0].source.user.id, user.id);
  });

  test('pre-checkout is declined when someone else pays the invoice: failed, order stays pending', async () => {
    const inv = await createInvoice(users.owner, 'sticker_pack');
    const r = await emu.pay(inv.slug, users.intruder.id);
    assert.equal(r.status, 'failed', JSON.stringify(r));
    assert.equal(r.reason, 'declined');
    assert.ok(r.error_message && r.error_message.length > 0, 'the bot explains the refusal');
    await emu.waitIdle();

    const answer = (await emu.calls('answerPreCheckoutQuery')).find((c) => c.params.pre_checkout_query_id === r.pre_checkout_query_id);
    assert.equal(answer.params.ok, false);
    assert.equal(answer.params.error_message, r.error_message);

    assert.equal((await orderOf(users.owner, inv.orderId)).status, 'pending');
    assert.deepEqual(await ordersOf(users.intruder), []);
    assert.equal((await paymentRows(inv.orderId)).length, 0);
    assert.equal((await emu.charges()).filter((c) => c.invoice_payload === inv.payload).length, 0);
    const spFor = (await emu.updates('message')).filter((u) => u.update.message?.successful_payment?.invoice_payload === inv.payload);
    assert.equal(spFor.length, 0, 'no successful_payment after a decline');
  });

  test('a cancelled invoice reaches nobody: order stays pending, no payment', async () => {
    const user = users.canceller;
    const inv = await createInvoice(user, 'sticker_pack');
    assert.deepEqual(await emu.cancel(inv.slug), { status: 'cancelled' });
    await emu.waitIdle();

    assert.equal((await orderOf(user, inv.orderId)).status, 'pending');
    assert.equal((await paymentRows(inv.orderId)).length, 0);
    const queries = (await emu.updates('pre_checkout_query')).filter((u) => u.update.pre_checkout_query.invoice_payload === inv.payload);
    assert.equal(queries.length, 0, 'no pre-checkout query for a cancelled invoice');
    assert.equal((await emu.sent(user.id)).length, 0, 'no message to the user');
  });

  test('a redelivered successful_payment counts once and sends no second receipt', async () => {
    const user = users.redelivery;
    const { orderId, paid } = await buyAndPay(user, 'sticker_pack');
    const sp = (await emu.updates('message')).find((u) =>
      u.update.message?.successful_payment?.telegram_payment_charge_id === paid.telegram_payment_charge_id);
    assert.ok(sp);
    const sendsBefore = (await emu.calls('sendMessage')).length;
    assert.equal((await receiptsFor(user, orderId)).length, 1);

    const again = await emu.redeliver(sp.update_id, 10000);
    assert.equal(again.update_id, sp.update_id);
    assert.equal(again.attempts.length, sp.attempts.length + 1);
    assert.equal(again.attempts.at(-1).http_status, 200, 'the duplicate is acknowledged');
    await emu.waitIdle();

    assert.equal((await paymentRows(orderId)).length, 1);
    assert.equal((await receiptsFor(user, orderId)).length, 1, 'no second receipt');
    assert.equal((await emu.calls('sendMessage')).length, sendsBefore, 'no Bot API call for the duplicate');
    const order = await orderOf(user, orderId);
    assert.equal(order.status, 'paid');
    assert.equal(order.telegram_payment_charge_id, paid.telegram_payment_charge_id);
  });

  test('refund via the admin API: refundStarPayment at Telegram, refunded_payment delivered, order refunded', async () => {
    const user = users.refunded;
    const { orderId, paid } = await buyAndPay(user, 'sticker_pack');
    const charge = paid.telegram_payment_charge_id;

    const r = await w.fetch('/api/admin/refunds', { method: 'POST', headers: admin(), body: JSON.stringify({ order_id: orderId }) });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.order.status, 'refunded');

    const calls = (await emu.calls('refundStarPayment')).filter((c) => c.params.telegram_payment_charge_id === charge);
    assert.equal(calls.length, 1);
    assert.equal(Number(calls[0].params.user_id), user.id);
    assert.equal(calls[0].via, 'http');
    assert.deepEqual(calls[0].response, { ok: true, result: true });

    await emu.waitIdle();
    const refundUpdate = await eventually(async () => (await emu.updates('message')).find((u) =>
      u.update.message?.refunded_payment?.telegram_payment_charge_id === charge && u.status === 'delivered'),
    { what: 'the refunded_payment update to be delivered' });
    assert.equal(refundUpdate.attempts.at(-1).http_status, 200);

    const order = await orderOf(user, orderId);
    assert.equal(order.status, 'refunded');
    const rows = await paymentRows(orderId);
    assert.equal(rows.length, 1);
    assert.ok(rows[0].refunded_at > 0, 'refunded_at recorded');

    const charges = (await emu.charges()).filter((c) => c.telegram_payment_charge_id === charge);
    assert.equal(charges[0].refunded, true);
    const tx = (await emu.botApi('getStarTransactions')).result.transactions.filter((t) => t.id === charge);
    assert.equal(tx.length, 2, 'the payment and its refund');
    assert.equal(tx[0].source.user.id, user.id);
    assert.equal(tx[1].receiver.user.id, user.id);
    assert.equal(tx[1].amount, 50);

    // Refunding again is harmless: no second call to Telegram.
    const again = await w.fetch('/api/admin/refunds', { method: 'POST', headers: admin(), body: JSON.stringify({ order_id: orderId }) });
    assert.equal(again.status, 200, again.text);
    assert.equal((await emu.calls('refundStarPayment')).filter((c) => c.params.telegram_payment_charge_id === charge).length, 1);
  });

  test('subscription: pay pro_monthly, Telegram renews it → expiry moves forward, two payments', async () => {
    const user = users.subscriber;
    const inv = await createInvoice(user, 'pro_monthly');
    const invoice = await emu.invoice(inv.slug);
    assert.equal(invoice.subscription_period, 2592000);
    assert.equal(invoice.total_amount, 250);

    const paid = await emu.pay(inv.slug, user.id);
    assert.equal(paid.status, 'paid', JSON.stringify(paid));
    await emu.waitIdle();
    const first = await orderOf(user, inv.orderId);
    assert.equal(first.status, 'paid');
    assert.equal(first.subscription_expiration_date, paid.subscription_expiration_date);
    assert.ok(first.subscription_expiration_date > Date.now() / 1000 + 29 * 86400);

    const renewal = await emu.renew(paid.telegram_payment_charge_id);
    assert.equal(renewal.status, 'paid');
    assert.notEqual(renewal.telegram_payment_charge_id, paid.telegram_payment_charge_id);
    assert.equal(renewal.subscription_expiration_date, paid.subscription_expiration_date + 2592000);
    await emu.waitIdle();

    const after = await orderOf(user, inv.orderId);
    assert.equal(after.status, 'paid');
    assert.equal(after.subscription_expiration_date, renewal.subscription_expiration_date);
    assert.ok(after.subscription_expiration_date > first.subscription_expiration_date, 'expiry moved forward');

    const rows = await paymentRows(inv.orderId);
    assert.equal(rows.length, 2);
    const byCharge = Object.fromEntries(rows.map((p) => [p.telegram_payment_charge_id, p]));
    assert.equal(byCharge[paid.telegram_payment_charge_id].is_first_recurring, 1);
    assert.equal(byCharge[renewal.telegram_payment_charge_id].is_recurring, 1);
    assert.equal(byCharge[renewal.telegram_payment_charge_id].is_first_recurring, 0);
    assert.equal(byCharge[renewal.telegram_payment_charge_id].subscription_expiration_date, renewal.subscription_expiration_date);

    const texts = (await receiptsFor(user, inv.orderId)).map((m) => m.text);
    assert.equal(texts.length, 2);
    assert.match(texts[0], /^✅ Payment received: Pro/);
    assert.match(texts[1], /^✅ Subscription renewed: Pro/);
  });
});
