// TON and USDT through TON Connect, end to end: the built worker (local D1) and the
// emulator's chain, toncenter API and wallet. The tests play the wallet through the
// emulator's control API (connect with ton_proof, confirm a sendTransaction, pay by
// hand) and check what the worker stored, what the chain holds and what the bot said.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import { assertApiError, GENEROUS_LIMITS } from './support/harness.mjs';
import { startWorkerWithEmulator, eventually, freePort, SIGNING_SEED } from './support/emulator.mjs';

const OPERATOR = 7400900;
const CRON = '*/10 * * * *';
// The shop's wallet: any address; the emulator's chain accepts what arrives.
const SHOP = '0:5a0b000000000000000000000000000000000000000000000000000000000002';
const LAMP = 2_500_000_000n;
const CALL = 15_000_000n;
/**
 * A wallet contract tma-pay does not know: a state init (code: 32 bytes that are no wallet's
 * code; data: 32 bytes) as a bag of cells, and the address it hashes to. Written out here by
 * the TL-B rules (cell: d1 d2 data depths hashes; bag: the `b5ee9c72` header without index).
 */
function unknownWallet() {
  const leaf = (data) => ({ bits: data.length * 8, data, refs: [] });
  const code = leaf(Buffer.from('an unknown contract, no wallet!!'));
  const data = leaf(Buffer.alloc(32, 7));
  // split_depth 0, special 0, code 1, data 1, library 0: five bits, then the end-of-data 1.
  const root = { bits: 5, data: Buffer.from([0b0011_0100]), refs: [code, data] };
  const d2 = (c) => Math.floor(c.bits / 8) + Math.ceil(c.bits / 8);
  const depth = (c) => (c.refs.length ? 1 + Math.max(...c.refs.map(depth)) : 0);
  const hash = (c) => createHash('sha256').update(Buffer.concat([
    Buffer.from([c.refs.length, d2(c)]), c.data,
    ...c.refs.map((r) => Buffer.from([depth(r) >> 8, depth(r) & 0xff])),
    ...c.refs.map(hash),
  ])).digest();
  const cells = [root, code, data];
  const body = Buffer.concat(cells.map((c) => Buffer.concat([
    Buffer.from([c.refs.length, d2(c)]), c.data, Buffer.from(c.refs.map((r) => cells.indexOf(r))),
  ])));
  // Magic; no index, no CRC, 1-byte references and offsets; 3 cells, 1 root, 0 absent; size; root 0.
  const boc = Buffer.concat([Buffer.from('b5ee9c72', 'hex'), Buffer.from([0x01, 0x01, 3, 1, 0, body.length, 0]), body]);
  return { boc: boc.toString('base64'), address: `0:${hash(root).toString('hex')}` };
}

const users = {
  buyer: { id: 7400001, first_name: 'Tom', language_code: 'en' },
  usdt: { id: 7400002, first_name: 'Uma', language_code: 'en' },
  short: { id: 7400003, first_name: 'Sid', language_code: 'en' },
  late: { id: 7400004, first_name: 'Lea', language_code: 'en' },
  rejecter: { id: 7400005, first_name: 'Rey', language_code: 'en' },
  stranger: { id: 7400006, first_name: 'Sam', language_code: 'en' },
  twice: { id: 7400007, first_name: 'Tia', language_code: 'en' },
  operator: { id: OPERATOR, first_name: 'Op', language_code: 'en' },
};

describe('TON and USDT through the emulator', () => {
  let w, emu;

  before(async () => {
    ({ w, emu } = await startWorkerWithEmulator({
      signingSeed: SIGNING_SEED,
      users: Object.values(users),
      settings: { ADMIN_CHAT_IDS: String(OPERATOR) },
      ton: { TON_WALLET: SHOP },
      // The limits have their own tests; these go past ten proofs a minute.
      limits: GENEROUS_LIMITS,
    }));
  });
  after(async () => { await emu?.stop(); await w?.dispose(); });

  const auth = (initData) => ({ authorization: `tma ${initData}`, 'content-type': 'application/json' });
  const launch = async (user) => (await emu.launch(user.id)).init_data;
  const origin = () => w.url;

  /** Connects `user`'s emulator wallet with ton_proof and links it: the linked wallet. */
  async function link(user, initData) {
    const payload = await w.fetch('/api/ton/proof-payload', { method: 'POST', headers: auth(initData) });
    assert.equal(payload.status, 201, payload.text);
    const event = await emu.post('/control/ton/connect', {
      user_id: user.id, origin: origin(),
      request: { manifestUrl: `${w.url}/tonconnect-manifest.json`, items: [{ name: 'ton_addr' }, { name: 'ton_proof', payload: payload.json.payload }] },
    });
    assert.equal(event.event, 'connect', JSON.stringify(event));
    const addr = event.payload.items.find((i) => i.name === 'ton_addr');
    const proof = event.payload.items.find((i) => i.name === 'ton_proof').proof;
    const body = { account: { address: addr.address, chain: addr.network, publicKey: addr.publicKey, walletStateInit: addr.walletStateInit }, proof };
    const r = await w.fetch('/api/ton/wallet', { method: 'POST', headers: auth(initData), body: JSON.stringify(body) });
    assert.equal(r.status, 200, r.text);
    return { wallet: r.json.wallet, body };
  }

  /** Sends `transaction` from `user`'s wallet as the page would, and confirms (or rejects) it. */
  async function send(user, transaction, decision = 'confirm') {
    const sent = await emu.post('/control/ton/send', {
      user_id: user.id, origin: origin(),
      request: { method: 'sendTransaction', params: [JSON.stringify(transaction)], id: '1' },
    });
    assert.ok(sent.request, JSON.stringify(sent));
    return emu.post(`/control/ton/requests/${sent.request.id}/${decision}`, {});
  }

  async function order(user, initData, product) {
    const r = await w.fetch('/api/ton/orders', { method: 'POST', headers: auth(initData), body: JSON.stringify({ product_id: product }) });
    assert.equal(r.status, 201, r.text);
    return r.json;
  }

  /** Polls the check route until the order is `status`. */
  async function checkUntil(initData, orderId, status) {
    return eventually(async () => {
      const r = await w.fetch(`/api/ton/orders/${orderId}/check`, { method: 'POST', headers: auth(initData) });
      assert.equal(r.status, 200, r.text);
      return r.json.order.status === status && r.json;
    }, { timeout: 15000, interval: 300, what: `order ${orderId} ${status}` });
  }

  /** What the shop wallet received, final, as the emulator's chain has it. */
  async function received() {
    const txs = await emu.get(`/control/ton/transactions?account=${encodeURIComponent(SHOP)}`);
    return (Array.isArray(txs) ? txs : txs.transactions).filter((t) => t.in_msg?.source);
  }

  async function runScheduled() {
    const worker = await w.mf.getWorker();
    const r = await worker.scheduled({ cron: CRON, scheduledTime: new Date() });
    assert.equal(r.outcome, 'ok');
    await emu.waitIdle();
  }

  const textsTo = async (user) => (await emu.sent(user.id)).map((m) => m.text ?? m.caption ?? '');

  test('the manifest is what wallets read, and the catalog offers TON and USDT', async () => {
    const m = await w.fetch('/tonconnect-manifest.json');
    assert.equal(m.status, 200);
    assert.equal(m.json.url, w.url);
    assert.equal(m.headers.get('access-control-allow-origin'), '*');
    const icon = await fetch(m.json.iconUrl);
    assert.equal(icon.status, 200);
    assert.equal(icon.headers.get('content-type'), 'image/png');
    const p = await w.fetch('/api/products');
    const ids = p.json.products.map((x) => x.id);
    assert.ok(ids.includes('desk_lamp') && ids.includes('consultation'), ids.join());
    assert.equal(p.json.ton_connect.manifest_url, `${w.url}/tonconnect-manifest.json`);
  });

  test('a wallet proves itself with ton_proof and is linked; the proof cannot be replayed', async () => {
    const data = await launch(users.buyer);
    const { wallet, body } = await link(users.buyer, data);
    const onChain = await emu.get(`/control/ton/wallets/${users.buyer.id}`);
    assert.equal(wallet.address.toLowerCase(), onChain.address_raw.toLowerCase());
    assert.equal(wallet.version, 'v4R2');
    const again = await w.fetch('/api/ton/wallet', { method: 'POST', headers: auth(data), body: JSON.stringify(body) });
    assertApiError(again, 400, 'unknown_payload');
    // Another user cannot use the buyer's proof either.
    const other = await launch(users.stranger);
    const stolen = await w.fetch('/api/ton/wallet', { method: 'POST', headers: auth(other), body: JSON.stringify(body) });
    assertApiError(stolen, 400, 'unknown_payload');
    const shown = await w.fetch('/api/ton/wallet', { headers: auth(data) });
    assert.equal(shown.json.wallet.address, wallet.address);
  });

  test('a proof signed for another domain is refused', async () => {
    const data = await launch(users.stranger);
    const payload = (await w.fetch('/api/ton/proof-payload', { method: 'POST', headers: auth(data) })).json.payload;
    // A wallet connected to a look-alike shop signs that shop's domain.
    const evil = await emu.post('/control/ton/connect', {
      user_id: users.stranger.id, origin: 'http://evil.example',
      request: { manifestUrl: `${w.url}/tonconnect-manifest.json`, items: [{ name: 'ton_addr' }, { name: 'ton_proof', payload }] },
    });
    const addr = evil.payload.items.find((i) => i.name === 'ton_addr');
    const proof = evil.payload.items.find((i) => i.name === 'ton_proof').proof;
    proof.domain = { lengthBytes: 12, value: 'evil.example' };
    const r = await w.fetch('/api/ton/wallet', {
      method: 'POST', headers: auth(data),
      body: JSON.stringify({ account: { address: addr.address, chain: addr.network, publicKey: addr.publicKey, walletStateInit: addr.walletStateInit }, proof }),
    });
    assertApiError(r, 400, 'domain_mismatch');
    assert.equal((await w.fetch('/api/ton/wallet', { headers: auth(data) })).json.wallet, null);
  });

  test('each way a proof can be wrong is refused with its own code, and links nothing', async () => {
    const data = await launch(users.stranger);
    const other = await emu.get(`/control/ton/wallets/${users.twice.id}`);
    /** A fresh proof of the stranger's wallet, changed by `spoil`. */
    async function spoiled(spoil) {
      const payload = (await w.fetch('/api/ton/proof-payload', { method: 'POST', headers: auth(data) })).json.payload;
      const event = await emu.post('/control/ton/connect', {
        user_id: users.stranger.id, origin: origin(),
        request: { manifestUrl: `${w.url}/tonconnect-manifest.json`, items: [{ name: 'ton_addr' }, { name: 'ton_proof', payload }] },
      });
      const addr = event.payload.items.find((i) => i.name === 'ton_addr');
      const body = {
        account: { address: addr.address, chain: addr.network, publicKey: addr.publicKey, walletStateInit: addr.walletStateInit },
        proof: event.payload.items.find((i) => i.name === 'ton_proof').proof,
      };
      spoil(body);
      return w.fetch('/api/ton/wallet', { method: 'POST', headers: auth(data), body: JSON.stringify(body) });
    }
    const flip = (b64) => { const b = Buffer.from(b64, 'base64'); b[10] ^= 1; return b.toString('base64'); };
    const cases = [
      [400, 'invalid_ton_proof', (b) => { b.proof.signature = flip(b.proof.signature); }],
      [400, 'public_key_mismatch', (b) => { b.account.publicKey = other.public_key; }],
      [400, 'address_mismatch', (b) => { b.account.address = other.address_raw; }],
      [400, 'malformed_ton_proof', (b) => { b.account.walletStateInit = 'not a bag of cells'; }],
      [400, 'unsupported_wallet', (b) => {
        const other = unknownWallet();
        b.account.walletStateInit = other.boc;
        b.account.address = other.address;
      }],
      [400, 'ton_proof_expired', (b) => { b.proof.timestamp -= 3600; }],
      [409, 'wrong_network', (b) => { b.account.chain = '-3'; }],
      [400, 'malformed_ton_proof', (b) => { delete b.proof; }],
    ];
    for (const [status, code, spoil] of cases) assertApiError(await spoiled(spoil), status, code, code);
    assert.equal((await w.fetch('/api/ton/wallet', { headers: auth(data) })).json.wallet, null);
  });

  test('TON: the wallet sends the price with the comment; the order is paid once and delivered', async () => {
    const data = await launch(users.buyer);
    const o = await order(users.buyer, data, 'desk_lamp');
    assert.equal(o.order.status, 'pending');
    const decided = await send(users.buyer, o.transaction);
    assert.equal(decided.status, 'confirmed', JSON.stringify(decided));
    const done = await checkUntil(data, o.order.id, 'paid');
    assert.equal(done.received, String(LAMP));
    // On chain: exactly the price, with the order's comment, from the buyer's wallet.
    const tx = (await received()).find((t) => t.hash === done.order.telegram_payment_charge_id);
    assert.ok(tx, 'the charge id is the transaction hash');
    assert.equal(BigInt(tx.in_msg.value), LAMP);
    assert.equal(tx.in_msg.message_content.decoded?.comment, o.comment);
    // Stored once; the goods and the operator's notice went out once.
    const { results } = await w.db.prepare('SELECT currency, amount FROM payments WHERE order_id = ?').bind(o.order.id).all();
    assert.deepEqual(results, [{ currency: 'TON', amount: Number(LAMP) }]);
    await runScheduled();
    await emu.waitIdle();
    const texts = await textsTo(users.buyer);
    assert.equal(texts.filter((t) => t.includes('shipping address')).length, 1, texts.join('\n'));
    assert.equal((await textsTo(users.operator)).filter((t) => t.includes('Brass desk lamp')).length, 1);
  });

  test('USDT: a jetton transfer from the buyer pays the order', async () => {
    const data = await launch(users.usdt);
    await link(users.usdt, data);
    const o = await order(users.usdt, data, 'consultation');
    const buyerUsdt = (await emu.get(`/control/ton/wallets/${users.usdt.id}`)).usdt_wallet;
    assert.ok(buyerUsdt, 'the buyer holds USDT');
    const decided = await send(users.usdt, o.transaction);
    assert.equal(decided.status, 'confirmed', JSON.stringify(decided));
    const done = await checkUntil(data, o.order.id, 'paid');
    assert.equal(done.received, String(CALL));
    const after = await emu.get(`/control/ton/wallets/${users.usdt.id}`);
    assert.equal(BigInt(after.usdt_balance), 100_000_000n - CALL);
    assert.ok((await textsTo(users.usdt)).some((t) => t.includes('Pick a time')));
  });

  test('a transfer short of the price leaves the order pending and tells the buyer what is missing', async () => {
    const data = await launch(users.short);
    await link(users.short, data);
    const o = await order(users.short, data, 'desk_lamp');
    await emu.post('/control/ton/pay', { to: SHOP, amount: String(LAMP / 2n), comment: o.comment, user_id: users.short.id });
    await emu.post('/control/ton/finalize', {});
    const r = await w.fetch(`/api/ton/orders/${o.order.id}/check`, { method: 'POST', headers: auth(data) });
    assert.equal(r.json.order.status, 'pending');
    assert.equal(r.json.received, String(LAMP / 2n));
    await emu.waitIdle();
    assert.ok((await textsTo(users.short)).some((t) => t.includes('1.25 TON of 2.5 TON')), 'the buyer is told');
    assert.ok((await textsTo(users.operator)).some((t) => t.includes(o.order.id) && t.includes('1.25 TON')), 'and the operator');
    // The rest arrives: the two add up.
    await emu.post('/control/ton/pay', { to: SHOP, amount: String(LAMP / 2n), comment: o.comment, user_id: users.short.id });
    await checkUntil(data, o.order.id, 'paid');
  });

  test('the scheduled job settles a paid order nobody checked; fake USDT and bounces pay nothing', async () => {
    const data = await launch(users.late);
    await link(users.late, data);
    const ton = await order(users.late, data, 'desk_lamp');
    const usdt = await order(users.late, data, 'consultation');
    const bounced = await order(users.late, data, 'desk_lamp');
    // The shop wallet fails to take this one: the transfer bounces back.
    await emu.post('/control/ton/bounce_next', { address: SHOP });
    await emu.post('/control/ton/pay', { to: SHOP, amount: String(LAMP), comment: bounced.comment, user_id: users.late.id, bounce: true });
    // A look-alike jetton notifies the shop from another jetton wallet.
    await emu.post('/control/ton/pay', { to: SHOP, asset: 'fake_usdt', amount: String(CALL), comment: usdt.comment, user_id: users.late.id });
    await emu.post('/control/ton/pay', { to: SHOP, amount: String(LAMP), comment: ton.comment, user_id: users.late.id });
    await emu.post('/control/ton/finalize', {});
    await runScheduled();
    const status = async (id) => (await w.db.prepare('SELECT status FROM orders WHERE id = ?').bind(id).first()).status;
    assert.equal(await status(ton.order.id), 'paid');
    assert.equal(await status(usdt.order.id), 'pending');
    assert.equal(await status(bounced.order.id), 'pending');
    const aborted = (await received()).find((t) => t.in_msg.message_content?.decoded?.comment === bounced.comment);
    assert.equal(aborted?.description?.aborted, true, 'the bounce happened on chain');
  });

  test('paying one order twice records one payment; a transfer settles only its own order', async () => {
    const data = await launch(users.twice);
    await link(users.twice, data);
    const a = await order(users.twice, data, 'desk_lamp');
    const b = await order(users.twice, data, 'desk_lamp');
    await emu.post('/control/ton/pay', { to: SHOP, amount: String(LAMP), comment: a.comment, user_id: users.twice.id, times: 2 });
    await checkUntil(data, a.order.id, 'paid');
    await runScheduled();
    const r = await w.fetch(`/api/ton/orders/${b.order.id}/check`, { method: 'POST', headers: auth(data) });
    assert.equal(r.json.order.status, 'pending', 'the second transfer names order a, not b');
    const { results } = await w.db.prepare('SELECT order_id FROM payments WHERE user_id = ?').bind(users.twice.id).all();
    assert.deepEqual(results, [{ order_id: a.order.id }]);
    await emu.waitIdle();
    const ops = await textsTo(users.operator);
    assert.ok(ops.some((t) => t.includes(a.order.id) && t.includes('paid 5 TON for a price of 2.5 TON')), `the operator learns of the second transfer: ${ops.join(' | ')}`);
  });

  test('a transaction the buyer rejects pays nothing', async () => {
    const data = await launch(users.rejecter);
    await link(users.rejecter, data);
    const o = await order(users.rejecter, data, 'desk_lamp');
    const decided = await send(users.rejecter, o.transaction, 'reject');
    assert.equal(decided.status, 'rejected');
    const r = await w.fetch(`/api/ton/orders/${o.order.id}/check`, { method: 'POST', headers: auth(data) });
    assert.equal(r.json.order.status, 'pending');
    assert.equal(r.json.received, null);
  });

  test('unlinking a wallet stops TON orders until one is linked again', async () => {
    const data = await launch(users.rejecter);
    const r = await w.fetch('/api/ton/wallet', { method: 'DELETE', headers: auth(data) });
    assert.equal(r.json.unlinked, true);
    const o = await w.fetch('/api/ton/orders', { method: 'POST', headers: auth(data), body: JSON.stringify({ product_id: 'desk_lamp' }) });
    assertApiError(o, 409, 'wallet_not_linked');
  });
});

describe('TON with toncenter slow, down, then back', () => {
  let w, emu, proxy;
  let mode = 'hang';
  const buyer = { id: 7410001, first_name: 'Dee', language_code: 'en' };

  before(async () => {
    // Between the worker and the emulator's toncenter: hangs, fails, or passes through.
    const port = await freePort();
    proxy = createServer(async (req, res) => {
      if (mode === 'hang') return;
      if (mode === 'down') { res.writeHead(502, { 'content-type': 'text/html' }); res.end('<h1>Bad gateway</h1>'); return; }
      const r = await fetch(`${emu.url}/toncenter${req.url}`);
      res.writeHead(r.status, { 'content-type': 'application/json' });
      res.end(await r.text());
    });
    await new Promise((resolve) => proxy.listen(port, '127.0.0.1', resolve));
    ({ w, emu } = await startWorkerWithEmulator({
      signingSeed: SIGNING_SEED,
      users: [buyer],
      settings: { BOT_API_TIMEOUT_MS: '500' },
      ton: { TON_WALLET: SHOP, TONCENTER_API_BASE: `http://127.0.0.1:${port}` },
    }));
  });
  after(async () => {
    proxy?.closeAllConnections();
    proxy?.close();
    await emu?.stop();
    await w?.dispose();
  });

  const auth = (initData) => ({ authorization: `tma ${initData}`, 'content-type': 'application/json' });

  test('the order stays pending and nothing is lost; a later check settles it', async () => {
    const data = (await emu.launch(buyer.id)).init_data;
    const payload = (await w.fetch('/api/ton/proof-payload', { method: 'POST', headers: auth(data) })).json.payload;
    const event = await emu.post('/control/ton/connect', {
      user_id: buyer.id, origin: w.url,
      request: { manifestUrl: `${w.url}/tonconnect-manifest.json`, items: [{ name: 'ton_addr' }, { name: 'ton_proof', payload }] },
    });
    const addr = event.payload.items.find((i) => i.name === 'ton_addr');
    const proof = event.payload.items.find((i) => i.name === 'ton_proof').proof;
    const linked = await w.fetch('/api/ton/wallet', {
      method: 'POST', headers: auth(data),
      body: JSON.stringify({ account: { address: addr.address, network: addr.network, publicKey: addr.publicKey, walletStateInit: addr.walletStateInit }, proof }),
    });
    assert.equal(linked.status, 200, linked.text);
    // A USDT order needs toncenter to find the buyer's jetton wallet: refused, nothing kept.
    const usdt = await w.fetch('/api/ton/orders', { method: 'POST', headers: auth(data), body: JSON.stringify({ product_id: 'consultation' }) });
    assertApiError(usdt, 503, 'ton_unavailable');
    const o = (await w.fetch('/api/ton/orders', { method: 'POST', headers: auth(data), body: JSON.stringify({ product_id: 'desk_lamp' }) })).json;
    await emu.post('/control/ton/pay', { to: SHOP, amount: String(LAMP), comment: o.comment, user_id: buyer.id });
    await emu.post('/control/ton/finalize', {});
    const check = () => w.fetch(`/api/ton/orders/${o.order.id}/check`, { method: 'POST', headers: auth(data) });
    // Slow: the worker gives up after BOT_API_TIMEOUT_MS.
    assertApiError(await check(), 503, 'ton_unavailable');
    mode = 'down';
    assertApiError(await check(), 503, 'ton_unavailable');
    const worker = await w.mf.getWorker();
    assert.equal((await worker.scheduled({ cron: CRON, scheduledTime: new Date() })).outcome, 'ok');
    const { results } = await w.db.prepare('SELECT status FROM orders WHERE user_id = ?').bind(buyer.id).all();
    assert.deepEqual(results, [{ status: 'pending' }], 'one order, pending');
    mode = 'up';
    const r = await check();
    assert.equal(r.json.order.status, 'paid', r.text);
  });
});
