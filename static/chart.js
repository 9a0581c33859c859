// @ts-check
// Revenue per day as an SVG bar chart, drawn by the page (no library). Bars are the day's
// gross; the part refunded is drawn over its foot in the destructive colour. Colours come
// from Telegram's theme through CSS classes (app.css: .chart-bar, .chart-refund), so the
// chart follows light and dark themes. The SVG has a <title> and <desc> (role="img"), and
// the same figures go into a table (the text fallback) beside it.

import { el } from './dom.js';

const SVG = 'http://www.w3.org/2000/svg';
/** One day's slot in the drawing's own units (the SVG scales to its box). */
const SLOT = 10;
const HEIGHT = 100;

/**
 * @typedef {object} Day  one day of the chart
 * @property {string} date  YYYY-MM-DD
 * @property {number} gross
 * @property {number} refunded
 * @property {number} orders
 */

/**
 * An SVG element.
 * @param {string} tag
 * @param {Record<string, string>} attrs
 * @param {...(Node | string)} children
 * @returns {SVGElement}
 */
function svg(tag, attrs, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  for (const c of children) node.append(c);
  return /** @type {SVGElement} */ (node);
}

/**
 * Every date from `first` to `last` (YYYY-MM-DD, UTC), both included; at most 400.
 * @param {string} first
 * @param {string} last
 */
export function dateRange(first, last) {
  /** @type {string[]} */
  const out = [];
  const day = new Date(`${first}T00:00:00Z`);
  const end = new Date(`${last}T00:00:00Z`).getTime();
  if (Number.isNaN(day.getTime()) || Number.isNaN(end)) return out;
  while (day.getTime() <= end && out.length < 400) {
    out.push(day.toISOString().slice(0, 10));
    day.setUTCDate(day.getUTCDate() + 1);
  }
  return out;
}

/**
 * `days` with a zero entry for every date of the range missing from it, oldest first.
 * @param {Day[]} days
 * @param {string[]} range
 * @returns {Day[]}
 */
export function fillDays(days, range) {
  const byDate = new Map(days.map((d) => [d.date, d]));
  const filled = range.map((date) => byDate.get(date) ?? { date, gross: 0, refunded: 0, orders: 0 });
  // Days the server has outside the range (clock skew) still show, in order.
  for (const d of days) if (!range.includes(d.date)) filled.push(d);
  return filled.sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0));
}

/**
 * The chart: an SVG bar per day and a table with the same figures.
 * @param {object} spec
 * @param {Day[]} spec.days  oldest first, every day of the range
 * @param {string} spec.title
 * @param {string} spec.desc
 * @param {(amount: number) => string} spec.format  an amount in words ("⭐ 50")
 * @param {{ caption: string, date: string, gross: string, refunded: string, orders: string }} spec.labels
 * @param {string} spec.id  unique in the page (for aria-labelledby)
 * @returns {HTMLElement}
 */
export function revenueChart({ days, title, desc, format, labels, id }) {
  const max = Math.max(0, ...days.map((d) => d.gross));
  const width = Math.max(1, days.length) * SLOT;
  const scale = (/** @type {number} */ v) => (max > 0 ? (v / max) * (HEIGHT - 2) : 0);
  const bars = svg('g', {});
  days.forEach((d, i) => {
    const h = scale(d.gross);
    const x = String(i * SLOT + 1);
    if (h > 0) {
      bars.append(svg('rect', {
        class: 'chart-bar', x, y: String(HEIGHT - h), width: String(SLOT - 2), height: String(h),
        'data-date': d.date, 'data-gross': String(d.gross),
      }, svg('title', {}, `${d.date}: ${format(d.gross)}`)));
    }
    const r = scale(Math.min(d.refunded, d.gross || d.refunded));
    if (d.refunded > 0 && r > 0) {
      bars.append(svg('rect', {
        class: 'chart-refund', x, y: String(HEIGHT - r), width: String(SLOT - 2), height: String(r),
        'data-date': d.date, 'data-refunded': String(d.refunded),
      }));
    }
  });
  const chart = svg('svg', {
    class: 'chart', viewBox: `0 0 ${width} ${HEIGHT}`, preserveAspectRatio: 'none',
    role: 'img', 'aria-labelledby': `${id}-title ${id}-desc`, focusable: 'false',
  },
  svg('title', { id: `${id}-title` }, title),
  svg('desc', { id: `${id}-desc` }, desc),
  svg('line', { class: 'chart-axis', x1: '0', y1: String(HEIGHT - 0.5), x2: String(width), y2: String(HEIGHT - 0.5) }),
  bars);

  const first = days[0]?.date ?? '';
  const last = days.at(-1)?.date ?? '';
  const rows = days.filter((d) => d.gross > 0 || d.refunded > 0 || d.orders > 0).reverse().map((d) =>
    el('tr', {}, el('td', { text: d.date }), el('td', { text: format(d.gross) }),
      el('td', { text: format(d.refunded) }), el('td', { text: String(d.orders) })));
  const table = el('table', { class: 'chart-table' },
    el('thead', {}, el('tr', {}, ...[labels.date, labels.gross, labels.refunded, labels.orders].map((h) => el('th', { text: h })))),
    el('tbody', {}, ...rows));
  return el('figure', { class: 'chart-figure' },
    el('div', { class: 'chart-scale hint' }, el('span', { text: format(max) }), el('span', { text: format(0) })),
    chart,
    el('div', { class: 'chart-dates hint', 'aria-hidden': 'true' }, el('span', { text: first }), el('span', { text: last })),
    el('details', { class: 'chart-details' }, el('summary', { text: labels.caption }), table));
}
