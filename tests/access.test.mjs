// Access to a private channel sold as goods, end to end: the built worker (local D1) and
// the emulator's channel (the default catalog's "Insiders", the bot its administrator).
// The tests play the users through the emulator's control API: paying, tapping invite
// links, joining through a join request query's Mini App; and check what both sides did.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { admin, dumpTables } from './support/harness.mjs';
import { startWorkerWithEmulator, slugOf, eventually, INSIDERS, SIGNING_SEED } from './support/emulator.mjs';

const OPERATOR = 7300900;
const CRON = '*/10 * * * *';
const users = {
  buyer: { id: 7300001, first_name: 'Bea', language_code: 'en' },
  stranger: { id: 7300002, first_name: 'Stan', language_code: 'en' },
  asker: { id: 7300003, first_name: 'Ada', language_code: 'en' },
  refunded: { id: 7300004, first_name: 'Rex', language_code: 'en' },
  lapsing: { id: 7300005, first_name: 'Lou', language_code: 'en' },
  renewing: { id: 7300006, first_name: 'Ren', language_code: 'en' },
  moderator: { id: 7300007, first_name: 'Mo', language_code: 'en' },
  operator: { id: OPERATOR, first_name: 'Op', language_code: 'en' },
};
const CATALOG = JSON.stringify([
  { id: 'insiders', title: 'Insiders channel', description: 'The private channel', currency: 'XTR', amount: 100,
    access: { chat_id: INSIDERS } },
  { id: 'insiders_monthly', title: 'Insiders monthly', description: '30 days', currency: 'XTR', amount: 30,
    subscription_period: 2592000, access: { chat_id: INSIDERS } },
]);

describe('access to a private channel through the emulator', () => {
  let w, emu, setup;

  before(async () => {
    ({ w, emu, setup } = await startWorkerWithEmulator({
      signingSeed: SIGNING_SEED,
      settings: { CATALOG, ADMIN_CHAT_IDS: String(OPERATOR) },
    }));
    for (const u of Object.values(users)) await emu.upsertUser(u);
  });
  after(async () => { await emu?.stop(); await w?.dispose(); });

  const auth = (initData) => ({ authorization: `tma ${initData}`, 'content-type': 'application/json' });

  /** Buys `product` as `user` in the emulator (invoice, pay sheet): the order id. */
  async function buy(user, product, initData) {
    const launch = initData ?? (await emu.launch(user.id)).init_data;
    const r = await w.fetch('/api/invoices', { method: 'POST', headers: auth(launch), body: JSON.stringify({ product_id: product }) });
    assert.equal(r.status, 201, r.text);
    const paid = await emu.pay(slugOf(r.json.invoice_link), user.id);
    assert.ok(paid, 'paid');
    await emu.waitIdle();
    return r.json.order_id;
  }

  /** The personal invite link the bot sent `user`. */
  async function linkSentTo(user) {
    return eventually(async () => {
      const sent = await emu.sent(user.id);
      for (const m of sent) {
        for (const row of m.reply_markup?.inline_keyboard ?? []) {
          for (const b of row) if (b.url?.startsWith('https://t.me/+')) return b.url;
        }
      }
      return null;
    }, { what: `the link sent to ${user.first_name}` });
  }

  const member = async (user) => (await emu.chatState(INSIDERS)).members.find((m) => m.user_id === user.id);
  const access = async () => (await w.fetch(`/api/admin/access?chat_id=${INSIDERS}`, { headers: admin() })).json.chats[0];
  async function runScheduled() {
    const worker = await w.mf.getWorker();
    const r = await worker.scheduled({ cron: CRON, scheduledTime: new Date() });
    assert.equal(r.outcome, 'ok');
    await emu.waitIdle();
  }

  test('setup registers the updates and finds the bot able to manage the channel', () => {
    assert.equal(setup.status, 200, setup.text);
    assert.deepEqual(setup.json.access, [{ chat_id: INSIDERS, title: 'Insiders', ok: true, missing_rights: [] }]);
    assert.ok(setup.json.webhook.allowed_updates.includes('chat_member'));
  });

  test('buy access → the link arrives → join request → approved → a member, known to the worker', async () => {
    const order = await buy(users.buyer, 'insiders');
    const link = await linkSentTo(users.buyer);
    const state = await emu.chatState(INSIDERS);
    const made = state.invite_links.find((l) => l.invite_link === link);
    assert.equal(made.creates_join_request, true);
    assert.equal(made.name, `order ${order}`);
    const orders = (await w.fetch('/api/orders', { headers: auth((await emu.launch(users.buyer.id)).init_data) })).json.orders;
    assert.deepEqual(orders.find((o) => o.id === order).access, { chat_id: INSIDERS, title: 'Insiders', invite_link: link });

    const tap = await emu.tap(users.buyer.id, link);
    assert.equal(tap.result, 'requested', JSON.stringify(tap));
    await emu.waitIdle();
    assert.equal((await member(users.buyer))?.status, 'member');
    await eventually(async () => (await access()).members.some((m) => m.user_id === users.buyer.id && m.status === 'member'),
      { what: 'the worker to record the member' });
    assert.ok((await access()).holders.some((h) => h.order_id === order));
  });

  test('someone else with the same link is declined and offered the product', async () => {
    const link = await linkSentTo(users.buyer);
    const tap = await emu.tap(users.stranger.id, link);
    assert.equal(tap.result, 'requested');
    await emu.waitIdle();
    assert.equal((await member(users.stranger))?.status ?? 'left', 'left');
    const state = await emu.chatState(INSIDERS);
    assert.ok(!state.join_requests.some((r) => r.user_id === users.stranger.id), 'the request was answered');
    const offer = (await emu.sent(users.stranger.id)).find((m) => /Insiders channel/.test(m.text ?? ''));
    assert.ok(offer, 'offered the product');
    const button = offer.reply_markup.inline_keyboard[0][0];
    assert.equal(button.web_app.url, `${w.url}/?product=insiders`);
  });

  test('a join request query opens the Mini App; buying there answers the query approve', async () => {
    // The channel's owner puts a join-request link out; the bot guards the channel.
    await emu.createChat({ id: INSIDERS, type: 'channel', title: 'Insiders', guard_bot: true });
    const opened = await emu.botApi('createChatInviteLink', { chat_id: INSIDERS, creates_join_request: true, name: 'public' });
    assert.equal(opened.ok, true, JSON.stringify(opened));
    const tap = await emu.tap(users.asker.id, opened.result.invite_link);
    assert.equal(tap.result, 'requested');
    assert.ok(tap.query_id, 'a join request query');
    await emu.waitIdle();
    const launch = await eventually(() => emu.lastLaunch(users.asker.id, 'chat_join_request'), { what: 'the Mini App for the query' });
    assert.equal(launch.chat_join_request_query_id, tap.query_id);
    assert.ok(launch.app_url.endsWith('/?product=insiders'), launch.app_url);
    await buy(users.asker, 'insiders', launch.init_data);
    await eventually(async () => (await member(users.asker))?.status === 'member', { what: 'the asker let in' });
    const query = (await emu.chatState(INSIDERS)).queries.find((q) => q.id === tap.query_id);
    assert.equal(query.result, 'approve');
  });

  test('a refund removes the member at once; the removal happens once and they may come back', async () => {
    await emu.createChat({ id: INSIDERS, type: 'channel', title: 'Insiders' });
    const order = await buy(users.refunded, 'insiders');
    const link = await linkSentTo(users.refunded);
    await emu.tap(users.refunded.id, link);
    await emu.waitIdle();
    assert.equal((await member(users.refunded))?.status, 'member');
    const r = await w.fetch('/api/admin/refunds', { method: 'POST', headers: admin(), body: JSON.stringify({ order_id: order }) });
    assert.equal(r.status, 200, r.text);
    await emu.waitIdle();
    const after = await member(users.refunded);
    assert.equal(after.status, 'left', 'removed, and not banned: they may buy again');
    const state = await emu.chatState(INSIDERS);
    assert.equal(state.invite_links.find((l) => l.invite_link === link).is_revoked, true);
    const told = (await emu.sent(users.refunded.id)).some((m) => /has ended/.test(m.text ?? ''));
    assert.ok(told, 'told why, with a way back');
    // Telegram's refunded_payment arrives too: nothing happens twice.
    const bans = (await emu.calls('banChatMember')).length;
    await runScheduled();
    assert.equal((await emu.calls('banChatMember')).length, bans);
    const removed = (await access()).removed.filter((x) => x.order_id === order);
    assert.deepEqual(removed.map((x) => [x.reason, x.status]), [['refunded', 'sent']]);
  });

  test('a lapsed subscription is removed by the scheduled job, once; a renewal keeps the member', async () => {
    const lapsing = await buy(users.lapsing, 'insiders_monthly');
    const renewing = await buy(users.renewing, 'insiders_monthly');
    for (const u of [users.lapsing, users.renewing]) {
      await emu.tap(u.id, await linkSentTo(u));
      await emu.waitIdle();
      assert.equal((await member(u))?.status, 'member');
    }
    // Both periods ended two days ago; only one of them was renewed since.
    const past = Math.floor(Date.now() / 1000) - 2 * 86400;
    await w.db.prepare('UPDATE orders SET subscription_expiration_date = ? WHERE id IN (?, ?)').bind(past, lapsing, renewing).run();
    const charge = (await w.db.prepare('SELECT telegram_payment_charge_id AS c FROM orders WHERE id = ?').bind(renewing).first()).c;
    await emu.renew(charge);
    await emu.waitIdle();
    await runScheduled();
    assert.equal((await member(users.lapsing))?.status, 'left', 'lapsed: removed');
    assert.equal((await member(users.renewing))?.status, 'member', 'renewed: kept');
    const bans = (await emu.calls('banChatMember')).length;
    await runScheduled();
    assert.equal((await emu.calls('banChatMember')).length, bans, 'removed once');
  });

  test('an administrator is never removed', async () => {
    const order = await buy(users.moderator, 'insiders');
    await emu.setMember(INSIDERS, { user_id: users.moderator.id, status: 'administrator' });
    const r = await w.fetch('/api/admin/refunds', { method: 'POST', headers: admin(), body: JSON.stringify({ order_id: order }) });
    assert.equal(r.status, 200, r.text);
    await emu.waitIdle();
    assert.equal((await member(users.moderator))?.status, 'administrator');
  });

  test('redelivered updates change nothing', async () => {
    const before = await dumpTables(w.db);
    const updates = await emu.updates('chat_join_request');
    const last = updates.at(-1);
    await emu.redeliver(last.update_id);
    await emu.waitIdle();
    const afterTables = await dumpTables(w.db);
    assert.deepEqual(afterTables.orders, before.orders);
    assert.deepEqual(afterTables.access_links, before.access_links);
    assert.deepEqual(afterTables.chat_members, before.chat_members);
  });
});

describe('access without the bot\'s rights', () => {
  let w, emu, setup;
  const user = { id: 7300101, first_name: 'Nora', language_code: 'en' };

  before(async () => {
    ({ w, emu, setup } = await startWorkerWithEmulator({
      signingSeed: SIGNING_SEED,
      settings: { CATALOG, ADMIN_CHAT_IDS: String(OPERATOR) },
      chats: [`${INSIDERS}:Insiders:bot=admin,rights=can_manage_chat+can_invite_users`],
      users: [{ id: OPERATOR, first_name: 'Op' }],
    }));
    await emu.upsertUser(user);
  });
  after(async () => { await emu?.stop(); await w?.dispose(); });

  test('setup says which rights are missing and the operator is told', async () => {
    assert.equal(setup.status, 200, setup.text);
    assert.deepEqual(setup.json.access, [{ chat_id: INSIDERS, title: 'Insiders', ok: false, missing_rights: ['can_restrict_members'] }]);
    await emu.waitIdle();
    const told = async () => (await emu.sent(OPERATOR)).filter((m) => /can_restrict_members/.test(m.text ?? '')).length;
    assert.equal(await told(), 1);
    // Setup again with the same problem: told once.
    assert.equal((await w.fetch('/api/admin/setup', { method: 'POST', headers: admin() })).status, 200);
    await emu.waitIdle();
    assert.equal(await told(), 1);
  });

  test('a removal the bot cannot do is reported to the operator, not retried for ever', async () => {
    const r = await w.fetch('/api/invoices', { method: 'POST', headers: await emu.launchHeaders(user.id), body: JSON.stringify({ product_id: 'insiders' }) });
    await emu.pay(slugOf(r.json.invoice_link), user.id);
    await emu.waitIdle();
    const link = (await emu.sent(user.id)).flatMap((m) => m.reply_markup?.inline_keyboard?.flat() ?? []).find((b) => b.url?.startsWith('https://t.me/+'))?.url;
    await emu.tap(user.id, link);
    await emu.waitIdle();
    const refund = await w.fetch('/api/admin/refunds', { method: 'POST', headers: admin(), body: JSON.stringify({ order_id: r.json.order_id }) });
    assert.equal(refund.status, 200, refund.text);
    await emu.waitIdle();
    const told = (await emu.sent(OPERATOR)).some((m) => /Removing .* failed for good/.test(m.text ?? ''));
    assert.ok(told, 'the operator hears the removal failed');
    const listed = (await w.fetch(`/api/admin/access?chat_id=${INSIDERS}`, { headers: admin() })).json.chats[0];
    assert.equal(listed.removed[0].status, 'failed');
  });
});
