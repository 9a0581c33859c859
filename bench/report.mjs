// Pure helpers of the bench: statistics, ratios, target checks and the Markdown
// report. No I/O here, so bench/report.test.mjs can run them on a tiny input.

/** Requests/s and latency percentiles (ms) of one timed window. */
export function summarize(latencies, seconds) {
  const sorted = Float64Array.from(latencies).sort();
  return {
    requests: sorted.length,
    rps: sorted.length / seconds,
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
  };
}

/** Nearest-rank percentile of an ascending array; NaN when empty. */
export function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil(p * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

export function median(values) {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? a / b : NaN);

/** `c`'s requests/s over `other`'s on a route: the median of the per-round ratios
 * when the run has them, else the ratio of the totals. */
export function rpsRatio(rt, c, other) {
  return rt.ratios?.[c]?.[other] ?? ratio(rt.results[c]?.rps, rt.results[other]?.rps);
}

const fmt = (n, digits = 0) =>
  Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : '—';
const x = (n) => (Number.isFinite(n) ? `${n.toFixed(2)}×` : '—');
// Targets show a third digit, so that a ratio just under its bar does not print as on it.
const x3 = (n) => (Number.isFinite(n) ? `${n.toFixed(3)}×` : '—');
const kib = (bytes) => `${fmt(bytes / 1024, 1)} KiB`;

/**
 * The guard each run is held to, each with its figure and whether it is met:
 * the upload's budget (`make size`'s, passed in), cold start, one D1 round trip
 * per payment state change.
 * Speed between builds is guarded by `make bench-ab` (no route below 0.90× of
 * the build before); the ratios to the baselines are figures, in the tables.
 */
export function targets(r) {
  const out = [];
  const row = (name, figure, met) => out.push({ name, figure, met });
  const gzipKiB = r.bundle.uploadGzip / 1024;
  const budget = r.bundle.budgetKiB;
  row(`Upload ≤ ${budget} KiB gzip`, `${fmt(gzipKiB, 1)} KiB`, gzipKiB <= budget);
  const writes = r.routes.filter((rt) => rt.stateChanges);
  if (writes.length) {
    const counts = writes.map((rt) => `${rt.name}: ${rt.d1Calls ?? '?'} for ${rt.stateChanges}`).join(', ');
    row('One D1 round trip per payment state change', counts, writes.every((rt) => rt.d1Calls <= rt.stateChanges));
  }
  const cold = ratio(r.cold['tma-pay'], r.cold.empty);
  row('Cold start ≤ 1.5 × empty', x3(cold), cold <= 1.5);
  return out;
}

/** The generated part of BENCHMARKS.md. */
export function render(r) {
  const L = [];
  L.push(`Run of ${r.date} on ${r.machine}; load average ${r.loadavg ?? '?'} before the run (other work on the machine skews the figures).`, '');
  L.push(`Versions: ${Object.entries(r.versions).map(([k, v]) => `${k} ${v}`).join(', ')}.`, '');
  L.push(
    `Load: ${r.load.connections} connections, ${r.load.warmupMs / 1000} s warm-up then ${r.load.durationMs / 1000} s per route and contender ` +
      `in ${r.load.rounds ?? 1} rounds alternating between the contenders, ` +
      'one Node load generator (undici) for all; each contender under workerd (Miniflare, local D1).',
    '',
  );

  L.push('### Targets', '', '| target | figure | met |', '|---|---|---|');
  for (const t of targets(r)) L.push(`| ${t.name} | ${t.figure} | ${t.met ? 'yes' : '**no**'} |`);
  L.push('');

  L.push('### Bundle', '', '| what | raw | gzip |', '|---|---|---|');
  L.push(`| upload (\`wrangler deploy --dry-run\`) | ${kib(r.bundle.upload)} | ${kib(r.bundle.uploadGzip)} |`);
  L.push(`| \`build/index_bg.wasm\` | ${fmt(r.bundle.wasm)} B | ${fmt(r.bundle.wasmGzip)} B (zlib level 9) |`);
  L.push(`| \`build/index.js\` (glue) | ${fmt(r.bundle.glue)} B | ${fmt(r.bundle.glueGzip)} B |`);
  if (r.bundle.jsAlt) L.push(`| JS alternative, bundled | ${fmt(r.bundle.jsAlt)} B | ${fmt(r.bundle.jsAltGzip)} B |`);
  if (r.floorWasm) L.push(`| Rust floor's wasm (workers-rs alone) | ${fmt(r.floorWasm)} B | |`);
  L.push('');
  if (r.twiggy?.crates?.length) {
    L.push('Largest contributors to the wasm code, by crate (twiggy, a build with names):', '');
    L.push('| crate | bytes | share |', '|---|---|---|');
    for (const c of r.twiggy.crates) L.push(`| ${c.name} | ${fmt(c.size)} | ${fmt(c.percent, 1)} % |`);
    L.push('', 'Largest items:', '', '| item | bytes | share |', '|---|---|---|');
    for (const c of r.twiggy.items) L.push(`| \`${c.name.replace(/\|/g, '\\|').slice(0, 90)}\` | ${fmt(c.size)} | ${fmt(c.percent, 1)} % |`);
    L.push('');
  }

  L.push('### Throughput and latency', '');
  L.push(
    'Ratios are of requests/s, the median over the rounds of each round\'s ratio. `rust-floor` is a workers-rs ' +
      'worker that answers a constant: its distance from `empty` is what any Rust worker pays per request under this runtime. ' +
      '`d1-floor` (the D1 routes) is the empty worker plus one D1 read: no worker that makes a D1 round trip per request gets above it.',
    '',
  );
  L.push('| route | contender | req/s | p50 ms | p99 ms | ÷ empty | ÷ Rust floor | ÷ JS alt | D1 round trips | JS↔wasm crossings |');
  L.push('|---|---|---|---|---|---|---|---|---|---|');
  for (const rt of r.routes) {
    for (const c of r.contenders) {
      const m = rt.results[c];
      if (!m) continue;
      // The empty workers answer 200 to everything.
      const floor = c === 'empty' || c.endsWith('-floor');
      const expect = floor ? [200] : rt.expect;
      const bad = Object.entries(m.statuses || {}).filter(([s]) => !expect.includes(Number(s)));
      const note = bad.length ? ` (unexpected: ${bad.map(([s, n]) => `${n}×${s}`).join(', ')})` : '';
      const isT = c === 'tma-pay';
      const of = (other) => (isT || (floor && other === 'empty' && c !== 'empty') ? x(rpsRatio(rt, c, other)) : '');
      L.push(
        `| ${rt.name} | ${c}${note} | ${fmt(m.rps)} | ${fmt(m.p50, 2)} | ${fmt(m.p99, 2)} | ` +
          `${of('empty')} | ${of('rust-floor')} | ${of('js-alt')} | ` +
          `${isT ? (rt.d1Calls ?? '') : c === 'js-alt' ? (rt.d1CallsJs ?? '') : ''} | ${isT ? (rt.crossings ?? '') : ''} |`,
      );
    }
  }
  L.push('');

  L.push('### Cold start', '');
  L.push(
    `From \`new Miniflare()\` to the first 200 from \`/healthz\` (workerd's own start included), ${r.coldRuns} runs in a rotating order.`,
    '',
  );
  L.push('| contender | median ms | ÷ empty | fastest ms | ÷ empty |', '|---|---|---|---|---|');
  for (const c of r.contenders.filter((k) => r.cold[k] !== undefined)) {
    const [m, f] = [r.cold[c], r.coldMin?.[c]];
    L.push(`| ${c} | ${fmt(m, 0)} | ${x(ratio(m, r.cold.empty))} | ${fmt(f, 0)} | ${x(ratio(f, r.coldMin?.empty))} |`);
  }
  L.push('');

  L.push('### Native (this machine, `cargo bench --bench native`, opt-level 3)', '');
  L.push(
    `SHA-256 (sha2 crate): ${fmt(r.sha256.mb_per_s, 0)} MB/s, ${fmt(r.sha256.ns_per_block, 1)} ns per 64-byte block. ` +
      'The HMAC column times the HMAC-SHA256 work each check cannot avoid, alone, over the same bytes.',
    '',
  );
  L.push('| check | ns/call | input bytes | SHA-256 blocks | HMAC alone ns | ÷ HMAC alone |');
  L.push('|---|---|---|---|---|---|');
  for (const n of r.native) {
    L.push(
      `| ${n.name} | ${fmt(n.ns, 0)} | ${fmt(n.input_bytes)} | ${n.sha256_blocks ?? '—'} | ` +
        `${fmt(n.sha256_ns, 0)} | ${x(n.sha256_ratio)} |`,
    );
  }
  L.push('');
  return L.join('\n');
}

const BEGIN = '<!-- bench:begin (written by `make bench`; edits inside are replaced) -->';
const END = '<!-- bench:end -->';

/** `doc` with its generated part replaced by `body` (appended when absent). */
export function splice(doc, body) {
  const block = `${BEGIN}\n${body}\n${END}`;
  const i = doc.indexOf(BEGIN);
  const j = doc.indexOf(END);
  if (i < 0 || j < i) return `${doc.trimEnd()}\n\n${block}\n`;
  return doc.slice(0, i) + block + doc.slice(j + END.length);
}
