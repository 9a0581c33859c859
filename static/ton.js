// @ts-check
// TON Connect: the wallet the user pays TON and USDT products from. `@tonconnect/ui` (the npm
// package, copied at build time to /vendor/tonconnect-ui.min.js: the CSP allows only this
// origin's scripts) is loaded with a <script> only when the catalog sells for TON; the plain
// Stars shop never loads it.
//
// Linking: a fresh payload from the worker (POST /api/ton/proof-payload) goes into the
// connect request as `tonProof`; once a wallet connects with its proof, the account and the
// proof go to POST /api/ton/wallet, which checks them and links the wallet. The worker's link
// is the truth: a wallet connected here but not linked there (restored from an old session,
// or another one) is disconnected, and the next payment asks to connect again. A wallet that
// disconnects (from the page or in the wallet) is unlinked (DELETE /api/ton/wallet).
//
// State owned here: the TonConnectUI instance, the linked wallet, and the connect attempt
// in progress. views/wallet.js draws the wallet bar from what `onChange` reports.

import { errorText } from './errors.js';
import { t } from './i18n.js';
import { clearError, setStatus, showError, showNotice } from './views/status.js';

/** @typedef {import('./api.js').Api} Api */
/** @typedef {import('./api.js').Product} Product */
/** @typedef {import('./api.js').TonConnectConfig} TonConnectConfig */
/** @typedef {import('./api.js').TonTransaction} TonTransaction */
/** @typedef {import('./api.js').TonWallet} TonWallet */
/** @typedef {typeof import('@tonconnect/ui')} TonConnectModule */
/** @typedef {import('@tonconnect/ui').TonConnectUI} TonConnectUI */
/** @typedef {import('@tonconnect/ui').ConnectedWallet} ConnectedWallet */
/** @typedef {import('@tonconnect/ui').UIWallet} UIWallet */
/** @typedef {ReturnType<typeof createTon>} Ton */

/**
 * What the wallet bar shows: TON Connect still loading (or failed to), and the linked wallet.
 * @typedef {object} WalletState
 * @property {'loading' | 'ready' | 'failed'} status
 * @property {TonWallet | null} wallet
 * @property {boolean} busy  a connect or disconnect is under way
 */

/** `@tonconnect/ui`'s UMD bundle, from this origin (see the Makefile, `vendor`). */
export const TON_CONNECT_UI_SRC = '/vendor/tonconnect-ui.min.js';
/** The global the development wallet script (`wallet_js`, the emulator's) defines. */
const DEV_WALLET_KEY = 'tmaEmulatorWallet';

/**
 * Loads a classic script; resolves once it ran.
 * @param {string} src
 * @returns {Promise<void>}
 */
function loadScript(src) {
  return new Promise((resolve, reject) => {
    const script = document.createElement('script');
    script.src = src;
    script.async = false; // in insertion order: the dev wallet before TON Connect
    script.addEventListener('load', () => resolve());
    script.addEventListener('error', () => reject(new Error(`could not load ${src}`)));
    document.head.append(script);
  });
}

/**
 * `@tonconnect/ui` sets `ontouchstart=""` on <body> (so that iOS applies :active styles):
 * an inline event handler, which the CSP refuses and reports. A real listener does what it
 * was for, and the same attribute in a namespace (not an event handler, no report) tells
 * the library it is there.
 */
function enableTouchActive() {
  document.body.addEventListener('touchstart', () => {}, { passive: true });
  if (!document.body.hasAttribute('ontouchstart')) document.body.setAttributeNS('urn:tma-pay', 'ontouchstart', '');
}

/**
 * `0:ABC…` and `0:abc…` are one address.
 * @param {string} raw
 */
const sameRaw = (raw) => raw.toLowerCase();

/**
 * The Mini App's own t.me link (`https://t.me/<bot>/<app>`), from a product's
 * `?startapp=` link: where a wallet opened from Telegram sends the user back.
 * @param {readonly Product[]} products
 * @returns {`${string}://${string}` | undefined}
 */
export function miniAppLink(products) {
  for (const p of products) {
    const m = /^(https:\/\/t\.me\/[A-Za-z0-9_]+\/[A-Za-z0-9_]+)\?startapp=/.exec(p.link ?? '');
    if (m?.[1]) return /** @type {`${string}://${string}`} */ (m[1]);
  }
  return undefined;
}

/**
 * The development wallet as `@tonconnect/ui` lists it, from what its script says about
 * itself; null when no such script ran.
 * @returns {UIWallet | null}
 */
function devWallet() {
  /** @type {{ tonconnect?: { walletInfo?: { name?: unknown, app_name?: unknown, image?: unknown, about_url?: unknown } } } | undefined} */
  const injected = /** @type {Record<string, any>} */ (window)[DEV_WALLET_KEY];
  const info = injected?.tonconnect?.walletInfo;
  if (!info || typeof info.app_name !== 'string' || typeof info.name !== 'string'
    || typeof info.image !== 'string' || typeof info.about_url !== 'string') return null;
  return {
    appName: info.app_name,
    name: info.name,
    imageUrl: info.image,
    aboutUrl: info.about_url,
    jsBridgeKey: DEV_WALLET_KEY,
    platforms: ['chrome', 'firefox', 'safari'],
  };
}

/**
 * @param {object} deps
 * @param {Api} deps.api
 * @param {TonConnectConfig} deps.config
 * @param {readonly Product[]} deps.products  for the Mini App's link
 * @param {(state: WalletState) => void} deps.onChange  the wallet bar follows
 */
export function createTon({ api, config, products, onChange }) {
  /** @type {TonConnectModule | null} */
  let lib = null;
  /** @type {TonConnectUI | null} */
  let ui = null;
  /** @type {WalletState} */
  let state = { status: 'loading', wallet: null, busy: false };
  /** The account TON Connect was connected to at the last status change (raw), if any. */
  let connectedTo = /** @type {string | null} */ (null);
  /** Set while the page itself disconnects TON Connect: that is not the user unlinking. */
  let quietDisconnect = false;
  /** Resolves the connect attempt in progress with the linked wallet, or null. */
  let settleConnect = /** @type {((w: TonWallet | null) => void) | null} */ (null);
  /** @type {Promise<void> | null} */
  let starting = null;

  /** @param {Partial<WalletState>} change */
  function update(change) {
    state = { ...state, ...change };
    onChange(state);
  }

  /** @param {TonWallet | null} wallet */
  function finishConnect(wallet) {
    const settle = settleConnect;
    settleConnect = null;
    settle?.(wallet);
  }

  /** Disconnects TON Connect without unlinking (the page's own housekeeping). */
  async function disconnectQuietly() {
    if (!ui?.connected) return;
    quietDisconnect = true;
    try {
      await ui.disconnect();
    } catch (e) {
      console.warn('ton: disconnect failed', e);
    } finally {
      quietDisconnect = false;
    }
  }

  /**
   * A wallet connected with its proof: the worker checks it and links the wallet.
   * @param {ConnectedWallet} wallet
   * @param {unknown} proof
   */
  async function link(wallet, proof) {
    setStatus(t('walletConnecting'), 'busy');
    try {
      const linked = await api.linkTonWallet(wallet.account, proof);
      update({ wallet: linked });
      clearError();
      showNotice(t('walletLinked', { address: shortAddress(linked.friendly) }), 'success');
      finishConnect(linked);
    } catch (e) {
      showError(t('walletLinkFailed', { message: errorText(e) }));
      await disconnectQuietly();
      finishConnect(null);
    }
  }

  /**
   * TON Connect's status: connected (with a proof after a new connection, without one
   * when restored) or not.
   * @param {ConnectedWallet | null} wallet
   */
  async function onStatus(wallet) {
    const was = connectedTo;
    connectedTo = wallet ? sameRaw(wallet.account.address) : null;
    if (!wallet) {
      // The user disconnected (here or in the wallet): unlink at the worker too.
      if (was !== null && !quietDisconnect && state.wallet) {
        try {
          await api.unlinkTonWallet();
          update({ wallet: null });
          showNotice(t('walletUnlinked'), 'info');
        } catch (e) {
          showError(errorText(e));
        }
      }
      return;
    }
    const proof = wallet.connectItems?.tonProof;
    if (proof && 'proof' in proof) {
      await link(wallet, proof.proof);
      return;
    }
    if (proof && 'error' in proof) {
      console.warn('ton: the wallet refused ton_proof', proof.error);
      showError(t('walletNoProof'));
      await disconnectQuietly();
      finishConnect(null);
      return;
    }
    // Restored without a proof: keep it only when it is the wallet the worker linked.
    if (!state.wallet || sameRaw(state.wallet.address) !== connectedTo) await disconnectQuietly();
  }

  /** Loads TON Connect, restores its connection and reads the linked wallet. */
  async function start() {
    try {
      // The dev wallet must exist before TonConnectUI looks for injected wallets.
      enableTouchActive();
      const scripts = [config.wallet_js, TON_CONNECT_UI_SRC].filter((s) => typeof s === 'string');
      const [linked] = await Promise.all([api.tonWallet(), ...scripts.map(loadScript)]);
      lib = /** @type {Window & { TON_CONNECT_UI?: TonConnectModule }} */ (window).TON_CONNECT_UI ?? null;
      if (!lib) throw new Error('TON_CONNECT_UI is missing');
      const dev = devWallet();
      const twaReturnUrl = miniAppLink(products);
      ui = new lib.TonConnectUI({
        manifestUrl: config.manifest_url,
        language: 'en',
        // No telemetry to analytics.ton.org (it would carry the Telegram user).
        analytics: { mode: 'off' },
        uiPreferences: { theme: document.documentElement.dataset.scheme === 'dark' ? lib.THEME.DARK : lib.THEME.LIGHT },
        ...(dev ? { walletsListConfiguration: { includeWallets: [dev] } } : {}),
        ...(twaReturnUrl ? { actionsConfiguration: { twaReturnUrl } } : {}),
      });
      // Only wallets on the shop's network may connect.
      ui.setConnectionNetwork(/** @type {import('@tonconnect/ui').ChainId} */ (config.network));
      state = { ...state, wallet: linked };
      ui.onStatusChange((w) => { void onStatus(w); }, (e) => {
        console.warn('ton: connection error', e);
        finishConnect(null);
      });
      ui.onModalStateChange((s) => {
        // Closed without picking a wallet: the attempt is over.
        if (s.status === 'closed' && s.closeReason !== 'wallet-selected' && !ui?.connected) finishConnect(null);
      });
      await ui.connectionRestored;
      update({ status: 'ready' });
    } catch (e) {
      console.error('ton: TON Connect did not start', e);
      update({ status: 'failed' });
    }
  }

  /** Starts TON Connect once; later calls wait for the same start (or try again after a failed one). */
  function ready() {
    if (state.status === 'failed' && !ui) {
      starting = null;
      update({ status: 'loading' });
    }
    starting ??= start();
    return starting;
  }

  /**
   * Opens TON Connect's wallet list with a fresh proof request; resolves with the wallet
   * the worker linked, or null when the user closed the list or the link failed.
   * @returns {Promise<TonWallet | null>}
   */
  async function connect() {
    await ready();
    if (!ui || state.status !== 'ready') {
      showError(t('tonLoadFailed'));
      return null;
    }
    const tc = ui;
    finishConnect(null); // an older attempt left open
    // A wallet still connected without the worker's link must go before a new one comes.
    await disconnectQuietly();
    update({ busy: true });
    const done = new Promise((resolve) => { settleConnect = resolve; });
    tc.setConnectRequestParameters({ state: 'loading' });
    void tc.openModal();
    try {
      const { payload } = await api.tonProofPayload();
      tc.setConnectRequestParameters({ state: 'ready', value: { tonProof: payload } });
    } catch (e) {
      tc.closeModal();
      tc.setConnectRequestParameters(null);
      showError(errorText(e));
      finishConnect(null);
    }
    /** @type {TonWallet | null} */
    const wallet = await done;
    tc.setConnectRequestParameters(null);
    update({ busy: false });
    return wallet;
  }

  /** Unlinks the wallet at the worker and disconnects TON Connect. */
  async function disconnect() {
    update({ busy: true });
    clearError();
    try {
      await api.unlinkTonWallet();
      update({ wallet: null });
      showNotice(t('walletUnlinked'), 'info');
    } catch (e) {
      showError(errorText(e));
      return;
    } finally {
      update({ busy: false });
    }
    await disconnectQuietly();
  }

  /**
   * The linked wallet, connected here and able to sign: what paying needs. Otherwise
   * null (connect() first).
   */
  function payingWallet() {
    const w = state.wallet;
    const account = ui?.account;
    if (!w || !account || sameRaw(account.address) !== sameRaw(w.address)) return null;
    return w;
  }

  /**
   * Asks the wallet to send the transaction the worker built.
   * @param {TonTransaction} transaction
   * @returns {Promise<'sent' | 'rejected'>}  throws when the wallet failed otherwise
   */
  async function send(transaction) {
    if (!ui || !lib) throw new Error('TON Connect is not ready');
    try {
      await ui.sendTransaction(transaction);
      return 'sent';
    } catch (e) {
      if (e instanceof lib.UserRejectsError) return 'rejected';
      throw e;
    }
  }

  return { ready, connect, disconnect, payingWallet, send, state: () => state };
}

/**
 * `UQBx…3f2a`: the first and last characters of a user-friendly address.
 * @param {string} address
 */
export function shortAddress(address) {
  return address.length > 12 ? `${address.slice(0, 6)}…${address.slice(-4)}` : address;
}
