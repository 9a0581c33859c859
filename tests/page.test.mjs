// The Mini App's own modules (static/), in Node without a browser: the words come from
// static/locales (the files the worker reads too) and both languages have the same page keys, every API error code has its own translated text (never the
// server's English message), and the API client turns answers into typed data or an
// ApiError with the code, the status and Retry-After. Seconds; no worker, no Chromium.
import { test, describe, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

// i18n.setLanguage sets <html lang> and reads the languages the worker wrote into
// index.html's <meta name="languages">: that is all of the DOM these modules touch here.
globalThis.document = {
  documentElement: { lang: '' },
  querySelector: (sel) => (sel === 'meta[name="languages"]' ? { getAttribute: () => 'en zh' } : null),
};
/** The files the page fetches at start, as the worker's assets serve them. */
const LOCALES = new URL('../static/locales/', import.meta.url);
globalThis.fetch = async (path) => {
  const m = /^\/locales\/([a-z]+)\.json$/.exec(String(path));
  if (!m) throw new TypeError(`no network in this test: ${path}`);
  try {
    return new Response(readFileSync(new URL(`${m[1]}.json`, LOCALES)), { headers: { 'content-type': 'application/json' } });
  } catch {
    return new Response('not found', { status: 404 });
  }
};
const words = (lang) => JSON.parse(readFileSync(new URL(`${lang}.json`, LOCALES), 'utf8'));
const { setLanguage, t } = await import('../static/i18n.js');
const { errorKey, errorText, invoiceErrorText } = await import('../static/errors.js');
const { ApiError, createApi, parseRetryAfter } = await import('../static/api.js');
const { dateRange, fillDays } = await import('../static/chart.js');

/** The codes README's API table documents, and the client's own. */
const CODES = [
  'missing_init_data', 'malformed_init_data', 'invalid_hash', 'expired_init_data', 'invalid_signature',
  'missing_user', 'product_not_found', 'payment_provider_not_configured', 'telegram_error',
  'telegram_rate_limited', 'rate_limited', 'too_many_pending_orders', 'storage_unavailable', 'not_configured', 'invalid_catalog',
  'subscription_not_found', 'not_a_subscription', 'subscription_not_active', 'payload_too_large',
  'unsupported_media_type', 'invalid_json', 'internal', 'not_found', 'method_not_allowed',
  'pay_with_invoice', 'pay_with_ton', 'wallet_not_linked', 'wrong_network', 'no_usdt_wallet', 'ton_unavailable',
  'ton_not_configured', 'unknown_payload', 'ton_proof_expired', 'malformed_ton_proof', 'domain_mismatch',
  'address_mismatch', 'unsupported_wallet', 'public_key_mismatch', 'invalid_ton_proof',
  'not_operator', 'invalid_export_link', 'export_link_expired', 'order_not_found', 'order_not_paid',
  'not_refundable_here', 'invalid_query',
  'network', 'timeout',
];

/** Console output the modules log on purpose, kept out of the test output and checked. */
let logged;
const originalConsole = { warn: console.warn, error: console.error };
beforeEach(async () => {
  logged = [];
  console.warn = (...args) => logged.push(['warn', ...args]);
  console.error = (...args) => logged.push(['error', ...args]);
  await setLanguage('en');
});
afterEach(() => Object.assign(console, originalConsole));

const placeholders = (s) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

describe('strings', () => {
  test('English and Chinese have the same keys, none empty, with the same placeholders', () => {
    const [en, zh] = [words('en'), words('zh')];
    assert.deepEqual(Object.keys(zh).sort(), Object.keys(en).sort());
    assert.ok(Object.keys(en).filter((k) => !k.includes('.')).length > 100, 'the page keys are in the files');
    for (const [key, text] of Object.entries(en)) {
      assert.ok(text.trim() && zh[key].trim(), key);
      assert.deepEqual(placeholders(zh[key]), placeholders(text), key);
    }
  });

  test('zh-* language codes pick Chinese, anything else English', async () => {
    await setLanguage('zh-hans');
    assert.equal(t('buy'), '购买');
    assert.equal(t('op_title'), words('zh').op_title);
    assert.equal(document.documentElement.lang, 'zh-Hans');
    await setLanguage('de');
    assert.equal(t('buy'), 'Buy');
    assert.equal(document.documentElement.lang, 'en');
  });

  test('a key the language lacks is English; a key no file has is itself', async () => {
    const real = globalThis.fetch;
    globalThis.fetch = async (path) => (String(path) === '/locales/zh.json'
      ? new Response(JSON.stringify({ buy: '购买' }), { headers: { 'content-type': 'application/json' } })
      : real(path));
    try {
      await setLanguage('zh');
      assert.equal(t('buy'), '购买');
      assert.equal(t('subscribe'), 'Subscribe');
      assert.equal(t(/** @type {any} */ ('no_such_key')), 'no_such_key');
    } finally {
      globalThis.fetch = real;
    }
  });
});

describe('error codes → translated texts', () => {
  test('every documented code has its own text in both languages, not the generic one', async () => {
    for (const code of CODES) {
      const key = errorKey(code);
      assert.ok(key, `${code} has no string`);
      assert.notEqual(key, 'error_unknown', code);
      for (const lang of ['en', 'zh']) {
        await setLanguage(lang);
        const text = errorText(new ApiError(code, { status: 400, serverMessage: 'initData hash mismatch' }));
        assert.equal(text, t(key, { status: 400 }), `${code} in ${lang}`);
        assert.doesNotMatch(text, /initData hash mismatch/, `${code}: the server's message is never shown`);
      }
      await setLanguage('en');
      const en = errorText(new ApiError(code, { status: 400 }));
      await setLanguage('zh');
      assert.notEqual(errorText(new ApiError(code, { status: 400 })), en, `${code} is translated`);
    }
    assert.deepEqual(logged, []);
  });

  test('an unknown code falls back to a generic text with the HTTP status', async () => {
    const e = new ApiError('teapot', { status: 418, serverMessage: "I'm a teapot" });
    assert.equal(errorText(e), "Something went wrong on our side (HTTP 418). Please try again.");
    await setLanguage('zh');
    assert.equal(errorText(e), '服务器出错（HTTP 418），请稍后重试。');
    assert.equal(logged.length, 2); // each logged for the developer
  });

  test('rate limiting says how long to wait when Retry-After did', () => {
    assert.match(errorText(new ApiError('telegram_rate_limited', { status: 503, retryAfter: 7 })), /try again in 7 s/);
    assert.equal(errorText(new ApiError('telegram_rate_limited', { status: 503 })), t('error_telegram_rate_limited'));
  });

  test("the shop's own limit (429 rate_limited) says how long to wait, in both languages", async () => {
    const limited = new ApiError('rate_limited', { status: 429, retryAfter: 60 });
    assert.equal(errorText(limited), 'Too many requests. Please try again in 60 s.');
    await setLanguage('zh');
    assert.equal(errorText(limited), '请求过于频繁，请在 60 秒后重试。');
    assert.equal(errorText(new ApiError('rate_limited', { status: 429 })), t('error_rate_limited'));
    await setLanguage('en');
    assert.notEqual(errorText(limited), errorText(new ApiError('telegram_rate_limited', { status: 503, retryAfter: 60 })),
      'the shop asking to wait is not Telegram being busy');
  });

  test("openInvoice's own errors keep their texts", () => {
    assert.equal(invoiceErrorText(new Error('WebAppMethodUnsupported')), t('invoiceUnsupported'));
    assert.equal(invoiceErrorText(new Error('WebAppInvoiceOpened')), t('invoiceAlreadyOpen'));
    assert.equal(invoiceErrorText(new Error('WebAppInvoiceUrlInvalid')), t('invoiceInvalid'));
    assert.equal(invoiceErrorText(new Error('Something else')), t('failed'));
  });
});

describe('the API client', () => {
  const realFetch = globalThis.fetch;
  let answer;
  let seen;
  beforeEach(() => {
    seen = [];
    globalThis.fetch = async (path, init) => {
      seen.push({ path, init });
      return answer();
    };
  });
  afterEach(() => { globalThis.fetch = realFetch; });
  const json = (status, body, headers = {}) => () =>
    new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });

  test('sends the launch data as `Authorization: tma …` and returns typed products', async () => {
    answer = json(200, { products: [
      { id: 'a', title: 'A', description: 'd', currency: 'XTR', amount: 5 },
      { id: 7, title: 'not a product' },
    ] });
    const products = await createApi('query_id=1&hash=x').products();
    assert.deepEqual(products, [{ id: 'a', title: 'A', description: 'd', currency: 'XTR', amount: 5 }]);
    assert.equal(seen[0].path, '/api/products');
    assert.equal(seen[0].init.headers.Authorization, 'tma query_id=1&hash=x');
    assert.equal(logged.length, 1); // the malformed entry, left out
  });

  test("the worker's 429 reaches the page as rate_limited with its Retry-After", async () => {
    answer = json(429, { error: { code: 'rate_limited', message: 'too many requests; try again in 60 s' } }, { 'retry-after': '60' });
    const e = await createApi('x').createInvoice('a').catch((err) => err);
    assert.deepEqual([e.code, e.status, e.retryAfter], ['rate_limited', 429, 60]);
    assert.equal(errorText(e), 'Too many requests. Please try again in 60 s.');
  });

  test('an error answer is an ApiError with its code, status and Retry-After', async () => {
    answer = json(503, { error: { code: 'telegram_rate_limited', message: 'Too Many Requests' } }, { 'retry-after': '3' });
    const e = await createApi('x').createInvoice('a').catch((err) => err);
    assert.ok(e instanceof ApiError);
    assert.deepEqual([e.code, e.status, e.retryAfter], ['telegram_rate_limited', 503, 3]);
    assert.deepEqual(JSON.parse(seen[0].init.body), { product_id: 'a' });
  });

  test('a body that is not JSON, a failed fetch and an odd success are errors too', async () => {
    answer = () => new Response('<html>Bad Gateway</html>', { status: 502 });
    let e = await createApi('x').orders().catch((err) => err);
    assert.deepEqual([e.code, e.status], ['http_502', 502]);
    assert.match(errorText(e), /HTTP 502/);

    answer = () => { throw new TypeError('Failed to fetch'); };
    e = await createApi('x').orders().catch((err) => err);
    assert.deepEqual([e.code, e.status], ['network', 0]);

    answer = json(200, { nothing: [] });
    e = await createApi('x').orders().catch((err) => err);
    assert.equal(e.code, 'bad_response');
  });

  test('Retry-After in seconds or as an HTTP date', () => {
    assert.equal(parseRetryAfter('5'), 5);
    assert.equal(parseRetryAfter(null), null);
    assert.equal(parseRetryAfter('soon'), null);
    const now = Date.parse('2026-01-01T00:00:00Z');
    assert.equal(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now), 30);
  });
});

describe("the operator's figures", () => {
  const realFetch = globalThis.fetch;
  afterEach(() => { globalThis.fetch = realFetch; });

  test('the summary is read as the server sends it, and what Telegram could not answer is said', async () => {
    const seen = [];
    globalThis.fetch = async (path, init) => {
      seen.push({ path, init });
      return new Response(JSON.stringify({
        days: 30, since: '2026-11-03', until: '2026-12-02',
        currencies: [{ currency: 'XTR', gross: 70, net: null, refunded: 20, paid_orders: 3, refunds: 1, refund_rate: 1 / 3,
          per_day: [{ date: '2026-12-02', gross: 70, refunded: 20, orders: 3 }, 'junk'] }],
        subscriptions: { active: 2, renewing_30d: [{ currency: 'XTR', count: 2, amount: 500 }] },
        star_balance: null, star_balance_error: 'telegram_error',
        reconciliation: null, reconciliation_error: 'telegram_error',
      }), { headers: { 'content-type': 'application/json' } });
    };
    const s = await createApi('x').adminSummary(30);
    assert.equal(seen[0].path, '/api/admin/summary?days=30');
    assert.equal(seen[0].init.headers.Authorization, 'tma x');
    assert.deepEqual(s.currencies[0], { currency: 'XTR', gross: 70, net: null, refunded: 20, paid_orders: 3, refunds: 1,
      refund_rate: 1 / 3, per_day: [{ date: '2026-12-02', gross: 70, refunded: 20, orders: 3 }] });
    assert.deepEqual(s.subscriptions, { active: 2, renewing_30d: [{ currency: 'XTR', count: 2, amount: 500 }] });
    assert.deepEqual([s.star_balance, s.star_balance_failed, s.reconciliation, s.reconciliation_failed], [null, true, null, true]);
  });

  test('the chart has a slot for every day of the window, zeros where nothing sold', () => {
    const range = dateRange('2026-02-27', '2026-03-02');
    assert.deepEqual(range, ['2026-02-27', '2026-02-28', '2026-03-01', '2026-03-02']);
    assert.equal(dateRange('2026-01-01', '2026-03-31').length, 90);
    assert.deepEqual(dateRange('not a date', '2026-01-01'), []);
    const days = fillDays([{ date: '2026-03-01', gross: 5, refunded: 0, orders: 1 }], range);
    assert.deepEqual(days.map((d) => [d.date, d.gross]), [['2026-02-27', 0], ['2026-02-28', 0], ['2026-03-01', 5], ['2026-03-02', 0]]);
  });
});
