// @ts-check
// The page's words. They live in `static/locales/<code>.json`, the same files the worker
// embeds for the bot's words (src/i18n.rs): one flat object per language, key → text, with
// `{name}` placeholders. The page's keys have no dot (the worker's all do). At start the page
// loads English (the fallback for a key a language lacks) and the buyer's language, before it
// shows anything; a Rust test holds every file to English's keys and placeholders, and tsc
// checks every key the page names against en.json. Values go in as text, never HTML.
//
// The languages the shop speaks are the worker's list (src/i18n.rs LANGUAGES), which it writes
// into index.html's `<meta name="languages">`: adding a language needs no change here.

/** @typedef {keyof typeof import('./locales/en.json')} StringKey  a key of the locale files */
/** @typedef {string} Language  a code of the worker's LANGUAGES: `en`, `zh`, … */

/** @type {Record<string, string>} English: the fallback for any key */
let english = {};
/** @type {Record<string, string>} the current language's words */
let words = {};
/** @type {Language} */
let lang = 'en';

/** The languages the worker speaks (index.html's meta, which it fills); English at least. */
function languages() {
  const meta = document.querySelector('meta[name="languages"]');
  const codes = (meta?.getAttribute('content') ?? '').split(/\s+/).filter(Boolean);
  return codes.includes('en') ? codes : ['en', ...codes];
}

/**
 * The shop's language for a tag: its primary subtag when the shop speaks it (`zh-hans`,
 * `zh-CN`, `zh_TW`… → `zh`), else English.
 * @param {string | null | undefined} code
 * @returns {Language}
 */
export function pickLanguage(code) {
  const primary = String(code || '').trim().split(/[-_]/)[0]?.toLowerCase() ?? '';
  return languages().includes(primary) ? primary : 'en';
}

/**
 * One language's words from `/locales/<code>.json`; null (and a console error) when they
 * cannot be had.
 * @param {Language} code
 * @returns {Promise<Record<string, string> | null>}
 */
async function fetchWords(code) {
  try {
    const res = await fetch(`/locales/${encodeURIComponent(code)}.json`, { credentials: 'same-origin' });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const json = await res.json();
    if (!json || typeof json !== 'object' || Array.isArray(json)) throw new Error('not an object');
    return /** @type {Record<string, string>} */ (json);
  } catch (e) {
    console.error(`the words for ${code} could not be loaded`, e);
    return null;
  }
}

/**
 * Sets the UI language (and `<html lang>`) from a language code and loads its words (and
 * English's). Resolves once t() can answer; if the files cannot be loaded, t() answers keys.
 * @param {string | null | undefined} code
 */
export async function setLanguage(code) {
  lang = pickLanguage(code);
  document.documentElement.lang = lang === 'zh' ? 'zh-Hans' : lang;
  const [en, own] = await Promise.all([fetchWords('en'), lang === 'en' ? null : fetchWords(lang)]);
  english = en ?? {};
  words = own ?? english;
}

/** The current language's code. */
export function language() {
  return lang;
}

/** BCP 47 locale for Intl formatting, matching the UI language. */
export function locale() {
  return lang === 'zh' ? 'zh-CN' : lang;
}

/**
 * Whether `key` names a string (for keys built at run time, e.g. `status_${status}`).
 * @param {string} key
 * @returns {key is StringKey}
 */
export function isStringKey(key) {
  return Object.prototype.hasOwnProperty.call(english, key) || Object.prototype.hasOwnProperty.call(words, key);
}

/**
 * The string `key` in the current language (English when it lacks it, the key itself when
 * English does too), with `{name}` placeholders filled from `vars`.
 * @param {StringKey} key
 * @param {Record<string, string | number>} [vars]
 */
export function t(key, vars) {
  const own = Object.prototype.hasOwnProperty.call(words, key) ? words[key] : undefined;
  const s = own ?? (Object.prototype.hasOwnProperty.call(english, key) ? english[key] : undefined) ?? key;
  if (!vars) return s;
  // Function replacer: values are used verbatim (no `$&` surprises).
  return s.replace(/\{(\w+)\}/g, (m, /** @type {string} */ k) => {
    const v = vars[k];
    return v === undefined ? m : String(v);
  });
}

/**
 * Fill static markup: `data-i18n` sets text, `data-i18n-label` aria-label + title,
 * `data-i18n-title` title. Unknown keys are left as the markup has them.
 * @param {ParentNode} [root]
 */
export function translateDom(root = document) {
  /** @param {string | undefined} key */
  const text = (key) => (key !== undefined && isStringKey(key) ? t(key) : null);
  for (const node of root.querySelectorAll('[data-i18n]')) {
    if (!(node instanceof HTMLElement)) continue;
    const s = text(node.dataset.i18n);
    if (s !== null) node.textContent = s;
  }
  for (const node of root.querySelectorAll('[data-i18n-label]')) {
    if (!(node instanceof HTMLElement)) continue;
    const s = text(node.dataset.i18nLabel);
    if (s !== null) {
      node.setAttribute('aria-label', s);
      node.title = s;
    }
  }
  for (const node of root.querySelectorAll('[data-i18n-title]')) {
    if (!(node instanceof HTMLElement)) continue;
    const s = text(node.dataset.i18nTitle);
    if (s !== null) node.title = s;
  }
  document.title = t('appTitle');
}
