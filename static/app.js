/*
 * tma-pay Mini App: who you are, the catalog, and your orders.
 *
 * Stable hooks for browser tests (do not rename without updating tests/browser):
 *   #user-name         the verified user's display name (from POST /api/verify)
 *   #status            always-present status line: "Verified as …", "Confirming payment…",
 *                      or the current error in words; data-kind="info|busy|success|error"
 *   #error             error banner; has the `hidden` attribute when there is no error
 *   #notice            result banner for non-errors (paid, cancelled, still confirming); data-kind as above
 *   #outside-telegram  shown (not hidden) only when opened outside Telegram
 *   #products          contains .product[data-product-id="<id>"], each with a button.buy;
 *                      the deep-linked product (start_param) also gets .selected
 *   #orders            contains .order[data-order-id="<id>"], each with
 *                      .order-status[data-status="pending|paid|refunded|failed|expired"]
 *                      paid orders with goods show .order-delivery in the order view;
 *                      an active subscription's order view has button.renewal[data-action="cancel|resume"]
 *   .product.owned     products the user owns now (GET /api/entitlements)
 *   #home, #product-view, #order-view   the three views; sub-views use Telegram's BackButton
 *
 * All server data goes into the DOM through textContent / attributes (see el()), never innerHTML.
 */
import { t, setLanguage, locale, translateDom } from './i18n.js';
import { createApi } from './api.js';

const POLL_INTERVAL_MS = 700;
const POLL_TIMEOUT_MS = 15000;

const tg = window.Telegram && window.Telegram.WebApp;
const $ = (id) => document.getElementById(id);

const state = {
  api: null,
  verified: false,
  products: [],
  byId: new Map(),
  owned: new Map(),  // product id → entitlement
  orders: [],
  view: 'home',      // 'home' | 'product' | 'order'
  detail: null,      // product shown in #product-view
  selected: null,    // product picked by the deep link (start_param)
  buying: false,     // an invoice is being created: no double taps
  homeScroll: 0,
};

/* ---------- small helpers ---------- */

/** Build an element. Strings become text nodes, so data can never turn into markup. */
function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v == null || v === false) continue;
    if (k === 'class') node.className = v;
    else if (k === 'text') node.textContent = v;
    else if (k === 'dataset') Object.assign(node.dataset, v);
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children) if (c != null && c !== false) node.append(c);
  return node;
}

const str = (v) => (v == null ? '' : String(v));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function versionAtLeast(v) {
  try { return !!(tg && tg.isVersionAtLeast && tg.isVersionAtLeast(v)); } catch { return false; }
}

// Haptics exist from Bot API 6.1; older clients throw or ignore, so guard every call.
const haptic = {
  tap() { try { if (versionAtLeast('6.1')) tg.HapticFeedback.impactOccurred('light'); } catch {} },
  notify(type) { try { if (versionAtLeast('6.1')) tg.HapticFeedback.notificationOccurred(type); } catch {} },
};

/* ---------- formatting ---------- */

// Amounts are integers in the smallest unit. Stars have no subunit; for money the brief is
// "2 decimals, except zero-decimal currencies (JPY, KRW…)", which Intl knows per currency.
function fractionDigits(currency) {
  try {
    const d = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits;
    return d === 0 ? 0 : 2;
  } catch { return 2; }
}

function formatPrice(currency, amount) {
  const n = Number(amount);
  if (!Number.isFinite(n)) return str(amount);
  if (currency === 'XTR') return `⭐ ${new Intl.NumberFormat(locale()).format(n)}`;
  const d = fractionDigits(currency);
  try {
    return new Intl.NumberFormat(locale(), {
      style: 'currency', currency, minimumFractionDigits: d, maximumFractionDigits: d,
    }).format(n / 10 ** d);
  } catch {
    return `${(n / 10 ** d).toFixed(d)} ${str(currency)}`;
  }
}

/** 2592000 → "30 days"; test-server periods (60, 300 s) → "1 minute", "5 minutes". */
function formatPeriod(seconds) {
  const s = Number(seconds);
  const [unit, n] = s % 86400 === 0 ? ['day', s / 86400]
    : s % 3600 === 0 ? ['hour', s / 3600]
    : s % 60 === 0 ? ['minute', s / 60]
    : ['second', s];
  try {
    return new Intl.NumberFormat(locale(), { style: 'unit', unit, unitDisplay: 'long' }).format(n);
  } catch { return `${n} ${unit}`; }
}

function productPrice(p) {
  const price = formatPrice(p.currency, p.amount);
  return p.subscription_period ? `${price} ${t('perPeriod', { period: formatPeriod(p.subscription_period) })}` : price;
}

function formatDate(unixSeconds, withTime = true) {
  const n = Number(unixSeconds);
  if (!Number.isFinite(n) || n <= 0) return '';
  const opts = withTime ? { dateStyle: 'medium', timeStyle: 'short' } : { dateStyle: 'medium' };
  return new Intl.DateTimeFormat(locale(), opts).format(new Date(n * 1000));
}

function statusLabel(status) {
  const key = `status_${status}`;
  const label = t(key);
  return label === key ? str(status) : label;
}

function displayName(user) {
  const name = [user.first_name, user.last_name].map(str).join(' ').trim();
  return name || (user.username ? `@${user.username}` : t('someone'));
}

function productTitle(productId) {
  const p = state.byId.get(productId);
  return p ? str(p.title) : str(productId);
}

// Images: only absolute https URLs (the CSP allows https: images). A broken one is swapped
// for `fallback` (or just removed), so a dead link never shows a broken-image icon.
function image(url, cls, fallback = null) {
  const u = str(url);
  if (!/^https:\/\//i.test(u)) return fallback;
  const img = el('img', { class: cls, src: u, alt: '', loading: 'lazy', referrerpolicy: 'no-referrer', decoding: 'async' });
  img.addEventListener('error', () => (fallback ? img.replaceWith(fallback) : img.remove()));
  return img;
}

/* ---------- status line and banners ---------- */

function setStatus(text, kind = 'info') {
  const s = $('status');
  s.textContent = text;
  s.dataset.kind = kind;
}

function showError(message) {
  const e = $('error');
  e.textContent = message;
  e.hidden = false;
  setStatus(message, 'error');
}

function clearError() {
  const e = $('error');
  e.textContent = '';
  e.hidden = true;
}

function showNotice(message, kind) {
  const n = $('notice');
  n.textContent = message;
  n.dataset.kind = kind;
  n.hidden = false;
  setStatus(message, kind);
}

function clearNotice() {
  const n = $('notice');
  n.textContent = '';
  n.hidden = true;
}

/* ---------- header ---------- */

function renderUser(user) {
  $('user-name').textContent = displayName(user);
  const handle = $('user-handle');
  handle.textContent = user.username ? `@${user.username}` : '';
  handle.hidden = !user.username;
  $('user-premium').hidden = user.is_premium !== true;

  const avatar = $('user-avatar');
  avatar.replaceChildren();
  const initials = displayName(user).replace(/^@/, '').trim().slice(0, 1).toUpperCase() || '?';
  avatar.append(el('span', { text: initials }));
  const img = image(user.photo_url, 'avatar-img');
  if (img) avatar.append(img);
  // A stable colour per user, like Telegram's own placeholders.
  avatar.dataset.hue = String(Math.abs(Number(user.id) || 0) % 7);
}

/* ---------- catalog ---------- */

function renderProducts() {
  const list = $('products');
  list.removeAttribute('aria-busy');
  if (!state.products.length) {
    list.replaceChildren(el('p', { class: 'empty', text: t('noProducts') }));
    return;
  }
  list.replaceChildren(...state.products.map(productCard));
  markSelected();
}

function productCard(p) {
  const isSub = !!p.subscription_period;
  return el('article', { class: 'product', dataset: { productId: str(p.id) } },
    el('button', { class: 'product-main', type: 'button', onclick: () => openProduct(p) },
      image(p.photo_url, 'product-photo',
        el('span', { class: 'product-photo placeholder', 'aria-hidden': 'true', text: p.currency === 'XTR' ? '⭐' : '💳' })),
      el('span', { class: 'product-text' },
        el('span', { class: 'product-title', text: str(p.title) }),
        el('span', { class: 'product-desc', text: str(p.description) }))),
    el('div', { class: 'product-foot' },
      el('span', { class: 'price', text: productPrice(p) }),
      el('button', {
        class: 'buy', type: 'button', text: t(isSub ? 'subscribe' : 'buy'),
        onclick: (ev) => { ev.stopPropagation(); buy(p); },
      })));
}

function markSelected() {
  for (const card of $('products').querySelectorAll('.product')) {
    const on = !!state.selected && card.dataset.productId === state.selected.id;
    card.classList.toggle('selected', on);
    if (on) card.setAttribute('aria-current', 'true'); else card.removeAttribute('aria-current');
    const owned = state.owned.get(card.dataset.productId);
    card.classList.toggle('owned', !!owned);
    card.querySelector('.owned-badge')?.remove();
    if (owned) {
      const text = owned.active_until ? t('activeUntil', { date: formatDate(owned.active_until, false) }) : t('owned');
      card.querySelector('.product-foot').prepend(el('span', { class: 'owned-badge', text }));
    }
  }
}

/** What the user owns now; marks those products. Failures only cost the badges. */
async function loadEntitlements() {
  try {
    const data = await state.api.entitlements();
    const list = Array.isArray(data.entitlements) ? data.entitlements : [];
    state.owned = new Map(list.map((e) => [str(e.product_id), e]));
    markSelected();
  } catch {}
}

async function loadProducts() {
  try {
    const data = await state.api.products();
    state.products = Array.isArray(data.products) ? data.products.filter((p) => p && p.id != null) : [];
    state.products.forEach((p) => { p.id = str(p.id); });
    state.byId = new Map(state.products.map((p) => [p.id, p]));
    renderProducts();
    if (state.orders.length) renderOrders(); // titles may now resolve
    return true;
  } catch (e) {
    $('products').removeAttribute('aria-busy');
    $('products').replaceChildren(el('p', { class: 'empty', text: t('productsFailed', { message: e.message }) }));
    showError(t('productsFailed', { message: e.message }));
    $('retry').hidden = false;
    return false;
  }
}

// Deep links pick and highlight a product: t.me/<bot>/<app>?startapp=<id> arrives as
// start_param; the bot's own button (after /start buy_<id>) opens the page with ?product=<id>.
function applyDeepLink() {
  const param = str(tg.initDataUnsafe && tg.initDataUnsafe.start_param)
    || str(new URLSearchParams(location.search).get('product'));
  const p = param && state.byId.get(param);
  if (!p) return;
  state.selected = p;
  markSelected();
  const card = $('products').querySelector('.product.selected');
  if (card) {
    card.classList.add('flash');
    card.scrollIntoView({ block: 'center', behavior: 'smooth' });
  }
  updateMainButton();
}

/* ---------- orders ---------- */

function renderOrders() {
  const list = $('orders');
  list.removeAttribute('aria-busy');
  if (!state.orders.length) {
    list.replaceChildren(el('li', { class: 'empty', text: t('noOrders') }));
    return;
  }
  list.replaceChildren(...state.orders.map(orderRow));
}

function subscriptionLine(o) {
  if (!o.subscription_expiration_date || o.status !== 'paid') return null;
  const date = formatDate(o.subscription_expiration_date, false);
  const active = Number(o.subscription_expiration_date) * 1000 > Date.now();
  return t(active ? 'activeUntil' : 'endedOn', { date });
}

function statusBadge(status) {
  return el('span', { class: 'order-status', dataset: { status: str(status) }, text: statusLabel(status) });
}

function orderRow(o) {
  const sub = subscriptionLine(o);
  return el('li', { class: 'order', dataset: { orderId: str(o.id) } },
    el('button', { class: 'order-main', type: 'button', onclick: () => openOrder(o) },
      el('span', { class: 'order-text' },
        el('span', { class: 'order-title', text: productTitle(o.product_id) }),
        el('span', { class: 'order-meta', text: `${formatPrice(o.currency, o.amount)} · ${formatDate(o.created_at)}` }),
        sub && el('span', { class: 'order-sub', text: sub })),
      statusBadge(o.status)));
}

async function loadOrders({ quiet = false } = {}) {
  try {
    const data = await state.api.orders();
    state.orders = Array.isArray(data.orders) ? data.orders.filter((o) => o && o.id != null) : [];
    state.orders.forEach((o) => { o.id = str(o.id); o.product_id = str(o.product_id); });
    renderOrders();
    return state.orders;
  } catch (e) {
    if (!quiet) {
      $('orders').removeAttribute('aria-busy');
      if (!state.orders.length) $('orders').replaceChildren(el('li', { class: 'empty', text: t('ordersFailed', { message: e.message }) }));
      showError(t('ordersFailed', { message: e.message }));
    }
    return null;
  }
}

/* ---------- views: home, product details, order details ---------- */

function showView(view) {
  if (state.view === 'home' && view !== 'home') state.homeScroll = window.scrollY;
  state.view = view;
  $('home').hidden = view !== 'home';
  $('product-view').hidden = view !== 'product';
  $('order-view').hidden = view !== 'order';
  try {
    if (versionAtLeast('6.1')) view === 'home' ? tg.BackButton.hide() : tg.BackButton.show();
  } catch {}
  updateMainButton();
  window.scrollTo(0, view === 'home' ? state.homeScroll : 0);
}

function goHome() {
  state.detail = null;
  showView('home');
}

// Telegram's BackButton needs 6.1; older clients get an in-page back link instead.
function backLink() {
  if (versionAtLeast('6.1')) return null;
  return el('button', { class: 'back-inline', type: 'button', text: `‹ ${t('back')}`, onclick: goHome });
}

function openProduct(p) {
  haptic.tap();
  state.detail = p;
  const period = p.subscription_period ? formatPeriod(p.subscription_period) : '';
  $('product-view').replaceChildren(...[
    backLink(),
    el('article', { class: 'detail product-detail', dataset: { productId: p.id } },
      image(p.photo_url, 'detail-photo'),
      el('h2', { class: 'detail-title', text: str(p.title) }),
      el('p', { class: 'detail-price', text: productPrice(p) }),
      el('p', { class: 'detail-desc', text: str(p.description) }),
      period && el('p', { class: 'hint', text: t('renews', { period }) })),
  ].filter(Boolean));
  showView('product');
}

/** The goods of a paid order: text, a link (https only) and a note about a sent file. */
function deliveryBlock(d) {
  if (!d || typeof d !== 'object') return null;
  const url = str(d.url);
  return el('section', { class: 'order-delivery' },
    el('h3', { text: t('yourGoods') }),
    d.text && el('p', { class: 'delivery-text', text: str(d.text) }),
    /^https:\/\//.test(url) && el('a', { class: 'delivery-link', href: url, target: '_blank', rel: 'noopener', text: t('openGoods') }),
    d.document && el('p', { class: 'hint', text: t('fileInChat') }));
}

/** Cancel or resume renewal of an active subscription (the server asks Telegram). */
function renewalButton(o) {
  const active = o.status === 'paid' && Number(o.subscription_expiration_date) * 1000 > Date.now();
  if (!active) return null;
  const action = o.renewal_canceled ? 'resume' : 'cancel';
  const button = el('button', {
    class: 'renewal', type: 'button', dataset: { action }, text: t(action === 'cancel' ? 'cancelRenewal' : 'resumeRenewal'),
    onclick: async () => {
      haptic.tap();
      button.disabled = true;
      clearError();
      try {
        await state.api.changeRenewal(o.id, action);
        o.renewal_canceled = action === 'cancel';
        showNotice(t(o.renewal_canceled ? 'renewalCanceled' : 'renewalResumed'), 'success');
        await Promise.all([loadOrders({ quiet: true }), loadEntitlements()]);
        openOrder(state.orders.find((x) => x.id === o.id) || o);
      } catch (e) {
        showError(e.message);
        haptic.notify('error');
        button.disabled = false;
      }
    },
  });
  return button;
}

function openOrder(o) {
  haptic.tap();
  const rows = [
    ['fieldProduct', productTitle(o.product_id)],
    ['fieldStatus', statusBadge(o.status)],
    ['fieldAmount', formatPrice(o.currency, o.amount)],
    ['fieldCreated', formatDate(o.created_at)],
    ['fieldPaid', o.paid_at ? formatDate(o.paid_at) : null],
    ['fieldSubscription', subscriptionLine(o)],
    ['fieldOrder', el('code', { text: o.id })],
    ['fieldCharge', o.telegram_payment_charge_id ? el('code', { text: str(o.telegram_payment_charge_id) }) : null],
  ].filter(([, v]) => v);
  $('order-view').replaceChildren(...[
    backLink(),
    el('article', { class: 'detail order-detail', dataset: { orderId: o.id } },
      el('h2', { class: 'detail-title', text: t('orderDetails') }),
      el('dl', { class: 'fields' }, ...rows.flatMap(([k, v]) => [el('dt', { text: t(k) }), el('dd', {}, v)])),
      o.status === 'paid' && deliveryBlock(o.delivery),
      o.subscription_expiration_date && o.renewal_canceled && el('p', { class: 'hint', text: t('renewalOff') }),
      o.subscription_expiration_date && renewalButton(o)),
  ].filter(Boolean));
  showView('order');
}

/* ---------- MainButton: "Pay ⭐ 50" for the product in focus ---------- */

function mainProduct() {
  if (state.view === 'product') return state.detail;
  if (state.view === 'home') return state.selected;
  return null;
}

function updateMainButton() {
  const mb = tg && tg.MainButton;
  if (!mb) return;
  const p = mainProduct();
  try {
    if (!p) { mb.hideProgress(); mb.hide(); return; }
    mb.setText(t(p.subscription_period ? 'subscribeMain' : 'payMain', { price: productPrice(p) }));
    if (state.buying) { mb.showProgress(false); mb.disable(); } else { mb.hideProgress(); mb.enable(); }
    mb.show();
  } catch {}
}

/* ---------- buying ---------- */

function setBuying(on) {
  state.buying = on;
  for (const b of document.querySelectorAll('button.buy')) b.disabled = on;
  updateMainButton();
}

function invoiceErrorText(e) {
  const m = str(e && e.message);
  if (m === 'WebAppMethodUnsupported') return t('invoiceUnsupported');
  if (m === 'WebAppInvoiceOpened') return t('invoiceAlreadyOpen');
  if (m === 'WebAppInvoiceUrlInvalid') return t('invoiceInvalid');
  return m || t('failed');
}

async function buy(p) {
  if (state.buying) return;
  haptic.tap();
  clearError();
  clearNotice();
  setBuying(true);
  setStatus(t('creatingInvoice'), 'busy');
  let invoice;
  try {
    invoice = await state.api.createInvoice(p.id);
  } catch (e) {
    setBuying(false);
    showError(e.message);
    haptic.notify('error');
    return;
  }
  const orderId = str(invoice.order_id);
  try {
    tg.openInvoice(str(invoice.invoice_link), (status) => onInvoiceClosed(p, orderId, status));
    setStatus(t('invoiceOpen'), 'info');
  } catch (e) {
    showError(invoiceErrorText(e));
    haptic.notify('error');
  } finally {
    // Don't keep the page locked until the invoice closes: some clients never report it.
    setBuying(false);
  }
  loadOrders({ quiet: true }); // the new pending order shows up right away
}

// The client's status is a hint, not proof: only the server's order status says "paid".
async function onInvoiceClosed(p, orderId, status) {
  if (status === 'cancelled') {
    showNotice(t('cancelled'), 'info');
    loadOrders({ quiet: true });
    return;
  }
  if (status === 'failed') {
    showError(t('failed'));
    haptic.notify('error');
    loadOrders({ quiet: true });
    return;
  }
  // 'paid', 'pending' (and anything unexpected): ask the server until it knows.
  clearError();
  showNotice(t('confirming'), 'busy');
  const final = await waitForOrder(orderId);
  if (final === 'paid') {
    haptic.notify('success');
    if (state.selected && state.selected.id === p.id) { state.selected = null; markSelected(); updateMainButton(); }
    showNotice(t('paidOk', { title: str(p.title) }), 'success');
    loadEntitlements();
  } else if (final) {
    haptic.notify('error');
    clearNotice();
    showError(t('orderEnded', { status: statusLabel(final) }));
  } else {
    haptic.notify('warning');
    showNotice(t('stillConfirming'), 'info');
  }
}

/** Poll GET /api/orders until the order settles. Returns its final status, or null on timeout. */
async function waitForOrder(orderId) {
  const deadline = Date.now() + POLL_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const orders = await loadOrders({ quiet: true }); // transient errors: just try again
    const o = orders && orders.find((x) => x.id === orderId);
    if (o && o.status !== 'pending') return o.status;
    await sleep(POLL_INTERVAL_MS);
  }
  return null;
}

/* ---------- sharing ---------- */

// The server gives each product its t.me link when it knows the bot's username
// (BOT_USERNAME, MINI_APP_NAME); share the product in focus, else the first link, else this page.
function shareLink() {
  const p = mainProduct() || state.products.find((x) => x.link);
  const link = p && str(p.link);
  return /^https:\/\/t\.me\//.test(link) ? link : `${location.origin}/`;
}

function share() {
  haptic.tap();
  const url = `https://t.me/share/url?url=${encodeURIComponent(shareLink())}&text=${encodeURIComponent(t('shareText'))}`;
  try { tg.openTelegramLink(url); } catch { window.open(url, '_blank', 'noopener'); }
}

/* ---------- theme ---------- */

// telegram-web-app.js sets the --tg-theme-* variables; data-scheme picks our fallbacks for
// any variable an older client leaves out.
function applyScheme() {
  document.documentElement.dataset.scheme = tg.colorScheme === 'dark' ? 'dark' : 'light';
}

/* ---------- start ---------- */

function showOutside() {
  $('outside-telegram').hidden = false;
  $('home').hidden = true;
  $('user-avatar').hidden = true;
  $('user-name').textContent = t('appTitle');
  setStatus(t('outsideTitle'), 'error');
}

async function boot() {
  $('retry').hidden = true;
  $('home').hidden = false;
  clearError();
  setStatus(t('verifying'), 'busy');
  try {
    const v = await state.api.verify();
    const user = (v && v.user && typeof v.user === 'object') ? v.user : {}; // some launches carry no user
    renderUser(user);
    state.verified = true;
    setStatus(t('verifiedAs', { name: displayName(user) }), 'success');
  } catch (e) {
    // Without a verified session nothing else can load: just the error and a retry.
    showError(t('verifyFailed', { message: e.message }));
    $('home').hidden = true;
    $('retry').hidden = false;
    return;
  }
  // Orders need product titles, but show whichever arrives first.
  const [productsOk] = await Promise.all([loadProducts(), loadOrders(), loadEntitlements()]);
  if (productsOk) applyDeepLink();
}

function start() {
  const user = tg && tg.initDataUnsafe && tg.initDataUnsafe.user;
  setLanguage((user && user.language_code) || navigator.language);
  translateDom();

  // No WebApp object (script blocked) or no initData (plain browser): explain, don't fail.
  if (!tg || !tg.initData) {
    try { tg && tg.ready(); } catch {}
    showOutside();
    return;
  }

  tg.ready();
  tg.expand();
  applyScheme();
  tg.onEvent('themeChanged', applyScheme);
  // The page background is the secondary colour (cards sit on it); make Telegram's chrome match.
  try {
    if (versionAtLeast('6.1')) { tg.setHeaderColor('secondary_bg_color'); tg.setBackgroundColor('secondary_bg_color'); }
  } catch {}

  state.api = createApi(tg.initData);
  $('share').hidden = false;
  $('share').addEventListener('click', share);
  $('retry').addEventListener('click', () => { haptic.tap(); boot(); });
  $('error').addEventListener('click', clearError);
  $('notice').addEventListener('click', clearNotice);

  tg.MainButton.onClick(() => { const p = mainProduct(); if (p) buy(p); });
  if (versionAtLeast('6.1')) tg.BackButton.onClick(() => { haptic.tap(); goHome(); });

  // Coming back to the app (e.g. after paying elsewhere): refresh orders quietly.
  const refresh = () => {
    if (state.verified && document.visibilityState === 'visible') { loadOrders({ quiet: true }); loadEntitlements(); }
  };
  document.addEventListener('visibilitychange', refresh);
  tg.onEvent('activated', refresh);

  boot();
}

start();
