// @ts-check
// The catalog (#products): a card per product with its price and a Buy (or Subscribe)
// button, the deep-linked product highlighted, and what the user owns marked.
// Hooks: #products .product[data-product-id] with button.buy; .selected for the
// deep-linked product; .product.owned with .owned-badge for what the user owns now.
//
// State owned here, changed only by the functions below: the products (load), what the
// user owns (loadEntitlements) and the deep-linked product (select, unselect).

import { errorText } from '../errors.js';
import { byId, el, image } from '../dom.js';
import { formatDate, isTonCurrency, productPrice } from '../format.js';
import { t } from '../i18n.js';
import { haptic } from '../telegram.js';
import { openProduct } from './product.js';
import { showError } from './status.js';

/** @typedef {import('../api.js').Api} Api */
/** @typedef {import('../api.js').Product} Product */
/** @typedef {import('../api.js').Entitlement} Entitlement */
/** @typedef {import('../api.js').TonConnectConfig} TonConnectConfig */
/** @typedef {ReturnType<typeof createCatalog>} Catalog */

/**
 * @param {object} deps
 * @param {Api} deps.api
 * @param {(p: Product) => void} deps.onBuy  a card's Buy button
 * @param {() => void} deps.onSelectionChange  after select / unselect (the MainButton follows)
 */
export function createCatalog({ api, onBuy, onSelectionChange }) {
  /** @type {readonly Product[]} */
  let products = [];
  /** @type {ReadonlyMap<string, Product>} */
  let byProductId = new Map();
  /** @type {ReadonlyMap<string, Entitlement>} product id → what grants it */
  let owned = new Map();
  /** @type {Product | null} the product the deep link picked */
  let selected = null;
  /** @type {TonConnectConfig | null} what TON Connect needs, when the shop sells for TON */
  let tonConnect = null;

  const list = () => byId('products');

  /** @param {Product} p */
  function card(p) {
    return el('article', { class: 'product', dataset: { productId: p.id } },
      el('button', { class: 'product-main', type: 'button', onclick: () => { haptic.tap(); openProduct(p); } },
        image(p.photo_url, 'product-photo',
          el('span', { class: 'product-photo placeholder', 'aria-hidden': 'true', text: p.currency === 'XTR' ? '⭐' : isTonCurrency(p.currency) ? '💎' : '💳' })),
        el('span', { class: 'product-text' },
          el('span', { class: 'product-title', text: p.title }),
          el('span', { class: 'product-desc', text: p.description }))),
      el('div', { class: 'product-foot' },
        el('span', { class: 'price', text: productPrice(p) }),
        el('button', {
          class: 'buy', type: 'button', text: t(p.join_link ? 'join' : p.subscription_period ? 'subscribe' : 'buy'),
          onclick: (ev) => { ev.stopPropagation(); onBuy(p); },
        })));
  }

  /** The deep-linked and owned marks on the cards, from the state above. */
  function mark() {
    for (const node of list().querySelectorAll('.product')) {
      if (!(node instanceof HTMLElement)) continue;
      const id = node.dataset.productId ?? '';
      const on = selected !== null && id === selected.id;
      node.classList.toggle('selected', on);
      if (on) node.setAttribute('aria-current', 'true'); else node.removeAttribute('aria-current');
      const grant = owned.get(id);
      node.classList.toggle('owned', grant !== undefined);
      node.querySelector('.owned-badge')?.remove();
      if (grant) {
        const text = grant.active_until ? t('activeUntil', { date: formatDate(grant.active_until, false) }) : t('owned');
        node.querySelector('.product-foot')?.prepend(el('span', { class: 'owned-badge', text }));
      }
    }
  }

  function render() {
    const node = list();
    node.removeAttribute('aria-busy');
    if (!products.length) {
      node.replaceChildren(el('p', { class: 'empty', text: t('noProducts') }));
      return;
    }
    node.replaceChildren(...products.map(card));
    mark();
  }

  return {
    /**
     * GET /api/products into the list. On failure the list and the error banner say why.
     * @returns {Promise<boolean>} whether the catalog loaded
     */
    async load() {
      try {
        ({ products, tonConnect } = await api.storefront());
      } catch (e) {
        const message = t('productsFailed', { message: errorText(e) });
        list().removeAttribute('aria-busy');
        list().replaceChildren(el('p', { class: 'empty', text: message }));
        showError(message);
        return false;
      }
      byProductId = new Map(products.map((p) => [p.id, p]));
      render();
      return true;
    },

    /** GET /api/entitlements: marks what the user owns. */
    async loadEntitlements() {
      try {
        owned = new Map((await api.entitlements()).map((e) => [e.product_id, e]));
      } catch (e) {
        // Deliberately tolerated: the badges are a convenience (the orders list says the
        // same), so a failure only costs them until the next refresh.
        console.warn('entitlements not loaded; the owned badges stay as they were', e);
        return;
      }
      mark();
    },

    /**
     * A product's title, or its id while the catalog has not loaded (or no longer sells it).
     * @param {string} id
     */
    title(id) {
      return byProductId.get(id)?.title ?? id;
    },

    /** Every product, in catalog order. */
    all() {
      return products;
    },

    /** TON Connect's settings when the catalog has products paid through it; else null. */
    tonConnect() {
      return products.some((p) => isTonCurrency(p.currency)) ? tonConnect : null;
    },

    /** The deep-linked product, if any. */
    selected() {
      return selected;
    },

    /**
     * Highlights the product a deep link names (and scrolls to it); unknown ids are ignored.
     * @param {string} id
     */
    select(id) {
      const p = byProductId.get(id);
      if (!p) return;
      selected = p;
      mark();
      const node = list().querySelector('.product.selected');
      if (node) {
        node.classList.add('flash');
        node.scrollIntoView({ block: 'center', behavior: 'smooth' });
      }
      onSelectionChange();
    },

    /**
     * Drops the highlight once that product is bought.
     * @param {string} id
     */
    unselect(id) {
      if (selected?.id !== id) return;
      selected = null;
      mark();
      onSelectionChange();
    },
  };
}
