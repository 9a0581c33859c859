// @ts-check
// The TON wallet bar (#wallet), shown only when the catalog sells for TON or USDT: the
// linked wallet's short address with a Disconnect button, or a Connect button.
// Hooks: #wallet[data-state="loading|failed|none|linked"], #wallet-address (the short
// address; `title` the whole one, `data-raw` the raw form), button#wallet-connect,
// button#wallet-disconnect (each hidden when it does not apply; disabled while busy).

import { byId } from '../dom.js';
import { t } from '../i18n.js';
import { haptic } from '../telegram.js';
import { shortAddress } from '../ton.js';

/** @typedef {import('../ton.js').WalletState} WalletState */

/**
 * Shows the bar and wires its buttons.
 * @param {object} actions
 * @param {() => void} actions.onConnect
 * @param {() => void} actions.onDisconnect
 */
export function showWalletBar({ onConnect, onDisconnect }) {
  byId('wallet').hidden = false;
  byId('wallet-connect').addEventListener('click', () => { haptic.tap(); onConnect(); });
  byId('wallet-disconnect').addEventListener('click', () => { haptic.tap(); onDisconnect(); });
}

/**
 * Draws the bar for `state`.
 * @param {WalletState} state
 */
export function renderWallet(state) {
  const bar = byId('wallet');
  const address = byId('wallet-address');
  const connect = /** @type {HTMLButtonElement} */ (byId('wallet-connect'));
  const disconnect = /** @type {HTMLButtonElement} */ (byId('wallet-disconnect'));
  const w = state.wallet;
  bar.dataset.state = w ? 'linked' : state.status === 'ready' ? 'none' : state.status;
  if (w) {
    address.textContent = shortAddress(w.friendly);
    address.title = w.friendly;
    address.dataset.raw = w.address;
  } else {
    address.textContent = t(state.status === 'loading' ? 'walletLoading' : state.status === 'failed' ? 'tonLoadFailed' : 'walletNone');
    address.removeAttribute('title');
    delete address.dataset.raw;
  }
  address.classList.toggle('hint', !w);
  connect.hidden = w !== null;
  disconnect.hidden = w === null;
  connect.disabled = state.busy || state.status === 'loading';
  disconnect.disabled = state.busy;
}
