// The Mini App in a real headless Chromium, inside the emulator's client page (which plays the
// Telegram app), with Telegram's real telegram-web-app.js from the npm package, against the built
// worker with local D1. Buys the sticker pack through the payment sheet and checks the page.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { launchChromium } from './support/browser.mjs';
import { startWorkerWithEmulator } from './support/emulator.mjs';

const SCREENSHOT = 'test-results/browser-paid.png';
const user = { id: 8200001, first_name: 'Grace', last_name: 'Hopper', username: 'grace', language_code: 'en' };

// Runs in every frame before its scripts: records uncaught errors and CSP violations where they happen.
function recordProblems() {
  const problems = (window.__problems = []);
  window.addEventListener('error', (e) => problems.push(`error: ${e.message}`));
  window.addEventListener('unhandledrejection', (e) => problems.push(`unhandledrejection: ${e.reason}`));
  document.addEventListener('securitypolicyviolation', (e) =>
    problems.push(`csp: ${e.violatedDirective} blocked ${e.blockedURI}`));
}

describe('the Mini App in Chromium inside the emulated Telegram client', () => {
  let w, emu, browser;

  before(async () => {
    let setup;
    ({ w, emu, setup } = await startWorkerWithEmulator());
    assert.equal(setup.status, 200, setup.text);
    await emu.upsertUser(user);
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await emu?.stop();
    await w?.dispose();
  });

  /** A fresh context and page; `problems` collects page errors and console errors / CSP reports. */
  async function newPage() {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    await context.addInitScript(recordProblems);
    const page = await context.newPage();
    const problems = [];
    page.on('pageerror', (e) => problems.push(`pageerror in ${page.url()}: ${e.message}`));
    page.on('console', (m) => {
      const where = m.location().url || '';
      // The client page has no favicon: Chromium's own /favicon.ico probe 404s there. Not the app.
      if (where.endsWith('/favicon.ico') && where.startsWith(emu.url)) return;
      if (m.type() === 'error' || /Content Security Policy/i.test(m.text())) {
        problems.push(`console ${m.type()} at ${where}: ${m.text()}`);
      }
    });
    return { page, problems };
  }

  test('/start → Open the shop → verified user → Buy → pay sheet → Pay → order paid in the app', async () => {
    const { page, problems } = await newPage();
    await page.goto(`${emu.url}/?user_id=${user.id}`);
    await page.locator('body[data-ready="true"]').waitFor({ timeout: 10000 });
    const iframe = page.locator('#app-frame');
    const app = page.frameLocator('#app-frame');

    // The user sends /start in the chat; the bot's reply carries a web_app button to the worker's page.
    await page.locator('#chat-input').fill('/start');
    await page.locator('#chat-send').click();
    const reply = page.locator('#chat [data-testid="message"].from-bot', { hasText: 'Welcome!' });
    await reply.waitFor({ timeout: 10000 });
    const open = reply.locator('[data-testid="inline-button"][data-kind="web_app"]');
    assert.equal(await open.textContent(), '🛍 Open the shop');
    await open.click();
    await page.waitForFunction((url) => {
      const f = document.getElementById('app-frame');
      return f.dataset.launchUrl && f.dataset.launchUrl.startsWith(url + '#tgWebAppData=') && f.src === f.dataset.launchUrl;
    }, `${w.url}/`, { timeout: 10000 });
    assert.ok((await iframe.getAttribute('data-launch-url')).includes('tgWebAppPlatform='));

    // Telegram's script read the launch data, the worker verified it.
    await app.locator('#user-name', { hasText: 'Grace Hopper' }).waitFor({ timeout: 15000 });
    await app.locator('#status[data-kind="success"]', { hasText: 'Verified as Grace Hopper' }).waitFor();
    assert.equal(await app.locator('#outside-telegram').isHidden(), true);

    const card = app.locator('#products .product[data-product-id="sticker_pack"]');
    await card.waitFor();
    assert.equal(await card.locator('.product-title').textContent(), 'Sticker pack');
    assert.match(await card.locator('.price').textContent(), /⭐\s*50/);
    await card.locator('button.buy').click();

    // The emulated client opens its payment sheet for the invoice the worker created.
    const sheet = page.locator('#pay-sheet');
    await sheet.waitFor({ state: 'visible', timeout: 10000 });
    assert.equal(await page.locator('#pay-title').textContent(), 'Sticker pack');
    assert.match(await page.locator('#pay-price').textContent(), /50\s*⭐/);
    const slug = await sheet.getAttribute('data-slug');
    const invoice = await emu.invoice(slug);
    assert.match(invoice.payload, /^[\w-]{22}:sticker_pack$/);
    const orderId = invoice.payload.split(':')[0];

    await page.locator('#pay-button').click();
    await sheet.waitFor({ state: 'hidden', timeout: 15000 });
    assert.equal(await page.locator('#last-invoice-status').getAttribute('data-status'), 'paid');

    // The app polls the worker until the webhook has recorded the payment.
    const row = app.locator(`#orders .order[data-order-id="${orderId}"]`);
    await row.locator('.order-status[data-status="paid"]').waitFor({ timeout: 20000 });
    assert.equal(await row.locator('.order-title').textContent(), 'Sticker pack');
    const status = app.locator('#status');
    await app.locator('#status[data-kind="success"]', { hasText: 'Payment received' }).waitFor({ timeout: 10000 });
    assert.equal(await status.textContent(), 'Payment received, thank you! "Sticker pack" is yours.');
    assert.equal(await app.locator('#error').isHidden(), true);

    // The bot's receipt shows up in the emulated chat too.
    await page.locator('#chat [data-testid="message"].from-bot', { hasText: 'Payment received: Sticker pack' })
      .waitFor({ timeout: 10000 });

    mkdirSync('test-results', { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });

    // And the other side agrees: D1 has the payment, the emulator delivered the receipt.
    await emu.waitIdle();
    const { results } = await w.db.prepare('SELECT status, telegram_payment_charge_id FROM orders WHERE id = ?').bind(orderId).all();
    assert.equal(results[0].status, 'paid');
    const charge = (await emu.charges()).find((c) => c.invoice_payload === invoice.payload);
    assert.equal(results[0].telegram_payment_charge_id, charge.telegram_payment_charge_id);
    const receipts = (await emu.sent(user.id)).filter((m) => m.text?.includes(`Order ${orderId}.`));
    assert.equal(receipts.length, 1);

    // The order view shows what was bought (the goods, only now that it is paid).
    await row.locator('button.order-main').click();
    await app.locator('#order-view .order-delivery a.delivery-link[href^="https://t.me/addstickers/"]').waitFor({ timeout: 10000 });
    assert.match(await app.locator('#order-view .delivery-text').textContent(), /Thank you!/);
    assert.equal(await app.locator('#products .product.owned[data-product-id="sticker_pack"]').count(), 1);

    // The app talked to the client through Telegram's protocol.
    const events = await page.locator('#event-log li[data-testid="event"]').evaluateAll(
      (lis) => lis.map((li) => li.dataset.eventType));
    assert.ok(events.includes('web_app_open_invoice'), events.join(', '));
    assert.ok(events.some((e) => /invoice_closed/.test(e)), events.join(', '));

    // No uncaught errors or CSP violations in the Mini App frame (nor in the client page).
    const frame = page.frames().find((f) => f.url().startsWith(`${w.url}/`));
    assert.ok(frame, 'the Mini App frame is loaded from the worker');
    assert.deepEqual(await frame.evaluate(() => window.__problems), []);
    assert.deepEqual(await page.evaluate(() => window.__problems), []);
    assert.deepEqual(problems, []);
    await page.context().close();
  });

  test('a deep link opens the product; the subscription is owned and its renewal can be turned off and on', async () => {
    const subscriber = { id: 8200002, first_name: 'Ada', language_code: 'en' };
    await emu.upsertUser(subscriber);
    const { page, problems } = await newPage();
    await page.goto(`${emu.url}/?user_id=${subscriber.id}`);
    await page.locator('body[data-ready="true"]').waitFor({ timeout: 10000 });
    const app = page.frameLocator('#app-frame');

    // t.me/<bot>?start=buy_pro_monthly arrives as "/start buy_pro_monthly".
    await page.locator('#chat-input').fill('/start buy_pro_monthly');
    await page.locator('#chat-send').click();
    const reply = page.locator('#chat [data-testid="message"].from-bot', { hasText: 'Pro membership, ⭐ 250' });
    await reply.waitFor({ timeout: 10000 });
    await reply.locator('[data-testid="inline-button"][data-kind="web_app"]').click();
    const card = app.locator('#products .product[data-product-id="pro_monthly"]');
    await app.locator('#products .product.selected[data-product-id="pro_monthly"]').waitFor({ timeout: 15000 });
    assert.equal(await app.locator('#products .product.selected').count(), 1);

    await card.locator('button.buy').click();
    const sheet = page.locator('#pay-sheet');
    await sheet.waitFor({ state: 'visible', timeout: 10000 });
    const { payload } = await emu.invoice(await sheet.getAttribute('data-slug'));
    const orderId = payload.split(':')[0];
    await page.locator('#pay-button').click();
    await sheet.waitFor({ state: 'hidden', timeout: 15000 });
    await app.locator(`#orders .order[data-order-id="${orderId}"] .order-status[data-status="paid"]`).waitFor({ timeout: 20000 });
    await app.locator('#products .product.owned[data-product-id="pro_monthly"] .owned-badge', { hasText: 'Active until' })
      .waitFor({ timeout: 10000 });

    // The order view: cancel renewal → Telegram (the emulator) has it cancelled → resume.
    await app.locator(`#orders .order[data-order-id="${orderId}"] button.order-main`).click();
    const charge = async () => (await emu.charges()).find((c) => c.invoice_payload === payload);
    await app.locator('#order-view button.renewal[data-action="cancel"]').click();
    await app.locator('#order-view button.renewal[data-action="resume"]').waitFor({ timeout: 10000 });
    assert.equal((await charge()).subscription.is_canceled, true);
    await app.locator('#order-view button.renewal[data-action="resume"]').click();
    await app.locator('#order-view button.renewal[data-action="cancel"]').waitFor({ timeout: 10000 });
    assert.equal((await charge()).subscription.is_canceled, false);

    const frame = page.frames().find((f) => f.url().startsWith(`${w.url}/`));
    assert.deepEqual(await frame.evaluate(() => window.__problems), []);
    assert.deepEqual(problems, []);
    await page.context().close();
  });

  test('opened directly in a browser (no launch data) the page says to open it from Telegram', async () => {
    const { page, problems } = await newPage();
    const res = await page.goto(`${w.url}/`);
    assert.equal(res.status(), 200);
    const outside = page.locator('#outside-telegram');
    await outside.waitFor({ state: 'visible', timeout: 10000 });
    assert.match(await outside.locator('h1').textContent(), /Open this page from the bot in Telegram/);
    assert.equal(await page.locator('#home').isHidden(), true);
    assert.equal(await page.locator('#status').getAttribute('data-kind'), 'error');
    // Telegram's script did load (from the emulator, allowed by the CSP); there was just no launch data.
    assert.equal(await page.evaluate(() => typeof window.Telegram?.WebApp), 'object');
    assert.deepEqual(await page.evaluate(() => window.__problems), []);
    assert.deepEqual(problems, []);
    await page.context().close();
  });
});
