// @ts-check
/*
 * tma-pay Mini App: who you are, the catalog, and your orders. This module only wires the
 * others together at start-up:
 *   api.js            the worker's JSON API (typed answers, ApiError with the error code)
 *   telegram.js       every call to Telegram.WebApp (launch data, buttons, haptics, invoice, write
 *                     access, file download, theme, share)
 *   buy.js            invoice → payment sheet → polling the order; TON: wallet → transaction →
 *                     checking the chain; what the MainButton offers on the home and product views
 *   writeaccess.js    asks, once per launch before buying, to let the bot message the user
 *   ton.js            TON Connect (@tonconnect/ui, loaded only when the catalog sells for TON):
 *                     linking a wallet with ton_proof, sending a transaction
 *   views/            catalog.js, orders.js (lists), product.js, order.js (detail views),
 *                     navigation.js (which view shows), status.js (status line and banners),
 *                     wallet.js (the TON wallet bar), operator.js (the Operator section, with
 *                     chart.js drawing revenue per day)
 *   errors.js         error codes → translated texts; i18n.js the words (static/locales/<lang>.json,
 *                     shared with the worker); format.js; dom.js el()
 *
 * Stable hooks for browser tests (do not rename without updating tests/browser):
 *   #user-name         the verified user's display name (from POST /api/verify; this module)
 *   #status            always-present status line: "Verified as …", "Confirming payment…",
 *                      or the current error in words; data-kind="info|busy|success|error" (views/status.js)
 *   #error             error banner; has the `hidden` attribute when there is no error (views/status.js)
 *   #notice            result banner for non-errors (paid, cancelled, still confirming); data-kind as above
 *   #outside-telegram  shown (not hidden) only when opened outside Telegram (this module)
 *   #products          contains .product[data-product-id="<id>"], each with a button.buy;
 *                      the deep-linked product (start_param) also gets .selected (views/catalog.js)
 *   #orders            contains .order[data-order-id="<id>"], each with
 *                      .order-status[data-status="pending|paid|refunded|failed|expired"] (views/orders.js)
 *                      paid orders with goods show .order-delivery in the order view;
 *                      an active subscription's order view has button.renewal[data-action="cancel|resume"],
 *                      a pending TON/USDT order's view button.check-payment, a paid order whose file
 *                      is at an https URL button.save-file (views/order.js); Telegram's MainButton
 *                      repeats save-file (else join), its SecondaryButton renewal (else check-payment)
 *   #write-access-note shown once the user refused, in this launch, to let the bot message them
 *                      (writeaccess.js)
 *   .product.owned     products the user owns now (GET /api/entitlements), with .owned-badge (views/catalog.js)
 *   #home, #product-view, #order-view   the three views; sub-views use Telegram's BackButton
 *                      (views/navigation.js)
 *   #operator-entry    shown only to the shop's operators (verify says `operator: true`); opens
 *                      #operator-view and #operator-order-view (views/operator.js lists their hooks)
 *   #wallet            the TON wallet bar, shown only when the catalog sells for TON or USDT;
 *                      data-state="loading|failed|none|linked", #wallet-address (short address,
 *                      data-raw), button#wallet-connect, button#wallet-disconnect (views/wallet.js)
 *
 * All server data goes into the DOM through textContent / attributes (see dom.js el()), never innerHTML.
 */
import { createApi } from './api.js';
import { createBuyFlow } from './buy.js';
import { byId, el, image } from './dom.js';
import { errorText } from './errors.js';
import { displayName } from './format.js';
import { setLanguage, t, translateDom } from './i18n.js';
import * as telegram from './telegram.js';
import { createTon } from './ton.js';
import { createCatalog } from './views/catalog.js';
import { currentView, onViewChange, wireBackButton } from './views/navigation.js';
import { createOperator } from './views/operator.js';
import { createOrderView } from './views/order.js';
import { createOrders } from './views/orders.js';
import { clearError, dismissBannersOnTap, setStatus, showError } from './views/status.js';
import { renderWallet, showWalletBar } from './views/wallet.js';
import { dismissNoteOnTap } from './writeaccess.js';

/** @typedef {import('./api.js').TelegramUser} TelegramUser */

/**
 * The header: name, @username, Premium badge and avatar (photo, else an initial).
 * @param {TelegramUser | null} user
 */
function renderUser(user) {
  const name = displayName(user);
  byId('user-name').textContent = name;
  const handle = byId('user-handle');
  handle.textContent = user?.username ? `@${user.username}` : '';
  handle.hidden = !user?.username;
  byId('user-premium').hidden = user?.is_premium !== true;

  const avatar = byId('user-avatar');
  const initial = name.replace(/^@/, '').trim().slice(0, 1).toUpperCase() || '?';
  avatar.replaceChildren(el('span', { text: initial }));
  const img = image(user?.photo_url, 'avatar-img');
  if (img) avatar.append(img);
  // A stable colour per user, like Telegram's own placeholders.
  avatar.dataset.hue = String(Math.abs(user?.id ?? 0) % 7);
}

/** Opened outside Telegram (or Telegram's script did not load): explain, don't fail. */
function showOutside() {
  byId('outside-telegram').hidden = false;
  byId('home').hidden = true;
  byId('user-avatar').hidden = true;
  byId('user-name').textContent = t('appTitle');
  setStatus(t('outsideTitle'), 'error');
}

/**
 * Follows Telegram's colour scheme: `data-scheme` sets CSS `color-scheme`, which picks
 * the light or dark side of app.css's fallback colours (Telegram's --tg-theme-* win).
 * @param {'light' | 'dark'} scheme
 */
function applyScheme(scheme) {
  document.documentElement.dataset.scheme = scheme;
}

async function start() {
  const launch = telegram.launchData();
  // The words first (static/locales/<lang>.json): nothing is shown before they are here.
  await setLanguage(launch?.languageCode ?? navigator.language);
  translateDom();
  telegram.ready();
  if (!launch) {
    showOutside();
    return;
  }
  telegram.fitChrome();
  telegram.followColorScheme(applyScheme);

  const { initData, startParam } = launch;
  const api = createApi(initData);
  const catalog = createCatalog({
    api,
    onBuy: (p) => buyFlow.buy(p),
    onSelectionChange: () => updateBottomButtons(),
  });
  const orders = createOrders({ api, catalog, onOpen: (o) => orderView.open(o) });
  const orderView = createOrderView({
    api, catalog, orders,
    checkPayment: (o) => buyFlow.checkTonPayment(o),
    onButtonsChange: () => updateBottomButtons(),
  });
  const operator = createOperator({ api, catalog, onButtonsChange: () => updateBottomButtons() });
  /** @type {import('./ton.js').Ton | null} TON Connect, once the catalog sells for TON */
  let ton = null;
  const buyFlow = createBuyFlow({ api, catalog, orders, ton: () => ton, onButtonsChange: () => updateBottomButtons() });

  /**
   * Telegram's bottom buttons follow the view: the order view's own two actions, else the
   * MainButton paying for the product in focus. Called after anything they depend on changed.
   */
  function updateBottomButtons() {
    const view = currentView().name;
    telegram.bottomButtons.set(view === 'order'
      ? orderView.bottomButtons()
      : view === 'operator' || view === 'operatorOrder'
        ? operator.bottomButtons()
        : { main: buyFlow.mainButton(), secondary: null });
  }

  /** Starts TON Connect (once) when the catalog has TON or USDT products. */
  function startTon() {
    const config = catalog.tonConnect();
    if (ton || !config) return;
    const started = createTon({ api, config, products: catalog.all(), onChange: renderWallet });
    ton = started;
    showWalletBar({
      onConnect: () => { void started.connect(); },
      onDisconnect: () => { void started.disconnect(); },
    });
    renderWallet(started.state());
    void started.ready();
  }

  onViewChange(() => updateBottomButtons());
  wireBackButton();
  dismissBannersOnTap();
  dismissNoteOnTap();

  // Share the product in focus, else the first product with a t.me link (the server adds
  // them when it knows the bot's username), else this page.
  byId('share').hidden = false;
  byId('share').addEventListener('click', () => {
    telegram.haptic.tap();
    const p = buyFlow.productInFocus() ?? catalog.all().find((x) => x.link);
    const link = p?.link ?? '';
    telegram.share(/^https:\/\/t\.me\//.test(link) ? link : `${location.origin}/`, t('shareText'));
  });

  let verified = false;
  let operatorShown = false;
  async function boot() {
    byId('retry').hidden = true;
    byId('home').hidden = false;
    clearError();
    setStatus(t('verifying'), 'busy');
    /** @type {boolean | null} */
    let isOperator = null;
    try {
      const { user, operator: op } = await api.verify();
      renderUser(user);
      isOperator = op;
      verified = true;
      setStatus(t('verifiedAs', { name: displayName(user) }), 'success');
    } catch (e) {
      // Without a verified session nothing else can load: just the error and a retry.
      showError(t('verifyFailed', { message: errorText(e) }));
      byId('home').hidden = true;
      byId('retry').hidden = false;
      return;
    }
    // Orders need product titles, but show whichever arrives first.
    const [productsOk] = await Promise.all([catalog.load(), orders.load(), catalog.loadEntitlements()]);
    if (!productsOk) {
      byId('retry').hidden = false;
      return;
    }
    orders.refreshTitles();
    startTon();
    // A server that does not say (older than the Operator section): ask it; 403 is "no".
    if (isOperator === null) isOperator = await api.adminSummary(30).then(() => true, () => false);
    if (isOperator === true && !operatorShown) {
      operatorShown = true;
      operator.showEntry();
    }
    // Deep links pick and highlight a product: t.me/<bot>/<app>?startapp=<id> arrives as
    // start_param; the bot's own button (after /start buy_<id>) opens the page with ?product=<id>.
    const picked = startParam || new URLSearchParams(location.search).get('product');
    if (picked) catalog.select(picked);
  }
  byId('retry').addEventListener('click', () => { telegram.haptic.tap(); void boot(); });

  // Coming back to the app (e.g. after paying elsewhere): refresh orders quietly.
  const refresh = () => {
    if (verified && document.visibilityState === 'visible') {
      void orders.load({ quiet: true });
      void catalog.loadEntitlements();
    }
  };
  document.addEventListener('visibilitychange', refresh);
  telegram.onActivated(refresh);

  void boot();
}

void start();
