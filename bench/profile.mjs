// `make bench-profile`: where the isolate's time goes on one route. Runs the
// build (or a snapshot from `make bench-ab-save`) under workerd with the
// inspector open, loads the route for 4 s under V8's sampling profiler and
// prints the isolate's busy time per request and the functions that take it.
// The profiler inflates every figure alike: compare runs, not to the bench.
//
//   make bench-profile [ROUTE=verify|healthz|pre_checkout|payment|invoices] [AB_A=DIR] [SCRIPT=entry]
//
// SCRIPT profiles another worker (e.g. bench/.out/js-alt.bundle.mjs after a `make bench`).
import { cpSync, rmSync, writeFileSync } from 'node:fs';
import WebSocket from 'ws';
import { fakeBotApi, settingsFor, startWorker, GENEROUS_LIMITS } from '../tests/support/harness.mjs';
import { load } from './load.mjs';
import { BENCH_SETTINGS, QUIET_ROUTES, requestsFor } from './requests.mjs';

const ROUTE = process.env.ROUTE || 'verify';
const PORT = 9239;

let script = process.env.SCRIPT || 'src/edge/entry.mjs';
if (process.env.AB_A) {
  // Miniflare loads modules from under the project root.
  rmSync('bench/.out/profile', { recursive: true, force: true });
  cpSync(process.env.AB_A, 'bench/.out/profile', { recursive: true });
  script = 'bench/.out/profile/src/edge/entry.mjs';
}
const api = await fakeBotApi();
const worker = await startWorker(settingsFor(api, BENCH_SETTINGS), { scriptPath: script, migrate: !QUIET_ROUTES[ROUTE], inspectorPort: PORT, limits: GENEROUS_LIMITS });
try {
  const next = await requestsFor(ROUTE, worker, api);
  await load(worker.url, next, { durationMs: 1000 }); // warm
  const [target] = await (await fetch(`http://127.0.0.1:${PORT}/json`)).json();
  const ws = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise((r) => ws.on('open', r));
  let n = 0;
  const waiting = new Map();
  ws.on('message', (m) => { const d = JSON.parse(m); waiting.get(d.id)?.(d.result); });
  const send = (method, params = {}) => new Promise((r) => { waiting.set(++n, r); ws.send(JSON.stringify({ id: n, method, params })); });
  await send('Profiler.enable');
  await send('Profiler.setSamplingInterval', { interval: 50 });
  await send('Profiler.start');
  const run = await load(worker.url, next, { durationMs: 4000 });
  const { profile } = await send('Profiler.stop');
  ws.close();

  const nodes = new Map(profile.nodes.map((x) => [x.id, x]));
  const self = new Map();
  for (const id of profile.samples) {
    const { functionName, url, lineNumber } = nodes.get(id).callFrame;
    const key = `${functionName || '(anonymous)'} ${url.split('/').pop()}${lineNumber >= 0 ? `:${lineNumber}` : ''}`;
    self.set(key, (self.get(key) || 0) + 1);
  }
  const perSample = (profile.endTime - profile.startTime) / profile.samples.length / run.requests;
  const idle = self.get('(idle) ') || 0;
  console.log(`${ROUTE}: ${run.requests} requests; isolate busy ${((profile.samples.length - idle) * perSample).toFixed(1)} µs per request (profiled)`);
  for (const [k, c] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(`${(c * perSample).toFixed(1).padStart(8)} µs  ${k}`);
  writeFileSync('bench/.out/profile.cpuprofile', JSON.stringify(profile));
} finally {
  await worker.dispose();
  await api.close();
}
