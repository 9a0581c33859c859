// @ts-check
// Which of the three views shows: #home (catalog and orders), #product-view and
// #order-view. Sub-views get Telegram's BackButton (or an in-page back link on clients
// before 6.1); going home restores the catalog's scroll position.
// State owned here: the current view and the home view's scroll position.

import { byId, el } from '../dom.js';
import { t } from '../i18n.js';
import { backButton, haptic } from '../telegram.js';

/** @typedef {import('../api.js').Product} Product */
/** @typedef {import('../api.js').Order} Order */
/** @typedef {{ name: 'home' } | { name: 'product', product: Product } | { name: 'order', order: Order }} View */

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
  byId('home').hidden = view.name !== 'home';
  byId('product-view').hidden = view.name !== 'product';
  byId('order-view').hidden = view.name !== 'order';
  backButton.setVisible(view.name !== 'home');
  for (const cb of listeners) cb(view);
  window.scrollTo(0, view.name === 'home' ? homeScroll : 0);
}

export function goHome() {
  showView({ name: 'home' });
}

/** Telegram's BackButton leads home. */
export function wireBackButton() {
  backButton.onClick(() => { haptic.tap(); goHome(); });
}

/** An in-page "‹ Back" for clients without Telegram's BackButton; null when it has one. */
export function backLink() {
  if (backButton.available) return null;
  return el('button', { class: 'back-inline', type: 'button', text: `‹ ${t('back')}`, onclick: goHome });
}
