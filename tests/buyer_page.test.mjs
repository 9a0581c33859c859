// The buyer's page, completed: asking once per launch to let the bot message the buyer
// (requestWriteAccess) and what a refusal means, saving a delivered file at an https URL
// (downloadFile), Telegram's SecondaryButton beside the MainButton in the order view, and the
// safe-area insets of fullscreen. Real Chromium, inside the emulator's client page, against the
// built worker, with Telegram's own telegram-web-app.js from npm.
//
// The emulator's client page does not answer `web_app_request_write_access`,
// `web_app_request_file_download` or `web_app_setup_secondary_button`, launches with
// `allows_write_to_pm: true` only, and reports zero safe-area insets. So this file plays that
// part of the client itself, with the protocol telegram-web-app.js speaks to an iframe's parent:
// it records what the Mini App posts to the client page (`{eventType, eventData}`), answers with
// `postMessage` from the client page (the SDK takes events only from `window.parent`), and
// loads launches it signs itself (HMAC with the bot token, as the emulator does) when the launch
// data must say something the emulator's does not.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { launchChromium, loadInFrame, openEmulatedClient } from './support/browser.mjs';
import { signInitData, tma } from './support/harness.mjs';
import { startWorkerWithEmulator, eventually } from './support/emulator.mjs';

const GUIDE_URL = 'https://files.example/guides/field%20guide.pdf';
const CATALOG = [
  { id: 'field_guide', title: 'Field guide', description: 'A PDF, 40 pages.', currency: 'XTR', amount: 30,
    delivery: { document: GUIDE_URL, text: 'Enjoy the read!' } },
  { id: 'photo_pack', title: 'Photo pack', description: 'Twenty photos in one archive.', currency: 'XTR', amount: 20,
    delivery: { document: 'BQACAgIAAxkBAAIBphotoPackFileId' } },
  { id: 'pro_monthly', title: 'Pro membership', description: '30 days of Pro.', currency: 'XTR', amount: 250,
    subscription_period: 2592000 },
];
/** Opens the page from the emulator's own launch: `allows_write_to_pm: true`. */
const allowing = { id: 8300001, first_name: 'Lise', last_name: 'Meitner', language_code: 'en' };
/** Launched with `allows_write_to_pm: false` (a direct t.me link, never started the bot). */
const stranger = { id: 8300002, first_name: 'Emmy', last_name: 'Noether', language_code: 'en' };
/** Launched without the field at all, in Chinese. */
const newcomer = { id: 8300003, first_name: 'Wu', last_name: 'Jianxiong', language_code: 'zh-hans' };
/** A Chinese buyer and a French one (a language the shop does not speak: English). */
const chinese = { id: 8300004, first_name: '小明', language_code: 'zh-hans' };
const french = { id: 8300005, first_name: 'Jeanne', language_code: 'fr' };
/** The words of the page, from the files it loads them from. */
const words = (lang) => JSON.parse(readFileSync(new URL(`../static/locales/${lang}.json`, import.meta.url), 'utf8'));


describe('the buyer\'s page: write access, saving files, the SecondaryButton, safe areas', () => {
  let w, emu, browser;

  before(async () => {
    let setup;
    ({ w, emu, setup } = await startWorkerWithEmulator({
      // One unpaid order per buyer: a second one is refused with an error code to show in words.
      settings: { CATALOG: JSON.stringify(CATALOG), MAX_PENDING_ORDERS: '1' },
      users: [allowing, stranger, newcomer, chinese, french],
    }));
    assert.equal(setup.status, 200, setup.text);
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await emu?.stop();
    await w?.dispose();
  });

  /** The client page for `user` with the emulator's own launch (`allows_write_to_pm: true`). */
  const openClient = (user) => openEmulatedClient(browser, emu, user);

  let launches = 0;
  /**
   * Loads the Mini App in the client page's frame with launch data signed here, for `user`
   * with `userExtra` (e.g. `allows_write_to_pm: false`), and forgets the events so far.
   */
  async function relaunch(page, user, userExtra) {
    const initData = signInitData({ query_id: `AAQ${user.id}`, user: JSON.stringify({ ...user, ...userExtra }) });
    const theme = { bg_color: '#ffffff', text_color: '#000000', button_color: '#2481cc', button_text_color: '#ffffff', secondary_bg_color: '#f1f1f1' };
    // A query that changes with each launch: a new document, not a hash change.
    const url = `${w.url}/?launch=${++launches}#tgWebAppData=${encodeURIComponent(initData)}`
      + `&tgWebAppVersion=9.1&tgWebAppPlatform=tdesktop&tgWebAppThemeParams=${encodeURIComponent(JSON.stringify(theme))}`;
    return loadInFrame(page, w.url, url);
  }

  /** The events of `type` the Mini App posted to the client page, oldest first. */
  const sent = (page, type) => page.evaluate((t) => window.__tgEvents.filter((e) => e.type === t).map((e) => e.data), type);
  /** The last `web_app_setup_{main,secondary}_button` the app posted: what the button shows now. */
  async function button(page, which) {
    const all = await sent(page, `web_app_setup_${which}_button`);
    return all.at(-1) ?? { is_visible: false };
  }
  /** Asserts the `expected` fields of a button's last setup (the others are colours and such). */
  async function assertButton(page, which, expected) {
    const b = await button(page, which);
    const got = Object.fromEntries(Object.keys(expected).map((k) => [k, b[k]]));
    assert.deepEqual(got, expected, `${which} button: ${JSON.stringify(b)}`);
  }
  /** The client tells the Mini App `eventType` (as Telegram's web clients do, from the parent window). */
  const tell = (page, eventType, eventData) => page.evaluate(([type, data]) =>
    document.getElementById('app-frame').contentWindow.postMessage(JSON.stringify({ eventType: type, eventData: data }), '*'),
  [eventType, eventData]);

  /** Taps Buy on `productId`; resolves once the emulated payment sheet is open, with the order id. */
  async function openSheet(page, app, productId) {
    await app.locator(`#products .product[data-product-id="${productId}"] button.buy`).click();
    return sheetOpened(page);
  }
  async function sheetOpened(page) {
    const sheet = page.locator('#pay-sheet');
    await sheet.waitFor({ state: 'visible', timeout: 10000 });
    const { payload } = await emu.invoice(await sheet.getAttribute('data-slug'));
    return payload.split(':')[0];
  }
  /** Pays the open sheet and waits for the order to show paid in the app. */
  async function pay(page, app, orderId) {
    await page.locator('#pay-button').click();
    await page.locator('#pay-sheet').waitFor({ state: 'hidden', timeout: 15000 });
    await app.locator(`#orders .order[data-order-id="${orderId}"] .order-status[data-status="paid"]`).waitFor({ timeout: 20000 });
  }

  async function assertClean(page, problems) {
    const frame = page.frames().find((f) => f.url().startsWith(`${w.url}/`));
    assert.ok(frame, 'the Mini App frame is loaded from the worker');
    assert.deepEqual(await frame.evaluate(() => window.__problems), []);
    assert.deepEqual(problems, []);
  }

  test('a launch that lets the bot write never asks; a file_id document is "sent to your chat"', async () => {
    const { page, app, problems } = await openClient(allowing);
    const orderId = await openSheet(page, app, 'photo_pack');
    await pay(page, app, orderId);
    assert.deepEqual(await sent(page, 'web_app_request_write_access'), [], 'asked although the launch allows it');
    assert.equal(await app.locator('#write-access-note').isHidden(), true);

    await app.locator(`#orders .order[data-order-id="${orderId}"] button.order-main`).click();
    const delivery = app.locator('#order-view .order-delivery');
    await delivery.waitFor();
    assert.equal(await delivery.locator('.hint').textContent(), 'The file was sent to your chat with the bot.');
    assert.equal(await delivery.locator('button.save-file').count(), 0, 'a file_id cannot be saved from the page');
    // Nothing to do with this order: no bottom buttons.
    assert.equal((await button(page, 'main')).is_visible, false);
    assert.equal((await button(page, 'secondary')).is_visible, false);
    await assertClean(page, problems);
    await page.context().close();
  });

  test('allows_write_to_pm false: asked once, before the first invoice; a refusal is explained and buying goes on', async () => {
    const { page, problems } = await openClient(stranger);
    const app = await relaunch(page, stranger, { allows_write_to_pm: false });

    await app.locator('#products .product[data-product-id="field_guide"] button.buy').click();
    await eventually(async () => (await sent(page, 'web_app_request_write_access')).length === 1,
      { what: 'the page to ask for write access' });
    await app.locator('#status[data-kind="busy"]', { hasText: 'Telegram asks if the bot may message you' }).waitFor();
    // The payment sheet waits for the answer: no invoice while Telegram's popup is open.
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(await sent(page, 'web_app_open_invoice'), []);
    assert.equal(await page.locator('#pay-sheet').isHidden(), true);

    await tell(page, 'write_access_requested', { status: 'cancelled' });
    const note = app.locator('#write-access-note');
    await note.waitFor({ state: 'visible', timeout: 5000 });
    assert.equal(await note.textContent(),
      "The bot can't message you. You can still buy: what you buy shows under My orders in this app, " +
      "but files and links won't be sent to your chat, so find them here.");
    const guide = await sheetOpened(page);
    await pay(page, app, guide);

    // The second purchase of the launch is not asked again.
    const pack = await openSheet(page, app, 'photo_pack');
    await pay(page, app, pack);
    assert.equal((await sent(page, 'web_app_request_write_access')).length, 1, 'asked again in the same launch');
    assert.equal(await note.isVisible(), true, 'the explanation stays');

    // The file_id document cannot reach the chat, and the page says so.
    await app.locator(`#orders .order[data-order-id="${pack}"] button.order-main`).click();
    assert.match(await app.locator('#order-view .order-delivery .hint').textContent(), /^The bot can't message you, so this file could not be sent to your chat\./);
    await page.locator('#back-button').click();
    await app.locator('#home').waitFor();

    // The https document is saved through Telegram: the in-page button…
    await app.locator(`#orders .order[data-order-id="${guide}"] button.order-main`).click();
    const save = app.locator('#order-view .order-delivery button.save-file');
    assert.equal(await save.textContent(), 'Save file');
    assert.equal(await app.locator('#order-view .order-delivery .hint').count(), 0, 'no "sent to your chat" after a refusal');
    await assertButton(page, 'main', { is_visible: true, is_active: true, text: 'Save file' });
    await save.click();
    await eventually(async () => (await sent(page, 'web_app_request_file_download')).length === 1, { what: 'the download request' });
    assert.deepEqual(await sent(page, 'web_app_request_file_download'), [{ url: GUIDE_URL, file_name: 'field guide.pdf' }]);
    assert.equal(await save.isDisabled(), true, 'busy while Telegram asks');
    await assertButton(page, 'main', { is_visible: true, is_active: false, is_progress_visible: true });
    await tell(page, 'file_download_requested', { status: 'downloading' });
    await app.locator('#notice[data-kind="success"]', { hasText: 'Telegram is downloading the file.' }).waitFor({ timeout: 5000 });
    assert.equal(await save.isDisabled(), false);
    await assertButton(page, 'main', { is_visible: true, is_active: true, is_progress_visible: false, text: 'Save file' });

    // …and the MainButton do the same.
    await page.locator('#main-button').click();
    await eventually(async () => (await sent(page, 'web_app_request_file_download')).length === 2, { what: 'a second download request' });
    await tell(page, 'file_download_requested', { status: 'cancelled' });
    await eventually(async () => (await button(page, 'main')).is_progress_visible === false, { what: 'the MainButton to be free again' });

    await assertClean(page, problems);
    await page.context().close();
  });

  test('no allows_write_to_pm at all: asked (in Chinese); allowed, the invoice opens with no note', async () => {
    const { page, problems } = await openClient(newcomer);
    const app = await relaunch(page, newcomer, {});
    await app.locator('#products .product[data-product-id="photo_pack"] button.buy').click();
    await eventually(async () => (await sent(page, 'web_app_request_write_access')).length === 1,
      { what: 'the page to ask for write access' });
    assert.equal(await app.locator('#status').textContent(), 'Telegram 会询问是否允许机器人给你发消息，这样才能把购买的内容发给你。');
    await tell(page, 'write_access_requested', { status: 'allowed' });
    await sheetOpened(page);
    await page.locator('#cancel-button').click();
    await app.locator('#notice', { hasText: '已取消付款' }).waitFor({ timeout: 10000 });
    assert.equal(await app.locator('#write-access-note').isHidden(), true);
    await assertClean(page, problems);
    await page.context().close();
  });

  for (const [buyer, lang] of [[chinese, 'zh'], [french, 'en']]) {
    test(`a ${buyer.language_code} buyer reads the page, and an error code, in ${lang === 'zh' ? 'Chinese' : 'English'}`, async () => {
      const w8 = words(lang);
      const { page, problems } = await openClient(buyer);
      const app = await relaunch(page, buyer, { allows_write_to_pm: true });
      const frame = page.frames().find((f) => f.url().startsWith(`${w.url}/`));
      assert.equal(await frame.evaluate(() => document.documentElement.lang), lang === 'zh' ? 'zh-Hans' : 'en');
      assert.equal(await frame.evaluate(() => document.title), w8.appTitle);
      assert.equal(await app.locator('#catalog-title').textContent(), w8.catalog);
      assert.equal(await app.locator('#orders-title').textContent(), w8.myOrders);
      assert.equal(await app.locator('#status').textContent(), w8.verifiedAs.replace('{name}', buyer.first_name));
      assert.equal(await app.locator('#products .product[data-product-id="photo_pack"] button.buy').textContent(), w8.buy);

      // An unpaid order (the sheet cancelled), then a second purchase: 409 too_many_pending_orders,
      // shown in the buyer's words, never the server's English message.
      await openSheet(page, app, 'photo_pack');
      await page.locator('#cancel-button').click();
      await app.locator('#notice', { hasText: w8.cancelled }).waitFor({ timeout: 10000 });
      await app.locator('#products .product[data-product-id="field_guide"] button.buy').click();
      const error = app.locator('#error');
      await error.waitFor({ state: 'visible', timeout: 10000 });
      assert.equal(await error.textContent(), w8.error_too_many_pending_orders);
      const direct = await w.fetch('/api/invoices', { method: 'POST', headers: tma(buyer), body: JSON.stringify({ product_id: 'field_guide' }) });
      assert.equal(direct.json.error.code, 'too_many_pending_orders');
      assert.notEqual(await error.textContent(), direct.json.error.message);
      // The browser logs the refused request itself; that one is expected.
      const refused = problems.filter((p) => /\/api\/invoices: Failed to load resource: .* 409/.test(p));
      assert.equal(refused.length, 1, problems.join('\n'));
      await assertClean(page, problems.filter((p) => !refused.includes(p)));
      await page.context().close();
    });
  }

  test('a subscription\'s order view: the SecondaryButton turns renewal off and on, and goes with the view', async () => {
    const { page, app, problems } = await openClient(allowing);
    const orderId = await openSheet(page, app, 'pro_monthly');
    await pay(page, app, orderId);
    await app.locator(`#orders .order[data-order-id="${orderId}"] button.order-main`).click();
    await app.locator('#order-view button.renewal[data-action="cancel"]').waitFor();

    const secondary = () => button(page, 'secondary');
    await assertButton(page, 'secondary', { is_visible: true, is_active: true, text: 'Cancel renewal', position: 'left' });
    assert.equal((await button(page, 'main')).is_visible, false, 'a subscription with no goods has no main action');

    const canceled = async () => (await emu.charges()).find((c) => c.invoice_payload.startsWith(`${orderId}:`)).subscription.is_canceled;
    await tell(page, 'secondary_button_pressed', {});
    await app.locator('#order-view button.renewal[data-action="resume"]').waitFor({ timeout: 10000 });
    assert.equal(await canceled(), true);
    await eventually(async () => (await secondary()).text === 'Turn renewal back on', { what: 'the SecondaryButton to offer resuming' });
    await assertButton(page, 'secondary', { is_visible: true, is_active: true, is_progress_visible: false });

    await tell(page, 'secondary_button_pressed', {});
    await app.locator('#order-view button.renewal[data-action="cancel"]').waitFor({ timeout: 10000 });
    assert.equal(await canceled(), false);
    await eventually(async () => (await secondary()).text === 'Cancel renewal', { what: 'the SecondaryButton to offer cancelling' });

    // Home: the order's buttons go.
    await page.locator('#back-button').click();
    await app.locator('#home').waitFor();
    assert.equal((await secondary()).is_visible, false);
    assert.equal((await button(page, 'main')).is_visible, false);
    // A tap that arrives late does nothing.
    await tell(page, 'secondary_button_pressed', {});
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(await canceled(), false);
    await assertClean(page, problems);
    await page.context().close();
  });

  test('fullscreen: the top bar sits below the status bar and Telegram\'s header, the page clears the home indicator', async () => {
    const { page, app, problems } = await openClient(allowing);
    const frame = page.frames().find((f) => f.url().startsWith(`${w.url}/`));
    const measure = () => frame.evaluate(() => {
      window.scrollTo(0, 0);
      const root = getComputedStyle(document.documentElement);
      const page = getComputedStyle(document.querySelector('.page'));
      return {
        top: document.querySelector('.topbar').getBoundingClientRect().top,
        paddingBottom: parseFloat(page.paddingBottom),
        safeTop: root.getPropertyValue('--tg-safe-area-inset-top').trim(),
        contentTop: root.getPropertyValue('--tg-content-safe-area-inset-top').trim(),
        fullscreen: window.Telegram.WebApp.isFullscreen,
      };
    });
    const before = await measure();
    assert.deepEqual(before, { top: 12, paddingBottom: 24, safeTop: '0px', contentTop: '0px', fullscreen: false });

    // What a phone's Telegram sends going fullscreen: the device's insets (status bar 47 px,
    // home indicator 34 px) and its own header's (46 px, inside the device's).
    await tell(page, 'fullscreen_changed', { is_fullscreen: true });
    await tell(page, 'safe_area_changed', { top: 47, bottom: 34, left: 0, right: 0 });
    await tell(page, 'content_safe_area_changed', { top: 46, bottom: 0, left: 0, right: 0 });
    await eventually(async () => (await measure()).contentTop === '46px', { what: 'the insets to reach the page' });
    const after = await measure();
    assert.equal(after.fullscreen, true);
    assert.equal(after.safeTop, '47px');
    assert.ok(after.top >= 47 + 46, `the top bar starts at ${after.top} px, under the insets (93 px)`);
    assert.equal(after.top, 47 + 46 + 12);
    assert.equal(after.paddingBottom, 24 + 34);
    mkdirSync('test-results', { recursive: true });
    await app.locator('.topbar').screenshot({ path: 'test-results/buyer-page-fullscreen-topbar.png' });
    await assertClean(page, problems);
    await page.context().close();
  });
});
