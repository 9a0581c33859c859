// Counts JS↔wasm crossings: every call of a wasm import (wasm → JS) and of a
// wasm export (JS → wasm). Imported by the tma-pay entry before its glue, so the
// glue's `new WebAssembly.Instance` gets wrapped functions. Bench only.
const counter = (globalThis.__benchCrossings = { n: 0 });
const Instance = WebAssembly.Instance;

const counted = (fn) => function (...args) {
  counter.n++;
  return fn.apply(this, args);
};

WebAssembly.Instance = function (module, imports) {
  const wrapped = {};
  for (const [ns, fns] of Object.entries(imports)) {
    wrapped[ns] = {};
    for (const [k, v] of Object.entries(fns)) wrapped[ns][k] = typeof v === 'function' ? counted(v) : v;
  }
  const instance = new Instance(module, wrapped);
  const exports = {};
  for (const [k, v] of Object.entries(instance.exports)) exports[k] = typeof v === 'function' ? counted(v) : v;
  return { exports };
};
