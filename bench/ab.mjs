// `make bench-ab`: one build of tma-pay against another on the routes that do
// no I/O (and, with AB_ROUTES=pre_checkout,payment,invoices, the D1 routes), for a
// change too small for `make bench` to tell from noise. Both run
// side by side, in alternating rounds (the order flips each round), and the
// report is the median and range of the per-round ratios B ÷ A. Compare a
// build with itself first: that range is the noise.
//
//   make build && make bench-ab-save AB_A=/tmp/before   # the build and its entry
//   (change something) make build && make bench-ab AB_A=/tmp/before
//
// B is the working tree's build. AB_ROUNDS, AB_SECONDS and AB_ROUTES narrow it.
import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { fakeBotApi, settingsFor, startWorker, GENEROUS_LIMITS } from '../tests/support/harness.mjs';
import { BENCH_SETTINGS } from './requests.mjs';
import { load } from './load.mjs';
import { median } from './report.mjs';
import { requestsFor } from './requests.mjs';

/** Copies what a run needs (the worker-build output and the entry around it) to `to`. */
function snapshot(to) {
  rmSync(to, { recursive: true, force: true });
  mkdirSync(`${to}/src`, { recursive: true });
  cpSync('build', `${to}/build`, { recursive: true });
  cpSync('src/edge', `${to}/src/edge`, { recursive: true });
}

if (process.argv[2] === 'save') {
  snapshot(process.argv[3]);
  process.exit(0);
}

const ROUNDS = Number(process.env.AB_ROUNDS || 12);
const SECONDS = Number(process.env.AB_SECONDS || 3);
const only = (process.env.AB_ROUTES || 'healthz,verify').split(',');
const dir = 'bench/.out/ab';

if (!process.env.AB_A) throw new Error('AB_A: a snapshot from `make bench-ab-save`');
rmSync(dir, { recursive: true, force: true });
const workers = {};
const api = await fakeBotApi();
try {
  for (const side of ['a', 'b']) {
    // Miniflare loads modules from under the project root: both sides are copied there.
    if (side === 'a') cpSync(process.env.AB_A, `${dir}/a`, { recursive: true });
    else snapshot(`${dir}/b`);
    writeFileSync(`${dir}/${side}/entry.mjs`, "export { default } from './src/edge/entry.mjs';\n");
    workers[side] = await startWorker(settingsFor(api, BENCH_SETTINGS), { scriptPath: `${dir}/${side}/entry.mjs`, limits: GENEROUS_LIMITS });
  }
  for (const id of only) {
    const next = {};
    for (const side of ['a', 'b']) next[side] = await requestsFor(id, workers[side], api);
    const ratios = [];
    for (let i = 0; i < ROUNDS; i++) {
      const rps = {};
      for (const side of i % 2 ? ['b', 'a'] : ['a', 'b']) {
        rps[side] = (await load(workers[side].url, next[side], { durationMs: SECONDS * 1000 })).rps;
      }
      ratios.push(rps.b / rps.a);
    }
    const f = (x) => x.toFixed(3);
    console.log(`${id}: B ÷ A median ${f(median(ratios))}, range ${f(Math.min(...ratios))} to ${f(Math.max(...ratios))} over ${ROUNDS} rounds of ${SECONDS} s`);
  }
} finally {
  for (const w of Object.values(workers)) await w.dispose();
  await api.close?.();
}
