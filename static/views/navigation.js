// @ts-check
// Which view shows: #home (catalog and orders), #product-view, #order-view, and for
// operators #operator-view (the shop's figures and orders) and #operator-order-view (one
// order). Sub-views get Telegram's BackButton (or an in-page back link on clients before
// 6.1): an operator's order goes back to the operator view, the rest home; going home
// restores the catalog's scroll position.
// State owned here: the current view and the home view's scroll position.

import { byId, el } from '../dom.js';
import { t } from '../i18n.js';
import { backButton, haptic } from '../telegram.js';

/** @typedef {import('../api.js').Product} Product */
/** @typedef {import('../api.js').Order} Order */
/**
 * @typedef {{ name: 'home' } | { name: 'product', product: Product } | { name: 'order', order: Order }
 *   | { name: 'operator' } | { name: 'operatorOrder', orderId: string }} View
 */

/** Each view's section in index.html. */
const SECTIONS = /** @type {const} */ ({
  home: 'home',
  product: 'product-view',
  order: 'order-view',
  operator: 'operator-view',
  operatorOrder: 'operator-order-view',
});

/** @type {View} */
let current = { name: 'home' };
let homeScroll = 0;
/** @type {Array<(view: View) => void>} */
const listeners = [];

/** The view on screen. */
export function currentView() {
  return current;
}

/**
 * `cb` after every change of view (e.g. to update the MainButton).
 * @param {(view: View) => void} cb
 */
export function onViewChange(cb) {
  listeners.push(cb);
}

/**
 * Shows `view` (its content must already be rendered into its section).
 * @param {View} view
 */
export function showView(view) {
  if (current.name === 'home' && view.name !== 'home') homeScroll = window.scrollY;
  current = view;
  for (const [name, id] of Object.entries(SECTIONS)) byId(id).hidden = view.name !== name;
  backButton.setVisible(view.name !== 'home');
  for (const cb of listeners) cb(view);
  window.scrollTo(0, view.name === 'home' ? homeScroll : 0);
}

export function goHome() {
  showView({ name: 'home' });
}

/** One step back: from an operator's order to the operator view, from anything else home. */
export function goBack() {
  showView(current.name === 'operatorOrder' ? { name: 'operator' } : { name: 'home' });
}

/** Telegram's BackButton goes one step back. */
export function wireBackButton() {
  backButton.onClick(() => { haptic.tap(); goBack(); });
}

/** An in-page "‹ Back" for clients without Telegram's BackButton; null when it has one. */
export function backLink() {
  if (backButton.available) return null;
  return el('button', { class: 'back-inline', type: 'button', text: `‹ ${t('back')}`, onclick: goBack });
}
