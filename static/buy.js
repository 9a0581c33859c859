// @ts-check
// Buying: POST /api/invoices → Telegram's payment sheet (openInvoice) → when it closes,
// poll GET /api/orders until the server knows how the order ended. The client's
// invoice status is a hint, not proof: only the server's order status says "paid".
// Also the MainButton ("Pay ⭐ 50"), which offers the product in focus.
//
// State owned here: whether an invoice is being created (`buying`: no double taps).

import { errorText, invoiceErrorText } from './errors.js';
import { statusLabel, productPrice } from './format.js';
import { t } from './i18n.js';
import { haptic, mainButton, openInvoice, openTelegramLink } from './telegram.js';
import { currentView } from './views/navigation.js';
import { clearError, clearNotice, setStatus, showError, showNotice } from './views/status.js';

/** @typedef {import('./api.js').Api} Api */
/** @typedef {import('./api.js').Product} Product */
/** @typedef {import('./api.js').OrderStatus} OrderStatus */
/** @typedef {import('./telegram.js').InvoiceStatus} InvoiceStatus */
/** @typedef {import('./views/catalog.js').Catalog} Catalog */
/** @typedef {import('./views/orders.js').Orders} Orders */
/** @typedef {ReturnType<typeof createBuyFlow>} BuyFlow */

const POLL_INTERVAL_MS = 700;
const POLL_TIMEOUT_MS = 15000;

/** @param {number} ms */
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * @param {object} deps
 * @param {Api} deps.api
 * @param {Catalog} deps.catalog  the deep-linked product; what the user owns after paying
 * @param {Orders} deps.orders  polled until the order settles
 */
export function createBuyFlow({ api, catalog, orders }) {
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

  function updateMainButton() {
    const p = productInFocus();
    if (!p) { mainButton.hide(); return; }
    mainButton.show(t(p.subscription_period ? 'subscribeMain' : 'payMain', { price: productPrice(p) }), buying);
  }

  /** @param {boolean} on */
  function setBuying(on) {
    buying = on;
    for (const b of document.querySelectorAll('button.buy')) {
      if (b instanceof HTMLButtonElement) b.disabled = on;
    }
    updateMainButton();
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
    if (final === 'paid') {
      haptic.notify('success');
      catalog.unselect(p.id);
      showNotice(t('paidOk', { title: p.title }), 'success');
      void catalog.loadEntitlements();
    } else if (final) {
      haptic.notify('error');
      clearNotice();
      showError(t('orderEnded', { status: statusLabel(final) }));
    } else {
      haptic.notify('warning');
      showNotice(t('stillConfirming'), 'info');
    }
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

  return { buy, productInFocus, updateMainButton };
}
