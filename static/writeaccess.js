// @ts-check
// Whether the bot may message the buyer, who gets the receipt and the goods by private
// message. The launch data says so (`user.allows_write_to_pm`); when it does not, the page
// asks with Telegram's own popup before the first purchase, once per launch. A refusal
// does not stop the purchase: #write-access-note then says that the goods are in the app
// only (the order view), as the bot cannot send files or links to the chat.
//
// State owned here: the answer for this launch.

import { byId } from './dom.js';
import { t } from './i18n.js';
import { botMayWrite, requestWriteAccess } from './telegram.js';
import { setStatus } from './views/status.js';

/**
 * `launch`: the launch data allows it; `unasked`: not yet asked; `asking`: the popup is
 * open; `allowed` / `refused`: the user's answer; `unsupported`: the client cannot ask.
 * @typedef {'launch' | 'unasked' | 'asking' | 'allowed' | 'refused' | 'unsupported'} WriteAccess
 */

/** @type {WriteAccess | null} null until first needed (the SDK is loaded by then) */
let state = null;
/** @type {Promise<void> | null} the one request of this launch */
let asked = null;

/** @returns {WriteAccess} */
function current() {
  state ??= botMayWrite() ? 'launch' : 'unasked';
  return state;
}

/** Whether the user refused, in this launch, to let the bot message them. */
export function writeAccessRefused() {
  return current() === 'refused';
}

/**
 * Before a purchase: unless the bot may already message the user, asks once per launch
 * and waits for the answer (the payment sheet must not open over Telegram's popup).
 * Never throws; a refusal shows #write-access-note and the purchase goes on.
 */
export function ensureWriteAccess() {
  if (asked) return asked;
  if (current() !== 'unasked') return Promise.resolve();
  asked = (async () => {
    state = 'asking';
    setStatus(t('writeAccessAsking'), 'busy');
    const answer = await requestWriteAccess();
    state = answer;
    if (answer === 'refused') showRefusal();
  })();
  return asked;
}

function showRefusal() {
  const note = byId('write-access-note');
  note.textContent = t('writeAccessRefused');
  note.hidden = false;
}

/** Tapping the note dismisses it (the order view still tells where the goods are). */
export function dismissNoteOnTap() {
  const note = byId('write-access-note');
  note.addEventListener('click', () => { note.hidden = true; });
}
