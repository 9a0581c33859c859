// @ts-check
// Prices, periods, dates, statuses and names, in the UI language (i18n.locale()).

import { t, locale, isStringKey } from './i18n.js';

/** @typedef {import('./api.js').Product} Product */
/** @typedef {import('./api.js').TelegramUser} TelegramUser */

/**
 * Digits after the decimal point for a currency. Amounts are integers in the smallest unit.
 * Stars have no subunit; for money the brief is "2 decimals, except zero-decimal currencies
 * (JPY, KRW…)", which Intl knows per currency.
 * @param {string} currency
 * @returns {0 | 2}
 */
function fractionDigits(currency) {
  try {
    const d = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits;
    return d === 0 ? 0 : 2;
  } catch (e) {
    // RangeError: not an ISO 4217 code Intl knows. Two decimals, the common case.
    console.warn(`format: unknown currency ${JSON.stringify(currency)}`, e);
    return 2;
  }
}

/**
 * The tokens sold through TON Connect: decimals of the smallest unit (nanotons; USDT's
 * millionths) and how many of them always show. As the bot writes them (src/shop/checkout.rs).
 * @type {Readonly<Record<string, { scale: number, min: number }>>}
 */
const TOKENS = Object.freeze({ TON: { scale: 9, min: 0 }, USDT: { scale: 6, min: 2 } });

/**
 * Whether a product in `currency` is paid through TON Connect (else a Telegram invoice).
 * @param {string} currency
 */
export function isTonCurrency(currency) {
  return Object.prototype.hasOwnProperty.call(TOKENS, currency);
}

/**
 * `TON` 2500000000 → "2.5 TON"; `USDT` 15000000 → "15.00 USDT". Integer arithmetic for the
 * digits (no float rounding), Intl for the grouping and the decimal sign.
 * @param {string} currency  a key of TOKENS
 * @param {number} amount  a non-negative integer in the smallest unit
 */
function formatToken(currency, amount) {
  const { scale, min } = TOKENS[currency] ?? { scale: 0, min: 0 };
  const unit = 10 ** scale;
  const frac = amount % unit; // exact for integers
  const whole = (amount - frac) / unit;
  const digits = String(frac).padStart(scale, '0');
  const kept = digits.replace(/0+$/, '').padEnd(min, '0');
  const number = new Intl.NumberFormat(locale());
  const sign = number.formatToParts(1.5).find((part) => part.type === 'decimal')?.value ?? '.';
  return `${number.format(whole)}${kept ? sign + kept : ''} ${currency}`;
}

/**
 * `XTR` 50 → "⭐ 50"; `USD` 1999 → "$19.99"; `JPY` 500 → "¥500"; `TON` 2500000000 → "2.5 TON".
 * @param {string} currency
 * @param {number} amount  in the currency's smallest unit
 */
export function formatPrice(currency, amount) {
  if (!Number.isFinite(amount)) return String(amount);
  if (currency === 'XTR') return `⭐ ${new Intl.NumberFormat(locale()).format(amount)}`;
  if (isTonCurrency(currency) && Number.isSafeInteger(amount) && amount >= 0) return formatToken(currency, amount);
  const d = fractionDigits(currency);
  const value = amount / 10 ** d;
  try {
    return new Intl.NumberFormat(locale(), {
      style: 'currency', currency, minimumFractionDigits: d, maximumFractionDigits: d,
    }).format(value);
  } catch (e) {
    // The same unknown currency as above: the number and the code as they are.
    console.warn(`format: cannot format ${JSON.stringify(currency)} as a currency`, e);
    return `${value.toFixed(d)} ${currency}`;
  }
}

/**
 * 2592000 → "30 days"; test-server periods (60, 300 s) → "1 minute", "5 minutes".
 * @param {number} seconds
 */
export function formatPeriod(seconds) {
  /** @type {[Intl.NumberFormatOptions['unit'], number]} */
  const [unit, n] = seconds % 86400 === 0 ? ['day', seconds / 86400]
    : seconds % 3600 === 0 ? ['hour', seconds / 3600]
    : seconds % 60 === 0 ? ['minute', seconds / 60]
    : ['second', seconds];
  try {
    return new Intl.NumberFormat(locale(), { style: 'unit', unit, unitDisplay: 'long' }).format(n);
  } catch (e) {
    // Unit formatting came late to some WebViews (Safari before 14.1 throws a RangeError).
    console.warn('format: no Intl unit formatting here', e);
    return `${n} ${unit}`;
  }
}

/**
 * The price as the catalog shows it: "⭐ 250 / 30 days" for a subscription.
 * @param {Product} p
 */
export function productPrice(p) {
  const price = formatPrice(p.currency, p.amount);
  return p.subscription_period
    ? `${price} ${t('perPeriod', { period: formatPeriod(p.subscription_period) })}`
    : price;
}

/**
 * A Unix time as a date (and time); '' for none.
 * @param {number | undefined} unixSeconds
 * @param {boolean} [withTime]
 */
export function formatDate(unixSeconds, withTime = true) {
  if (unixSeconds === undefined || !Number.isFinite(unixSeconds) || unixSeconds <= 0) return '';
  /** @type {Intl.DateTimeFormatOptions} */
  const opts = withTime ? { dateStyle: 'medium', timeStyle: 'short' } : { dateStyle: 'medium' };
  return new Intl.DateTimeFormat(locale(), opts).format(new Date(unixSeconds * 1000));
}

/**
 * An order status in words ("Paid"); an unknown one as it is.
 * @param {string} status
 */
export function statusLabel(status) {
  const key = `status_${status}`;
  return isStringKey(key) ? t(key) : status;
}

/**
 * "First Last", else "@username", else "Telegram user".
 * @param {TelegramUser | null} user
 */
export function displayName(user) {
  if (!user) return t('someone');
  const name = [user.first_name, user.last_name].map((s) => s ?? '').join(' ').trim();
  return name || (user.username ? `@${user.username}` : t('someone'));
}

/** Characters file systems refuse in a name, and control characters. */
const NOT_IN_FILE_NAMES = /[\u0000-\u001f\u007f\\/:*?"<>|]/g;

/**
 * The name to save a file at `url` under: the URL's last path segment
 * ("…/guides/field%20guide.pdf" → "field guide.pdf"), else `fallback` (the product's title);
 * never empty, at most 255 characters.
 * @param {string} url
 * @param {string} fallback
 */
export function fileNameOf(url, fallback) {
  /** @param {string} s */
  const clean = (s) => s.replace(NOT_IN_FILE_NAMES, '').trim().slice(0, 255);
  let last = '';
  try {
    last = decodeURIComponent(new URL(url).pathname.split('/').pop() ?? '');
  } catch {
    last = ''; // not a URL, or a broken %-escape: the fallback
  }
  return clean(last) || clean(fallback) || 'download';
}
