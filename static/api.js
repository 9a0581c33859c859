// The worker's JSON API (same origin). Every call carries the raw initData as
// `Authorization: tma <initData>`; the server checks it, the page never trusts itself.
// Failures always become an ApiError whose `message` is fit to show to the user.

import { t } from './i18n.js';

const TIMEOUT_MS = 20000;

export class ApiError extends Error {
  constructor(message, { status = 0, code = 'network' } = {}) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export function createApi(initData) {
  async function request(method, path, body) {
    const headers = { Authorization: `tma ${initData}`, Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    // A hung connection must end in words, not an endless spinner.
    const ctrl = new AbortController();
    const timer = setTimeout(() => ctrl.abort(), TIMEOUT_MS);
    let res, data = null;
    try {
      res = await fetch(path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: 'no-store',
        credentials: 'same-origin',
        signal: ctrl.signal,
      });
      try { data = await res.json(); } catch { data = null; }
    } catch {
      throw new ApiError(t('networkError'));
    } finally {
      clearTimeout(timer);
    }
    if (!res.ok) {
      // The API's error shape: {"error":{"code":"…","message":"…"}}.
      const err = data && typeof data === 'object' ? data.error : null;
      const message = err && typeof err.message === 'string' && err.message.trim()
        ? err.message
        : t('serverError', { status: res.status });
      throw new ApiError(message, { status: res.status, code: (err && err.code) || `http_${res.status}` });
    }
    if (data === null || typeof data !== 'object') {
      throw new ApiError(t('serverError', { status: res.status }), { status: res.status, code: 'bad_json' });
    }
    return data;
  }

  return {
    verify: () => request('POST', '/api/verify'),
    products: () => request('GET', '/api/products'),
    orders: () => request('GET', '/api/orders'),
    entitlements: () => request('GET', '/api/entitlements'),
    changeRenewal: (orderId, action) =>
      request('POST', `/api/subscriptions/${encodeURIComponent(orderId)}/${action === 'resume' ? 'resume' : 'cancel'}`),
    createInvoice: (productId) => request('POST', '/api/invoices', { product_id: productId }),
  };
}
