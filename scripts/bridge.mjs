#!/usr/bin/env node
// `make bridge`: run a real (or emulated) bot against a local worker without a
// public URL. Long-polls getUpdates and forwards each update to the webhook with
// the secret header, the way Telegram would: an update is confirmed (the offset
// moves past it) only after the webhook answered 2xx, and a Bot API call in the
// webhook's response body is executed.
//
// Settings from the environment or .dev.vars: BOT_TOKEN, WEBHOOK_SECRET,
// TELEGRAM_API_BASE (default https://api.telegram.org), TELEGRAM_ENV,
// BRIDGE_WEBHOOK_URL (default http://127.0.0.1:8787/telegram/webhook).
// Flags: --delete-webhook (getUpdates only works while the bot has no webhook),
// --once (one poll, for tests).
import { existsSync, readFileSync } from 'node:fs';

const fileVars = existsSync('.dev.vars')
  ? Object.fromEntries(readFileSync('.dev.vars', 'utf8').split('\n')
    .map((l) => l.match(/^([A-Z_]+)=(.*)$/)).filter(Boolean).map((m) => [m[1], m[2]]))
  : {};
const setting = (k, d) => process.env[k] ?? fileVars[k] ?? d;
const token = setting('BOT_TOKEN');
const secret = setting('WEBHOOK_SECRET', '');
const base = setting('TELEGRAM_API_BASE', 'https://api.telegram.org').replace(/\/$/, '');
const test = setting('TELEGRAM_ENV', 'production') === 'test' ? '/test' : '';
const webhook = setting('BRIDGE_WEBHOOK_URL', 'http://127.0.0.1:8787/telegram/webhook');
const once = process.argv.includes('--once');
if (!token) {
  console.error('bridge: set BOT_TOKEN (in the environment or .dev.vars)');
  process.exit(2);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// Never print the URL: it holds the token.
async function call(method, params) {
  const res = await fetch(`${base}/bot${token}${test}/${method}`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(params),
  });
  const body = await res.json().catch(() => ({ ok: false, description: `HTTP ${res.status}` }));
  if (!body.ok) {
    const err = new Error(`${method}: ${body.description}`);
    err.code = body.error_code;
    throw err;
  }
  return body.result;
}

async function forward(update) {
  for (let delay = 500; ; delay = Math.min(delay * 2, 30000)) {
    try {
      const res = await fetch(webhook, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': secret },
        body: JSON.stringify(update),
      });
      const text = await res.text();
      if (res.ok) {
        const reply = text ? JSON.parse(text) : {};
        if (reply.method) {
          const { method, ...params } = reply;
          await call(method, params).catch((e) => console.error(`bridge: ${e.message}`));
        }
        console.log(`bridge: update ${update.update_id} -> ${res.status}${reply.method ? ` + ${reply.method}` : ''}`);
        return;
      }
      console.error(`bridge: update ${update.update_id} -> ${res.status}; retrying in ${delay} ms`);
    } catch (e) {
      console.error(`bridge: webhook unreachable (${e.cause?.code ?? e.message}); retrying in ${delay} ms`);
    }
    await sleep(delay);
  }
}

if (process.argv.includes('--delete-webhook')) await call('deleteWebhook', {});
console.log(`bridge: forwarding updates to ${webhook}`);
let offset = 0;
do {
  let updates;
  try {
    updates = await call('getUpdates', { offset, timeout: once ? 1 : 25, allowed_updates: ['message', 'pre_checkout_query'] });
  } catch (e) {
    if (e.code === 409) {
      console.error('bridge: the bot has a webhook; run with --delete-webhook (make bridge ARGS=--delete-webhook)');
      process.exit(1);
    }
    console.error(`bridge: ${e.message}; retrying`);
    await sleep(2000);
    continue;
  }
  for (const u of updates) {
    await forward(u);
    offset = u.update_id + 1;
  }
} while (!once);
// Confirm what was forwarded before exiting.
if (offset) await call('getUpdates', { offset, timeout: 0, limit: 1 });
