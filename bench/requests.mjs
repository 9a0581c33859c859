// The buyer the bench's requests come from, and their headers.
import { ed25519Pair, signInitData, WEBHOOK_SECRET } from '../tests/support/harness.mjs';

export const buyer = { id: 279058397, first_name: 'Vladislav', last_name: 'Kibenko', username: 'vdkfrost', language_code: 'ru', is_premium: true, allows_write_to_pm: true };
// A real client's fields, with the Ed25519 `signature` Telegram adds.
const initData = signInitData(
  { query_id: 'AAHdF6IQAAAAAN0XohDhrOrc', user: JSON.stringify(buyer), chat_type: 'private', chat_instance: '-3788475317572404878' },
  { edKey: ed25519Pair(), botId: 4242 },
);
const json = { 'content-type': 'application/json' };
export const asBuyer = { ...json, authorization: `tma ${initData}` };
export const hook = { ...json, 'x-telegram-bot-api-secret-token': WEBHOOK_SECRET };

/**
 * Settings for a benchmarked worker: one buyer makes thousands of pending orders, far
 * past `MAX_PENDING_ORDERS`. (Start it with the harness's `GENEROUS_LIMITS` too: the
 * rate limits are called on every request, as deployed, but never refuse one.)
 */
export const BENCH_SETTINGS = { MAX_PENDING_ORDERS: '1000000000' };

// The routes that do no I/O, for comparing builds and profiling them.
export const QUIET_ROUTES = {
  healthz: { method: 'GET', path: '/healthz' },
  verify: { method: 'POST', path: '/api/verify', headers: asBuyer },
};

/** A new pending order for the buyer (one D1 write and `createInvoiceLink`). */
export const newInvoice = () => ({ method: 'POST', path: '/api/invoices', headers: asBuyer, body: '{"product_id":"sticker_pack"}' });

/** `n` pending orders made through `/api/invoices`: the invoice payloads Telegram would hand back. */
export async function pendingOrders(worker, api, n = 64) {
  const payloads = [];
  for (let i = 0; i < n; i++) {
    const { method, headers, body } = newInvoice();
    const r = await worker.fetch('/api/invoices', { method, headers, body });
    if (r.status !== 201) throw new Error(`creating an order: ${r.status} ${r.text}`);
    // What Telegram hands back is the payload the invoice was made with.
    const payload = api.called('createInvoiceLink').at(-1).params.payload;
    if (!payload.startsWith(r.json.order_id)) throw new Error(`payload ${payload} is not for ${r.json.order_id}`);
    payloads.push(payload);
  }
  return payloads;
}

/** The webhook's `pre_checkout_query` for the buyer's order `payload` (one D1 read). */
export function preCheckout(updateId, payload) {
  const update = {
    update_id: updateId,
    pre_checkout_query: { id: `pcq${updateId}`, from: buyer, currency: 'XTR', total_amount: 50, invoice_payload: payload },
  };
  return { method: 'POST', path: '/telegram/webhook', headers: hook, body: JSON.stringify(update) };
}

let charge = 0;

/**
 * The webhook's `successful_payment` for `payload`, with a new charge id each
 * time (the path that applies a payment, not a redelivery's).
 */
export function successfulPayment(updateId, payload) {
  const update = {
    update_id: updateId,
    message: {
      message_id: updateId, date: Math.floor(Date.now() / 1000), chat: { id: buyer.id, type: 'private' }, from: buyer,
      successful_payment: {
        currency: 'XTR', total_amount: 50, invoice_payload: payload,
        telegram_payment_charge_id: `bench_${process.pid}_${++charge}`, provider_payment_charge_id: '',
      },
    },
  };
  return { method: 'POST', path: '/telegram/webhook', headers: hook, body: JSON.stringify(update) };
}

const ORDER_ROUTES = { pre_checkout: preCheckout, payment: successfulPayment };

/**
 * The requests of route `id` for a worker: a quiet route, `invoices`, or
 * `pre_checkout` or `payment` over 64 pending orders made first (these need
 * the worker's D1 migrated).
 */
export async function requestsFor(id, worker, api) {
  if (QUIET_ROUTES[id]) return () => QUIET_ROUTES[id];
  if (id === 'invoices') return newInvoice;
  const make = ORDER_ROUTES[id];
  if (!make) throw new Error(`route ${id}: one of ${Object.keys(QUIET_ROUTES)}, invoices, ${Object.keys(ORDER_ROUTES)}`);
  const payloads = await pendingOrders(worker, api);
  let updateId = 0;
  return (i) => make(++updateId, payloads[i % payloads.length]);
}
