// @ts-check
// The user's orders (#orders), newest first, each with its status badge.
// Hooks: #orders .order[data-order-id] with .order-status[data-status] and button.order-main.
//
// State owned here, changed only by load(): the last list GET /api/orders returned.

import { errorText } from '../errors.js';
import { byId, el } from '../dom.js';
import { formatDate, formatPrice, statusLabel } from '../format.js';
import { t } from '../i18n.js';
import { haptic } from '../telegram.js';
import { showError } from './status.js';

/** @typedef {import('../api.js').Api} Api */
/** @typedef {import('../api.js').Order} Order */
/** @typedef {import('./catalog.js').Catalog} Catalog */
/** @typedef {ReturnType<typeof createOrders>} Orders */

/**
 * "Active until …" / "Ended …" for a paid subscription; null otherwise.
 * @param {Order} o
 */
export function subscriptionLine(o) {
  if (!o.subscription_expiration_date || o.status !== 'paid') return null;
  const date = formatDate(o.subscription_expiration_date, false);
  return t(isActiveSubscription(o) ? 'activeUntil' : 'endedOn', { date });
}

/**
 * A paid subscription whose period has not ended.
 * @param {Order} o
 */
export function isActiveSubscription(o) {
  return o.status === 'paid' && o.subscription_expiration_date !== undefined
    && o.subscription_expiration_date * 1000 > Date.now();
}

/**
 * The status badge (also in the order view).
 * @param {string} status
 */
export function statusBadge(status) {
  return el('span', { class: 'order-status', dataset: { status }, text: statusLabel(status) });
}

/**
 * @param {object} deps
 * @param {Api} deps.api
 * @param {Catalog} deps.catalog  for the products' titles
 * @param {(o: Order) => void} deps.onOpen  a row was tapped
 */
export function createOrders({ api, catalog, onOpen }) {
  /** @type {readonly Order[]} */
  let orders = [];
  const list = () => byId('orders');

  /** @param {Order} o */
  function row(o) {
    const sub = subscriptionLine(o);
    return el('li', { class: 'order', dataset: { orderId: o.id } },
      el('button', { class: 'order-main', type: 'button', onclick: () => { haptic.tap(); onOpen(o); } },
        el('span', { class: 'order-text' },
          el('span', { class: 'order-title', text: catalog.title(o.product_id) }),
          el('span', { class: 'order-meta', text: `${formatPrice(o.currency, o.amount)} · ${formatDate(o.created_at)}` }),
          sub !== null && el('span', { class: 'order-sub', text: sub })),
        statusBadge(o.status)));
  }

  function render() {
    const node = list();
    node.removeAttribute('aria-busy');
    if (!orders.length) {
      node.replaceChildren(el('li', { class: 'empty', text: t('noOrders') }));
      return;
    }
    node.replaceChildren(...orders.map(row));
  }

  return {
    /**
     * GET /api/orders into the list. On failure the error banner says why, unless `quiet`
     * (background refreshes and polling, which simply try again later).
     * @param {{ quiet?: boolean }} [options]
     * @returns {Promise<readonly Order[] | null>} the orders, or null when they did not load
     */
    async load({ quiet = false } = {}) {
      try {
        orders = await api.orders();
      } catch (e) {
        if (quiet) {
          console.warn('orders not refreshed; the list stays as it was', e);
          return null;
        }
        const message = t('ordersFailed', { message: errorText(e) });
        list().removeAttribute('aria-busy');
        if (!orders.length) list().replaceChildren(el('li', { class: 'empty', text: message }));
        showError(message);
        return null;
      }
      render();
      return orders;
    },

    /** Draws the list again (e.g. once the catalog's titles are known). */
    refreshTitles() {
      if (orders.length) render();
    },

    /**
     * The order with this id from the last load, if any.
     * @param {string} id
     */
    find(id) {
      return orders.find((o) => o.id === id) ?? null;
    },
  };
}
