// Baseline 2, the JavaScript route a bot owner would take, doing tma-pay's work
// for the benchmarked routes with the same D1 statements and the same answers:
// `/api/verify` with @telegram-apps/init-data-node (its WebCrypto build, which
// runs on workerd without nodejs_compat), the webhook's pre_checkout_query and
// successful_payment, and `/api/invoices`. Not part of the product: no admin,
// no KV, no Login Widget, minimal errors.
import { parse, validate } from '@telegram-apps/init-data-node/web';
import catalog from '../../catalog.default.json';

const MAX_AGE = 86400;
const ORDER_COLUMNS = 'id, user_id, product_id, status, currency, amount, created_at, paid_at, '
  + 'telegram_payment_charge_id, subscription_expiration_date';

const json = (status, value) =>
  new Response(JSON.stringify(value), { status, headers: { 'content-type': 'application/json' } });
const fail = (status, code) => json(status, { error: { code, message: code } });

/** The verified launch data of `Authorization: tma <initData>`, or undefined. */
async function launchData(request, env) {
  const auth = request.headers.get('authorization') || '';
  const space = auth.indexOf(' ');
  if (space < 0 || auth.slice(0, space).toLowerCase() !== 'tma') return undefined;
  const raw = auth.slice(space + 1).trim();
  try {
    await validate(raw, env.BOT_TOKEN, { expiresIn: MAX_AGE });
    return parse(raw);
  } catch {
    return undefined;
  }
}

async function verify(request, env) {
  const data = await launchData(request, env);
  if (!data) return fail(401, 'invalid_hash');
  return json(200, {
    user: data.user ?? null,
    auth_date: Math.floor(new Date(data.auth_date).getTime() / 1000),
    query_id: data.query_id ?? null,
    chat_type: data.chat_type ?? null,
    chat_instance: data.chat_instance ?? null,
    start_param: data.start_param ?? null,
  });
}

function orderId() {
  const b = crypto.getRandomValues(new Uint8Array(16));
  return btoa(String.fromCharCode(...b)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

async function createInvoice(request, env) {
  const data = await launchData(request, env);
  if (!data?.user) return fail(401, 'invalid_hash');
  const { product_id } = await request.json();
  const product = catalog.find((p) => p.id === product_id);
  if (!product) return fail(404, 'product_not_found');
  const id = orderId();
  await env.DB.prepare(`INSERT INTO orders (${ORDER_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, NULL, NULL, NULL)`)
    .bind(id, data.user.id, product.id, 'pending', product.currency, product.amount, Math.floor(Date.now() / 1000))
    .run();
  const res = await fetch(`${env.TELEGRAM_API_BASE}/bot${env.BOT_TOKEN}/createInvoiceLink`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      title: product.title, description: product.description, payload: id, provider_token: '',
      currency: product.currency, prices: [{ label: product.title, amount: product.amount }],
    }),
  });
  const answer = await res.json();
  if (!answer.ok) {
    await env.DB.prepare("UPDATE orders SET status = 'failed' WHERE id = ?1 AND status = 'pending'").bind(id).run();
    return fail(502, 'telegram_error');
  }
  return json(201, { order_id: id, invoice_link: answer.result });
}

async function preCheckout(q, env) {
  const order = await env.DB.prepare(`SELECT ${ORDER_COLUMNS} FROM orders WHERE id = ?1`).bind(q.invoice_payload).first();
  let why;
  if (!order) why = 'This invoice is not known to the shop. Please start a new purchase.';
  else if (order.user_id !== q.from.id) why = 'This invoice belongs to another account.';
  else if (order.status !== 'pending') why = 'This order has already been paid.';
  else if (order.currency !== q.currency || order.amount !== q.total_amount) why = 'The price of this order has changed.';
  const params = { method: 'answerPreCheckoutQuery', pre_checkout_query_id: q.id, ok: !why };
  if (why) params.error_message = why;
  return json(200, params);
}

async function payment(update, body, env) {
  const msg = update.message;
  const p = msg.successful_payment;
  const now = Math.floor(Date.now() / 1000);
  const paidAt = msg.date || now;
  const expires = p.subscription_expiration_date ?? null;
  const db = env.DB;
  const results = await db.batch([
    db.prepare('INSERT INTO payments (telegram_payment_charge_id, provider_payment_charge_id, order_id, user_id, currency, '
      + 'amount, paid_at, subscription_expiration_date, is_recurring, is_first_recurring, raw_update) '
      + 'VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) ON CONFLICT (telegram_payment_charge_id) DO NOTHING')
      .bind(p.telegram_payment_charge_id, p.provider_payment_charge_id, p.invoice_payload, (msg.from ?? msg.chat).id,
        p.currency, p.total_amount, paidAt, expires, p.is_recurring ? 1 : 0, p.is_first_recurring ? 1 : 0, body),
    db.prepare('UPDATE orders SET paid_at = CASE WHEN status = \'paid\' THEN paid_at ELSE ?2 END, status = \'paid\', '
      + 'telegram_payment_charge_id = ?3, subscription_expiration_date = CASE WHEN ?4 IS NULL THEN subscription_expiration_date '
      + 'ELSE MAX(COALESCE(subscription_expiration_date, ?4), ?4) END WHERE id = ?1 AND status != \'refunded\' '
      + 'AND EXISTS (SELECT 1 FROM payments WHERE telegram_payment_charge_id = ?3 AND applied = 0)')
      .bind(p.invoice_payload, paidAt, p.telegram_payment_charge_id, expires),
    db.prepare('UPDATE payments SET applied = 1 WHERE telegram_payment_charge_id = ?1 AND applied = 0')
      .bind(p.telegram_payment_charge_id),
    db.prepare('INSERT INTO processed_updates (update_id, processed_at) VALUES (?1, ?2) ON CONFLICT DO NOTHING')
      .bind(update.update_id, now),
    db.prepare(`SELECT ${ORDER_COLUMNS} FROM orders WHERE id = ?1`).bind(p.invoice_payload),
  ]);
  if (results[0].meta.changes !== 1) return json(200, {});
  const order = results[4].results[0];
  const title = catalog.find((c) => c.id === order?.product_id)?.title ?? 'your purchase';
  const price = p.currency === 'XTR' ? `⭐ ${p.total_amount}` : `${(p.total_amount / 100).toFixed(2)} ${p.currency}`;
  const text = order
    ? `✅ Payment received: ${title}, ${price}.\nOrder ${order.id}. Thank you!`
    : `✅ Payment received: ${price}. Thank you!`;
  return json(200, { method: 'sendMessage', chat_id: msg.chat.id, text });
}

async function webhook(request, env) {
  if (request.headers.get('x-telegram-bot-api-secret-token') !== env.WEBHOOK_SECRET) return fail(401, 'invalid_webhook_secret');
  const body = await request.text();
  const update = JSON.parse(body);
  if (update.pre_checkout_query) return preCheckout(update.pre_checkout_query, env);
  if (update.message?.successful_payment) return payment(update, body, env);
  return json(200, {});
}

export default {
  async fetch(request, env) {
    const { pathname } = new URL(request.url);
    const post = request.method === 'POST';
    if (pathname === '/healthz') return json(200, { ok: true, version: 'js-alt' });
    if (pathname === '/api/verify' && post) return verify(request, env);
    if (pathname === '/api/invoices' && post) return createInvoice(request, env);
    if (pathname === '/telegram/webhook' && post) return webhook(request, env);
    return fail(404, 'not_found');
  },
};
