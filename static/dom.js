// @ts-check
// A tiny DOM helper. Data only ever becomes text nodes, `textContent` or attribute
// values: nothing here (nor anywhere in the page) sets innerHTML.

/**
 * The attributes el() may set (a closed list, so a typo is a type error).
 * @typedef {'id' | 'type' | 'href' | 'target' | 'rel' | 'src' | 'alt' | 'loading' | 'referrerpolicy'
 *   | 'decoding' | 'aria-hidden' | 'aria-current' | 'aria-label' | 'aria-pressed' | 'aria-busy'
 *   | 'placeholder' | 'value' | 'download' | 'role'} Attribute
 */

/**
 * @typedef {{
 *   class?: string,
 *   text?: string,
 *   dataset?: Record<string, string>,
 *   onclick?: (event: MouseEvent) => void,
 * } & { [A in Attribute]?: string }} Props
 */

/** @typedef {Node | string | null | undefined | false} Child  falsy children are skipped */

/**
 * Builds an element. Strings become text nodes, so data can never turn into markup.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Props} [props]
 * @param {...Child} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  /** @type {HTMLElement} */
  const base = node;
  const { class: className, text, dataset, onclick, ...attributes } = props;
  if (className !== undefined) node.className = className;
  if (text !== undefined) node.textContent = text;
  if (dataset) Object.assign(node.dataset, dataset);
  if (onclick) base.addEventListener('click', onclick);
  for (const [name, value] of Object.entries(attributes)) {
    if (value !== undefined) node.setAttribute(name, value);
  }
  for (const c of children) if (c !== null && c !== undefined && c !== false) node.append(c);
  return node;
}

/**
 * An element of index.html that the page cannot work without.
 * @param {string} id
 * @returns {HTMLElement}
 */
export function byId(id) {
  const node = document.getElementById(id);
  if (!node) throw new Error(`#${id} is missing from index.html`);
  return node;
}

/**
 * An image from the server's data: only absolute https URLs (the CSP allows https: images).
 * A broken one is swapped for `fallback` (or just removed), so a dead link never shows a
 * broken-image icon. Without a usable URL, the fallback itself (or null).
 * @param {unknown} url
 * @param {string} cls
 * @param {HTMLElement | null} [fallback]
 * @returns {HTMLElement | null}
 */
export function image(url, cls, fallback = null) {
  if (typeof url !== 'string' || !/^https:\/\//i.test(url)) return fallback;
  const img = el('img', { class: cls, src: url, alt: '', loading: 'lazy', referrerpolicy: 'no-referrer', decoding: 'async' });
  img.addEventListener('error', () => (fallback ? img.replaceWith(fallback) : img.remove()));
  return img;
}
