// @ts-check
// The status line (#status, always there) and the two banners (#error, #notice).
// Hooks: #status[data-kind], #error (hidden when there is no error), #notice[data-kind].

import { byId } from '../dom.js';

/** @typedef {'info' | 'busy' | 'success' | 'error'} Kind */

/**
 * @param {string} text
 * @param {Kind} [kind]
 */
export function setStatus(text, kind = 'info') {
  const s = byId('status');
  s.textContent = text;
  s.dataset.kind = kind;
}

/**
 * The error banner, and the status line says it too.
 * @param {string} message  already in words (errors.js), never the server's text
 */
export function showError(message) {
  const e = byId('error');
  e.textContent = message;
  e.hidden = false;
  setStatus(message, 'error');
}

export function clearError() {
  const e = byId('error');
  e.textContent = '';
  e.hidden = true;
}

/**
 * The result banner for non-errors (paid, cancelled, still confirming); the status line too.
 * @param {string} message
 * @param {Exclude<Kind, 'error'>} kind
 */
export function showNotice(message, kind) {
  const n = byId('notice');
  n.textContent = message;
  n.dataset.kind = kind;
  n.hidden = false;
  setStatus(message, kind);
}

export function clearNotice() {
  const n = byId('notice');
  n.textContent = '';
  n.hidden = true;
}

/** Tapping a banner dismisses it. */
export function dismissBannersOnTap() {
  byId('error').addEventListener('click', clearError);
  byId('notice').addEventListener('click', clearNotice);
}
