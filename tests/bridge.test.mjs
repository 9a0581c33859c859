// `make bridge`: a bot without a public URL. The bridge long-polls getUpdates on the
// (emulated) Bot API, forwards each update to the local worker's webhook, executes
// the reply the webhook returns, and confirms an update only after a 2xx.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { startWorker, settingsFor, tma, WEBHOOK_SECRET, BOT_TOKEN } from './support/harness.mjs';
import { startEmulator, eventually, slugOf } from './support/emulator.mjs';

let emu, w;
const bridges = [];

function startBridge(secret = WEBHOOK_SECRET) {
  const env = {
    ...process.env, BOT_TOKEN, WEBHOOK_SECRET: secret, TELEGRAM_API_BASE: emu.url, TELEGRAM_ENV: 'production',
    BRIDGE_WEBHOOK_URL: `${w.url}/telegram/webhook`,
  };
  const proc = spawn(process.execPath, ['scripts/bridge.mjs'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const logs = [];
  proc.stdout.on('data', (d) => logs.push(String(d)));
  proc.stderr.on('data', (d) => logs.push(String(d)));
  const exited = new Promise((r) => proc.once('exit', r));
  const b = { proc, logs, stop: () => { proc.kill('SIGTERM'); return exited; } };
  bridges.push(b);
  return b;
}

before(async () => {
  emu = await startEmulator();
  w = await startWorker(settingsFor({ url: emu.url }));
});
after(async () => {
  for (const b of bridges) await b.stop();
  await w?.dispose();
  await emu?.stop();
});

test('an update the webhook refuses is not confirmed', async () => {
  const user = { id: 7100001, first_name: 'Dana' };
  await emu.upsertUser(user);
  const bridge = startBridge('not-the-secret');
  await emu.message(user.id, '/help');
  await eventually(() => bridge.logs.join('').includes('-> 401'), { what: 'the webhook refusing the update' });
  await bridge.stop();
  // Still there for the next poller: the bridge never moved the offset past it.
  const pending = await emu.botApi('getUpdates', { offset: 0, timeout: 0 });
  assert.ok(pending.ok);
  assert.ok(pending.result.some((u) => u.message?.text === '/help'), JSON.stringify(pending.result));
  const s = await emu.sent(user.id);
  assert.equal((Array.isArray(s) ? s : s.messages).length, 0, 'no reply was sent');
});

test('commands and a whole payment work through the bridge', async () => {
  const user = { id: 7100002, first_name: 'Erin' };
  await emu.upsertUser(user);
  const bridge = startBridge();
  await emu.message(user.id, '/start');
  const sent = async () => {
    const s = await emu.sent(user.id);
    return Array.isArray(s) ? s : s.messages;
  };
  const welcome = await eventually(async () => (await sent()).find((m) => /Welcome/.test(m.text)), { what: 'the /start reply' });
  assert.equal(welcome.reply_markup.inline_keyboard[0][0].web_app.url, `${w.url}/`);

  const { init_data } = await emu.launch(user.id);
  const r = await w.fetch('/api/invoices', {
    method: 'POST', headers: { authorization: `tma ${init_data}`, 'content-type': 'application/json' }, body: '{"product_id":"sticker_pack"}',
  });
  assert.equal(r.status, 201, r.text);
  const result = await emu.pay(slugOf(r.json.invoice_link), user.id);
  assert.equal(result.status, 'paid', JSON.stringify(result));
  await eventually(async () => (await sent()).some((m) => /Payment received/.test(m.text)), { what: 'the receipt' });
  const orders = await w.fetch('/api/orders', { headers: tma(user) });
  assert.equal(orders.json.orders[0].status, 'paid');
  assert.equal(orders.json.orders[0].telegram_payment_charge_id, result.telegram_payment_charge_id);
  assert.match(bridge.logs.join(''), /answerPreCheckoutQuery/);
});
