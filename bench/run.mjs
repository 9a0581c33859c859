// `make bench`: tma-pay beside an empty JS worker (the runtime's limit), an empty
// Rust worker (the floor for workers-rs, bench/floor) and the JS alternative
// (@telegram-apps/init-data-node), in one run, with one load generator. Writes
// the figures into BENCHMARKS.md between its bench markers.
//
// Expects `make build` and `make bench-floor`, and the twiggy and native figures
// in bench/.out/ (the Makefile's bench target makes them all). BENCH_SECONDS and BENCH_CONNECTIONS
// shorten or widen the runs; BENCH_ROUTES=verify,healthz and BENCH_COLD_RUNS=0
// narrow a run down while working on one thing (the report is then printed
// only, not written to BENCHMARKS.md).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import {
  deliver, fakeBotApi, settingsFor, startWorker, GENEROUS_LIMITS,
} from '../tests/support/harness.mjs';
import { load, merge } from './load.mjs';
import { median, render, splice } from './report.mjs';
import {
  asBuyer, BENCH_SETTINGS, newInvoice, pendingOrders, preCheckout, successfulPayment,
} from './requests.mjs';
import { crates, items } from './twiggy.mjs';

const OUT = 'bench/.out';
const LOAD = {
  connections: Number(process.env.BENCH_CONNECTIONS || 16),
  warmupMs: 1000,
  durationMs: Number(process.env.BENCH_SECONDS || 5) * 1000,
};
// Each contender's time on a route is cut into rounds that alternate between the
// contenders (in a rotating order), so that a change in the machine's other load
// falls on all of them alike.
const ROUNDS = Number(process.env.BENCH_ROUNDS || 5);
const COLD_RUNS = Number(process.env.BENCH_COLD_RUNS ?? 7);
// A comma-separated subset of route ids, for a quick look while working on one.
const ONLY = process.env.BENCH_ROUTES?.split(',');
const CONTENDERS = ['tma-pay', 'empty', 'rust-floor', 'js-alt'];
// The D1 routes also run the D1 floor: the empty worker plus one D1 read.
const D1_CONTENDERS = [...CONTENDERS, 'd1-floor'];
const log = (...a) => console.error('[bench]', ...a);

mkdirSync(`${OUT}/entries`, { recursive: true });

/** Each contender's entry: its worker behind the D1 counter (bench/workers/d1-count.mjs). */
async function entries() {
  await build({
    entryPoints: ['bench/workers/js-alt.mjs'],
    outfile: `${OUT}/js-alt.bundle.mjs`,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    conditions: ['workerd', 'worker', 'browser'],
    logLevel: 'warning',
  });
  // What is deployed: wrangler.toml's `main`, the panic wrapper around the generated entry.
  const tma = '../../../src/edge/entry.mjs';
  const inner = {
    'tma-pay': tma, 'tma-pay-counted': tma, empty: '../../workers/empty.mjs',
    'rust-floor': '../../floor/build/index.js', 'js-alt': '../js-alt.bundle.mjs', 'd1-floor': '../../workers/d1-floor.mjs',
  };
  const paths = {};
  for (const c of Object.keys(inner)) {
    paths[c] = `${OUT}/entries/${c}.mjs`;
    // The crossing counter wraps every wasm call, so only the count pass uses it;
    // the glue must see its WebAssembly.Instance, so it is imported first.
    const first = c === 'tma-pay-counted' ? "import '../../workers/crossings.mjs';\n" : '';
    writeFileSync(paths[c],
      `${first}import inner from '${inner[c]}';\nimport { withD1Count } from '../../workers/d1-count.mjs';\nexport default withD1Count(inner);\n`);
  }
  return paths;
}

function bundleSizes() {
  const dry = execFileSync('./node_modules/.bin/wrangler', ['deploy', '--dry-run', '--outdir', `${OUT}/dry`], {
    encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'],
  });
  const m = dry.match(/Total Upload: ([\d.]+) KiB \/ gzip: ([\d.]+) KiB/);
  if (!m) throw new Error(`no upload size in wrangler's output:\n${dry}`);
  const size = (f) => { const b = readFileSync(f); return [b.length, gzipSync(b, { level: 9 }).length]; };
  const [wasm, wasmGzip] = size('build/index_bg.wasm');
  const [glue, glueGzip] = size('build/index.js');
  const [jsAlt, jsAltGzip] = size(`${OUT}/js-alt.bundle.mjs`);
  return { upload: m[1] * 1024, uploadGzip: m[2] * 1024, wasm, wasmGzip, glue, glueGzip, jsAlt, jsAltGzip };
}

function versions() {
  const pkg = (name) => JSON.parse(readFileSync(`node_modules/${name}/package.json`, 'utf8')).version;
  const cargo = readFileSync('Cargo.toml', 'utf8').match(/^version = "(.+)"/m)[1];
  return {
    'tma-pay': cargo,
    rustc: execFileSync('rustc', ['--version'], { encoding: 'utf8' }).split(' ')[1],
    node: process.versions.node,
    workerd: pkg('workerd'),
    miniflare: pkg('miniflare'),
    wrangler: pkg('wrangler'),
    '@telegram-apps/init-data-node': pkg('@telegram-apps/init-data-node'),
    undici: pkg('undici'),
  };
}

function machine() {
  const cpus = os.cpus();
  return `${cpus.length} cores (${cpus[0]?.model.trim()}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.platform()} ${os.release()}`;
}

const readJson = (f) => (existsSync(f) ? JSON.parse(readFileSync(f, 'utf8')) : undefined);

let updateId = 1_000_000;
const orders = {}; // invoice payloads per contender: each has its own D1
const pick = (i, c) => (orders[c] ? orders[c][i % orders[c].length] : 'none');

const ROUTES = [
  { id: 'healthz', name: 'GET /healthz', expect: [200], contenders: CONTENDERS,
    req: () => ({ method: 'GET', path: '/healthz' }) },
  { id: 'verify', name: 'POST /api/verify', expect: [200], contenders: CONTENDERS,
    req: () => ({ method: 'POST', path: '/api/verify', headers: asBuyer }) },
  { id: 'webhook-pre-checkout', name: 'webhook pre_checkout_query', expect: [200], contenders: D1_CONTENDERS,
    req: (i, c) => preCheckout(++updateId, pick(i, c)) },
  // State changes per request: a payment for goods is stored with what it owes
  // (one transaction), then the goods, once sent, are marked sent.
  { id: 'webhook-payment', name: 'webhook successful_payment', expect: [200], contenders: D1_CONTENDERS, stateChanges: 2,
    req: (i, c) => successfulPayment(++updateId, pick(i, c)) },
  { id: 'invoices', name: 'POST /api/invoices', expect: [201], contenders: D1_CONTENDERS, stateChanges: 1, req: newInvoice },
];

/** D1 round trips of one request of each route (the contender behind the counter). */
async function countD1(worker, c) {
  const counts = {};
  for (const rt of ROUTES) {
    const { method, path, headers, body } = rt.req(0, c);
    const res = await fetch(worker.url + path, { method, headers: { ...headers, 'x-bench-count': '1' }, body });
    const text = await res.text();
    if (!rt.expect.includes(res.status)) throw new Error(`${rt.name}: ${res.status} ${text}`);
    counts[rt.id] = Number(res.headers.get('x-bench-d1-calls'));
    const crossings = res.headers.get('x-bench-crossings');
    if (crossings !== null) counts[`${rt.id}:crossings`] = Number(crossings);
  }
  return counts;
}

async function coldStart(paths, settings) {
  const times = Object.fromEntries(CONTENDERS.map((c) => [c, []]));
  for (let i = 0; i < COLD_RUNS; i++) {
    // A rotating order, as for the load: no contender always starts right after
    // another one's shutdown.
    for (const c of CONTENDERS.map((_, k) => CONTENDERS[(k + i) % CONTENDERS.length])) {
      const t0 = performance.now();
      const w = await startWorker(settings, { scriptPath: paths[c], migrate: false });
      try {
        for (;;) {
          const res = await fetch(`${w.url}/healthz`).catch(() => undefined);
          if (res?.status === 200) { await res.text(); break; }
        }
        times[c].push(performance.now() - t0);
      } finally {
        await w.dispose();
      }
    }
  }
  return {
    median: Object.fromEntries(CONTENDERS.map((c) => [c, median(times[c])])),
    min: Object.fromEntries(CONTENDERS.map((c) => [c, Math.min(...times[c])])),
  };
}

async function main() {
  const loadavg = os.loadavg().map((n) => n.toFixed(2)).join(' ');
  const paths = await entries();
  log('bundle sizes (wrangler deploy --dry-run)');
  // The budget `make size` holds the upload to (the Makefile passes it).
  const bundle = { ...bundleSizes(), budgetKiB: Number(process.env.SIZE_BUDGET_KIB || 400) };
  const twiggy = readJson(`${OUT}/twiggy.json`);
  const native = readJson(`${OUT}/native.json`);
  if (!native) log(`no ${OUT}/native.json: run \`make bench-native\` for the native figures`);

  const api = await fakeBotApi();
  const settings = settingsFor(api, BENCH_SETTINGS);
  const workers = {};
  try {
    for (const c of D1_CONTENDERS) workers[c] = await startWorker(settings, { scriptPath: paths[c], limits: GENEROUS_LIMITS });
    // Pending orders for the webhook routes (each contender its own, in its own
    // D1); creating them also checks that the route works.
    workers['tma-pay-counted'] = await startWorker(settings, { scriptPath: paths['tma-pay-counted'], limits: GENEROUS_LIMITS });
    const d1 = {};
    for (const c of ['tma-pay', 'js-alt', 'tma-pay-counted']) {
      orders[c] = await pendingOrders(workers[c], api);
      const probe = await deliver(workers[c], JSON.parse(ROUTES[2].req(0, c).body));
      if (!probe.json?.ok) throw new Error(`${c}: pre_checkout_query was not accepted: ${probe.text}`);
      if (c !== 'tma-pay') {
        d1[c] = await countD1(workers[c], c);
        log(c, 'D1 round trips (and JS↔wasm crossings) per request', d1[c]);
      }
    }
    await workers['tma-pay-counted'].dispose();
    delete workers['tma-pay-counted'];
    d1['tma-pay'] = d1['tma-pay-counted'];

    for (const rt of ROUTES.filter((r) => !ONLY || ONLY.includes(r.id))) {
      rt.results = {};
      rt.d1Calls = d1['tma-pay'][rt.id];
      rt.d1CallsJs = d1['js-alt'][rt.id];
      rt.crossings = d1['tma-pay'][`${rt.id}:crossings`];
      const windows = Object.fromEntries(rt.contenders.map((c) => [c, []]));
      for (let round = 0; round < ROUNDS; round++) {
        const order = rt.contenders.map((_, k) => rt.contenders[(k + round) % rt.contenders.length]);
        for (const c of order) {
          const opts = { ...LOAD, warmupMs: round === 0 ? LOAD.warmupMs : 200, durationMs: LOAD.durationMs / ROUNDS };
          windows[c].push(await load(workers[c].url, (i) => rt.req(i, c), opts));
        }
      }
      // Ratios as the median of each round's ratio: the contenders of a round ran
      // within seconds of each other, and a round that a burst of other work hit
      // does not move the median.
      // The same for the p99: one stall of the machine lands in one window
      // and can set the p99 of a whole run for the contender it hit.
      rt.ratios = {};
      rt.p99Ratios = {};
      for (const c of rt.contenders) {
        rt.ratios[c] = {};
        rt.p99Ratios[c] = {};
        for (const other of rt.contenders.filter((o) => o !== c)) {
          rt.ratios[c][other] = median(windows[c].map((w, k) => w.rps / windows[other][k].rps));
          rt.p99Ratios[c][other] = median(windows[c].map((w, k) => w.p99 / windows[other][k].p99));
        }
      }
      for (const c of rt.contenders) {
        const m = (rt.results[c] = merge(windows[c]));
        log(`${rt.name} ${c}: ${m.rps.toFixed(0)} req/s, p50 ${m.p50.toFixed(2)} ms, p99 ${m.p99.toFixed(2)} ms`, m.statuses);
      }
    }
  } finally {
    for (const w of Object.values(workers)) await w.dispose();
  }
  log(`cold start, ${COLD_RUNS} runs`);
  const { median: cold, min: coldMin } = COLD_RUNS > 0 ? await coldStart(paths, settings) : {};
  await api.close();

  const nativeCases = native?.cases ?? [];
  const report = {
    date: new Date().toISOString().slice(0, 10),
    machine: machine(),
    loadavg,
    versions: versions(),
    floorWasm: readFileSync('bench/floor/build/index_bg.wasm').length,
    load: { ...LOAD, rounds: ROUNDS },
    contenders: D1_CONTENDERS,
    bundle,
    twiggy: twiggy && { crates: crates(twiggy, 15), items: items(twiggy, 15) },
    routes: ROUTES.filter((r) => r.results),
    cold: cold ?? {},
    coldMin: coldMin ?? {},
    coldRuns: COLD_RUNS,
    sha256: native?.sha256 ?? {},
    native: nativeCases,
  };
  const body = render(report);
  if (!ONLY && COLD_RUNS > 0) {
    const doc = existsSync('BENCHMARKS.md') ? readFileSync('BENCHMARKS.md', 'utf8') : '# Benchmarks\n';
    writeFileSync('BENCHMARKS.md', splice(doc, body));
  }
  writeFileSync(`${OUT}/report.json`, JSON.stringify(report, null, 1));
  console.log(body);
}

await main();
