// The buyer's language, end to end: the built worker (local D1) and the emulator. A user whose
// Telegram speaks Chinese (`language_code: 'zh-hans'`) gets the bot's replies, the invoice, a
// pre-checkout refusal, the receipt and the goods in Chinese, and the catalog in Chinese; a user
// whose language the shop does not speak (`fr`) gets English. The words come from
// static/locales/<lang>.json, which the page can read too.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startWorkerWithEmulator, slugOf, SIGNING_SEED } from './support/emulator.mjs';

const users = {
  zh: { id: 7500001, first_name: '小明', language_code: 'zh-hans' },
  zhOwner: { id: 7500002, first_name: '小红', language_code: 'zh-hans' },
  zhIntruder: { id: 7500003, first_name: '小刚', language_code: 'zh-CN' },
  fr: { id: 7500004, first_name: 'Jeanne', language_code: 'fr' },
  frIntruder: { id: 7500005, first_name: 'Luc', language_code: 'fr' },
};

const words = (lang) => JSON.parse(readFileSync(new URL(`../static/locales/${lang}.json`, import.meta.url), 'utf8'));
const zh = words('zh');
const en = words('en');
const catalog = JSON.parse(readFileSync(new URL('../catalog.default.json', import.meta.url), 'utf8'));
const sticker = catalog.find((p) => p.id === 'sticker_pack');

describe('the buyer’s language (emulator ⇄ worker with D1)', () => {
  let w, emu, setup;

  before(async () => {
    ({ w, emu, setup } = await startWorkerWithEmulator({ signingSeed: SIGNING_SEED }));
    for (const u of Object.values(users)) await emu.upsertUser(u);
  });

  after(async () => {
    await emu?.stop();
    await w?.dispose();
  });

  const tmaHeaders = (user) => emu.launchHeaders(user.id);

  async function createInvoice(user, productId) {
    const r = await w.fetch('/api/invoices', {
      method: 'POST', headers: await tmaHeaders(user), body: JSON.stringify({ product_id: productId }),
    });
    assert.equal(r.status, 201, r.text);
    return { orderId: r.json.order_id, slug: slugOf(r.json.invoice_link) };
  }

  async function command(user, text) {
    await emu.message(user.id, text);
    await emu.waitIdle();
    return (await emu.sent(user.id)).at(-1);
  }

  test('setup registers the Chinese command list next to the default one', async () => {
    assert.equal(setup.status, 200, setup.text);
    const byDefault = await emu.botApi('getMyCommands');
    const chinese = await emu.botApi('getMyCommands', { language_code: 'zh' });
    assert.deepEqual(byDefault.result.map((c) => c.description), ['Open the shop', 'Help with a payment', 'Terms of sale', 'What this bot can do']);
    assert.deepEqual(chinese.result.map((c) => c.command), byDefault.result.map((c) => c.command));
    assert.deepEqual(chinese.result.map((c) => c.description), ['进入商店', '付款帮助', '购买须知', '使用帮助']);
    assert.deepEqual(setup.json.commands_by_language.zh, chinese.result);
  });

  test('/start and the other commands answer a Chinese user in Chinese, a French one in English', async () => {
    const welcome = await command(users.zh, '/start');
    assert.equal(welcome.text, zh['bot.welcome']);
    assert.match(welcome.text, /^欢迎光临/);
    assert.equal(welcome.reply_markup.inline_keyboard[0][0].text, '🛍 进入商店');
    assert.equal(welcome.reply_markup.inline_keyboard[0][0].web_app.url, `${w.url}/`);

    const card = await command(users.zh, '/start buy_sticker_pack');
    assert.equal(card.text, `${sticker.title.zh}，⭐ 50\n${sticker.description.zh}`);
    assert.equal(card.reply_markup.inline_keyboard[0][0].text, '购买 · ⭐ 50');
    assert.equal((await command(users.zh, '/terms')).text, zh['bot.terms']);

    const french = await command(users.fr, '/start');
    assert.equal(french.text, en['bot.welcome']);
    assert.equal(french.reply_markup.inline_keyboard[0][0].text, '🛍 Open the shop');
    assert.equal((await command(users.fr, '/paysupport')).text, en['bot.paysupport']);
  });

  test('the catalog answers a Chinese launch in Chinese and anyone else in English', async () => {
    const zhCatalog = await w.fetch('/api/products', { headers: await tmaHeaders(users.zh) });
    assert.equal(zhCatalog.status, 200, zhCatalog.text);
    assert.equal(zhCatalog.json.language, 'zh');
    const zhSticker = zhCatalog.json.products.find((p) => p.id === 'sticker_pack');
    assert.equal(zhSticker.title, '贴纸包');
    assert.equal(zhSticker.description, sticker.description.zh);
    assert.ok(zhCatalog.json.products.every((p) => typeof p.title === 'string'), 'one text per product, never the map');

    const frCatalog = await w.fetch('/api/products', { headers: await tmaHeaders(users.fr) });
    assert.equal(frCatalog.json.language, 'en');
    assert.equal(frCatalog.json.products.find((p) => p.id === 'sticker_pack').title, 'Sticker pack');
    const anonymous = await w.fetch('/api/products');
    assert.equal(anonymous.json.products[0].title, 'Sticker pack');
    const asked = await w.fetch('/api/products?lang=zh');
    assert.equal(asked.json.products[0].title, '贴纸包');
  });

  test('a Chinese buyer gets a Chinese invoice, receipt and goods', async () => {
    const user = users.zh;
    const inv = await createInvoice(user, 'sticker_pack');
    const invoice = await emu.invoice(inv.slug);
    assert.equal(invoice.title, '贴纸包');
    assert.equal(invoice.description, sticker.description.zh);
    assert.equal(invoice.prices[0].label, '贴纸包');
    const stored = await w.db.prepare('SELECT language FROM orders WHERE id = ?').bind(inv.orderId).first();
    assert.equal(stored.language, 'zh');

    const paid = await emu.pay(inv.slug, user.id);
    assert.equal(paid.status, 'paid', JSON.stringify(paid));
    await emu.waitIdle();
    const goods = (await emu.sent(user.id)).filter((m) => typeof m.text === 'string' && m.text.includes(inv.orderId));
    assert.equal(goods.length, 1, JSON.stringify(goods));
    assert.equal(goods[0].text, `✅ 付款成功：贴纸包，⭐ 50。\n订单号 ${inv.orderId}。谢谢惠顾！\n\n${sticker.delivery.text.zh}`);
    assert.equal(goods[0].reply_markup.inline_keyboard[0][0].text, '打开');
    assert.equal(goods[0].reply_markup.inline_keyboard[0][0].url, sticker.delivery.url);

    // The Mini App shows the goods again in the buyer's language.
    const orders = await w.fetch('/api/orders', { headers: await tmaHeaders(user) });
    assert.equal(orders.json.orders.find((o) => o.id === inv.orderId).delivery.text, sticker.delivery.text.zh);
  });

  test('a French buyer gets all of it in English', async () => {
    const user = users.fr;
    const inv = await createInvoice(user, 'sticker_pack');
    const invoice = await emu.invoice(inv.slug);
    assert.equal(invoice.title, 'Sticker pack');
    assert.equal(invoice.description, sticker.description.en);
    const paid = await emu.pay(inv.slug, user.id);
    assert.equal(paid.status, 'paid', JSON.stringify(paid));
    await emu.waitIdle();
    const goods = (await emu.sent(user.id)).filter((m) => typeof m.text === 'string' && m.text.includes(inv.orderId));
    assert.equal(goods.length, 1, JSON.stringify(goods));
    assert.equal(goods[0].text, `✅ Payment received: Sticker pack, ⭐ 50.\nOrder ${inv.orderId}. Thank you!\n\n${sticker.delivery.text.en}`);
    assert.equal(goods[0].reply_markup.inline_keyboard[0][0].text, 'Open');
  });

  test('a pre-checkout refusal is in the language of whoever pays', async () => {
    const inv = await createInvoice(users.zhOwner, 'sticker_pack');
    const zhRefused = await emu.pay(inv.slug, users.zhIntruder.id);
    assert.equal(zhRefused.status, 'failed', JSON.stringify(zhRefused));
    assert.equal(zhRefused.error_message, zh['precheckout.another_buyer']);
    assert.equal(zhRefused.error_message, '这张账单属于其他账号。');
    const frRefused = await emu.pay(inv.slug, users.frIntruder.id);
    assert.equal(frRefused.error_message, 'This invoice belongs to another account.');
    await emu.waitIdle();
    const answers = (await emu.calls('answerPreCheckoutQuery')).filter((c) =>
      [zhRefused.pre_checkout_query_id, frRefused.pre_checkout_query_id].includes(c.params.pre_checkout_query_id));
    assert.deepEqual(answers.map((c) => c.params.ok), [false, false]);
  });

  test('the language files are served to the page next to it, as JSON, revalidated on each load', async () => {
    for (const [lang, file] of [['zh', zh], ['en', en]]) {
      const r = await w.fetch(`/locales/${lang}.json`);
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.json, file);
      assert.match(r.headers.get('content-type'), /^application\/json\b/);
      // Not fingerprinted, so never kept without asking: a deploy's words reach the next load.
      assert.match(r.headers.get('cache-control'), /must-revalidate|no-cache/);
      const etag = r.headers.get('etag');
      assert.ok(etag, 'an ETag to revalidate with');
      assert.equal((await w.fetch(`/locales/${lang}.json`, { headers: { 'if-none-match': etag } })).status, 304);
    }
    assert.deepEqual(Object.keys(zh).sort(), Object.keys(en).sort(), 'every key in both files');
    assert.ok(Object.keys(zh).some((k) => !k.includes('.')) && Object.keys(zh).some((k) => k.includes('.')),
      "the page's keys (no dot) and the worker's in one file");
  });

  test('the page is told which languages the shop speaks', async () => {
    const page = await w.fetch('/');
    assert.match(page.text, /<meta name="languages" content="en zh">/);
  });
});
