// @ts-check
// The order view (#order-view): the order's fields, its goods once paid (.order-delivery,
// with button.save-file for a file at an https URL), the chat it lets its buyer into
// (.order-access with button.join), for an active subscription a button to turn renewal
// off or on (button.renewal[data-action="cancel|resume"]), and for a pending TON or USDT
// order a button that asks the worker to look for its payment on chain (button.check-payment).
//
// Each of those buttons is an action, shown in the page on every client; Telegram's bottom
// bar repeats the view's two main ones: the MainButton does what the order is for (save the
// file, else join the chat), the SecondaryButton manages it (renewal, or checking a TON
// payment). An action's `busy` flag is the one record of whether it is running: the in-page
// button and the bottom button (bottomButtons()) both follow it.
//
// State owned here: the actions of the order on screen.

import { errorText } from '../errors.js';
import { byId, el } from '../dom.js';
import { fileNameOf, formatDate, formatPrice, isTonCurrency } from '../format.js';
import { t } from '../i18n.js';
import { downloadFile, haptic, openLink, openTelegramLink } from '../telegram.js';
import { writeAccessRefused } from '../writeaccess.js';
import { backLink, currentView, showView } from './navigation.js';
import { isActiveSubscription, statusBadge, subscriptionLine } from './orders.js';
import { clearError, showError, showNotice } from './status.js';

/** @typedef {import('../api.js').Api} Api */
/** @typedef {import('../api.js').Order} Order */
/** @typedef {import('../api.js').Delivery} Delivery */
/** @typedef {import('../api.js').Access} Access */
/** @typedef {import('../telegram.js').BottomButtons} BottomButtons */
/** @typedef {import('./catalog.js').Catalog} Catalog */
/** @typedef {import('./orders.js').Orders} Orders */
/** @typedef {import('../i18n.js').StringKey} StringKey */

/**
 * One thing the view offers: its in-page button, its text, whether it is running, and
 * `start`, which runs it (a tap on either button; nothing while it runs).
 * @typedef {object} Action
 * @property {HTMLButtonElement} button
 * @property {string} text
 * @property {boolean} busy
 * @property {() => void} start
 */

/** @param {string} url */
const isHttps = (url) => /^https:\/\//i.test(url);

/**
 * @param {object} deps
 * @param {Api} deps.api
 * @param {Catalog} deps.catalog  titles, and what the user owns after a renewal change
 * @param {Orders} deps.orders  reloaded after a renewal change
 * @param {(o: Order) => Promise<Order | null>} deps.checkPayment  one look on chain for a pending
 *   TON or USDT order (buy.js): the order as it now stands, or null when the look failed
 * @param {() => void} deps.onButtonsChange  what bottomButtons() answers may have changed
 */
export function createOrderView({ api, catalog, orders, checkPayment, onButtonsChange }) {
  /** @type {{ main: Action | null, secondary: Action | null }} the order on screen's two main actions */
  let shown = { main: null, secondary: null };

  /**
   * An action with its in-page button.
   * @param {{ class: string, dataset?: Record<string, string> }} props
   * @param {string} text
   * @param {() => Promise<void>} run
   * @returns {Action}
   */
  function action(props, text, run) {
    /** @type {Action} */
    const a = {
      button: el('button', { ...props, type: 'button', text, onclick: () => a.start() }),
      text,
      busy: false,
      start() {
        if (a.busy) return;
        haptic.tap();
        a.busy = true;
        a.button.disabled = true;
        onButtonsChange();
        void run().catch((e) => {
          showError(errorText(e)); // a bug: the console has the details
          haptic.notify('error');
        }).finally(() => {
          a.busy = false;
          a.button.disabled = false;
          onButtonsChange();
        });
      },
    };
    return a;
  }

  /**
   * Draws `o` again if its view is still on screen (an action may end after the user left).
   * @param {Order} o
   */
  function redraw(o) {
    const view = currentView();
    if (view.name === 'order' && view.order.id === o.id) open(o);
  }

  /**
   * Saves a delivered file at an https URL through Telegram (downloadFile, Bot API 8.0);
   * a client that cannot opens the link instead.
   * @param {Order} o
   * @param {string} url
   */
  function saveFileAction(o, url) {
    return action({ class: 'save-file' }, t('saveFile'), async () => {
      const result = await downloadFile(url, fileNameOf(url, catalog.title(o.product_id)));
      if (result === 'downloading') showNotice(t('fileDownloading'), 'success');
      else if (result === 'unsupported') openLink(url);
      // cancelled: the user said no; busy: Telegram's popup is already open.
    });
  }

  /**
   * The chat's personal invite link, opened in Telegram.
   * @param {string} link  a t.me link
   */
  function joinAction(link) {
    return action({ class: 'join' }, t('joinChat'), async () => { openTelegramLink(link); });
  }

  /**
   * Cancel or resume renewal of an active subscription (the server asks Telegram).
   * @param {Order} o
   */
  function renewalAction(o) {
    const cancel = !o.renewal_canceled;
    return action({ class: 'renewal', dataset: { action: cancel ? 'cancel' : 'resume' } },
      t(cancel ? 'cancelRenewal' : 'resumeRenewal'), async () => {
        clearError();
        try {
          await api.changeRenewal(o.id, cancel ? 'cancel' : 'resume');
        } catch (e) {
          showError(errorText(e));
          haptic.notify('error');
          return;
        }
        showNotice(t(cancel ? 'renewalCanceled' : 'renewalResumed'), 'success');
        await Promise.all([orders.load({ quiet: true }), catalog.loadEntitlements()]);
        // The reloaded order if the list refreshed; else this one with the change applied.
        redraw(orders.find(o.id) ?? { ...o, renewal_canceled: cancel });
      });
  }

  /**
   * A pending TON or USDT order: look on chain now (the scheduled job would, later).
   * @param {Order} o
   */
  function checkAction(o) {
    return action({ class: 'check-payment' }, t('checkPayment'), async () => {
      const now = await checkPayment(o);
      if (now) redraw(orders.find(o.id) ?? now);
    });
  }

  /**
   * The goods of a paid order: text, a link (https only), a file (saved here when it is at
   * an https URL) and where the file went.
   * @param {Delivery | undefined} d
   * @param {Action | null} save  the file's action, when it can be saved here
   */
  function deliveryBlock(d, save) {
    if (!d) return null;
    const url = d.url ?? '';
    const refused = writeAccessRefused();
    return el('section', { class: 'order-delivery' },
      el('h3', { text: t('yourGoods') }),
      d.text && el('p', { class: 'delivery-text', text: d.text }),
      isHttps(url) && el('a', { class: 'delivery-link', href: url, target: '_blank', rel: 'noopener', text: t('openGoods') }),
      save?.button,
      d.document && !(save && refused) && el('p', { class: 'hint', text: t(refused ? 'fileNotInChat' : 'fileInChat') }));
  }

  /**
   * The chat a paid order lets its buyer into (.order-access), with their personal link.
   * @param {Access | undefined} a
   * @param {Action | null} join  the link's action, once the link is made
   */
  function accessBlock(a, join) {
    if (!a) return null;
    return el('section', { class: 'order-access' },
      el('h3', { text: a.title ? t('accessTo', { title: a.title }) : t('accessToChat') }),
      join ? join.button : el('p', { class: 'hint', text: t('joinLinkComing') }));
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
    const paid = o.status === 'paid';
    const documentUrl = paid ? o.delivery?.document ?? '' : '';
    const inviteLink = o.access?.invite_link ?? '';
    const save = isHttps(documentUrl) ? saveFileAction(o, documentUrl) : null;
    const join = /^https:\/\/t\.me\//.test(inviteLink) ? joinAction(inviteLink) : null;
    const isSubscription = o.subscription_expiration_date !== undefined;
    const renewal = isSubscription && isActiveSubscription(o) ? renewalAction(o) : null;
    const check = o.status === 'pending' && isTonCurrency(o.currency) ? checkAction(o) : null;
    shown = { main: save ?? join, secondary: renewal ?? check };

    byId('order-view').replaceChildren(...[
      backLink(),
      el('article', { class: 'detail order-detail', dataset: { orderId: o.id } },
        el('h2', { class: 'detail-title', text: t('orderDetails') }),
        el('dl', { class: 'fields' }, ...fields.flatMap(([k, v]) => (v ? [el('dt', { text: t(k) }), el('dd', {}, v)] : []))),
        paid && deliveryBlock(o.delivery, save),
        accessBlock(o.access, join),
        isSubscription && o.renewal_canceled && el('p', { class: 'hint', text: t('renewalOff') }),
        renewal?.button,
        check?.button),
    ].filter((n) => n !== null));
    showView({ name: 'order', order: o });
  }

  /**
   * Telegram's bottom buttons for the order on screen: the MainButton does what the order
   * is for, the SecondaryButton manages it; each null when the order has no such action.
   * @returns {BottomButtons}
   */
  function bottomButtons() {
    /** @param {Action | null} a */
    const spec = (a) => (a ? { text: a.text, busy: a.busy, onClick: a.start } : null);
    return { main: spec(shown.main), secondary: spec(shown.secondary) };
  }

  return { open, bottomButtons };
}
