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

// The routes that do no I/O, for comparing builds and profiling them.
export const QUIET_ROUTES = {
  healthz: { method: 'GET', path: '/healthz' },
  verify: { method: 'POST', path: '/api/verify', headers: asBuyer },
};

/** `n` pending orders made through `/api/invoices`: the invoice payloads Telegram would hand back. */
export async function pendingOrders(worker, api, n = 64) {
  const payloads = [];
  for (let i = 0; i < n; i++) {
    const r = await worker.fetch('/api/invoices', { method: 'POST', headers: asBuyer, body: '{"product_id":"sticker_pack"}' });
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

/**
 * The requests of route `id` for a worker: a quiet route, or `pre_checkout`
 * over 64 pending orders made first (the worker needs its D1 migrated).
 */
export async function requestsFor(id, worker, api) {
  if (QUIET_ROUTES[id]) return () => QUIET_ROUTES[id];
  if (id !== 'pre_checkout') throw new Error(`route ${id}: one of ${Object.keys(QUIET_ROUTES)}, pre_checkout`);
  const payloads = await pendingOrders(worker, api);
  let updateId = 0;
  return (i) => preCheckout(++updateId, payloads[i % payloads.length]);
}
