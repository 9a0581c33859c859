// @ts-check
// The one module that talks to Telegram's SDK (`window.Telegram.WebApp`, from
// telegram-web-app.js): launch data, version checks, haptics, the bottom buttons (MainButton
// and SecondaryButton) and the BackButton, openInvoice, asking to message the user, saving a
// file, the confirmation popup, the theme and sharing. Every other module calls these.
//
// Calls that need a newer client than 6.0 are guarded with isVersionAtLeast, so none of
// them throws on any client; the SDK's own argument checks cannot fail on what this module
// passes (fixed colour keys and haptic styles, button texts clipped to their 64 characters,
// t.me links only). openInvoice is the exception: its errors are the caller's to show.
// Popups that answer later (write access, file download, confirmation) are promises that
// settle when the client answers; on a client too old for them they settle at once
// ('unsupported'; the confirmation falls back to the browser's confirm()).

/** @typedef {import('@twa-dev/types').WebApp} WebApp */
/** @typedef {import('@twa-dev/types').InvoiceStatuses} InvoiceStatus */

/** The SDK object, or null when telegram-web-app.js did not load (blocked, offline). */
const webApp = window.Telegram?.WebApp ?? null;

/** BackButton, haptics, openInvoice and the header and background colours need Bot API 6.1. */
const BOT_API_6_1 = '6.1';
/** showConfirm (a native popup) needs Bot API 6.2. */
const BOT_API_6_2 = '6.2';
/** requestWriteAccess needs Bot API 6.9. */
const BOT_API_6_9 = '6.9';
/** The SecondaryButton needs Bot API 7.10. */
const BOT_API_7_10 = '7.10';
/** downloadFile needs Bot API 8.0 (as do fullscreen and the safe-area insets app.css reads). */
const BOT_API_8_0 = '8.0';
/** Telegram's limit on a bottom button's text (the SDK throws beyond it). */
const BUTTON_TEXT_MAX = 64;

/**
 * Whether the client speaks at least this Bot API version (false outside Telegram).
 * @param {string} version
 */
function supports(version) {
  return webApp !== null && webApp.isVersionAtLeast(version);
}

/**
 * @typedef {object} LaunchData
 * @property {string} initData  raw, for `Authorization: tma …` (the server checks it)
 * @property {string | null} startParam  the deep link's `startapp` parameter
 * @property {string | null} languageCode  the user's Telegram language (a hint, unchecked)
 */

/**
 * The launch, or null when the page was not opened by a Telegram client (no script,
 * or no initData: a plain browser).
 * @returns {LaunchData | null}
 */
export function launchData() {
  if (!webApp || !webApp.initData) return null;
  const unsafe = webApp.initDataUnsafe;
  return {
    initData: webApp.initData,
    startParam: unsafe.start_param || null,
    languageCode: unsafe.user?.language_code || null,
  };
}

/**
 * Whether the launch data says the bot may message the user (`user.allows_write_to_pm`).
 * Absent counts as no: only then does Telegram promise that messages reach the user.
 */
export function botMayWrite() {
  return webApp?.initDataUnsafe.user?.allows_write_to_pm === true;
}

/**
 * Telegram's popup asking the user to let the bot message them (Bot API 6.9). Settles when
 * the user answers; 'unsupported' at once outside Telegram or on an older client.
 * @returns {Promise<'allowed' | 'refused' | 'unsupported'>}
 */
export function requestWriteAccess() {
  return new Promise((resolve) => {
    if (!webApp || !supports(BOT_API_6_9)) { resolve('unsupported'); return; }
    try {
      webApp.requestWriteAccess((allowed) => resolve(allowed ? 'allowed' : 'refused'));
    } catch (e) {
      // WebAppWriteAccessRequested: a popup is already open (never, as buy.js asks once).
      console.warn('requestWriteAccess failed', e);
      resolve('unsupported');
    }
  });
}

/** Tells the client the page is ready (it drops its placeholder). A no-op without the SDK. */
export function ready() {
  webApp?.ready();
}

/**
 * Full height, and Telegram's header and background in the page's background colour
 * (the secondary colour: cards sit on it).
 */
export function fitChrome() {
  if (!webApp) return;
  webApp.expand();
  if (supports(BOT_API_6_1)) {
    webApp.setHeaderColor('secondary_bg_color');
    webApp.setBackgroundColor('secondary_bg_color');
  }
}

/* ---------- theme ---------- */

/**
 * Calls `apply` with Telegram's colour scheme now and on every theme change.
 * (telegram-web-app.js itself keeps the --tg-theme-* CSS variables up to date.)
 * @param {(scheme: 'light' | 'dark') => void} apply
 */
export function followColorScheme(apply) {
  if (!webApp) return;
  const app = webApp;
  apply(app.colorScheme);
  app.onEvent('themeChanged', () => apply(app.colorScheme));
}

/**
 * `cb` when the user comes back to the Mini App (Bot API 8.0; older clients never call it).
 * @param {() => void} cb
 */
export function onActivated(cb) {
  webApp?.onEvent('activated', cb);
}

/* ---------- haptics ---------- */

export const haptic = {
  /** A light tap, for buttons. */
  tap() {
    if (supports(BOT_API_6_1)) webApp?.HapticFeedback.impactOccurred('light');
  },
  /** @param {'error' | 'success' | 'warning'} type */
  notify(type) {
    if (supports(BOT_API_6_1)) webApp?.HapticFeedback.notificationOccurred(type);
  },
};

/* ---------- the bottom buttons and the BackButton ---------- */

/**
 * One bottom button: its text, whether it is busy (spinner, no taps), what a tap does.
 * @typedef {object} BottomButtonSpec
 * @property {string} text
 * @property {boolean} busy
 * @property {() => void} onClick
 */

/**
 * What the bottom bar shows: the MainButton and the SecondaryButton beside it (each hidden
 * when null).
 * @typedef {{ main: BottomButtonSpec | null, secondary: BottomButtonSpec | null }} BottomButtons
 */

/** @type {BottomButtons} the bar as last set: the one record of what the buttons show and do */
let bar = { main: null, secondary: null };
let barWired = false;

/**
 * @param {import('@twa-dev/types').BottomButton} button
 * @param {BottomButtonSpec | null} spec
 */
function applyButton(button, spec) {
  const label = spec ? spec.text.trim().slice(0, BUTTON_TEXT_MAX) : '';
  if (!spec || !label) { // the SDK refuses an empty text
    button.hideProgress();
    button.hide();
    return;
  }
  button.setText(label);
  if (spec.busy) { button.showProgress(false); button.disable(); } else { button.hideProgress(); button.enable(); }
  button.show();
}

export const bottomButtons = {
  /** Whether the client has a SecondaryButton (7.10); without it, the in-page buttons are the only ones. */
  get secondaryAvailable() {
    return supports(BOT_API_7_10);
  },
  /**
   * Shows exactly `next`: each button set or hidden, taps going to its `onClick`.
   * @param {BottomButtons} next
   */
  set(next) {
    if (!webApp) return;
    const app = webApp;
    bar = next;
    if (!barWired) {
      // Wired once; a tap does what the bar says now (nothing while busy).
      barWired = true;
      app.MainButton.onClick(() => { if (bar.main && !bar.main.busy) bar.main.onClick(); });
      if (bottomButtons.secondaryAvailable) {
        app.SecondaryButton.onClick(() => { if (bar.secondary && !bar.secondary.busy) bar.secondary.onClick(); });
      }
    }
    applyButton(app.MainButton, next.main);
    if (bottomButtons.secondaryAvailable) applyButton(app.SecondaryButton, next.secondary);
  },
};

export const backButton = {
  /** Telegram's BackButton exists from 6.1; older clients need an in-page back link. */
  get available() {
    return supports(BOT_API_6_1);
  },
  /** @param {boolean} visible */
  setVisible(visible) {
    if (!backButton.available || !webApp) return;
    if (visible) webApp.BackButton.show(); else webApp.BackButton.hide();
  },
  /** @param {() => void} cb */
  onClick(cb) {
    if (backButton.available) webApp?.BackButton.onClick(cb);
  },
};

/* ---------- payments and sharing ---------- */

/**
 * Opens Telegram's payment sheet for an invoice link; `onClosed` gets the client's
 * status when it closes (a hint: only the server's order status says "paid").
 * Throws the SDK's errors: `WebAppInvoiceUrlInvalid`, `WebAppMethodUnsupported` (before
 * 6.1, or without the SDK) and `WebAppInvoiceOpened` (errors.js has their texts).
 * @param {string} url
 * @param {(status: InvoiceStatus) => void} onClosed
 */
export function openInvoice(url, onClosed) {
  if (!webApp) throw new Error('WebAppMethodUnsupported');
  webApp.openInvoice(url, onClosed);
}

/**
 * Telegram's popup to save the file at `url` (https) as `fileName` (Bot API 8.0). Settles
 * when the user answers: 'downloading' (Telegram saves it) or 'cancelled'; 'busy' when the
 * popup is already open; 'unsupported' at once outside Telegram, on an older client, or for a
 * URL that is not https.
 * @param {string} url
 * @param {string} fileName
 * @returns {Promise<'downloading' | 'cancelled' | 'busy' | 'unsupported'>}
 */
export function downloadFile(url, fileName) {
  return new Promise((resolve) => {
    // Telegram saves only https URLs (its SDK refuses others, e.g. a local http worker's).
    if (!webApp || !supports(BOT_API_8_0) || !/^https:\/\//i.test(url)) { resolve('unsupported'); return; }
    try {
      webApp.downloadFile({ url, file_name: fileName }, (accepted) => resolve(accepted ? 'downloading' : 'cancelled'));
    } catch (e) {
      if (e instanceof Error && e.message === 'WebAppDownloadFilePopupOpened') { resolve('busy'); return; }
      console.warn('downloadFile failed', e); // WebAppDownloadFileParamInvalid: not https, no name
      resolve('unsupported');
    }
  });
}

/**
 * Telegram's own confirmation popup (OK / Cancel) with `message` (Bot API 6.2); the
 * browser's confirm() outside Telegram or on an older client. Resolves to whether the user
 * confirmed; false when a popup is already open.
 * @param {string} message
 * @returns {Promise<boolean>}
 */
export function showConfirm(message) {
  // Telegram's limit on a popup's message is 256 characters.
  const text = message.length > 256 ? `${message.slice(0, 255)}…` : message;
  return new Promise((resolve) => {
    if (!webApp || !supports(BOT_API_6_2)) { resolve(window.confirm(text)); return; }
    try {
      webApp.showConfirm(text, (ok) => resolve(ok === true));
    } catch (e) {
      console.warn('showConfirm failed', e); // WebAppPopupOpened: one is open already
      resolve(false);
    }
  });
}

/**
 * Opens an https link in the browser (Telegram's in-app one inside Telegram), e.g. a file
 * the client cannot save itself. Outside Telegram, a new tab.
 * @param {string} url
 */
export function openLink(url) {
  if (webApp) webApp.openLink(url);
  else window.open(url, '_blank', 'noopener');
}

/**
 * Opens a t.me link (an invite link, say) in Telegram itself. Outside Telegram, a new tab.
 * @param {string} url
 */
export function openTelegramLink(url) {
  if (webApp) webApp.openTelegramLink(url);
  else window.open(url, '_blank', 'noopener');
}

/**
 * Telegram's "share to a chat" screen for `url` with `text`. Outside Telegram, a new tab.
 * @param {string} url
 * @param {string} text
 */
export function share(url, text) {
  const link = `https://t.me/share/url?url=${encodeURIComponent(url)}&text=${encodeURIComponent(text)}`;
  if (webApp) webApp.openTelegramLink(link);
  else window.open(link, '_blank', 'noopener');
}
