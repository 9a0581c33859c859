// @ts-check
// Buying, on the rail the product's currency picks:
// - Stars and cards: POST /api/invoices → Telegram's payment sheet (openInvoice) → when it
//   closes, poll GET /api/orders until the server knows how the order ended.
// - TON and USDT: a linked wallet (ton.js connects one first) → POST /api/ton/orders → the
//   wallet sends the transaction the worker built → poll POST /api/ton/orders/{id}/check
//   until the worker found the payment on chain.
// What the client says (invoice status, the wallet's "sent") is a hint, not proof: only the
// server's order status says "paid".
// Before the first purchase of a launch, unless the bot may already message the buyer, the
// page asks for that (writeaccess.js): the goods go by private message.
// Also what the MainButton offers ("Pay ⭐ 50"): the product in focus (app.js shows it).
//
// State owned here: whether an order is being made (`buying`: no double taps).

import { ApiError } from './api.js';
import { errorText, invoiceErrorText } from './errors.js';
import { formatPrice, isTonCurrency, statusLabel, productPrice } from './format.js';
import { t } from './i18n.js';
import { haptic, openInvoice, openTelegramLink } from './telegram.js';
import { currentView } from './views/navigation.js';
import { clearError, clearNotice, setStatus, showError, showNotice } from './views/status.js';
import { ensureWriteAccess } from './writeaccess.js';

/** @typedef {import('./api.js').Api} Api */
/** @typedef {import('./api.js').Product} Product */
/** @typedef {import('./api.js').OrderStatus} OrderStatus */
/** @typedef {import('./telegram.js').InvoiceStatus} InvoiceStatus */
/** @typedef {import('./views/catalog.js').Catalog} Catalog */
/** @typedef {import('./views/orders.js').Orders} Orders */
/** @typedef {import('./api.js').Order} Order */
/** @typedef {import('./api.js').TonCheck} TonCheck */
/** @typedef {import('./ton.js').Ton} Ton */
/** @typedef {import('./telegram.js').BottomButtonSpec} BottomButtonSpec */
/** @typedef {ReturnType<typeof createBuyFlow>} BuyFlow */

const POLL_INTERVAL_MS = 700;
const POLL_TIMEOUT_MS = 15000;
/** The first look on chain (a transfer takes a moment to be final), then every few seconds. */
const TON_FIRST_CHECK_MS = 1500;
const TON_CHECK_INTERVAL_MS = 3000;
/** A wallet sends within a minute or two; after that the scheduled job settles the order. */
const TON_CHECK_TIMEOUT_MS = 120000;

/** @param {number} ms */
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * @param {object} deps
 * @param {Api} deps.api
 * @param {Catalog} deps.catalog  the deep-linked product; what the user owns after paying
 * @param {Orders} deps.orders  polled until the order settles
 * @param {() => Ton | null} deps.ton  TON Connect, once the catalog sells for TON
 * @param {() => void} deps.onButtonsChange  what mainButton() answers may have changed
 */
export function createBuyFlow({ api, catalog, orders, ton, onButtonsChange }) {
  let buying = false;

  /**
   * The product the MainButton offers: the one in the product view, or on the home view
   * the one the deep link picked.
   * @returns {Product | null}
   */
  function productInFocus() {
    const view = currentView();
    if (view.name === 'product') return view.product;
    if (view.name === 'home') return catalog.selected();
    return null;
  }

  /**
   * The MainButton for the product in focus, busy while an order is being made; null when
   * no product is in focus.
   * @returns {BottomButtonSpec | null}
   */
  function mainButton() {
    const p = productInFocus();
    if (!p) return null;
    return {
      text: t(p.subscription_period ? 'subscribeMain' : 'payMain', { price: productPrice(p) }),
      busy: buying,
      onClick: () => { void buy(p); },
    };
  }

  /** @param {boolean} on */
  function setBuying(on) {
    buying = on;
    for (const b of document.querySelectorAll('button.buy')) {
      if (b instanceof HTMLButtonElement) b.disabled = on;
    }
    onButtonsChange();
  }

  /**
   * Polls GET /api/orders until the order settles.
   * @param {string} orderId
   * @returns {Promise<OrderStatus | null>} its final status, or null on timeout
   */
  async function waitForOrder(orderId) {
    const deadline = Date.now() + POLL_TIMEOUT_MS;
    while (Date.now() < deadline) {
      // A failed poll (logged by orders.load) is simply tried again.
      const list = await orders.load({ quiet: true });
      const o = list?.find((x) => x.id === orderId);
      if (o && o.status !== 'pending') return o.status;
      await sleep(POLL_INTERVAL_MS);
    }
    return null;
  }

  /**
   * The payment sheet closed with the client's `status`.
   * @param {Product} p
   * @param {string} orderId
   * @param {InvoiceStatus} status
   */
  async function onInvoiceClosed(p, orderId, status) {
    if (status === 'cancelled') {
      showNotice(t('cancelled'), 'info');
      void orders.load({ quiet: true });
      return;
    }
    if (status === 'failed') {
      showError(t('failed'));
      haptic.notify('error');
      void orders.load({ quiet: true });
      return;
    }
    // 'paid', 'pending' (and anything unexpected): ask the server until it knows.
    clearError();
    showNotice(t('confirming'), 'busy');
    const final = await waitForOrder(orderId);
    if (final) {
      settled(p.id, final);
    } else {
      haptic.notify('warning');
      showNotice(t('stillConfirming'), 'info');
    }
  }

  /**
   * The server says how the order for a product ended.
   * @param {string} productId
   * @param {OrderStatus} status  not `pending`
   */
  function settled(productId, status) {
    if (status === 'paid') {
      haptic.notify('success');
      catalog.unselect(productId);
      showNotice(t('paidOk', { title: catalog.title(productId) }), 'success');
      void catalog.loadEntitlements();
    } else {
      haptic.notify('error');
      clearNotice();
      showError(t('orderEnded', { status: statusLabel(status) }));
    }
  }

  /**
   * Polls POST /api/ton/orders/{id}/check until the worker found the order paid (or
   * otherwise ended), or only part of the price arrived, or the time is up.
   * @param {string} orderId
   * @returns {Promise<TonCheck | null>} the last answer; null when none came
   */
  async function waitForTonPayment(orderId) {
    const deadline = Date.now() + TON_CHECK_TIMEOUT_MS;
    let delay = TON_FIRST_CHECK_MS;
    /** @type {TonCheck | null} */
    let last = null;
    while (Date.now() < deadline) {
      await sleep(delay);
      delay = TON_CHECK_INTERVAL_MS;
      try {
        last = await api.checkTonOrder(orderId);
      } catch (e) {
        // toncenter busy, a lost connection: look again (after Retry-After when told).
        console.warn('ton: check failed; trying again', e);
        if (e instanceof ApiError && e.retryAfter) delay = Math.max(delay, e.retryAfter * 1000);
        continue;
      }
      if (last.order.status !== 'pending') return last;
      if (last.received !== null && Number(last.received) > 0) return last; // short: no more is coming
    }
    return last;
  }

  /**
   * Says what the last look on chain found for `order`.
   * @param {Order} order
   * @param {TonCheck | null} last
   * @param {'tonStillConfirming' | 'tonNotArrived'} nothing  the words for "nothing yet"
   */
  function reportTonCheck(order, last, nothing) {
    const status = last?.order.status ?? 'pending';
    if (status !== 'pending') {
      settled(order.product_id, status);
      return;
    }
    haptic.notify('warning');
    const received = Number(last?.received ?? 0);
    if (received > 0) {
      showNotice(t('tonShort', {
        received: formatPrice(order.currency, received),
        price: formatPrice(order.currency, order.amount),
      }), 'info');
    } else {
      showNotice(t(nothing), 'info');
    }
  }

  /**
   * The wallet sent the transaction: wait for the worker to see it on chain.
   * @param {Order} order
   */
  async function followTonOrder(order) {
    clearError();
    showNotice(t('tonConfirming'), 'busy');
    const last = await waitForTonPayment(order.id);
    void orders.load({ quiet: true });
    reportTonCheck(order, last, 'tonStillConfirming');
  }

  /**
   * One look on chain for a pending TON or USDT order (the order view's Check payment).
   * @param {Order} order
   * @returns {Promise<Order | null>} the order as it now stands; null when the look failed
   */
  async function checkTonPayment(order) {
    clearError();
    /** @type {TonCheck} */
    let check;
    try {
      check = await api.checkTonOrder(order.id);
    } catch (e) {
      showError(errorText(e));
      haptic.notify('error');
      return null;
    }
    reportTonCheck(order, check, 'tonNotArrived');
    await orders.load({ quiet: true });
    return check.order;
  }

  /**
   * Buys `p` through TON Connect: connects and links a wallet when none can pay, makes the
   * order, has the wallet send it; null when it stopped on the way (the page says why).
   * @param {Product} p
   * @returns {Promise<Order | null>} the order the wallet sent the payment for
   */
  async function sendWithTon(p) {
    const wallet = ton();
    if (!wallet) {
      showError(t('error_ton_not_configured'));
      return null;
    }
    setStatus(t('walletLoading'), 'busy');
    await wallet.ready(); // a session TON Connect restores can pay at once
    if (!wallet.payingWallet()) {
      showNotice(t('walletConnectFirst', { title: p.title }), 'info');
      const linked = await wallet.connect();
      if (!linked) {
        clearNotice();
        return null;
      }
    }
    setStatus(t('tonCreatingOrder'), 'busy');
    /** @type {import('./api.js').TonOrder} */
    let created;
    try {
      created = await api.createTonOrder(p.id);
    } catch (e) {
      clearNotice();
      showError(errorText(e));
      haptic.notify('error');
      return null;
    }
    void orders.load({ quiet: true }); // the new pending order shows up right away
    showNotice(t('tonConfirmInWallet', { price: productPrice(p) }), 'busy');
    /** @type {'sent' | 'rejected'} */
    let outcome;
    try {
      outcome = await wallet.send(created.transaction);
    } catch (e) {
      console.warn('ton: sendTransaction failed', e);
      clearNotice();
      showError(t('tonSendFailed'));
      haptic.notify('error');
      return null;
    }
    if (outcome === 'rejected') {
      haptic.notify('warning');
      showNotice(t('tonRejected'), 'info');
      return null;
    }
    return created.order;
  }

  /**
   * Buys `p`: creates the invoice, opens Telegram's payment sheet, follows the order.
   * @param {Product} p
   */
  async function buy(p) {
    if (buying) return;
    haptic.tap();
    // Sold through the chat's own subscription link: Telegram takes the payment.
    if (p.join_link) {
      openTelegramLink(p.join_link);
      return;
    }
    clearError();
    clearNotice();
    setBuying(true);
    // The goods go by private message: make sure the bot may send them (asked once).
    await ensureWriteAccess();
    if (isTonCurrency(p.currency)) {
      /** @type {Order | null} */
      let order = null;
      try {
        order = await sendWithTon(p);
      } finally {
        // Unlocked once the wallet answered: the look on chain needs no lock.
        setBuying(false);
      }
      if (order) await followTonOrder(order);
      return;
    }
    setStatus(t('creatingInvoice'), 'busy');
    /** @type {import('./api.js').Invoice} */
    let invoice;
    try {
      invoice = await api.createInvoice(p.id);
    } catch (e) {
      setBuying(false);
      showError(errorText(e));
      haptic.notify('error');
      return;
    }
    try {
      openInvoice(invoice.invoice_link, (status) => { void onInvoiceClosed(p, invoice.order_id, status); });
      setStatus(t('invoiceOpen'), 'info');
    } catch (e) {
      showError(invoiceErrorText(e));
      haptic.notify('error');
    } finally {
      // Don't keep the page locked until the invoice closes: some clients never report it.
      setBuying(false);
    }
    void orders.load({ quiet: true }); // the new pending order shows up right away
  }

  return { buy, checkTonPayment, mainButton, productInFocus };
}
