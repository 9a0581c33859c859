// The bench's own test: the report code on a tiny input, no worker started.
// `make test-bench` (or `node --test bench/`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { median, percentile, ratio, render, rpsRatio, splice, summarize, targets } from './report.mjs';
import { crateOf, crates, items } from './twiggy.mjs';

test('statistics', () => {
  assert.equal(percentile(Float64Array.of(1, 2, 3, 4), 0.5), 2);
  assert.equal(percentile(Float64Array.of(1, 2, 3, 4), 0.99), 4);
  assert.ok(Number.isNaN(percentile(new Float64Array(), 0.5)));
  assert.equal(median([5, 1, 3]), 3);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.deepEqual(summarize([3, 1, 2, 4], 2), { requests: 4, rps: 2, p50: 2, p99: 4 });
  assert.ok(Number.isNaN(ratio(1, 0)));
  const rt = { results: { a: { rps: 50 }, b: { rps: 100 } } };
  assert.equal(rpsRatio(rt, 'a', 'b'), 0.5);
  assert.equal(rpsRatio({ ...rt, ratios: { a: { b: 0.6 } } }, 'a', 'b'), 0.6);
});

test('twiggy rows are grouped by crate, without the name section', () => {
  assert.equal(crateOf('<&mut serde_json::de::Deserializer<R> as serde_core::de::Deserializer>::deserialize_struct::h0'), 'serde_json');
  assert.equal(crateOf('core[c5930c85a12de822]::num::flt2dec::x'), 'core');
  assert.equal(crateOf('data segment ".rodata"'), 'data segments (.rodata, ...)');
  const rows = [
    { name: '"function names" subsection', shallow_size: 1000 },
    { name: 'serde_json::a::h0123456789abcdef', shallow_size: 30 },
    { name: 'serde_json::b', shallow_size: 20 },
    { name: 'tma_pay::c', shallow_size: 50 },
  ];
  assert.deepEqual(crates(rows, 5).map((c) => [c.name, c.size, c.percent]), [['serde_json', 50, 50], ['tma_pay', 50, 50]]);
  assert.equal(items(rows, 1)[0].name, 'tma_pay::c');
  assert.equal(items(rows, 3)[1].name, 'serde_json::a');
});

const tiny = {
  date: '2026-01-01',
  machine: '2 cores',
  versions: { node: '20' },
  load: { connections: 2, warmupMs: 1000, durationMs: 1000 },
  contenders: ['tma-pay', 'empty', 'rust-floor', 'js-alt', 'd1-floor'],
  bundle: { upload: 300 * 1024, uploadGzip: 150 * 1024, wasm: 1, wasmGzip: 1, glue: 1, glueGzip: 1, budgetKiB: 300 },
  routes: [
    { id: 'verify', name: 'POST /api/verify', expect: [200], results: {
      'tma-pay': { rps: 95, p50: 1, p99: 2, statuses: { 200: 95 } },
      empty: { rps: 100, p50: 1, p99: 3, statuses: { 200: 100 } },
      'rust-floor': { rps: 95, p50: 1, p99: 3, statuses: { 200: 95 } },
      'js-alt': { rps: 90, p50: 1, p99: 4, statuses: { 200: 80, 401: 10 } },
    }, d1Calls: 0, crossings: 40 },
    { id: 'webhook-payment', name: 'webhook successful_payment', expect: [200], stateChanges: 2, results: {
      'tma-pay': { rps: 60, p50: 1, p99: 2, statuses: { 200: 60 } },
      empty: { rps: 100, p50: 1, p99: 2, statuses: { 200: 100 } },
      'd1-floor': { rps: 50, p50: 1, p99: 2, statuses: { 200: 50 } },
    }, d1Calls: 2 },
  ],
  cold: { 'tma-pay': 140, empty: 100, 'rust-floor': 110, 'js-alt': 120 },
  coldMin: { 'tma-pay': 90, empty: 90, 'rust-floor': 95, 'js-alt': 100 },
  coldRuns: 3,
  sha256: { mb_per_s: 600, ns_per_block: 100 },
  native: [{ name: 'initData', ns: 1500, input_bytes: 300, sha256_blocks: 10, sha256_ns: 1000, sha256_ratio: 1.5, target: true }],
};

test('targets say what is met', () => {
  const t = Object.fromEntries(targets(tiny).map((x) => [x.name, x.met]));
  assert.deepEqual(Object.keys(t), ['Upload ≤ 300 KiB gzip', 'One D1 round trip per payment state change', 'Cold start ≤ 1.5 × empty']);
  assert.equal(t['Upload ≤ 300 KiB gzip'], true);
  assert.equal(t['One D1 round trip per payment state change'], true);
  assert.equal(t['Cold start ≤ 1.5 × empty'], true);
  // A round trip more than the request has state changes misses it; so does a larger upload.
  const extra = { ...tiny, routes: tiny.routes.map((rt) => (rt.stateChanges ? { ...rt, d1Calls: 3 } : rt)) };
  const t2 = Object.fromEntries(targets(extra).map((x) => [x.name, x.met]));
  assert.equal(t2['One D1 round trip per payment state change'], false);
  const big = { ...tiny, bundle: { ...tiny.bundle, uploadGzip: 301 * 1024 } };
  assert.equal(targets(big).find((x) => x.name.startsWith('Upload')).met, false);
});

test('the report shows figures, ratios and unexpected statuses, and replaces its block', () => {
  const md = render(tiny);
  assert.match(md, /\| POST \/api\/verify \| tma-pay \| 95 \| 1\.00 \| 2\.00 \| 0\.95× \| 1\.00× \| 1\.06× \| 0 \| 40 \|/);
  assert.match(md, /\| POST \/api\/verify \| rust-floor \| 95 \| 1\.00 \| 3\.00 \| 0\.95× \| {2}\| {2}\| {2}\| {2}\|/);
  assert.match(md, /js-alt \(unexpected: 10×401\)/);
  assert.match(md, /\| tma-pay \| 140 \| 1\.40× \| 90 \| 1\.00× \|/);
  // The D1 floor: its ratio to empty in the table; no cold start row.
  assert.match(md, /\| webhook successful_payment \| d1-floor \| 50 \| 1\.00 \| 2\.00 \| 0\.50× \| {2}\| {2}\| {2}\| {2}\|/);
  assert.match(md, /\| Upload ≤ 300 KiB gzip \| [\d.]+ KiB \| yes \|/);
  assert.doesNotMatch(md, /\| d1-floor \| — \|/);
  assert.match(md, /\| initData \| 1,500 \| 300 \| 10 \| 1,000 \| 1\.50× \|/);
  const once = splice('# B\n\nnotes\n', md);
  const twice = splice(once.replace('95', '96'), 'new');
  assert.match(twice, /^# B\n\nnotes\n/);
  assert.ok(twice.includes('new') && !twice.includes('POST /api/verify'));
});
