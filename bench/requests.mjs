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
