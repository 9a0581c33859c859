// Faults: the built worker (local D1) with the emulator as Telegram, broken on purpose.
// Every Bot API call the worker makes meets errors, 429s, slow answers and dropped
// connections; storage disappears in the middle of a payment; Rust code panics. The
// worker must answer within its deadline with a clear JSON error, leave no order
// stuck, store each payment exactly once after Telegram redelivers, and keep the
// pre-checkout answer inside Telegram's 10 s.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { admin, assertApiError } from './support/harness.mjs';
import { startWorkerWithEmulator, slugOf, eventually } from './support/emulator.mjs';

// Outbound Bot API calls give up after this long here (8 s in production).
const TIMEOUT_MS = 1000;
// Room for a loaded 2-core machine on top of it.
const SLACK_MS = 2000;

let w, emu, nextUser = 9300000;

before(async () => {
  ({ w, emu } = await startWorkerWithEmulator({
    settings: { BOT_API_TIMEOUT_MS: String(TIMEOUT_MS), TEST_PANIC_ROUTE: '1' },
    scriptPath: 'tests/support/slow-storage-entry.mjs',
  }));
});
after(async () => {
  await emu?.stop();
  await w?.dispose();
});

async function newUser() {
  const user = { id: ++nextUser, first_name: `Faulty${nextUser}`, language_code: 'en' };
  await emu.upsertUser(user);
  return user;
}

const headersOf = (user) => emu.launchHeaders(user.id);

/** The response and how long it took. */
async function timed(promise) {
  const t0 = Date.now();
  const r = await promise;
  return { ...r, ms: Date.now() - t0 };
}

async function createInvoice(user, product = 'sticker_pack') {
  return timed(w.fetch('/api/invoices', { method: 'POST', headers: await headersOf(user), body: JSON.stringify({ product_id: product }) }));
}

async function buyAndPay(user) {
  const r = await createInvoice(user);
  assert.equal(r.status, 201, r.text);
  const paid = await emu.pay(slugOf(r.json.invoice_link), user.id);
  assert.equal(paid.status, 'paid', JSON.stringify(paid));
  await emu.waitIdle();
  return { orderId: r.json.order_id, charge: paid.telegram_payment_charge_id };
}

const fault = (f) => emu.post('/control/faults', { times: 1, ...f });
// Every D1 call waits this long first (see support/slow-storage-entry.mjs).
const setStorageDelay = async (ms) => assert.equal((await w.fetch('/__test/d1-delay', { method: 'POST', body: JSON.stringify({ ms }) })).status, 200);
const clearFaults = () => emu.call('DELETE', '/control/faults');
const statusOf = async (orderId) => (await w.db.prepare('SELECT status FROM orders WHERE id = ?').bind(orderId).first())?.status;
const rows = async (sql, ...args) => (await w.db.prepare(sql).bind(...args).all()).results;

// What each kind of fault must look like to the worker's client.
const KINDS = {
  error: { fault: { kind: 'error' }, status: 502, code: 'telegram_error' },
  rate_limit: { fault: { kind: 'rate_limit', retry_after: 2 }, status: 503, code: 'telegram_rate_limited' },
  slow: { fault: { kind: 'slow', delay_ms: TIMEOUT_MS + 2000 }, status: 502, code: 'telegram_error' },
  drop: { fault: { kind: 'drop' }, status: 502, code: 'telegram_error' },
};

/** Waits until a slow fault's delay is over and the emulator has settled. */
async function settle(kind) {
  if (kind === 'slow') await new Promise((r) => setTimeout(r, KINDS.slow.fault.delay_ms - TIMEOUT_MS + 300));
  await emu.waitIdle();
}

function assertFailedInTime(r, kind, what) {
  assertApiError(r, KINDS[kind].status, KINDS[kind].code, `${what} (${kind})`);
  assert.ok(r.ms < TIMEOUT_MS + SLACK_MS, `${what} (${kind}) answered in ${r.ms} ms`);
  if (kind === 'rate_limit') assert.equal(r.headers.get('retry-after'), '2');
}

describe('Bot API faults on every call the worker makes', () => {
  for (const kind of Object.keys(KINDS)) {
    test(`createInvoiceLink ${kind}: a clear error in time, and the order is failed, never left pending`, async () => {
      const user = await newUser();
      await fault({ method: 'createInvoiceLink', ...KINDS[kind].fault });
      const r = await createInvoice(user);
      assertFailedInTime(r, kind, 'createInvoiceLink');
      const orders = await rows('SELECT id, status FROM orders WHERE user_id = ?', user.id);
      assert.deepEqual(orders.map((o) => o.status), ['failed']);
      // Telegram may have made the invoice without the worker hearing of it (a dropped
      // answer does; the emulator gives up on a slow call when the worker hangs up).
      // If it did, paying that invoice is declined.
      await settle(kind);
      const made = (await emu.calls('createInvoiceLink')).find((c) => c.params.payload === `${orders[0].id}:sticker_pack` && c.response?.ok);
      assert.equal(Boolean(made), kind === 'drop', 'what Telegram did');
      if (made) {
        const paid = await emu.pay(slugOf(made.response.result), user.id);
        assert.equal(paid.status, 'failed', JSON.stringify(paid));
        assert.equal(paid.reason, 'declined');
        assert.equal(await statusOf(orders[0].id), 'failed');
      }
      // The next try works.
      assert.equal((await createInvoice(user)).status, 201);
    });
  }

  for (const kind of Object.keys(KINDS)) {
    test(`refundStarPayment ${kind}: a clear error in time; the order ends refunded exactly once`, async () => {
      const user = await newUser();
      const { orderId, charge } = await buyAndPay(user);
      await fault({ method: 'refundStarPayment', ...KINDS[kind].fault });
      const r = await timed(w.fetch('/api/admin/refunds', { method: 'POST', headers: admin(), body: JSON.stringify({ order_id: orderId }) }));
      assertFailedInTime(r, kind, 'refundStarPayment');
      await settle(kind);
      const refundedThere = (await emu.charges()).find((c) => c.telegram_payment_charge_id === charge).refunded;
      assert.equal(refundedThere, kind === 'drop', 'what Telegram did');
      if (refundedThere) {
        // Telegram's refunded_payment update brings the order along.
        await eventually(async () => (await statusOf(orderId)) === 'refunded', { timeout: 8000, what: 'the refund to arrive by update' });
      } else {
        assert.equal(await statusOf(orderId), 'paid', 'nothing was refunded, so nothing changed');
      }
      const retry = await w.fetch('/api/admin/refunds', { method: 'POST', headers: admin(), body: JSON.stringify({ order_id: orderId }) });
      assert.equal(retry.status, 200, retry.text);
      assert.equal(retry.json.order.status, 'refunded');
      await emu.waitIdle();
      assert.equal((await emu.charges()).find((c) => c.telegram_payment_charge_id === charge).refunded, true);
      const refunds = (await emu.botApi('getStarTransactions')).result.transactions.filter((t) => t.id === charge && t.receiver);
      assert.equal(refunds.length, 1, 'refunded once at Telegram');
      const [payment] = await rows('SELECT refunded_at FROM payments WHERE telegram_payment_charge_id = ?', charge);
      assert.ok(payment.refunded_at > 0);
    });
  }

  for (const method of ['setWebhook', 'setMyCommands', 'setChatMenuButton']) {
    for (const kind of Object.keys(KINDS)) {
      test(`setup with ${method} ${kind}: a clear error in time, and a retry sets everything up`, async () => {
        await fault({ method, ...KINDS[kind].fault });
        const r = await timed(w.fetch('/api/admin/setup', { method: 'POST', headers: admin() }));
        assertFailedInTime(r, kind, method);
        assert.match(r.json.error.message, new RegExp(method));
        const again = await w.fetch('/api/admin/setup', { method: 'POST', headers: admin() });
        assert.equal(again.status, 200, again.text);
        assert.equal((await emu.info()).webhook.url, `${w.url}/telegram/webhook`);
      });
    }
  }

  for (const kind of Object.keys(KINDS)) {
    test(`getStarTransactions ${kind}: reconcile answers a clear error in time, then works`, async () => {
      await fault({ method: 'getStarTransactions', ...KINDS[kind].fault });
      const r = await timed(w.fetch('/api/admin/reconcile', { headers: admin() }));
      assertFailedInTime(r, kind, 'getStarTransactions');
      const again = await w.fetch('/api/admin/reconcile', { headers: admin() });
      assert.equal(again.status, 200, again.text);
      assert.equal(again.json.in_sync, true, JSON.stringify(again.json.differences));
    });
  }

  test('a slow answer inside the timeout is just slow', async () => {
    const user = await newUser();
    await fault({ method: 'createInvoiceLink', kind: 'slow', delay_ms: TIMEOUT_MS / 2 });
    const r = await createInvoice(user);
    assert.equal(r.status, 201, r.text);
    assert.ok(r.ms >= TIMEOUT_MS / 2);
  });
});

describe('pre-checkout answers inside Telegram’s 10 s', () => {
  test('while every Bot API call hangs: the answer needs none', async () => {
    const user = await newUser();
    const inv = await createInvoice(user);
    assert.equal(inv.status, 201);
    await emu.post('/control/faults', { method: '*', kind: 'slow', delay_ms: 20000 });
    try {
      const stuck = createInvoice(user); // hangs at Telegram, in parallel
      const paid = await timed(emu.pay(slugOf(inv.json.invoice_link), user.id));
      assert.equal(paid.status, 'paid', JSON.stringify(paid));
      assert.ok(paid.ms < 5000, `paid in ${paid.ms} ms`);
      assertFailedInTime(await stuck, 'slow', 'the parallel call');
    } finally {
      await clearFaults();
    }
    await emu.waitIdle();
    assert.equal(await statusOf(inv.json.order_id), 'paid');
  });

  test('while storage hangs: declined in time with a message, and the order can be paid after', async () => {
    const user = await newUser();
    const inv = await createInvoice(user);
    assert.equal(inv.status, 201);
    await setStorageDelay(15000);
    let paid;
    try {
      paid = await timed(emu.pay(slugOf(inv.json.invoice_link), user.id));
    } finally {
      await setStorageDelay(0);
    }
    assert.equal(paid.status, 'failed', JSON.stringify(paid));
    assert.equal(paid.reason, 'declined', 'answered, not timed out');
    assert.match(paid.error_message, /briefly unavailable/);
    assert.ok(paid.ms < 8000, `answered in ${paid.ms} ms`);
    assert.ok(w.logs.join('').includes('storage took over'), 'the slow storage is logged');

    assert.equal(await statusOf(inv.json.order_id), 'pending', 'nothing was charged');
    const again = await emu.pay(slugOf(inv.json.invoice_link), user.id);
    assert.equal(again.status, 'paid', JSON.stringify(again));
    await emu.waitIdle();
    assert.equal(await statusOf(inv.json.order_id), 'paid');
  });

  test('storage that is slow but answers: the payment goes through', async () => {
    const user = await newUser();
    const inv = await createInvoice(user);
    await setStorageDelay(1500);
    let paid;
    try {
      paid = await timed(emu.pay(slugOf(inv.json.invoice_link), user.id));
      await emu.waitIdle(20000);
    } finally {
      await setStorageDelay(0);
    }
    assert.equal(paid.status, 'paid', JSON.stringify(paid));
    assert.equal(await statusOf(inv.json.order_id), 'paid');
  });
});

describe('storage failing during successful_payment', () => {
  // Renaming a table makes every statement on it fail, as an outage would.
  for (const table of ['payments', 'processed_updates']) {
    test(`without ${table}: 503 until it is back, then Telegram's redelivery stores the payment once`, async () => {
      const user = await newUser();
      const inv = await createInvoice(user);
      assert.equal(inv.status, 201);
      const sentBefore = (await emu.sent(user.id)).length;
      await w.db.exec(`ALTER TABLE ${table} RENAME TO ${table}_away`);
      let charge;
      try {
        const paid = await emu.pay(slugOf(inv.json.invoice_link), user.id);
        assert.equal(paid.status, 'paid', JSON.stringify(paid));
        charge = paid.telegram_payment_charge_id;
        const update = await eventually(async () => {
          const u = (await emu.updates('message')).find((x) => x.update.message?.successful_payment?.telegram_payment_charge_id === charge);
          return u && u.attempts.length >= 3 && u;
        }, { timeout: 10000, what: 'three failed deliveries' });
        for (const a of update.attempts) {
          assert.equal(a.http_status, 503);
          assert.equal(JSON.parse(a.response_body).error.code, 'storage_unavailable');
        }
        assert.equal(update.status, 'pending', 'Telegram keeps it for redelivery');
        // All or nothing: the failed batches left no trace.
        assert.equal(await statusOf(inv.json.order_id), 'pending');
        if (table !== 'payments') assert.equal((await rows('SELECT * FROM payments WHERE telegram_payment_charge_id = ?', charge)).length, 0);
      } finally {
        await w.db.exec(`ALTER TABLE ${table}_away RENAME TO ${table}`);
      }
      await emu.waitIdle(15000);
      const [update] = (await emu.updates('message')).filter((x) => x.update.message?.successful_payment?.telegram_payment_charge_id === charge);
      assert.equal(update.status, 'delivered');
      assert.equal(update.attempts.at(-1).http_status, 200);
      assert.equal((await rows('SELECT * FROM payments WHERE telegram_payment_charge_id = ?', charge)).length, 1);
      assert.equal(await statusOf(inv.json.order_id), 'paid');
      assert.equal((await emu.sent(user.id)).length, sentBefore + 1, 'one receipt');
      // One more redelivery changes nothing.
      await emu.redeliver(update.update_id, 10000);
      await emu.waitIdle();
      assert.equal((await rows('SELECT * FROM payments WHERE telegram_payment_charge_id = ?', charge)).length, 1);
      assert.equal((await emu.sent(user.id)).length, sentBefore + 1);
    });
  }

  test('a refund update during an outage is applied once when storage is back', async () => {
    const user = await newUser();
    const { orderId, charge } = await buyAndPay(user);
    await w.db.exec('ALTER TABLE payments RENAME TO payments_away');
    try {
      const r = await emu.post('/control/refunds', { user_id: user.id, telegram_payment_charge_id: charge });
      assert.equal(r.ok, true, JSON.stringify(r));
      await eventually(async () => {
        const u = (await emu.updates('message')).find((x) => x.update.message?.refunded_payment?.telegram_payment_charge_id === charge);
        return u && u.attempts.length >= 2 && u.attempts.every((a) => a.http_status === 503);
      }, { timeout: 10000, what: 'failed refund deliveries' });
    } finally {
      await w.db.exec('ALTER TABLE payments_away RENAME TO payments');
    }
    await emu.waitIdle(15000);
    assert.equal(await statusOf(orderId), 'refunded');
    assert.equal((await rows('SELECT * FROM payments WHERE telegram_payment_charge_id = ? AND refunded_at > 0', charge)).length, 1);
  });
});

describe('a panic is contained', () => {
  test('the request gets a JSON 500, and the next requests are served', async () => {
    for (const when of ['now', 'after-await']) {
      const r = await w.fetch(`/api/test/panic?when=${when}`, { method: 'POST' });
      assertApiError(r, 500, 'internal', `panic ${when}`);
      assert.doesNotMatch(r.json.error.message, /panic|testing\.rs|unreachable|wasm/i, 'no internals');
      assert.equal((await w.fetch('/healthz')).status, 200);
      const user = await newUser();
      const inv = await createInvoice(user);
      assert.equal(inv.status, 201, `storage and Telegram work after the ${when} panic: ${inv.text}`);
    }
  });

  test('a request in flight when another panics gets a JSON 500 too, not a hang', async () => {
    const user = await newUser();
    await fault({ method: 'createInvoiceLink', kind: 'slow', delay_ms: TIMEOUT_MS / 2 });
    const inFlight = createInvoice(user);
    await new Promise((r) => setTimeout(r, 150));
    assertApiError(await w.fetch('/api/test/panic', { method: 'POST' }), 500, 'internal');
    const r = await inFlight;
    assertApiError(r, 500, 'internal', 'the request that shared the crashed instance');
    assert.ok(r.ms < TIMEOUT_MS + SLACK_MS, `${r.ms} ms`);
    // The webhook still records payments after it.
    const { orderId } = await buyAndPay(await newUser());
    assert.equal(await statusOf(orderId), 'paid');
  });
});
