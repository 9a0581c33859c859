// @ts-check
// What went wrong, in the user's language. The page never shows the server's English
// `message`: each error code the API documents (README, API) has its own translated
// text; a code the page does not know gets a generic text with the HTTP status.
// openInvoice's own errors (thrown by telegram-web-app.js) have theirs too.

import { ApiError } from './api.js';
import { t } from './i18n.js';

/** @typedef {import('./i18n.js').StringKey} StringKey */

/**
 * The API's error codes (and the client's own: `network`, `timeout`, `bad_response`),
 * each with the string that explains it.
 * @type {Readonly<Record<string, StringKey>>}
 */
const ERROR_KEYS = Object.freeze({
  // The client's own: no usable answer arrived.
  network: 'error_network',
  timeout: 'error_timeout',
  bad_response: 'error_bad_response',
  // 401: the launch data (POST /api/verify and every Mini App route).
  missing_init_data: 'error_missing_init_data',
  malformed_init_data: 'error_malformed_init_data',
  invalid_hash: 'error_invalid_hash',
  expired_init_data: 'error_expired_init_data',
  invalid_signature: 'error_invalid_signature',
  missing_user: 'error_missing_user',
  // Selling and subscriptions.
  product_not_found: 'error_product_not_found',
  payment_provider_not_configured: 'error_payment_provider_not_configured',
  subscription_not_found: 'error_subscription_not_found',
  not_a_subscription: 'error_not_a_subscription',
  subscription_not_active: 'error_subscription_not_active',
  // TON Connect (README, TON and USDT): linking a wallet, paying from it.
  pay_with_invoice: 'error_pay_with_invoice',
  pay_with_ton: 'error_pay_with_ton',
  wallet_not_linked: 'error_wallet_not_linked',
  wrong_network: 'error_wrong_network',
  no_usdt_wallet: 'error_no_usdt_wallet',
  ton_unavailable: 'error_ton_unavailable',
  ton_not_configured: 'error_ton_not_configured',
  unknown_payload: 'error_unknown_payload',
  ton_proof_expired: 'error_ton_proof_expired',
  malformed_ton_proof: 'error_malformed_ton_proof',
  domain_mismatch: 'error_domain_mismatch',
  address_mismatch: 'error_address_mismatch',
  unsupported_wallet: 'error_unsupported_wallet',
  public_key_mismatch: 'error_public_key_mismatch',
  invalid_ton_proof: 'error_invalid_ton_proof',
  // Telegram, storage and the shop's configuration.
  telegram_error: 'error_telegram_error',
  telegram_rate_limited: 'error_telegram_rate_limited',
  // 429 and 409: the shop's own limits (README, Limits).
  rate_limited: 'error_rate_limited',
  too_many_pending_orders: 'error_too_many_pending_orders',
  storage_unavailable: 'error_storage_unavailable',
  not_configured: 'error_not_configured',
  invalid_catalog: 'error_invalid_catalog',
  // The Operator section (GET /api/admin/*, refunds, CSV export links).
  not_operator: 'error_not_operator',
  invalid_export_link: 'error_invalid_export_link',
  export_link_expired: 'error_export_link_expired',
  order_not_found: 'error_order_not_found',
  order_not_paid: 'error_order_not_paid',
  not_refundable_here: 'error_not_refundable_here',
  invalid_query: 'error_invalid_query',
  // The request itself (a bug in the page, or an old copy of it).
  payload_too_large: 'error_payload_too_large',
  unsupported_media_type: 'error_unsupported_media_type',
  invalid_json: 'error_invalid_json',
  not_found: 'error_not_found',
  method_not_allowed: 'error_method_not_allowed',
  internal: 'error_internal',
});

/**
 * The string key for an error code; `null` for a code the page does not know.
 * @param {string} code
 * @returns {StringKey | null}
 */
export function errorKey(code) {
  return Object.prototype.hasOwnProperty.call(ERROR_KEYS, code) ? ERROR_KEYS[code] ?? null : null;
}

/**
 * The translated text for a failed API call (or anything else a call rejected with).
 * @param {unknown} error
 * @returns {string}
 */
export function errorText(error) {
  if (!(error instanceof ApiError)) {
    // Not from the API client: a bug in the page. The console gets the details.
    console.error('unexpected error', error);
    return t('error_unexpected');
  }
  if (error.retryAfter !== null && error.retryAfter > 0) {
    if (error.code === 'telegram_rate_limited') return t('error_telegram_rate_limited_wait', { seconds: error.retryAfter });
    if (error.code === 'rate_limited') return t('error_rate_limited_wait', { seconds: error.retryAfter });
  }
  const key = errorKey(error.code);
  if (key === null) console.warn('an error code the page has no text for:', error.message);
  return t(key ?? 'error_unknown', { status: error.status });
}

/**
 * The translated text for an error thrown by `Telegram.WebApp.openInvoice`.
 * @param {unknown} error
 * @returns {string}
 */
export function invoiceErrorText(error) {
  const name = error instanceof Error ? error.message : '';
  if (name === 'WebAppMethodUnsupported') return t('invoiceUnsupported');
  if (name === 'WebAppInvoiceOpened') return t('invoiceAlreadyOpen');
  if (name === 'WebAppInvoiceUrlInvalid') return t('invoiceInvalid');
  console.error('openInvoice failed', error);
  return t('failed');
}
