// @ts-check
// The order view (#order-view): the order's fields, its goods once paid (.order-delivery),
// the chat it lets its buyer into (.order-access with button.join),
// for an active subscription a button to turn renewal off or on
// (button.renewal[data-action="cancel|resume"]), and for a pending TON or USDT order a
// button that asks the worker to look for its payment on chain (button.check-payment).

import { errorText } from '../errors.js';
import { byId, el } from '../dom.js';
import { formatDate, formatPrice, isTonCurrency } from '../format.js';
import { t } from '../i18n.js';
import { haptic, openTelegramLink } from '../telegram.js';
import { backLink, showView } from './navigation.js';
import { isActiveSubscription, statusBadge, subscriptionLine } from './orders.js';
import { clearError, showError, showNotice } from './status.js';

/** @typedef {import('../api.js').Api} Api */
/** @typedef {import('../api.js').Order} Order */
/** @typedef {import('../api.js').Delivery} Delivery */
/** @typedef {import('../api.js').Access} Access */
/** @typedef {import('./catalog.js').Catalog} Catalog */
/** @typedef {import('./orders.js').Orders} Orders */
/** @typedef {import('../i18n.js').StringKey} StringKey */

/**
 * The goods of a paid order: text, a link (https only) and a note about a sent file.
 * @param {Delivery | undefined} d
 */
function deliveryBlock(d) {
  if (!d) return null;
  const url = d.url ?? '';
  return el('section', { class: 'order-delivery' },
    el('h3', { text: t('yourGoods') }),
    d.text && el('p', { class: 'delivery-text', text: d.text }),
    /^https:\/\//.test(url) && el('a', { class: 'delivery-link', href: url, target: '_blank', rel: 'noopener', text: t('openGoods') }),
    d.document && el('p', { class: 'hint', text: t('fileInChat') }));
}

/**
 * The chat a paid order lets its buyer into (.order-access), with their personal link.
 * @param {Access | undefined} a
 */
function accessBlock(a) {
  if (!a) return null;
  const link = a.invite_link ?? '';
  return el('section', { class: 'order-access' },
    el('h3', { text: a.title ? t('accessTo', { title: a.title }) : t('accessToChat') }),
    /^https:\/\/t\.me\//.test(link)
      ? el('button', { class: 'join', type: 'button', text: t('joinChat'), onclick: () => { haptic.tap(); openTelegramLink(link); } })
      : el('p', { class: 'hint', text: t('joinLinkComing') }));
}

/**
 * @param {object} deps
 * @param {Api} deps.api
 * @param {Catalog} deps.catalog  titles, and what the user owns after a renewal change
 * @param {Orders} deps.orders  reloaded after a renewal change
 * @param {(o: Order) => Promise<Order | null>} deps.checkPayment  one look on chain for a pending
 *   TON or USDT order (buy.js): the order as it now stands, or null when the look failed
 */
export function createOrderView({ api, catalog, orders, checkPayment }) {
  /**
   * Cancel or resume renewal of an active subscription (the server asks Telegram).
   * @param {Order} o
   */
  function renewalButton(o) {
    if (!isActiveSubscription(o)) return null;
    const action = o.renewal_canceled ? 'resume' : 'cancel';
    const button = el('button', {
      class: 'renewal', type: 'button', dataset: { action },
      text: t(action === 'cancel' ? 'cancelRenewal' : 'resumeRenewal'),
      onclick: async () => {
        haptic.tap();
        button.disabled = true;
        clearError();
        try {
          await api.changeRenewal(o.id, action);
        } catch (e) {
          showError(errorText(e));
          haptic.notify('error');
          button.disabled = false;
          return;
        }
        const canceled = action === 'cancel';
        showNotice(t(canceled ? 'renewalCanceled' : 'renewalResumed'), 'success');
        await Promise.all([orders.load({ quiet: true }), catalog.loadEntitlements()]);
        // The reloaded order if the list refreshed; else this one with the change applied.
        open(orders.find(o.id) ?? { ...o, renewal_canceled: canceled });
      },
    });
    return button;
  }

  /**
   * A pending TON or USDT order: look on chain now (the scheduled job would, later).
   * @param {Order} o
   */
  function checkButton(o) {
    if (o.status !== 'pending' || !isTonCurrency(o.currency)) return null;
    const button = el('button', {
      class: 'check-payment', type: 'button', text: t('checkPayment'),
      onclick: async () => {
        haptic.tap();
        button.disabled = true;
        const now = await checkPayment(o);
        if (now) open(orders.find(o.id) ?? now);
        else button.disabled = false;
      },
    });
    return button;
  }

  /**
   * Renders `o` into #order-view and shows it.
   * @param {Order} o
   */
  function open(o) {
    /** @type {Array<[StringKey, string | Node | null]>} */
    const fields = [
      ['fieldProduct', catalog.title(o.product_id)],
      ['fieldStatus', statusBadge(o.status)],
      ['fieldAmount', formatPrice(o.currency, o.amount)],
      ['fieldCreated', formatDate(o.created_at)],
      ['fieldPaid', o.paid_at ? formatDate(o.paid_at) : null],
      ['fieldSubscription', subscriptionLine(o)],
      ['fieldOrder', el('code', { text: o.id })],
      ['fieldCharge', o.telegram_payment_charge_id ? el('code', { text: o.telegram_payment_charge_id }) : null],
    ];
    const isSubscription = o.subscription_expiration_date !== undefined;
    byId('order-view').replaceChildren(...[
      backLink(),
      el('article', { class: 'detail order-detail', dataset: { orderId: o.id } },
        el('h2', { class: 'detail-title', text: t('orderDetails') }),
        el('dl', { class: 'fields' }, ...fields.flatMap(([k, v]) => (v ? [el('dt', { text: t(k) }), el('dd', {}, v)] : []))),
        o.status === 'paid' && deliveryBlock(o.delivery),
        accessBlock(o.access),
        isSubscription && o.renewal_canceled && el('p', { class: 'hint', text: t('renewalOff') }),
        isSubscription && renewalButton(o),
        checkButton(o)),
    ].filter((n) => n !== null));
    showView({ name: 'order', order: o });
  }

  return { open };
}
