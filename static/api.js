// @ts-check
// The worker's JSON API (same origin). Every call carries the raw initData as
// `Authorization: tma <initData>`; the server checks it, the page never trusts itself.
// Answers are checked against the shapes below before the page uses them; every
// failure is an ApiError with a `code` (the server's, or `network`, `timeout`,
// `bad_response`), which errors.js turns into words. The server's English `message`
// is kept for the console only.

/**
 * @typedef {object} ApiErrorBody  every error answer: `{"error":{"code":"…","message":"…"}}`
 * @property {{ code: string, message: string }} error
 */

/**
 * @typedef {object} TelegramUser  the launch data's user, every field as Telegram sent it
 * @property {number} id
 * @property {string} [first_name]
 * @property {string} [last_name]
 * @property {string} [username]
 * @property {string} [language_code]
 * @property {boolean} [is_premium]
 * @property {string} [photo_url]
 */

/**
 * @typedef {object} Launch  `POST /api/verify`: the checked launch data (absent fields are null)
 * @property {TelegramUser | null} user
 * @property {number} auth_date
 * @property {string | null} start_param
 * @property {boolean | null} operator  whether the user is one of the shop's operators
 *   (`ADMIN_CHAT_IDS`); null when the server does not say
 */

/**
 * @typedef {object} CurrencySummary  one currency of `GET /api/admin/summary`, amounts in its smallest unit
 * @property {string} currency
 * @property {number} gross
 * @property {number | null} net  after Telegram's or the provider's fees, when known
 * @property {number} refunded
 * @property {number} paid_orders
 * @property {number} refunds
 * @property {number} refund_rate  refunds ÷ paid orders, 0…1
 * @property {Array<{ date: string, gross: number, refunded: number, orders: number }>} per_day
 */

/**
 * @typedef {object} Summary  `GET /api/admin/summary?days=30|90`
 * @property {number} days
 * @property {CurrencySummary[]} currencies
 * @property {{ active: number, renewing_30d: Array<{ currency: string, count: number, amount: number }> }} subscriptions
 * @property {{ amount: number, nanostar_amount: number } | null} star_balance
 * @property {boolean} star_balance_failed  the server could not read the balance from Telegram
 * @property {{ checked: number, in_sync: boolean, differences: Array<Record<string, unknown>> } | null} reconciliation
 * @property {boolean} reconciliation_failed  the server could not read Telegram's transactions
 */

/**
 * @typedef {object} AdminOrderRow  one row of `GET /api/admin/orders?format=json` (one per charge)
 * @property {string} order_id
 * @property {number} user_id
 * @property {string | null} username
 * @property {string} product_id
 * @property {string} status
 * @property {string} currency
 * @property {number} amount
 * @property {number} created_at
 * @property {number | null} paid_at
 * @property {string | null} charge_id
 * @property {number | null} refunded_at
 */

/**
 * @typedef {object} AdminOrder  `GET /api/admin/orders/{id}`
 * @property {Record<string, unknown>} order
 * @property {Array<Record<string, unknown>>} charges
 * @property {Array<Record<string, unknown>>} deliveries  each with its `state`
 * @property {Record<string, unknown> | null} access
 * @property {boolean} refundable
 */

/**
 * @typedef {object} ExportLink  `POST /api/admin/export-links`: a short-lived link to a CSV
 * @property {string} url
 * @property {string} file_name
 * @property {number | null} expires_at
 */

/**
 * @typedef {object} Product  one entry of `GET /api/products`
 * @property {string} id
 * @property {string} title
 * @property {string} description
 * @property {string} currency  `XTR` (Stars) or an ISO 4217 code
 * @property {number} amount  in the currency's smallest unit; whole Stars for `XTR`
 * @property {number} [subscription_period]  seconds; only subscriptions have it
 * @property {string} [photo_url]
 * @property {string} [link]  the product's t.me link, when the bot's username is configured
 * @property {string} [join_link]  sold through the chat's own subscription link: open it to join
 *   (Telegram takes the payment; there is no invoice)
 */

/**
 * @typedef {object} Access  the chat an order or entitlement lets its owner into
 * @property {number} chat_id
 * @property {string | null} title  the chat's title, once the operator ran setup
 * @property {string | null} invite_link  the owner's personal link, once made
 */

/** @typedef {'pending' | 'paid' | 'refunded' | 'failed' | 'expired'} OrderStatus */

/**
 * @typedef {object} Delivery  the goods of a paid order
 * @property {string} [text]
 * @property {string} [url]
 * @property {string} [document]  a Telegram file_id or an https URL (sent to the chat)
 */

/**
 * @typedef {object} Order  one entry of `GET /api/orders`
 * @property {string} id
 * @property {string} product_id
 * @property {OrderStatus} status
 * @property {string} currency
 * @property {number} amount
 * @property {number} created_at  Unix seconds
 * @property {number} [paid_at]
 * @property {string} [telegram_payment_charge_id]
 * @property {number} [subscription_expiration_date]  Unix seconds; only subscriptions have it
 * @property {boolean} [renewal_canceled]
 * @property {Delivery} [delivery]  only on paid orders
 * @property {Access} [access]  while the order lets its buyer into a chat
 */

/**
 * @typedef {object} Entitlement  one entry of `GET /api/entitlements`: what the user owns now
 * @property {string} product_id
 * @property {'one_time' | 'subscription' | 'telegram_subscription'} kind
 * @property {string} [order_id]  absent for a membership Telegram bills (telegram_subscription)
 * @property {number} since
 * @property {number} [active_until]  subscriptions only
 * @property {boolean} [renews]  subscriptions only
 * @property {Access} [access]
 */

/**
 * @typedef {object} Invoice  `POST /api/invoices`
 * @property {string} order_id
 * @property {string} invoice_link
 */

/** @typedef {'cancel' | 'resume'} RenewalAction */

/**
 * @typedef {object} TonConnectConfig  `GET /api/products`' `ton_connect`: present when the shop sells for TON
 * @property {string} network  TON Connect's chain id: `-239` (mainnet) or `-3` (testnet)
 * @property {string} manifest_url  this shop's `tonconnect-manifest.json`
 * @property {string | null} wallet_js  development only: a script that injects a wallet
 */

/**
 * @typedef {object} Storefront  `GET /api/products`
 * @property {Product[]} products
 * @property {TonConnectConfig | null} tonConnect
 */

/**
 * @typedef {object} TonWallet  the wallet linked to the user (`GET`/`POST /api/ton/wallet`)
 * @property {string} address  raw, `0:<hex>`
 * @property {string} friendly  user-friendly (non-bounceable), as wallets show it
 * @property {string} network
 * @property {string} version
 * @property {number} linked_at
 */

/**
 * @typedef {object} TonMessage  one message of a `sendTransaction` request
 * @property {string} address
 * @property {string} amount  nanotons, decimal digits
 * @property {string} [payload]  a base64 bag of cells
 * @property {string} [stateInit]
 */

/**
 * @typedef {object} TonTransaction  TON Connect's `sendTransaction` request, as the worker built it
 *   (the page passes it on unchanged)
 * @property {number} validUntil  Unix seconds
 * @property {string} network
 * @property {string} from  the linked wallet, raw
 * @property {TonMessage[]} messages
 */

/**
 * @typedef {object} TonOrder  `POST /api/ton/orders`
 * @property {Order} order  pending
 * @property {string} comment  `tma-pay:<order id>`
 * @property {TonTransaction} transaction
 */

/**
 * @typedef {object} TonCheck  `POST /api/ton/orders/{id}/check`
 * @property {Order} order
 * @property {string | null} received  what arrived so far, in the currency's smallest unit
 */

/**
 * @typedef {object} TonProofPayload  `POST /api/ton/proof-payload`
 * @property {string} payload
 * @property {number | null} expires_at  Unix seconds; null when the shop does not expire them
 */

/** @typedef {ReturnType<typeof createApi>} Api */

const TIMEOUT_MS = 20000;

export class ApiError extends Error {
  /**
   * @param {string} code  the server's error code, or `network`, `timeout`, `bad_response`
   * @param {object} [details]
   * @param {number} [details.status]  the HTTP status (0 when no answer arrived)
   * @param {number | null} [details.retryAfter]  seconds, from a `Retry-After` header
   * @param {string} [details.serverMessage]  the server's English text, for the console only
   * @param {unknown} [details.cause]
   */
  constructor(code, { status = 0, retryAfter = null, serverMessage = '', cause } = {}) {
    super(`${code}${status ? ` (HTTP ${status})` : ''}${serverMessage ? `: ${serverMessage}` : ''}`, { cause });
    this.name = 'ApiError';
    this.code = code;
    this.status = status;
    this.retryAfter = retryAfter;
  }
}

/* ---------- shape checks ---------- */

/**
 * @param {unknown} v
 * @returns {v is Record<string, unknown>}
 */
const isObject = (v) => typeof v === 'object' && v !== null && !Array.isArray(v);
/**
 * @param {unknown} v
 * @returns {v is number}
 */
const isNumber = (v) => typeof v === 'number' && Number.isFinite(v);
/**
 * A number from the server, 0 when it is not one.
 * @param {unknown} v
 */
const num = (v) => (isNumber(v) ? v : 0);
/** @param {unknown} v */
const isOptString = (v) => v === undefined || typeof v === 'string';
/** @param {unknown} v */
const isOptNumber = (v) => v === undefined || isNumber(v);
/** @param {unknown} v */
const isOptBoolean = (v) => v === undefined || typeof v === 'boolean';

/** @param {unknown} v @returns {v is ApiErrorBody} */
function isApiErrorBody(v) {
  return isObject(v) && isObject(v.error) && typeof v.error.code === 'string' && typeof v.error.message === 'string';
}

/** @type {ReadonlySet<unknown>} */
const ENTITLEMENT_KINDS = new Set(['one_time', 'subscription', 'telegram_subscription']);

/** @type {ReadonlySet<unknown>} */
const ORDER_STATUSES = new Set(['pending', 'paid', 'refunded', 'failed', 'expired']);

/** @param {unknown} v @returns {v is TelegramUser} */
function isUser(v) {
  return isObject(v) && isNumber(v.id) && isOptString(v.first_name) && isOptString(v.last_name)
    && isOptString(v.username) && isOptString(v.language_code) && isOptBoolean(v.is_premium)
    && isOptString(v.photo_url);
}

/** @param {unknown} v @returns {v is Product} */
function isProduct(v) {
  return isObject(v) && typeof v.id === 'string' && typeof v.title === 'string'
    && typeof v.description === 'string' && typeof v.currency === 'string' && isNumber(v.amount)
    && isOptNumber(v.subscription_period) && isOptString(v.photo_url) && isOptString(v.link)
    && isOptString(v.join_link);
}

/** @param {unknown} v */
const isOptStringOrNull = (v) => v === null || isOptString(v);

/** @param {unknown} v @returns {v is Access} */
function isAccess(v) {
  return isObject(v) && isNumber(v.chat_id) && isOptStringOrNull(v.title) && isOptStringOrNull(v.invite_link);
}

/** @param {unknown} v @returns {v is Delivery} */
function isDelivery(v) {
  return isObject(v) && isOptString(v.text) && isOptString(v.url) && isOptString(v.document);
}

/** @param {unknown} v @returns {v is Order} */
function isOrder(v) {
  return isObject(v) && typeof v.id === 'string' && typeof v.product_id === 'string'
    && ORDER_STATUSES.has(v.status) && typeof v.currency === 'string' && isNumber(v.amount)
    && isNumber(v.created_at) && isOptNumber(v.paid_at) && isOptString(v.telegram_payment_charge_id)
    && isOptNumber(v.subscription_expiration_date) && isOptBoolean(v.renewal_canceled)
    && (v.delivery === undefined || isDelivery(v.delivery))
    && (v.access === undefined || isAccess(v.access));
}

/** @param {unknown} v @returns {v is Entitlement} */
function isEntitlement(v) {
  return isObject(v) && typeof v.product_id === 'string' && ENTITLEMENT_KINDS.has(v.kind)
    && isOptString(v.order_id) && isNumber(v.since) && isOptNumber(v.active_until) && isOptBoolean(v.renews)
    && (v.access === undefined || isAccess(v.access));
}

/** @param {unknown} v @returns {v is TonConnectConfig} */
function isTonConnectConfig(v) {
  return isObject(v) && typeof v.network === 'string' && typeof v.manifest_url === 'string'
    && (v.wallet_js === null || v.wallet_js === undefined || typeof v.wallet_js === 'string');
}

/** @param {unknown} v @returns {v is TonWallet} */
function isTonWallet(v) {
  return isObject(v) && typeof v.address === 'string' && typeof v.friendly === 'string'
    && typeof v.network === 'string' && typeof v.version === 'string' && isNumber(v.linked_at);
}

/** @param {unknown} v @returns {v is TonMessage} */
function isTonMessage(v) {
  return isObject(v) && typeof v.address === 'string' && typeof v.amount === 'string' && /^\d+$/.test(v.amount)
    && isOptString(v.payload) && isOptString(v.stateInit);
}

/** @param {unknown} v @returns {v is TonTransaction} */
function isTonTransaction(v) {
  return isObject(v) && isNumber(v.validUntil) && typeof v.network === 'string' && typeof v.from === 'string'
    && Array.isArray(v.messages) && v.messages.length > 0 && v.messages.every(isTonMessage);
}

/**
 * The entries of `data[key]` that have the expected shape. An answer without the list is a
 * bad answer; a single odd entry is left out (and logged) so the rest still shows.
 * @template T
 * @param {Record<string, unknown>} data
 * @param {string} key
 * @param {(v: unknown) => v is T} isItem
 * @param {number} status
 * @returns {T[]}
 */
function listOf(data, key, isItem, status) {
  const list = data[key];
  if (!Array.isArray(list)) throw new ApiError('bad_response', { status, serverMessage: `no "${key}" list` });
  const good = list.filter(isItem);
  if (good.length !== list.length) console.warn(`api: left out ${list.length - good.length} malformed ${key}`);
  return good;
}

/**
 * `Retry-After` as seconds from now: a number of seconds or an HTTP date.
 * @param {string | null} value
 * @returns {number | null}
 */
export function parseRetryAfter(value, now = Date.now()) {
  if (value === null || value.trim() === '') return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - now) / 1000));
}

/**
 * The client for one launch: every call is authorized with `initData`.
 * @param {string} initData  `Telegram.WebApp.initData`, raw
 */
export function createApi(initData) {
  /**
   * One call. Resolves to the answer's JSON object; rejects with an ApiError.
   * @param {'GET' | 'POST' | 'DELETE'} method
   * @param {string} path
   * @param {unknown} [body]
   * @returns {Promise<{ data: Record<string, unknown>, status: number }>}
   */
  async function request(method, path, body) {
    /** @type {Record<string, string>} */
    const headers = { Authorization: `tma ${initData}`, Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    // A hung connection must end in words, not an endless spinner.
    const ctrl = new AbortController();
    const timer = setTimeout(() => ctrl.abort(), TIMEOUT_MS);
    /** @type {Response} */
    let res;
    /** @type {string} */
    let text;
    try {
      res = await fetch(path, {
        method,
        headers,
        body: body === undefined ? null : JSON.stringify(body),
        cache: 'no-store',
        credentials: 'same-origin',
        signal: ctrl.signal,
      });
      text = await res.text();
    } catch (e) {
      throw new ApiError(ctrl.signal.aborted ? 'timeout' : 'network', { cause: e });
    } finally {
      clearTimeout(timer);
    }

    /** @type {unknown} */
    let data;
    try {
      data = JSON.parse(text);
    } catch (e) {
      // Not JSON (e.g. a proxy's HTML error page): the status decides below what it means.
      console.warn(`api: ${method} ${path} answered ${res.status} with a body that is not JSON`, e);
      data = undefined;
    }

    if (!res.ok) {
      // The API's error shape: {"error":{"code":"…","message":"…"}}.
      const err = isApiErrorBody(data) ? data.error : null;
      throw new ApiError(err?.code || `http_${res.status}`, {
        status: res.status,
        retryAfter: parseRetryAfter(res.headers.get('Retry-After')),
        serverMessage: err?.message ?? '',
      });
    }
    if (!isObject(data)) throw new ApiError('bad_response', { status: res.status, serverMessage: 'not a JSON object' });
    return { data, status: res.status };
  }

  return {
    /** @returns {Promise<Launch>} */
    async verify() {
      const { data } = await request('POST', '/api/verify');
      // Some launches carry no user (or one that does not read): the header then shows a placeholder.
      return {
        user: isUser(data.user) ? data.user : null,
        auth_date: isNumber(data.auth_date) ? data.auth_date : 0,
        start_param: typeof data.start_param === 'string' ? data.start_param : null,
        operator: typeof data.operator === 'boolean' ? data.operator : null,
      };
    },
    /**
     * The operator's figures for the last `days` days.
     * @param {number} days
     * @returns {Promise<Summary>}
     */
    async adminSummary(days) {
      const { data, status } = await request('GET', `/api/admin/summary?days=${days}`);
      if (!Array.isArray(data.currencies)) throw new ApiError('bad_response', { status, serverMessage: 'no currencies' });
      const subs = isObject(data.subscriptions) ? data.subscriptions : {};
      const balance = isObject(data.star_balance) && isNumber(data.star_balance.amount) ? data.star_balance : null;
      const rec = isObject(data.reconciliation) ? data.reconciliation : null;
      return {
        days: isNumber(data.days) ? data.days : days,
        currencies: data.currencies.filter(isObject).map((c) => ({
          currency: String(c.currency),
          gross: num(c.gross),
          net: isNumber(c.net) ? c.net : null,
          refunded: num(c.refunded),
          paid_orders: num(c.paid_orders),
          refunds: num(c.refunds),
          refund_rate: num(c.refund_rate),
          per_day: (Array.isArray(c.per_day) ? c.per_day : []).filter(isObject).map((d) => ({
            date: String(d.date), gross: num(d.gross), refunded: num(d.refunded), orders: num(d.orders),
          })),
        })),
        subscriptions: {
          active: num(subs.active),
          renewing_30d: (Array.isArray(subs.renewing_30d) ? subs.renewing_30d : []).filter(isObject).map((r) => ({
            currency: String(r.currency), count: num(r.count), amount: num(r.amount),
          })),
        },
        star_balance: balance ? { amount: num(balance.amount), nanostar_amount: num(balance.nanostar_amount) } : null,
        star_balance_failed: balance === null && data.star_balance_error !== undefined && data.star_balance_error !== null,
        reconciliation: rec ? {
          checked: num(rec.checked),
          in_sync: rec.in_sync === true,
          differences: (Array.isArray(rec.differences) ? rec.differences : []).filter(isObject),
        } : null,
        reconciliation_failed: rec === null && data.reconciliation_error !== undefined && data.reconciliation_error !== null,
      };
    },
    /**
     * The latest orders matching `filter` (`q`, `status`, `product`, `currency`), one row per charge.
     * @param {URLSearchParams} filter
     * @param {number} limit
     * @returns {Promise<{ count: number, rows: AdminOrderRow[] }>}
     */
    async adminOrders(filter, limit) {
      const query = new URLSearchParams(filter);
      query.set('format', 'json');
      query.set('limit', String(limit));
      // The list shows no net figures: spare the server reading Telegram's record on each search.
      query.set('net', 'false');
      const { data, status } = await request('GET', `/api/admin/orders?${query}`);
      if (!Array.isArray(data.rows)) throw new ApiError('bad_response', { status, serverMessage: 'no rows' });
      const rows = data.rows.filter(isObject).filter((r) => typeof r.order_id === 'string').map((r) => ({
        order_id: String(r.order_id),
        user_id: num(r.user_id),
        username: typeof r.username === 'string' && r.username ? r.username : null,
        product_id: String(r.product_id ?? ''),
        status: String(r.status ?? ''),
        currency: String(r.currency ?? ''),
        amount: num(r.amount),
        created_at: num(r.created_at),
        paid_at: isNumber(r.paid_at) ? r.paid_at : null,
        charge_id: typeof r.charge_id === 'string' ? r.charge_id : null,
        refunded_at: isNumber(r.refunded_at) ? r.refunded_at : null,
      }));
      return { count: isNumber(data.count) ? data.count : rows.length, rows };
    },
    /**
     * One order as the operator sees it.
     * @param {string} orderId
     * @returns {Promise<AdminOrder>}
     */
    async adminOrder(orderId) {
      const { data, status } = await request('GET', `/api/admin/orders/${encodeURIComponent(orderId)}`);
      if (!isObject(data.order)) throw new ApiError('bad_response', { status, serverMessage: 'no order' });
      return {
        order: data.order,
        charges: Array.isArray(data.charges) ? data.charges.filter(isObject) : [],
        deliveries: Array.isArray(data.deliveries) ? data.deliveries.filter(isObject) : [],
        access: isObject(data.access) ? data.access : null,
        refundable: data.refundable === true,
      };
    },
    /**
     * Refunds a paid Stars order.
     * @param {string} orderId
     * @returns {Promise<void>}
     */
    async refund(orderId) {
      await request('POST', '/api/admin/refunds', { order_id: orderId });
    },
    /**
     * A short-lived download link to the CSV of the orders matching `filter`.
     * @param {URLSearchParams} filter
     * @returns {Promise<ExportLink>}
     */
    async exportLink(filter) {
      const { data, status } = await request('POST', '/api/admin/export-links', { query: filter.toString() });
      if (typeof data.url !== 'string' || typeof data.file_name !== 'string') {
        throw new ApiError('bad_response', { status, serverMessage: 'no url / file_name' });
      }
      return { url: data.url, file_name: data.file_name, expires_at: isNumber(data.expires_at) ? data.expires_at : null };
    },
    /** @returns {Promise<Product[]>} */
    async products() {
      return (await this.storefront()).products;
    },
    /**
     * The catalog and, when the shop sells for TON, what TON Connect needs.
     * @returns {Promise<Storefront>}
     */
    async storefront() {
      const { data, status } = await request('GET', '/api/products');
      const products = listOf(data, 'products', isProduct, status);
      const connect = data.ton_connect;
      if (connect !== undefined && !isTonConnectConfig(connect)) console.warn('api: left out a malformed ton_connect');
      return { products, tonConnect: isTonConnectConfig(connect) ? { ...connect, wallet_js: connect.wallet_js ?? null } : null };
    },
    /** @returns {Promise<Order[]>} */
    async orders() {
      const { data, status } = await request('GET', '/api/orders');
      return listOf(data, 'orders', isOrder, status);
    },
    /** @returns {Promise<Entitlement[]>} */
    async entitlements() {
      const { data, status } = await request('GET', '/api/entitlements');
      return listOf(data, 'entitlements', isEntitlement, status);
    },
    /**
     * Turns a subscription's renewal off (`cancel`) or back on (`resume`) at Telegram.
     * @param {string} orderId
     * @param {RenewalAction} action
     * @returns {Promise<void>}
     */
    async changeRenewal(orderId, action) {
      await request('POST', `/api/subscriptions/${encodeURIComponent(orderId)}/${action}`);
    },
    /**
     * A pending order and its invoice link.
     * @param {string} productId
     * @returns {Promise<Invoice>}
     */
    async createInvoice(productId) {
      const { data, status } = await request('POST', '/api/invoices', { product_id: productId });
      if (typeof data.order_id !== 'string' || typeof data.invoice_link !== 'string') {
        throw new ApiError('bad_response', { status, serverMessage: 'no order_id / invoice_link' });
      }
      return { order_id: data.order_id, invoice_link: data.invoice_link };
    },
    /**
     * A payload for the wallet to sign with `ton_proof` (one proof, this user).
     * @returns {Promise<TonProofPayload>}
     */
    async tonProofPayload() {
      const { data, status } = await request('POST', '/api/ton/proof-payload');
      if (typeof data.payload !== 'string') throw new ApiError('bad_response', { status, serverMessage: 'no payload' });
      return { payload: data.payload, expires_at: isNumber(data.expires_at) ? data.expires_at : null };
    },
    /** @returns {Promise<TonWallet | null>} the wallet linked to this user */
    async tonWallet() {
      const { data, status } = await request('GET', '/api/ton/wallet');
      if (data.wallet === null) return null;
      if (!isTonWallet(data.wallet)) throw new ApiError('bad_response', { status, serverMessage: 'no wallet' });
      return data.wallet;
    },
    /**
     * Links the wallet that signed a payload: TON Connect's `wallet.account` and
     * `wallet.connectItems.tonProof.proof`, as they are.
     * @param {unknown} account
     * @param {unknown} proof
     * @returns {Promise<TonWallet>}
     */
    async linkTonWallet(account, proof) {
      const { data, status } = await request('POST', '/api/ton/wallet', { account, proof });
      if (!isTonWallet(data.wallet)) throw new ApiError('bad_response', { status, serverMessage: 'no wallet' });
      return data.wallet;
    },
    /** @returns {Promise<boolean>} whether a wallet was linked */
    async unlinkTonWallet() {
      const { data } = await request('DELETE', '/api/ton/wallet');
      return data.unlinked === true;
    },
    /**
     * A pending order for a TON or USDT product and the transaction that pays it.
     * @param {string} productId
     * @returns {Promise<TonOrder>}
     */
    async createTonOrder(productId) {
      const { data, status } = await request('POST', '/api/ton/orders', { product_id: productId });
      if (!isOrder(data.order) || typeof data.comment !== 'string' || !isTonTransaction(data.transaction)) {
        throw new ApiError('bad_response', { status, serverMessage: 'no order / comment / transaction' });
      }
      return { order: data.order, comment: data.comment, transaction: data.transaction };
    },
    /**
     * Asks the worker to look on chain for the order's payment.
     * @param {string} orderId
     * @returns {Promise<TonCheck>}
     */
    async checkTonOrder(orderId) {
      const { data, status } = await request('POST', `/api/ton/orders/${encodeURIComponent(orderId)}/check`);
      if (!isOrder(data.order) || (data.received !== null && typeof data.received !== 'string')) {
        throw new ApiError('bad_response', { status, serverMessage: 'no order / received' });
      }
      return { order: data.order, received: data.received };
    },
  };
}
