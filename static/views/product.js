// @ts-check
// The product view (#product-view): photo, title, price, description and, for a
// subscription, how it renews. The MainButton (buy.js) offers to pay for it.

import { byId, el, image } from '../dom.js';
import { formatPeriod, productPrice } from '../format.js';
import { t } from '../i18n.js';
import { backLink, showView } from './navigation.js';

/** @typedef {import('../api.js').Product} Product */

/**
 * Renders `p` into #product-view and shows it.
 * @param {Product} p
 */
export function openProduct(p) {
  const period = p.subscription_period ? formatPeriod(p.subscription_period) : '';
  byId('product-view').replaceChildren(...[
    backLink(),
    el('article', { class: 'detail product-detail', dataset: { productId: p.id } },
      image(p.photo_url, 'detail-photo'),
      el('h2', { class: 'detail-title', text: p.title }),
      el('p', { class: 'detail-price', text: productPrice(p) }),
      el('p', { class: 'detail-desc', text: p.description }),
      period && el('p', { class: 'hint', text: t('renews', { period }) })),
  ].filter((n) => n !== null));
  showView({ name: 'product', product: p });
}
