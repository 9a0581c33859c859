// The Mini App's TON and USDT checkout in a real headless Chromium, inside the emulator's client
// page, against the built worker: the page loads @tonconnect/ui (the pinned npm bundle, copied
// to static/vendor/ by `make vendor`) and the emulator's injected wallet, the user connects it
// through TON Connect's own wallet list with ton_proof, pays a TON and a USDT product by
// confirming in the emulated wallet, declines one, and disconnects. Then a Stars-only shop,
// which must never load the TON Connect bundle. No mocks: the chain, toncenter and the wallet
// are the emulator's.
//
// The TON tests share one page, in order (connect → buy → buy → reopen and decline →
// disconnect → buy with no wallet → disconnect in the wallet), as a user would: each starts
// from where the previous one left the wallet.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { launchChromium } from './support/browser.mjs';
import { tma } from './support/harness.mjs';
import { startWorkerWithEmulator, eventually } from './support/emulator.mjs';

const BUNDLE = '/vendor/tonconnect-ui.min.js';
// The shop's wallet: any address (the emulator's chain accepts what arrives).
const SHOP = '0:5a0b0000000000000000000000000000000000000000000000000000000000b1';
const LAMP = { id: 'desk_lamp', amount: '2500000000', price: '2.5 TON' };
const CALL = { id: 'consultation', amount: '15000000', price: '15.00 USDT' };
const buyer = { id: 7500001, first_name: 'Nikola', last_name: 'Tesla', language_code: 'en' };

// Runs in every frame before its scripts: records uncaught errors and CSP violations where they happen.
function recordProblems() {
  const problems = (window.__problems = []);
  window.addEventListener('error', (e) => problems.push(`error: ${e.message}`));
  window.addEventListener('unhandledrejection', (e) => problems.push(`unhandledrejection: ${e.reason}`));
  document.addEventListener('securitypolicyviolation', (e) =>
    problems.push(`csp: ${e.violatedDirective} blocked ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}:${e.columnNumber} ${e.sample}`));
}

/** One Chromium for the whole file. */
let chromiumStarted = null;
function sharedChromium() {
  chromiumStarted ??= launchChromium();
  return chromiumStarted;
}
after(async () => { await (await chromiumStarted)?.close(); });

/**
 * A fresh context and page. `problems`: page errors and CSP reports (console errors about
 * unreachable hosts are the sandbox's, not the page's: TON Connect may look up its wallet
 * list on the internet and falls back to its built-in one). `requests`: every URL requested.
 */
async function newPage(browser) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await context.addInitScript(recordProblems);
  const page = await context.newPage();
  const problems = [];
  const requests = [];
  page.on('pageerror', (e) => problems.push(`pageerror in ${page.url()}: ${e.message}`));
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) problems.push(`console ${m.type()} at ${m.location().url}: ${m.text()}`);
  });
  page.on('request', (r) => requests.push(r.url()));
  return { page, problems, requests };
}

/** The Mini App frame's own record of errors and CSP violations. */
async function frameProblems(page, workerUrl) {
  const frame = page.frames().find((f) => f.url().startsWith(`${workerUrl}/`));
  assert.ok(frame, 'the Mini App frame is loaded from the worker');
  return frame.evaluate(() => window.__problems);
}

describe('paying in TON and USDT from the Mini App through TON Connect', () => {
  let w, emu, browser, page, app, problems, requests;
  const headers = () => tma(buyer);
  const shopWallet = () => emu.get(`/control/ton/accounts/${encodeURIComponent(SHOP)}`);
  const order = async (id) => (await w.db.prepare('SELECT status, currency, amount, telegram_payment_charge_id FROM orders WHERE id = ?')
    .bind(id).all()).results[0];

  before(async () => {
    let setup;
    ({ w, emu, setup } = await startWorkerWithEmulator({ ton: { TON_WALLET: SHOP }, users: [buyer] }));
    assert.equal(setup.status, 200, setup.text);
    browser = await sharedChromium();
    ({ page, problems, requests } = await newPage(browser));
    app = page.frameLocator('#app-frame');
  });

  after(async () => {
    await page?.context().close();
    await emu?.stop();
    await w?.dispose();
  });

  test('the wallet list of TON Connect connects the emulator wallet with ton_proof; the worker links it', async () => {
    await page.goto(`${emu.url}/?user_id=${buyer.id}`);
    await page.locator('body[data-ready="true"]').waitFor({ timeout: 10000 });
    await app.locator('#user-name', { hasText: 'Nikola Tesla' }).waitFor({ timeout: 15000 });

    // TON products are on sale, priced in their units; the bundle came from this origin.
    const lamp = app.locator(`#products .product[data-product-id="${LAMP.id}"]`);
    assert.equal(await lamp.locator('.price').textContent(), LAMP.price);
    assert.equal(await app.locator(`#products .product[data-product-id="${CALL.id}"] .price`).textContent(), CALL.price);
    const bar = app.locator('#wallet');
    await app.locator('#wallet[data-state="none"]').waitFor({ timeout: 15000 });
    assert.ok(requests.includes(`${w.url}${BUNDLE}`), 'the page loads @tonconnect/ui from its own origin');
    assert.ok(requests.includes(`${emu.url}/tonconnect-wallet.js`), 'and the dev wallet script');
    assert.equal(await app.locator('#wallet-disconnect').isHidden(), true);

    // The real user's path: TON Connect's own list (desktop layout in the 460 px frame).
    await app.locator('#wallet-connect').click();
    const listed = app.getByText('Emulator Wallet', { exact: true }).first();
    await listed.waitFor({ timeout: 15000 });
    await listed.click();

    await app.locator('#wallet[data-state="linked"]').waitFor({ timeout: 15000 });
    const mine = await emu.get(`/control/ton/wallets/${buyer.id}`);
    assert.equal((await app.locator('#wallet-address').getAttribute('data-raw')).toLowerCase(), mine.address_raw.toLowerCase());
    assert.equal(await app.locator('#wallet-address').getAttribute('title'), mine.address_non_bounceable);
    assert.match(await app.locator('#wallet-address').textContent(), /^\S{6}…\S{4}$/);
    await app.locator('#notice', { hasText: 'Wallet connected' }).waitFor();
    assert.equal(await bar.locator('#wallet-connect').isHidden(), true);

    // The worker checked the proof and linked this wallet to this Telegram user.
    const linked = await w.fetch('/api/ton/wallet', { headers: headers() });
    assert.equal(linked.status, 200, linked.text);
    assert.equal(linked.json.wallet.address.toLowerCase(), mine.address_raw.toLowerCase());
    assert.equal(linked.json.wallet.network, '-239');
    // The wallet fetched the shop's manifest and signed for the worker's host.
    const [conn, ...more] = await emu.get(`/control/ton/connections?user_id=${buyer.id}`);
    assert.equal(more.length, 0);
    assert.equal(conn.manifest_url, `${w.url}/tonconnect-manifest.json`);
    assert.equal(conn.domain, new URL(w.url).host);
    assert.deepEqual(conn.warnings, []);
  });

  /**
   * Taps Buy on `product`, checks the wallet's confirm panel and decides; the order id
   * (from the comment the wallet shows).
   */
  async function buyAndDecide(product, kind, decision) {
    await app.locator(`#products .product[data-product-id="${product.id}"] button.buy`).click();
    const panel = page.locator('#ton-confirm[data-status="pending"]');
    await panel.waitFor({ state: 'visible', timeout: 15000 });
    const message = page.locator('#ton-confirm-messages li[data-testid="ton-confirm-message"]');
    assert.equal(await message.count(), 1);
    assert.equal(await message.getAttribute('data-kind'), kind);
    const text = await message.textContent();
    const id = text.match(/tma-pay:([\w-]{22})/)?.[1];
    assert.ok(id, `the comment names the order: ${text}`);
    assert.ok(!text.includes('not your jetton wallet'), text);
    // The page says what to do meanwhile; the order is pending already.
    await app.locator('#notice', { hasText: 'Confirm the payment' }).waitFor();
    assert.equal((await order(id)).status, 'pending');
    await page.locator(decision === 'confirm' ? '#ton-confirm-button' : '#ton-reject-button').click();
    await page.locator('#ton-confirm').waitFor({ state: 'hidden', timeout: 15000 });
    return id;
  }

  test('buying the TON product: the wallet sends the price with the comment; the page shows it paid', async () => {
    const id = await buyAndDecide(LAMP, 'comment', 'confirm');

    await app.locator('#status[data-kind="success"]', { hasText: 'Payment received' }).waitFor({ timeout: 30000 });
    assert.equal(await app.locator('#status').textContent(), 'Payment received, thank you! "Brass desk lamp" is yours.');
    await app.locator(`#orders .order[data-order-id="${id}"] .order-status[data-status="paid"]`).waitFor({ timeout: 10000 });
    assert.equal(await app.locator('#error').isHidden(), true);

    // The worker recorded it from the chain: the transfer that paid is the charge.
    const row = await order(id);
    assert.deepEqual([row.status, row.currency, String(row.amount)], ['paid', 'TON', LAMP.amount]);
    const txs = await emu.get(`/control/ton/transactions?account=${encodeURIComponent(SHOP)}`);
    const paid = txs.filter((t) => t.in_msg?.message_content?.decoded?.comment === `tma-pay:${id}`);
    assert.equal(paid.length, 1);
    assert.equal(paid[0].in_msg.value, LAMP.amount);
    assert.equal(paid[0].finality, 'finalized');
    assert.ok(row.telegram_payment_charge_id, 'the transaction hash is the charge id');

    // The goods reached the buyer's chat.
    await page.locator('#chat [data-testid="message"].from-bot', { hasText: 'shipping address' }).waitFor({ timeout: 10000 });
    await app.locator(`#products .product.owned[data-product-id="${LAMP.id}"]`).waitFor({ timeout: 10000 });
  });

  test('buying the USDT product: a jetton transfer from the buyer\'s USDT wallet; the page shows it paid', async () => {
    const id = await buyAndDecide(CALL, 'jetton_transfer', 'confirm');
    await app.locator('#status[data-kind="success"]', { hasText: 'One-hour consultation' }).waitFor({ timeout: 30000 });
    await app.locator(`#orders .order[data-order-id="${id}"] .order-status[data-status="paid"]`).waitFor({ timeout: 10000 });
    const row = await order(id);
    assert.deepEqual([row.status, row.currency, String(row.amount)], ['paid', 'USDT', CALL.amount]);

    // The shop's USDT jetton wallet holds the price; the buyer's lost it.
    const usdt = (await emu.get('/control/ton')).usdt_master.raw.toLowerCase();
    const jw = (await shopWallet()).jetton_wallets.find((j) => j.master.toLowerCase() === usdt);
    assert.equal(String(jw?.balance), CALL.amount);
    assert.equal(String((await emu.get(`/control/ton/wallets/${buyer.id}`)).usdt_balance), String(100_000_000 - Number(CALL.amount)));
    await page.locator('#chat [data-testid="message"].from-bot', { hasText: 'Pick a time for your call' }).waitFor({ timeout: 10000 });
  });

  test('reopened, the app restores the connection; declined in the wallet, the order stays pending until paid', async () => {
    // A new launch of the Mini App: TON Connect restores the session (no proof this time),
    // and it is the wallet the worker linked, so it can pay at once.
    await page.locator('#reload-app').click();
    await app.locator('#user-name', { hasText: 'Nikola Tesla' }).waitFor({ timeout: 15000 });
    await app.locator('#wallet[data-state="linked"]').waitFor({ timeout: 15000 });
    await app.locator('#products .product.owned[data-product-id="consultation"]').waitFor({ timeout: 10000 });

    const id = await buyAndDecide(LAMP, 'comment', 'reject');
    await app.locator('#notice[data-kind="info"]', { hasText: 'You declined the payment in your wallet' }).waitFor({ timeout: 10000 });
    assert.equal(await app.locator('#error').isHidden(), true);
    await app.locator(`#orders .order[data-order-id="${id}"] .order-status[data-status="pending"]`).waitFor({ timeout: 10000 });
    const [request] = await emu.get(`/control/ton/requests?user_id=${buyer.id}&status=rejected`);
    assert.ok(request, 'the wallet recorded the rejection');

    // Nothing went on chain: the worker finds nothing to settle.
    const check = await w.fetch(`/api/ton/orders/${id}/check`, { method: 'POST', headers: headers() });
    assert.equal(check.status, 200, check.text);
    assert.deepEqual([check.json.order.status, check.json.received], ['pending', null]);
    assert.equal((await order(id)).status, 'pending');
    // Buttons are usable again.
    assert.equal(await app.locator(`#products .product[data-product-id="${LAMP.id}"] button.buy`).isDisabled(), false);

    // The order's view offers to look on chain: nothing yet; then the buyer pays it from the
    // wallet by hand, with the comment, and the next look finds it.
    await app.locator(`#orders .order[data-order-id="${id}"] button.order-main`).click();
    const checkButton = app.locator('#order-view button.check-payment');
    await checkButton.click();
    await app.locator('#notice', { hasText: 'No payment for this order has arrived yet.' }).waitFor({ timeout: 10000 });
    await emu.post('/control/ton/pay', { user_id: buyer.id, to: SHOP, amount: LAMP.amount, comment: `tma-pay:${id}` });
    await emu.post('/control/ton/finalize', {});
    await checkButton.click();
    await app.locator('#notice[data-kind="success"]', { hasText: 'Brass desk lamp' }).waitFor({ timeout: 10000 });
    await app.locator(`#order-view .order-detail[data-order-id="${id}"] .order-status[data-status="paid"]`).waitFor({ timeout: 10000 });
    await app.locator('#order-view .order-delivery .delivery-text', { hasText: 'shipping address' }).waitFor();
    assert.equal(await checkButton.count(), 0, 'a paid order has nothing to check');
    assert.equal((await order(id)).status, 'paid');
    await page.locator('#back-button').click();
    await app.locator('#home').waitFor();
  });

  test('Disconnect unlinks the wallet at the worker and ends the wallet\'s connection', async () => {
    await app.locator('#wallet-disconnect').click();
    await app.locator('#wallet[data-state="none"]').waitFor({ timeout: 10000 });
    await app.locator('#notice', { hasText: 'Wallet disconnected' }).waitFor();
    const linked = await w.fetch('/api/ton/wallet', { headers: headers() });
    assert.equal(linked.status, 200, linked.text);
    assert.equal(linked.json.wallet, null);
    await eventually(async () => (await emu.get(`/control/ton/connections?user_id=${buyer.id}`)).length === 0,
      { what: 'the wallet to forget the connection' });
  });

  test('with no wallet, Buy connects one first and goes on to pay; Disconnect apps in the wallet unlinks it', async () => {
    await app.locator(`#products .product[data-product-id="${LAMP.id}"] button.buy`).click();
    await app.locator('#notice', { hasText: 'Connect a TON wallet to pay for "Brass desk lamp"' }).waitFor({ timeout: 10000 });
    const listed = app.getByText('Emulator Wallet', { exact: true }).first();
    await listed.waitFor({ timeout: 15000 });
    await listed.click();
    await app.locator('#wallet[data-state="linked"]').waitFor({ timeout: 15000 });
    // Linked, the purchase goes on by itself: the wallet is asked to pay.
    const panel = page.locator('#ton-confirm[data-status="pending"]');
    await panel.waitFor({ state: 'visible', timeout: 15000 });
    assert.match(await page.locator('#ton-confirm-messages').textContent(), /tma-pay:/);
    await page.locator('#ton-reject-button').click();
    await app.locator('#notice', { hasText: 'You declined the payment' }).waitFor({ timeout: 10000 });
    assert.ok((await w.fetch('/api/ton/wallet', { headers: headers() })).json.wallet, 'linked');

    // The wallet ends the connection from its side (its "Disconnect apps"): the shop unlinks.
    await page.locator('#ton-disconnect').click();
    await app.locator('#wallet[data-state="none"]').waitFor({ timeout: 10000 });
    await eventually(async () => (await w.fetch('/api/ton/wallet', { headers: headers() })).json.wallet === null,
      { what: 'the worker to unlink the wallet' });

    // The whole session: no uncaught errors, no CSP violations, in the Mini App or the client.
    assert.deepEqual(await frameProblems(page, w.url), []);
    assert.deepEqual(await page.evaluate(() => window.__problems), []);
    assert.deepEqual(problems, []);
    mkdirSync('test-results', { recursive: true });
    await page.screenshot({ path: 'test-results/ton-browser.png', fullPage: true });
  });
});

describe('a shop that sells for Stars only', () => {
  let w, emu, browser;

  before(async () => {
    ({ w, emu } = await startWorkerWithEmulator());
    browser = await sharedChromium();
  });
  after(async () => {
    await emu?.stop();
    await w?.dispose();
  });

  test('never loads the TON Connect bundle, shows no wallet bar and breaks no CSP rule', async () => {
    const { page, problems, requests } = await newPage(browser);
    await page.goto(`${emu.url}/?user_id=${buyer.id}`);
    await page.locator('body[data-ready="true"]').waitFor({ timeout: 10000 });
    const app = page.frameLocator('#app-frame');
    await app.locator('#products .product[data-product-id="sticker_pack"]').waitFor({ timeout: 15000 });
    await app.locator('#orders:not([aria-busy])').waitFor();
    assert.equal(await app.locator('#products .product[data-product-id="desk_lamp"]').count(), 0);
    assert.equal(await app.locator('#wallet').isHidden(), true);
    // Neither TON Connect's bundle nor the dev wallet (the client page's own wallet side aside).
    assert.deepEqual(requests.filter((u) => u.startsWith(`${w.url}/vendor/`) || u.includes('tonconnect-ui')
      || u === `${emu.url}/tonconnect-wallet.js`), []);
    assert.ok(requests.includes(`${w.url}/api/products`), 'the catalog was read');
    assert.equal(await page.frameLocator('#app-frame').locator('body').evaluate(() => 'TON_CONNECT_UI' in window), false);
    assert.deepEqual(await frameProblems(page, w.url), []);
    assert.deepEqual(problems, []);
    await page.context().close();
  });
});
