// Load: a few thousand webhook deliveries at once against the built worker with local
// D1, on loopback. Hundreds of users buy one-time products and subscriptions (with
// renewals); every payment update is sent, a share of them again with the same update
// id, some re-sent with a new update id, all shuffled (renewals before first payments)
// and many in parallel. Then the database must hold every distinct charge exactly
// once, every order paid with the latest subscription end (no lost update), and one
// receipt per charge. Bounded in count and time; the figures are printed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startWorker, fakeBotApi, settingsFor, tma, deliver } from './support/harness.mjs';

const USERS = 250;
const ORDERS_PER_USER = 4;
const SUBSCRIPTION_EVERY = 5; // every fifth order is pro_monthly, paid three times
const CONCURRENCY = 48;
const PERIOD = 2592000;
const SEED = Number(process.env.LOAD_SEED || 20240611);

/** A small seeded PRNG (mulberry32), so a failing run can be replayed with LOAD_SEED. */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6D2B79F5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffle(items, random) {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}

/** Runs `fn` over `items` with at most `n` in flight. */
async function pool(items, n, fn) {
  let next = 0;
  await Promise.all(Array.from({ length: n }, async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i], i);
    }
  }));
}

test('thousands of concurrent, duplicated, out-of-order deliveries: every charge stored once, no lost update', { timeout: 170000 }, async (t) => {
  const random = rng(SEED);
  const api = await fakeBotApi();
  const w = await startWorker(settingsFor(api));
  const started = Date.now();
  try {
    // Orders, through the API as the Mini App makes them.
    const users = Array.from({ length: USERS }, (_, i) => ({ id: 7700000 + i, first_name: `Load${i}` }));
    const wanted = users.flatMap((u) => Array.from({ length: ORDERS_PER_USER }, (_, k) => ({ user: u, sub: (u.id * ORDERS_PER_USER + k) % SUBSCRIPTION_EVERY === 0 })));
    const orders = [];
    await pool(wanted, CONCURRENCY, async ({ user, sub }) => {
      const r = await w.fetch('/api/invoices', { method: 'POST', headers: tma(user), body: JSON.stringify({ product_id: sub ? 'pro_monthly' : 'sticker_pack' }) });
      assert.equal(r.status, 201, r.text);
      orders.push({ id: r.json.order_id, user, sub, amount: sub ? 250 : 50 });
    });
    const ordersDone = Date.now();

    // Telegram's updates for them. Update ids are unique per update, like Telegram's.
    let updateId = 1;
    const base = 1_900_000_000;
    const preCheckouts = orders.map((o) => ({
      update_id: updateId++,
      pre_checkout_query: { id: `q${o.id}`, from: o.user, currency: 'XTR', total_amount: o.amount, invoice_payload: o.id },
    }));
    const charges = orders.flatMap((o) => (o.sub ? [1, 2, 3] : [1]).map((n) => ({
      order: o,
      charge: `stx_${o.id}_${n}`,
      expires: o.sub ? base + n * PERIOD : undefined,
      first: o.sub && n === 1,
    })));
    const paymentUpdate = (c, id) => ({
      update_id: id,
      message: {
        message_id: id, date: base, chat: { id: c.order.user.id, type: 'private' }, from: c.order.user,
        successful_payment: {
          currency: 'XTR', total_amount: c.order.amount, invoice_payload: c.order.id, telegram_payment_charge_id: c.charge,
          provider_payment_charge_id: '', ...(c.order.sub ? { subscription_expiration_date: c.expires, is_recurring: true, is_first_recurring: c.first } : {}),
        },
      },
    });
    const payments = [];
    let sameId = 0, newId = 0;
    for (const c of charges) {
      const u = paymentUpdate(c, updateId++);
      payments.push(u);
      // Telegram redelivers when it missed our answer: the same update, up to 3 more times.
      if (random() < 0.5) {
        const times = 1 + Math.floor(random() * 3);
        for (let k = 0; k < times; k++) payments.push(u);
        sameId += times;
      }
      // And a charge can come again in a new update.
      if (random() < 0.15) {
        payments.push(paymentUpdate(c, updateId++));
        newId++;
      }
    }
    shuffle(payments, random);

    // Like Telegram, retry any answer that is not 2xx (none is expected).
    const stats = { deliveries: 0, retries: 0, receipts: 0, acknowledged: 0, accepted: 0, declined: 0, maxMs: 0 };
    async function send(update) {
      for (let attempt = 0; ; attempt++) {
        const t0 = Date.now();
        const r = await deliver(w, update);
        stats.deliveries++;
        stats.maxMs = Math.max(stats.maxMs, Date.now() - t0);
        if (r.status === 200) return r.json;
        stats.retries++;
        assert.ok(attempt < 5, `update ${update.update_id} still failing: ${r.status} ${r.text}`);
      }
    }

    await pool(preCheckouts, CONCURRENCY, async (u) => {
      const answer = await send(u);
      assert.equal(answer.method, 'answerPreCheckoutQuery');
      if (answer.ok) stats.accepted++; else stats.declined++;
    });
    assert.equal(stats.accepted, orders.length, 'every pending order is accepted at pre-checkout');
    const paymentsStarted = Date.now();
    await pool(payments, CONCURRENCY, async (u) => {
      const answer = await send(u);
      if (answer.method === 'sendMessage') {
        stats.receipts++;
        assert.equal(answer.chat_id, u.message.chat.id, 'the receipt goes to the payer');
      } else {
        assert.deepEqual(answer, {});
        stats.acknowledged++;
      }
    });
    const paymentsDone = Date.now();

    // A paid order is refused a second time.
    const again = await send({ ...preCheckouts[0], update_id: updateId++ });
    assert.equal(again.ok, false);

    // The database: every distinct charge exactly once, right order, right amount.
    const rows = (await w.db.prepare('SELECT telegram_payment_charge_id AS charge, order_id, user_id, amount, subscription_expiration_date AS expires FROM payments').all()).results;
    const byCharge = new Map(rows.map((r) => [r.charge, r]));
    assert.equal(rows.length, charges.length, 'one row per distinct charge');
    assert.equal(byCharge.size, charges.length);
    for (const c of charges) {
      const row = byCharge.get(c.charge);
      assert.ok(row, `charge ${c.charge} stored`);
      assert.deepEqual([row.order_id, row.user_id, row.amount, row.expires ?? undefined], [c.order.id, c.order.user.id, c.order.amount, c.expires]);
    }
    const stored = new Map((await w.db.prepare('SELECT id, status, telegram_payment_charge_id AS charge, subscription_expiration_date AS expires FROM orders').all()).results.map((o) => [o.id, o]));
    assert.equal(stored.size, orders.length);
    for (const o of orders) {
      const s = stored.get(o.id);
      assert.equal(s.status, 'paid', o.id);
      // Whatever the order of arrival: the subscription ends after the last renewal,
      // and the order points at that renewal's charge.
      assert.equal(s.expires ?? undefined, o.sub ? base + 3 * PERIOD : undefined, o.id);
      assert.equal(s.charge, `stx_${o.id}_${o.sub ? 3 : 1}`, o.id);
    }
    const processed = (await w.db.prepare('SELECT COUNT(*) AS n FROM processed_updates').first()).n;
    assert.equal(processed, charges.length + newId, 'every payment update remembered once');
    // One-time products carry goods: their receipt rides with the goods in a call of
    // its own (through the outbox), so it shows at the Bot API, not in the reply.
    const goods = api.called('sendMessage');
    const oneTime = orders.filter((o) => !o.sub);
    assert.equal(goods.length, oneTime.length, 'the goods of each one-time order sent once');
    const goodsFor = new Set(goods.map((c) => c.params.text.match(/Order (\S+)\./)[1]));
    for (const o of oneTime) assert.ok(goodsFor.has(o.id), `goods of ${o.id} sent`);
    const sent = (await w.db.prepare("SELECT COUNT(*) AS n FROM outbox WHERE status = 'sent'").first()).n;
    assert.equal(sent, oneTime.length, 'every owed message settled as sent');
    stats.receipts += goods.length;
    assert.equal(stats.receipts, charges.length, 'one receipt per charge, none for a duplicate');
    // `{}`: every duplicate, and each first delivery whose receipt went with the goods.
    assert.equal(stats.acknowledged, payments.length - charges.length + goods.length);
    assert.equal(stats.retries, 0, 'no delivery failed');

    const subs = orders.filter((o) => o.sub).length;
    const seconds = (paymentsDone - paymentsStarted) / 1000;
    t.diagnostic(`seed ${SEED}; ${USERS} users, ${orders.length} orders (${subs} subscriptions) created in ${((ordersDone - started) / 1000).toFixed(1)} s`);
    t.diagnostic(`deliveries: ${stats.deliveries} (${preCheckouts.length + 1} pre-checkout, ${payments.length} payment: ${charges.length} distinct charges, ${sameId} same-id redeliveries, ${newId} re-sent with a new update id), concurrency ${CONCURRENCY}`);
    t.diagnostic(`payment wave: ${seconds.toFixed(1)} s, ${(payments.length / seconds).toFixed(0)} deliveries/s, slowest ${stats.maxMs} ms; errors/retries: ${stats.retries}`);
    t.diagnostic(`rows: orders ${stored.size}, payments ${rows.length}, processed_updates ${processed}, outbox sent ${sent}; receipts ${stats.receipts} (${goods.length} with goods), duplicates acknowledged ${stats.acknowledged}`);
    t.diagnostic(`total ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } finally {
    await w.dispose();
    await api.close();
  }
});
