// The Operator section of the Mini App, end to end: real Chromium inside the emulator's client
// page, against the built worker, with Telegram's own telegram-web-app.js from npm. Purchases are
// made through the emulator (invoice → Stars payment → webhook), a refund through the admin API,
// and what the operator's page shows is checked against them: totals, refund rate, the chart, the
// search and filters, an order's detail, Refund behind Telegram's confirmation popup, and Download
// CSV. A buyer who is not an operator sees none of it, and the operator's routes answer them 403.
//
// The emulator's client page does not answer popups (`web_app_open_popup`) or file downloads
// (`web_app_request_file_download`), so this file plays that part of the client, as
// tests/buyer_page.test.mjs does: it records what the Mini App posts to the client page and
// answers with `postMessage` from it. Screenshots of the operator view in English and Chinese,
// light and dark, go to test-results/ (gitignored); each comes with assertions on what it shows.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { launchChromium, loadInFrame, openEmulatedClient } from './support/browser.mjs';
import { signInitData, tma } from './support/harness.mjs';
import { startWorkerWithEmulator, eventually, slugOf } from './support/emulator.mjs';

const CATALOG = [
  { id: 'field_guide', title: 'Field guide', description: 'A PDF, 40 pages.', currency: 'XTR', amount: 30,
    delivery: { text: 'Your guide: https://files.example/guide.pdf' } },
  { id: 'photo_pack', title: 'Photo pack', description: 'Twenty photos in one archive.', currency: 'XTR', amount: 20,
    delivery: { text: 'Your photos: https://files.example/photos.zip' } },
];
const operator = { id: 8400001, first_name: 'Ada', last_name: 'Lovelace', username: 'ada_ops', language_code: 'en' };
const alice = { id: 8400002, first_name: 'Alice', username: 'alice_buys', language_code: 'en' };
const bob = { id: 8400003, first_name: 'Bob', username: 'bob_buys', language_code: 'en' };
const words = (lang) => JSON.parse(readFileSync(new URL(`../static/locales/${lang}.json`, import.meta.url), 'utf8'));
const en = words('en');
const zh = words('zh');
const THEMES = {
  light: { bg_color: '#ffffff', text_color: '#000000', hint_color: '#999999', button_color: '#2481cc',
    button_text_color: '#ffffff', secondary_bg_color: '#efeff3', section_bg_color: '#ffffff', destructive_text_color: '#e53935' },
  dark: { bg_color: '#17212b', text_color: '#f5f5f5', hint_color: '#708499', button_color: '#5288c1',
    button_text_color: '#ffffff', secondary_bg_color: '#0e1621', section_bg_color: '#17212b', destructive_text_color: '#ec3942' },
};
/** `#rrggbb` as getComputedStyle writes it. */
const rgb = (hex) => `rgb(${[1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)).join(', ')})`;


describe('the Operator section of the Mini App', () => {
  let w, emu, browser;
  /** The orders the test made: alice's guide (paid), bob's pack (refunded), alice's pack (paid). */
  const orders = {};

  /** A Stars purchase through the emulator: invoice, payment, the webhook; the order id once paid. */
  async function buy(user, productId) {
    const r = await w.fetch('/api/invoices', { method: 'POST', headers: tma(user), body: JSON.stringify({ product_id: productId }) });
    assert.equal(r.status, 201, r.text);
    await emu.pay(slugOf(r.json.invoice_link), user.id);
    await eventually(async () => {
      const list = await w.fetch('/api/orders', { headers: tma(user) });
      return list.json?.orders?.find((o) => o.id === r.json.order_id)?.status === 'paid';
    }, { what: `order ${r.json.order_id} to be paid` });
    return r.json.order_id;
  }

  before(async () => {
    let setup;
    ({ w, emu, setup } = await startWorkerWithEmulator({
      settings: { CATALOG: JSON.stringify(CATALOG), ADMIN_CHAT_IDS: String(operator.id) },
      users: [operator, alice, bob],
    }));
    assert.equal(setup.status, 200, setup.text);
    orders.guide = await buy(alice, 'field_guide');
    orders.bobPack = await buy(bob, 'photo_pack');
    orders.alicePack = await buy(alice, 'photo_pack');
    // One refund before the operator looks, through the operator's own route.
    const refund = await w.fetch('/api/admin/refunds', { method: 'POST', headers: tma(operator), body: JSON.stringify({ order_id: orders.bobPack }) });
    assert.equal(refund.status, 200, refund.text);
    assert.equal(refund.json.order.status, 'refunded');
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await emu?.stop();
    await w?.dispose();
  });

  /** The client page for `user` with the emulator's own launch. */
  const openClient = (user) => openEmulatedClient(browser, emu, user);

  let launches = 0;
  /** Loads the Mini App again in the client page's frame, for `user` with `theme`, signed here. */
  async function relaunch(page, user, theme) {
    const initData = signInitData({ query_id: `AAQ${user.id}`, user: JSON.stringify(user) });
    const launch = `launch=${++launches}`;
    const url = `${w.url}/?${launch}#tgWebAppData=${encodeURIComponent(initData)}`
      + `&tgWebAppVersion=9.1&tgWebAppPlatform=tdesktop&tgWebAppThemeParams=${encodeURIComponent(JSON.stringify(theme))}`;
    return loadInFrame(page, w.url, url);
  }

  /** The events of `type` the Mini App posted to the client page, oldest first. */
  const sent = (page, type) => page.evaluate((t) => window.__tgEvents.filter((e) => e.type === t).map((e) => e.data), type);
  /** The client tells the Mini App `eventType`, from the parent window as Telegram's web clients do. */
  const tell = (page, eventType, eventData) => page.evaluate(([type, data]) =>
    document.getElementById('app-frame').contentWindow.postMessage(JSON.stringify({ eventType: type, eventData: data }), '*'),
  [eventType, eventData]);
  /** The Mini App's frame itself (for evaluate). */
  const appFrame = (page) => page.frames().find((f) => f.url().startsWith(`${w.url}/`));

  async function assertClean(page, problems) {
    assert.deepEqual(await appFrame(page).evaluate(() => window.__problems), []);
    assert.deepEqual(problems, []);
  }

  /** Opens the operator view from the home view's card; resolves once the figures are in. */
  async function openOperator(app) {
    await app.locator('#operator-entry').waitFor({ state: 'visible', timeout: 10000 });
    await app.locator('#operator-open').click();
    await app.locator('#operator-view').waitFor({ state: 'visible' });
    await app.locator('#op-revenue:not([aria-busy]) .op-currency[data-currency="XTR"]').waitFor({ timeout: 10000 });
  }
  /** The order ids the list shows, in order. */
  const listed = (app) => app.locator('#op-orders .op-order').evaluateAll((rows) => rows.map((r) => r.dataset.orderId));
  /** A figure of the Stars card: `{text, value}`. */
  async function figure(app, name) {
    const f = app.locator(`.op-currency[data-currency="XTR"] .op-figure[data-figure="${name}"]`);
    return { text: await f.locator('.op-figure-value').textContent(), value: Number(await f.getAttribute('data-value')) };
  }

  test('an operator sees the figures of the purchases made: totals, refunds, refund rate, the chart', async () => {
    const { page, app, problems } = await openClient(operator);
    await openOperator(app);
    assert.equal(await app.locator('#operator-view').getAttribute('data-days'), '30');
    assert.equal(await app.locator('button.op-days[data-days="30"]').getAttribute('aria-pressed'), 'true');

    // Three purchases (30 + 20 + 20 Stars), one of 20 refunded.
    const summary = await w.fetch('/api/admin/summary?days=30', { headers: tma(operator) });
    assert.equal(summary.status, 200, summary.text);
    const stars = summary.json.currencies.find((c) => c.currency === 'XTR');
    assert.ok(stars, summary.text);
    assert.deepEqual([stars.paid_orders, stars.refunds, stars.refunded], [3, 1, 20]);
    assert.equal((await figure(app, 'paid_orders')).value, 3);
    assert.equal((await figure(app, 'refunds')).value, 1);
    assert.deepEqual(await figure(app, 'refunded'), { text: '⭐ 20', value: 20 });
    // Gross: every charge paid in the window; net: less what the refund took back.
    assert.equal(stars.gross, 70);
    assert.deepEqual(await figure(app, 'gross'), { text: '⭐ 70', value: 70 });
    const rate = await figure(app, 'refund_rate');
    assert.equal(rate.text, '33.3%');
    assert.ok(Math.abs(rate.value - 1 / 3) < 1e-6, `refund rate ${rate.value}`);
    assert.equal(stars.net, 50);
    assert.deepEqual(await figure(app, 'net'), { text: '⭐ 50', value: 50 });

    // The chart: one bar (today) with the refund over its foot, a title and desc, the table.
    const chart = app.locator('.op-currency[data-currency="XTR"] svg.chart');
    assert.equal(await chart.getAttribute('role'), 'img');
    assert.match(await chart.locator('title').first().textContent(), /revenue per day, last 30 days/);
    assert.match(await chart.locator('desc').textContent(), /refunded/);
    assert.equal(await chart.locator('rect.chart-bar').count(), 1);
    assert.equal(await chart.locator('rect.chart-refund').count(), 1);
    const today = new Date().toISOString().slice(0, 10);
    assert.equal(await chart.locator('rect.chart-bar').getAttribute('data-date'), today);
    assert.equal(await app.locator('.op-currency[data-currency="XTR"] .chart-table tbody tr').count(), 1);
    assert.deepEqual(await app.locator('.op-currency[data-currency="XTR"] .chart-table tbody td').allTextContents(),
      [today, '⭐ 70', '⭐ 20', '3']);

    // 90 days: the same purchases, 90 slots.
    await app.locator('button.op-days[data-days="90"]').click();
    await eventually(async () => (await app.locator('#operator-view').getAttribute('data-days')) === '90', { what: '90 days' });
    await app.locator('.op-currency[data-currency="XTR"] svg.chart title', { hasText: 'last 90 days' }).waitFor({ state: 'attached' });
    assert.equal(await chart.locator('rect').count(), 2, 'one bar and its refund, of 90 days');
    assert.equal(await chart.locator('rect.chart-bar').count(), 1);

    // Subscriptions, the balance, the reconciliation: as the server says.
    assert.equal(await app.locator('#op-subscriptions .op-line').first().textContent(), 'Active: 0');
    // The emulator's record and ours agree: three Stars payments, one refunded.
    assert.equal(await app.locator('#op-reconciliation').getAttribute('data-state'), 'in_sync');
    assert.equal(await app.locator('#op-reconciliation .op-line').textContent(), 'In sync: 3 payments checked.');
    if (summary.json.star_balance) {
      assert.equal(await app.locator('#op-balance').textContent(), `⭐ ${summary.json.star_balance.amount}`);
    }
    // The MainButton offers the CSV.
    const main = (await sent(page, 'web_app_setup_main_button')).at(-1);
    assert.deepEqual([main.is_visible, main.text], [true, 'Download CSV']);
    await assertClean(page, problems);
    await page.context().close();
  });

  test('search and filters narrow the list; an order opens its detail; Refund asks Telegram first', async () => {
    const { page, app, problems } = await openClient(operator);
    await openOperator(app);
    await eventually(async () => (await listed(app)).length === 3, { what: 'three orders listed' });
    assert.deepEqual(new Set(await listed(app)), new Set(Object.values(orders)));

    await app.locator('#op-search').fill('@bob_buys');
    await eventually(async () => JSON.stringify(await listed(app)) === JSON.stringify([orders.bobPack]), { what: 'the search by username' });
    await app.locator('#op-search').fill(String(alice.id));
    await eventually(async () => (await listed(app)).length === 2, { what: 'the search by user id' });
    await app.locator('#op-search').fill('');
    await app.locator('#op-status').selectOption('refunded');
    await eventually(async () => JSON.stringify(await listed(app)) === JSON.stringify([orders.bobPack]), { what: 'the refunded filter' });
    assert.equal(await app.locator(`#op-orders .op-order[data-order-id="${orders.bobPack}"] .order-status`).getAttribute('data-status'), 'refunded');
    await app.locator('#op-status').selectOption('paid');
    await app.locator('#op-product').selectOption('photo_pack');
    await eventually(async () => JSON.stringify(await listed(app)) === JSON.stringify([orders.alicePack]), { what: 'paid photo packs' });

    // The detail: its charge, its delivery and the delivery's state.
    await app.locator(`#op-orders .op-order[data-order-id="${orders.alicePack}"] button.op-order-main`).click();
    const detail = app.locator(`#operator-order-view[data-order-id="${orders.alicePack}"]`);
    await detail.locator('#op-refund').waitFor({ timeout: 10000 });
    assert.equal(await detail.locator('.op-charges .op-charge').count(), 1);
    assert.match(await detail.locator('.op-charges').textContent(), /20/);
    assert.ok(await detail.locator('.op-deliveries .op-delivery').count() >= 1, 'the goods were queued');
    assert.ok(await detail.locator('.op-deliveries .op-delivery').first().getAttribute('data-state'));
    assert.equal((await sent(page, 'web_app_setup_main_button')).at(-1).text, 'Refund');

    // Refund: Telegram's confirmation first; "cancel" changes nothing.
    await detail.locator('#op-refund').click();
    await eventually(async () => (await sent(page, 'web_app_open_popup')).length === 1, { what: 'the confirmation popup' });
    const popup = (await sent(page, 'web_app_open_popup'))[0];
    assert.equal(popup.message, `Refund ⭐ 20 to @alice_buys for order ${orders.alicePack}? This cannot be undone.`);
    assert.deepEqual(popup.buttons.map((b) => b.type), ['ok', 'cancel']);
    await tell(page, 'popup_closed', {});
    await new Promise((r) => setTimeout(r, 300));
    const still = await w.fetch(`/api/admin/orders/${orders.alicePack}`, { headers: tma(operator) });
    assert.equal(still.json.order.status, 'paid', 'cancelled: no refund');

    // The MainButton asks too; "OK" refunds, and the detail, the list and the figures follow.
    await page.locator('#main-button').click();
    await eventually(async () => (await sent(page, 'web_app_open_popup')).length === 2, { what: 'the second popup' });
    await tell(page, 'popup_closed', { button_id: 'ok' });
    await app.locator('#notice[data-kind="success"]', { hasText: `Order ${orders.alicePack} is refunded.` }).waitFor({ timeout: 10000 });
    await detail.locator('.order-status[data-status="refunded"]').waitFor({ timeout: 10000 });
    assert.equal(await detail.locator('#op-refund').count(), 0);
    const refunded = (await emu.botApi('getStarTransactions')).result.transactions.filter((t) => t.receiver);
    assert.equal(refunded.length, 2, 'two refunds at Telegram');

    await page.locator('#back-button').click();
    await app.locator('#operator-view').waitFor({ state: 'visible' });
    await eventually(async () => (await listed(app)).length === 0, { what: 'no paid photo pack left' });
    await eventually(async () => (await figure(app, 'refunds')).value === 2, { what: 'the figures to follow' });
    await page.locator('#back-button').click();
    await app.locator('#home').waitFor({ state: 'visible' });
    await assertClean(page, problems);
    await page.context().close();
  });

  test('Download CSV: an export link of the filter, handed to Telegram, that returns the CSV', async () => {
    const { page, app, problems } = await openClient(operator);
    await openOperator(app);
    await app.locator('#op-status').selectOption('refunded');
    await eventually(async () => (await listed(app)).length >= 1, { what: 'refunded orders' });
    const refundedIds = new Set(await listed(app));

    // The local worker is plain http, which Telegram does not download from; this stands in for
    // the https origin of a deployed worker: the link the worker made, at https://shop.test.
    const HTTPS = 'https://shop.test';
    const asked = [];
    await page.route('**/api/admin/export-links', async (route) => {
      asked.push(JSON.parse(route.request().postData()));
      const res = await route.fetch();
      const body = await res.json();
      assert.equal(res.status(), 201, JSON.stringify(body));
      const url = new URL(body.url, w.url);
      await route.fulfill({ response: res, json: { ...body, url: `${HTTPS}${url.pathname}${url.search}` } });
    });
    await app.locator('#op-csv').click();
    await eventually(async () => (await sent(page, 'web_app_request_file_download')).length === 1, { what: 'downloadFile' });
    const [download] = await sent(page, 'web_app_request_file_download');
    assert.deepEqual(asked, [{ query: 'status=refunded' }]);
    assert.ok(download.url.startsWith(`${HTTPS}/`), download.url);
    assert.match(download.file_name, /\.csv$/);
    await tell(page, 'file_download_requested', { status: 'downloading' });
    await app.locator('#notice[data-kind="success"]', { hasText: download.file_name }).waitFor({ timeout: 5000 });

    // Fetched (without any authorization: the link is the key), it is the CSV of the filter.
    const csv = await fetch(download.url.replace(HTTPS, w.url));
    assert.equal(csv.status, 200);
    assert.match(csv.headers.get('content-type'), /^text\/csv/);
    const [header, ...lines] = (await csv.text()).trim().split(/\r?\n/);
    const cols = header.split(',');
    assert.ok(cols.includes('order_id') && cols.includes('status'), header);
    assert.ok(lines.length >= 1);
    for (const line of lines) {
      const cells = line.split(',');
      assert.equal(cells[cols.indexOf('status')], 'refunded', line);
      assert.ok(refundedIds.has(cells[cols.indexOf('order_id')]), line);
    }
    await page.unroute('**/api/admin/export-links');

    // On the local http worker itself the page falls back to a plain link download.
    const [file] = await Promise.all([page.waitForEvent('download', { timeout: 10000 }), app.locator('#op-csv').click()]);
    assert.match(file.suggestedFilename(), /\.csv$/);
    assert.match(readFileSync(await file.path(), 'utf8'), /^order_id|,status,/);
    await assertClean(page, problems);
    await page.context().close();
  });

  test('a buyer who is not an operator sees no Operator section, and its calls are 403', async () => {
    const { page, app, problems } = await openClient(bob);
    await app.locator(`#orders .order[data-order-id="${orders.bobPack}"]`).waitFor({ timeout: 10000 });
    assert.equal(await app.locator('#operator-entry').isHidden(), true);
    assert.equal(await app.locator('#operator-view').isHidden(), true);
    for (const [method, path, body] of [
      ['GET', '/api/admin/summary?days=30'],
      ['GET', '/api/admin/orders?format=json'],
      ['GET', `/api/admin/orders/${orders.guide}`],
      ['POST', '/api/admin/refunds', { order_id: orders.guide }],
      ['POST', '/api/admin/export-links', { query: '' }],
    ]) {
      const r = await w.fetch(path, { method, headers: tma(bob), ...(body ? { body: JSON.stringify(body) } : {}) });
      assert.equal(r.status, 403, `${method} ${path}: ${r.text}`);
      assert.equal(r.json.error.code, 'not_operator', path);
    }
    const verify = await w.fetch('/api/verify', { method: 'POST', headers: tma(bob) });
    assert.equal(verify.json.operator, false);
    await assertClean(page, problems);
    await page.context().close();
  });

  for (const lang of ['en', 'zh']) {
    for (const scheme of ['light', 'dark']) {
      test(`the operator view in ${lang}, ${scheme}: its words, the theme's colours, the chart`, async () => {
        const { page, problems } = await openClient(operator);
        const theme = THEMES[scheme];
        const app = await relaunch(page, { ...operator, language_code: lang === 'zh' ? 'zh-hans' : 'en' }, theme);
        const words = lang === 'zh' ? zh : en;
        // The client page answers the SDK's web_app_request_theme with its own (light) theme;
        // a client in this theme says so (as Telegram does when the user switches).
        await tell(page, 'theme_changed', { theme_params: theme });
        await eventually(async () => (await appFrame(page).evaluate(() => document.documentElement.dataset.scheme)) === scheme,
          { what: `the ${scheme} theme` });
        await openOperator(app);
        await app.locator('#op-orders .op-order').first().waitFor({ timeout: 10000 });
        const frame = appFrame(page);
        const look = await frame.evaluate(() => {
          const css = (sel, prop) => getComputedStyle(document.querySelector(sel)).getPropertyValue(prop);
          return {
            lang: document.documentElement.lang,
            scheme: document.documentElement.dataset.scheme,
            body: css('body', 'background-color'),
            card: css('.op-currency', 'background-color'),
            text: css('.op-figure-value', 'color'),
            bar: css('rect.chart-bar', 'fill'),
            csv: css('#op-csv', 'background-color'),
            title: document.querySelector('#operator-view > .section-title').textContent,
          };
        });
        assert.equal(look.lang, lang === 'zh' ? 'zh-Hans' : 'en');
        assert.equal(look.title, words.op_title);
        assert.equal(look.body, rgb(theme.secondary_bg_color));
        assert.equal(look.card, rgb(theme.section_bg_color));
        assert.equal(look.text, rgb(theme.text_color));
        assert.equal(look.bar, rgb(theme.button_color));
        assert.equal(look.csv, rgb(theme.button_color));
        assert.equal(await app.locator('#op-csv').textContent(), words.op_downloadCsv);
        assert.equal(await app.locator('.op-figure[data-figure="gross"] .op-figure-label').first().textContent(), words.op_gross);
        assert.ok(await app.locator('svg.chart rect.chart-bar').count() >= 1, 'bars drawn');
        assert.equal(await app.locator('#op-search').getAttribute('placeholder'), words.op_search);
        assert.equal((await sent(page, 'web_app_setup_main_button')).at(-1).text, words.op_downloadCsv);
        mkdirSync('test-results', { recursive: true });
        const path = `test-results/operator-${lang}-${scheme}.png`;
        await page.locator('#app-frame').screenshot({ path });
        assert.ok(existsSync(path));
        await assertClean(page, problems);
        await page.context().close();
      });
    }
  }

  test('a difference reconciliation finds is shown in words, with its charge', async () => {
    // A charge our store holds that Telegram never made: reconciliation must name it.
    const now = Math.floor(Date.now() / 1000);
    await w.db.prepare(`INSERT INTO payments (telegram_payment_charge_id, provider_payment_charge_id, order_id,
      user_id, currency, amount, paid_at, applied, raw_update) VALUES ('stray_charge', '', ?, ?, 'XTR', 5, ?, 1, '{}')`)
      .bind(orders.guide, alice.id, now).run();
    const { page, app, problems } = await openClient(operator);
    await openOperator(app);
    const rec = app.locator('#op-reconciliation');
    await eventually(async () => (await rec.getAttribute('data-state')) === 'differences', { what: 'the difference shown' });
    assert.equal(await rec.locator('.op-warn').textContent(), 'Checked 4 payments; differences found: 1.');
    const fields = await rec.locator('.op-differences li dd').allTextContents();
    assert.ok(fields.includes('Paid here, but Telegram has no such payment'), fields.join(' | '));
    assert.ok(fields.includes('stray_charge'), fields.join(' | '));
    assert.ok(fields.includes(orders.guide), fields.join(' | '));
    await assertClean(page, problems);
    await page.context().close();
  });
});
