// @ts-check
// The Operator section, for the shop's operators only (the server says who: `operator` in
// POST /api/verify, and every /api/admin/* route answers 403 `not_operator` to anyone else).
//   #operator-entry        on the home view: a card that opens the operator view
//   #operator-view         revenue per day for 30 or 90 days per currency (chart.js), with
//                          totals, paid orders, refunds and the refund rate; subscriptions
//                          and what renews in 30 days; the bot's Stars balance; the
//                          reconciliation with Telegram; the latest orders with a search and
//                          filters; "Download CSV" of the filter (an export link, then
//                          Telegram's downloadFile)
//   #operator-order-view   one order: its charges, deliveries and their state, access, and
//                          Refund behind Telegram's own confirmation popup
// Telegram's MainButton repeats the view's main action: Download CSV, or Refund.
//
// Hooks for tests: #operator-entry, button#operator-open; #operator-view[data-days] with
// button.op-days[data-days][aria-pressed], .op-currency[data-currency] holding
// .op-figure[data-figure="gross|net|refunded|paid_orders|refunds|refund_rate"][data-value]
// and svg.chart (rect.chart-bar, rect.chart-refund), #op-subscriptions, #op-balance,
// #op-reconciliation[data-state="in_sync|differences|unknown"], input#op-search,
// select#op-status, #op-product, #op-currency, #op-orders .op-order[data-order-id] (with
// .order-status[data-status]), button#op-csv; #operator-order-view[data-order-id] with
// .op-charges, .op-deliveries .op-delivery[data-state], .op-access, button#op-refund.
//
// State owned here: the period, the filter, the order on screen and what is running.

import { revenueChart, dateRange, fillDays } from '../chart.js';
import { el, byId } from '../dom.js';
import { errorText } from '../errors.js';
import { formatDate, formatPrice, statusLabel } from '../format.js';
import { t, isStringKey, locale } from '../i18n.js';
import { downloadFile, haptic, showConfirm } from '../telegram.js';
import { backLink, currentView, showView } from './navigation.js';
import { statusBadge } from './orders.js';
import { clearError, showError, showNotice } from './status.js';

/** @typedef {import('../api.js').Api} Api */
/** @typedef {import('../api.js').Summary} Summary */
/** @typedef {import('../api.js').AdminOrderRow} AdminOrderRow */
/** @typedef {import('../api.js').AdminOrder} AdminOrder */
/** @typedef {import('../telegram.js').BottomButtons} BottomButtons */
/** @typedef {import('./catalog.js').Catalog} Catalog */
/** @typedef {import('../i18n.js').StringKey} StringKey */

/** The periods the summary offers, in days. */
const PERIODS = [30, 90];
/** Order rows the list shows. */
const LIMIT = 50;
const STATUSES = ['pending', 'paid', 'refunded', 'failed', 'expired'];
/** Wait this long after the last keystroke before searching. */
const SEARCH_DELAY_MS = 300;

/**
 * A value of the server's as text ("—" for none).
 * @param {unknown} v
 */
function scalar(v) {
  if (v === null || v === undefined || v === '') return '—';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/**
 * A unix time in seconds as a date and time; anything else as it is.
 * @param {unknown} v
 */
function when(v) {
  return typeof v === 'number' && v > 1e9 ? formatDate(v, true) : scalar(v);
}

/**
 * A delivery's or an order's state in words when the page has them (`state_sent`).
 * @param {string} state
 */
function stateLabel(state) {
  const key = `state_${state}`;
  return isStringKey(key) ? t(key) : state;
}

/**
 * The words for the fields the server names in an order's charges, messages, access and
 * reconciliation differences; a field not listed shows under its own name.
 * @type {Readonly<Record<string, StringKey>>}
 */
const FIELD_LABELS = Object.freeze({
  amount: 'fieldAmount',
  currency: 'op_currency',
  charge_id: 'fieldCharge',
  provider_charge_id: 'op_f_providerCharge',
  charged_at: 'fieldPaid',
  is_recurring: 'op_f_recurring',
  refunded_at: 'op_refundedAt',
  transaction_hash: 'op_f_transaction',
  kind: 'op_f_kind',
  what: 'op_f_what',
  attempts: 'op_f_attempts',
  sent_at: 'op_f_sentAt',
  last_error_code: 'op_f_lastError',
  chat_id: 'op_f_chat',
  invite_link: 'op_f_inviteLink',
  joined_at: 'op_f_joinedAt',
  revoked_at: 'op_f_revokedAt',
  order_id: 'fieldOrder',
  user_id: 'op_buyer',
  problem: 'op_f_problem',
  stored: 'op_f_stored',
  telegram: 'op_f_telegram',
});

/** Fields whose value is a code with words of its own: the key prefix of those words. */
const CODE_WORDS = Object.freeze({ kind: 'op_kind_', problem: 'op_problem_' });

/**
 * A field's value in words: amounts in their currency, times as dates, yes/no, codes (a
 * message's kind, a difference's problem) in words.
 * @param {string} key
 * @param {unknown} v
 * @param {Record<string, unknown>} fields  the others (an amount's currency)
 */
function fieldValue(key, v, fields) {
  if (key === 'amount' && typeof v === 'number' && typeof fields.currency === 'string') return formatPrice(fields.currency, v);
  if (typeof v === 'boolean') return t(v ? 'op_yes' : 'op_no');
  if (/_at$|_date$/.test(key)) return when(v);
  const words = CODE_WORDS[/** @type {keyof typeof CODE_WORDS} */ (key)];
  if (words && typeof v === 'string' && isStringKey(words + v)) return t(/** @type {StringKey} */ (words + v));
  // A reconciliation difference's two amounts: Stars, the only currency it compares.
  if ((key === 'stored' || key === 'telegram') && typeof v === 'number') return formatPrice('XTR', v);
  return scalar(v);
}

/**
 * A list of `label: value` lines for an object's plain fields.
 * @param {Record<string, unknown>} fields
 * @param {string[]} [skip]
 */
function fieldList(fields, skip = []) {
  return el('dl', { class: 'op-fields' }, ...Object.entries(fields)
    .filter(([k, v]) => !skip.includes(k) && v !== null && v !== undefined && typeof v !== 'object')
    .flatMap(([k, v]) => {
      const label = FIELD_LABELS[k];
      return [el('dt', { text: label ? t(label) : k }), el('dd', { text: fieldValue(k, v, fields) })];
    }));
}

/**
 * @param {object} deps
 * @param {Api} deps.api
 * @param {Catalog} deps.catalog  product titles for the filter and the rows
 * @param {() => void} deps.onButtonsChange  what bottomButtons() answers may have changed
 */
export function createOperator({ api, catalog, onButtonsChange }) {
  let days = PERIODS[0] ?? 30;
  /** @type {Summary | null} */
  let summary = null;
  /** @type {AdminOrder | null} the order on screen */
  let detail = null;
  let exporting = false;
  let refunding = false;
  let searchTimer = 0;
  /** Counts list loads, so an older answer never replaces a newer one. */
  let listSeq = 0;

  const view = () => byId('operator-view');
  const orderView = () => byId('operator-order-view');

  /** The filter the list, and the CSV, show. */
  function filter() {
    const f = new URLSearchParams();
    /** @param {string} id */
    const value = (id) => {
      const node = document.getElementById(id);
      return node instanceof HTMLInputElement || node instanceof HTMLSelectElement ? node.value.trim() : '';
    };
    const q = value('op-search').replace(/^@/, '');
    if (q) f.set('q', q);
    for (const [param, id] of [['status', 'op-status'], ['product', 'op-product'], ['currency', 'op-currency']]) {
      const v = value(/** @type {string} */ (id));
      if (v) f.set(/** @type {string} */ (param), v);
    }
    return f;
  }

  /* ---------- the summary ---------- */

  /**
   * @param {import('../api.js').CurrencySummary} c
   * @param {Summary} s
   */
  function currencyCard(c, s) {
    const money = (/** @type {number} */ a) => formatPrice(c.currency, a);
    const rate = new Intl.NumberFormat(locale(), { style: 'percent', maximumFractionDigits: 1 }).format(c.refund_rate);
    /**
     * @param {string} figure
     * @param {string} label
     * @param {string} text
     * @param {number} value
     */
    const figure = (figure, label, text, value) => el('div', { class: 'op-figure', dataset: { figure, value: String(value) } },
      el('span', { class: 'op-figure-label hint', text: label }),
      el('span', { class: 'op-figure-value', text }));
    const until = new Date().toISOString().slice(0, 10);
    const since = new Date(Date.now() - (s.days - 1) * 86400000).toISOString().slice(0, 10);
    const perDay = fillDays(c.per_day, dateRange(since, until));
    const max = Math.max(0, ...perDay.map((d) => d.gross));
    return el('article', { class: 'op-card op-currency', dataset: { currency: c.currency } },
      el('h3', { class: 'op-card-title', text: c.currency === 'XTR' ? t('op_stars') : c.currency }),
      el('div', { class: 'op-figures' },
        figure('gross', t('op_gross'), money(c.gross), c.gross),
        c.net !== null && figure('net', t('op_net'), money(c.net), c.net),
        figure('refunded', t('op_refunded'), money(c.refunded), c.refunded),
        figure('paid_orders', t('op_paidOrders'), String(c.paid_orders), c.paid_orders),
        figure('refunds', t('op_refunds'), String(c.refunds), c.refunds),
        figure('refund_rate', t('op_refundRate'), rate, c.refund_rate)),
      revenueChart({
        id: `op-chart-${c.currency.replace(/[^A-Za-z0-9]/g, '')}`,
        days: perDay,
        title: t('op_chartTitle', { currency: c.currency === 'XTR' ? t('op_stars') : c.currency, days: s.days }),
        desc: t('op_chartDesc', { max: money(max), gross: money(c.gross), refunded: money(c.refunded) }),
        format: money,
        labels: { caption: t('op_perDay'), date: t('op_date'), gross: t('op_gross'), refunded: t('op_refunded'), orders: t('op_orders') },
      }));
  }

  /** @param {Summary} s */
  function renderSummary(s) {
    const revenue = byId('op-revenue');
    revenue.removeAttribute('aria-busy');
    revenue.replaceChildren(...(s.currencies.length
      ? s.currencies.map((c) => currencyCard(c, s))
      : [el('p', { class: 'empty hint', text: t('op_noSales') })]));

    const renewing = s.subscriptions.renewing_30d.filter((r) => r.count > 0);
    byId('op-subscriptions').replaceChildren(
      el('p', { class: 'op-line', dataset: { value: String(s.subscriptions.active) }, text: t('op_activeSubs', { count: s.subscriptions.active }) }),
      ...(renewing.length
        ? renewing.map((r) => el('p', { class: 'op-line hint', dataset: { currency: r.currency },
          text: t('op_renewing', { count: r.count, amount: formatPrice(r.currency, r.amount) }) }))
        : [el('p', { class: 'op-line hint', text: t('op_noRenewals') })]));

    const balance = byId('op-balance');
    if (s.star_balance) {
      balance.dataset.value = String(s.star_balance.amount);
      balance.classList.remove('hint');
      balance.textContent = formatPrice('XTR', s.star_balance.amount);
    } else {
      delete balance.dataset.value;
      balance.classList.add('hint');
      balance.textContent = s.star_balance_failed ? t('op_balanceUnavailable') : '—';
    }

    const rec = byId('op-reconciliation');
    const r = s.reconciliation;
    if (!r) {
      rec.dataset.state = 'unknown';
      rec.replaceChildren(el('p', { class: 'op-line hint', text: t(s.reconciliation_failed ? 'op_reconcileUnavailable' : 'op_notReconciled') }));
    } else if (r.in_sync || r.differences.length === 0) {
      rec.dataset.state = 'in_sync';
      rec.replaceChildren(el('p', { class: 'op-line op-ok', text: t('op_inSync', { checked: r.checked }) }));
    } else {
      rec.dataset.state = 'differences';
      rec.replaceChildren(
        el('p', { class: 'op-line op-warn', text: t('op_differences', { count: r.differences.length, checked: r.checked }) }),
        el('ul', { class: 'op-differences' }, ...r.differences.map((d) => el('li', {}, fieldList(d)))));
    }
  }

  async function loadSummary() {
    byId('op-revenue').setAttribute('aria-busy', 'true');
    try {
      summary = await api.adminSummary(days);
      renderSummary(summary);
      fillCurrencies();
    } catch (e) {
      byId('op-revenue').removeAttribute('aria-busy');
      showError(t('op_loadFailed', { message: errorText(e) }));
    }
  }

  /** @param {number} next */
  function setDays(next) {
    days = next;
    view().dataset.days = String(days);
    for (const b of view().querySelectorAll('button.op-days')) {
      if (b instanceof HTMLElement) b.setAttribute('aria-pressed', String(b.dataset.days === String(days)));
    }
    void loadSummary();
  }

  /* ---------- the orders ---------- */

  /** The currency filter offers what the summary and the catalog know. */
  function fillCurrencies() {
    const select = byId('op-currency');
    if (!(select instanceof HTMLSelectElement)) return;
    const known = new Set([...(summary?.currencies ?? []).map((c) => c.currency), ...catalog.all().map((p) => p.currency)]);
    const chosen = select.value;
    select.replaceChildren(el('option', { value: '', text: t('op_allCurrencies') }),
      ...[...known].sort().map((c) => el('option', { value: c, text: c })));
    select.value = known.has(chosen) ? chosen : '';
  }

  function fillProducts() {
    const select = byId('op-product');
    if (!(select instanceof HTMLSelectElement)) return;
    const chosen = select.value;
    select.replaceChildren(el('option', { value: '', text: t('op_allProducts') }),
      ...catalog.all().map((p) => el('option', { value: p.id, text: p.title })));
    select.value = catalog.all().some((p) => p.id === chosen) ? chosen : '';
  }

  /** @param {AdminOrderRow} r */
  function row(r) {
    const title = catalog.all().find((p) => p.id === r.product_id)?.title ?? r.product_id;
    const who = r.username ? `@${r.username}` : String(r.user_id);
    return el('li', { class: 'op-order', dataset: { orderId: r.order_id } },
      el('button', { class: 'op-order-main', type: 'button', onclick: () => { haptic.tap(); void openOrder(r.order_id); } },
        el('span', { class: 'op-order-title' }, el('span', { class: 'op-order-product', text: title }),
          el('span', { class: 'op-order-amount', text: formatPrice(r.currency, r.amount) })),
        el('span', { class: 'op-order-meta hint', text: `${who} · ${r.order_id} · ${formatDate(r.paid_at ?? r.created_at, true)}` })),
      statusBadge(r.status));
  }

  async function loadOrders() {
    const seq = ++listSeq;
    const list = byId('op-orders');
    list.setAttribute('aria-busy', 'true');
    try {
      const { count, rows } = await api.adminOrders(filter(), LIMIT);
      if (seq !== listSeq) return;
      // One row per charge: an order paid then refunded shows once, as it stands.
      const seen = new Set();
      const unique = rows.filter((r) => (seen.has(r.order_id) ? false : (seen.add(r.order_id), true)));
      list.replaceChildren(...(unique.length ? unique.map(row) : [el('li', { class: 'empty hint', text: t('op_noMatches') })]));
      byId('op-count').textContent = t('op_count', { count: Math.max(count, unique.length) });
    } catch (e) {
      if (seq !== listSeq) return;
      list.replaceChildren();
      showError(t('op_loadFailed', { message: errorText(e) }));
    } finally {
      if (seq === listSeq) list.removeAttribute('aria-busy');
    }
  }

  /* ---------- CSV ---------- */

  async function downloadCsv() {
    if (exporting) return;
    exporting = true;
    updateBusy();
    clearError();
    showNotice(t('op_csvPreparing'), 'busy');
    try {
      const link = await api.exportLink(filter());
      const result = await downloadFile(link.url, link.file_name);
      if (result === 'downloading') showNotice(t('op_csvDownloading', { file: link.file_name }), 'success');
      else if (result === 'cancelled' || result === 'busy') showNotice(t('op_csvCancelled'), 'info');
      else {
        // Outside Telegram, or a client without downloadFile: a plain link download.
        el('a', { href: link.url, download: link.file_name, rel: 'noopener' }).click();
        showNotice(t('op_csvBrowser', { file: link.file_name }), 'success');
      }
    } catch (e) {
      haptic.notify('error');
      showError(errorText(e));
    } finally {
      exporting = false;
      updateBusy();
    }
  }

  /* ---------- one order ---------- */

  /** @param {string} orderId */
  async function openOrder(orderId) {
    clearError();
    const node = orderView();
    node.dataset.orderId = orderId;
    node.replaceChildren(el('div', { class: 'skeleton' }));
    detail = null;
    showView({ name: 'operatorOrder', orderId });
    try {
      const d = await api.adminOrder(orderId);
      if (currentView().name !== 'operatorOrder' || node.dataset.orderId !== orderId) return;
      detail = d;
      renderOrder(d);
    } catch (e) {
      node.replaceChildren(backLink() ?? '', el('p', { class: 'empty hint', text: t('op_loadFailed', { message: errorText(e) }) }));
    }
    onButtonsChange();
  }

  /** @param {AdminOrder} d */
  function renderOrder(d) {
    const o = d.order;
    const id = scalar(o.id ?? o.order_id);
    const status = scalar(o.status);
    const currency = scalar(o.currency);
    const amount = typeof o.amount === 'number' ? formatPrice(currency, o.amount) : '—';
    const productId = scalar(o.product_id);
    const title = typeof o.product_title === 'string' && o.product_title
      ? o.product_title
      : catalog.all().find((p) => p.id === productId)?.title ?? productId;
    const who = typeof o.username === 'string' && o.username ? `@${o.username}` : scalar(o.user_id);
    /** @param {string} label @param {string} value */
    const field = (label, value) => [el('dt', { text: label }), el('dd', { text: value })];
    const refund = d.refundable
      ? el('button', { id: 'op-refund', class: 'op-button destructive', type: 'button', text: t('op_refund'), onclick: () => { void refundOrder(); } })
      : null;
    orderView().replaceChildren(...[
      backLink(),
      el('h2', { class: 'section-title op-order-id', text: t('op_orderTitle', { id }) }),
      el('div', { class: 'op-card' },
        el('div', { class: 'op-order-head' }, el('span', { class: 'op-order-product', text: title }), statusBadge(status)),
        el('dl', { class: 'fields' },
          ...field(t('fieldOrder'), id),
          ...field(t('op_buyer'), who),
          ...field(t('fieldAmount'), amount),
          ...field(t('fieldCreated'), when(o.created_at)),
          ...(o.paid_at ? field(t('fieldPaid'), when(o.paid_at)) : []),
          ...(o.refunded_at ? field(t('op_refundedAt'), when(o.refunded_at)) : []))),
      el('h3', { class: 'op-subtitle', text: t('op_charges') }),
      el('ul', { class: 'op-list op-charges' }, ...(d.charges.length
        ? d.charges.map((c) => el('li', { class: 'op-card op-charge', dataset: { chargeId: scalar(c.charge_id ?? c.telegram_payment_charge_id ?? c.id) } }, fieldList(c)))
        : [el('li', { class: 'empty hint', text: t('op_noCharges') })])),
      el('h3', { class: 'op-subtitle', text: t('op_deliveries') }),
      el('ul', { class: 'op-list op-deliveries' }, ...(d.deliveries.length
        ? d.deliveries.map((x) => {
          const state = scalar(x.state);
          return el('li', { class: 'op-card op-delivery', dataset: { state } },
            el('span', { class: 'op-state', dataset: { state }, text: stateLabel(state) }), fieldList(x, ['state']));
        })
        : [el('li', { class: 'empty hint', text: t('op_noDeliveries') })])),
      d.access && el('h3', { class: 'op-subtitle', text: t('op_access') }),
      d.access && el('div', { class: 'op-card op-access' }, fieldList(d.access)),
      refund,
      !d.refundable && status === 'paid' && el('p', { class: 'hint', text: t('op_notRefundable') }),
    ].filter((x) => x !== null && x !== false));
  }

  async function refundOrder() {
    const d = detail;
    if (!d || !d.refundable || refunding) return;
    const id = scalar(d.order.id ?? d.order.order_id);
    const currency = scalar(d.order.currency);
    const amount = typeof d.order.amount === 'number' ? formatPrice(currency, d.order.amount) : '';
    const who = typeof d.order.username === 'string' && d.order.username ? `@${d.order.username}` : scalar(d.order.user_id);
    haptic.tap();
    if (!(await showConfirm(t('op_refundConfirm', { amount, buyer: who, order: id })))) return;
    refunding = true;
    updateBusy();
    clearError();
    showNotice(t('op_refunding'), 'busy');
    try {
      await api.refund(id);
    } catch (e) {
      haptic.notify('error');
      showError(errorText(e));
      refunding = false;
      updateBusy();
      return;
    }
    haptic.notify('success');
    showNotice(t('op_refundDone', { order: id }), 'success');
    // The detail, the list and the figures all change.
    try {
      if (currentView().name === 'operatorOrder' && orderView().dataset.orderId === id) {
        detail = await api.adminOrder(id);
        renderOrder(detail);
      }
    } catch (e) {
      showError(t('op_loadFailed', { message: errorText(e) }));
    } finally {
      refunding = false;
      updateBusy();
    }
    void loadOrders();
    void loadSummary();
  }

  /* ---------- wiring ---------- */

  /** The in-page buttons follow what is running; so do Telegram's (onButtonsChange). */
  function updateBusy() {
    const csv = document.getElementById('op-csv');
    if (csv instanceof HTMLButtonElement) csv.disabled = exporting;
    const refund = document.getElementById('op-refund');
    if (refund instanceof HTMLButtonElement) refund.disabled = refunding;
    onButtonsChange();
  }

  function build() {
    const periods = el('div', { class: 'op-periods', role: 'group', 'aria-label': t('op_period') }, ...PERIODS.map((n) =>
      el('button', { class: 'op-days', type: 'button', dataset: { days: String(n) }, text: t('op_days', { days: n }),
        onclick: () => { haptic.tap(); setDays(n); } })));
    const search = el('input', { id: 'op-search', type: 'search', placeholder: t('op_search'), 'aria-label': t('op_searchLabel') });
    search.addEventListener('input', () => {
      window.clearTimeout(searchTimer);
      searchTimer = window.setTimeout(() => void loadOrders(), SEARCH_DELAY_MS);
    });
    /**
     * @param {string} id
     * @param {string} label
     * @param {...Node} options
     */
    const select = (id, label, ...options) => {
      const s = el('select', { id, class: 'op-select', 'aria-label': label }, ...options);
      s.addEventListener('change', () => void loadOrders());
      return s;
    };
    const statuses = [el('option', { value: '', text: t('op_allStatuses') }),
      ...STATUSES.map((st) => el('option', { value: st, text: statusLabel(st) }))];
    view().replaceChildren(...[
      backLink(),
      el('h2', { class: 'section-title', text: t('op_title') }),
      periods,
      el('section', { id: 'op-revenue', class: 'op-revenue', 'aria-busy': 'true', 'aria-label': t('op_revenue') }),
      el('div', { class: 'op-grid' },
        el('section', { class: 'op-card' }, el('h3', { class: 'op-card-title', text: t('op_subscriptions') }), el('div', { id: 'op-subscriptions' })),
        el('section', { class: 'op-card' }, el('h3', { class: 'op-card-title', text: t('op_balance') }), el('p', { id: 'op-balance', class: 'op-balance' })),
        el('section', { class: 'op-card' }, el('h3', { class: 'op-card-title', text: t('op_reconciliation') }), el('div', { id: 'op-reconciliation' }))),
      el('h2', { class: 'section-title', text: t('op_latestOrders') }),
      el('div', { class: 'op-filters' }, search,
        select('op-status', t('fieldStatus'), ...statuses),
        select('op-product', t('fieldProduct')),
        select('op-currency', t('op_currency'))),
      el('p', { id: 'op-count', class: 'hint op-count' }),
      el('ul', { id: 'op-orders', class: 'op-orders orders' }),
      el('button', { id: 'op-csv', class: 'op-button', type: 'button', text: t('op_downloadCsv'), onclick: () => { haptic.tap(); void downloadCsv(); } }),
    ].filter((x) => x !== null));
    fillProducts();
    fillCurrencies();
  }

  let built = false;

  /** Opens the operator view; its figures and orders load each time. */
  function open() {
    if (!built) {
      build();
      built = true;
      setDays(days);
    } else {
      fillProducts();
      void loadSummary();
    }
    clearError();
    showView({ name: 'operator' });
    void loadOrders();
  }

  return {
    open,
    /** Shows the entry card on the home view (only ever for operators). */
    showEntry() {
      byId('operator-entry').hidden = false;
      byId('operator-open').addEventListener('click', () => { haptic.tap(); open(); });
    },
    /**
     * What Telegram's bottom bar shows in the operator's views.
     * @returns {BottomButtons}
     */
    bottomButtons() {
      const name = currentView().name;
      if (name === 'operator') {
        return { main: { text: t('op_downloadCsv'), busy: exporting, onClick: () => { void downloadCsv(); } }, secondary: null };
      }
      if (name === 'operatorOrder' && detail?.refundable) {
        return { main: { text: t('op_refund'), busy: refunding, onClick: () => { void refundOrder(); } }, secondary: null };
      }
      return { main: null, secondary: null };
    },
  };
}

/** @typedef {ReturnType<typeof createOperator>} Operator */
