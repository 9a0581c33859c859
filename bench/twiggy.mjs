// The largest contributors to the wasm, from `twiggy top -f json` of a build
// that keeps its names. Shares are of the wasm without its name section, which
// is what the stripped release build ships.

const NAMES = '"function names" subsection';

/** The crate (or kind of item) a twiggy item belongs to. */
export function crateOf(name) {
  if (name.startsWith('data segment')) return 'data segments (.rodata, ...)';
  if (name.startsWith('"') || name.startsWith('custom section')) return 'custom sections';
  if (/^(import|export|type|table|elem|global|memory)\b/.test(name) || /^code\[\d+\]$/.test(name)) return 'wasm tables, types, imports';
  const path = name.replace(/^(<|&mut |&|dyn |\(|\[)+/, '');
  const m = path.match(/^([A-Za-z_][A-Za-z0-9_]*)(\[[0-9a-f]+\])?::/);
  if (m) return m[1];
  if (/^__wbg|^__wbindgen|^__externref/.test(path)) return 'wasm_bindgen';
  return 'other (libc, generic shims)';
}

function shipped(rows) {
  return rows.filter((r) => r.name !== NAMES);
}

/** The `n` crates with the most bytes. */
export function crates(rows, n) {
  const kept = shipped(rows);
  const total = kept.reduce((s, r) => s + r.shallow_size, 0);
  const by = new Map();
  for (const r of kept) by.set(crateOf(r.name), (by.get(crateOf(r.name)) || 0) + r.shallow_size);
  return [...by].map(([name, size]) => ({ name, size, percent: (100 * size) / total }))
    .sort((a, b) => b.size - a.size).slice(0, n);
}

/** The `n` largest single items. */
export function items(rows, n) {
  const kept = shipped(rows);
  const total = kept.reduce((s, r) => s + r.shallow_size, 0);
  return kept.sort((a, b) => b.shallow_size - a.shallow_size).slice(0, n)
    .map((r) => ({ name: r.name.replace(/::h[0-9a-f]{16}$/, '').replace(/\[[0-9a-f]{16}\]/g, ''), size: r.shallow_size, percent: (100 * r.shallow_size) / total }));
}
