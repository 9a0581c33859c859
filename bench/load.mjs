// The one load generator for every contender: a fixed number of keep-alive
// connections (undici Pool), each sending its next request as soon as the last
// one is answered (closed loop), a warm-up, then a timed window.
import { Pool } from 'undici';
import { summarize } from './report.mjs';

/**
 * Runs `next(i)` → `{ method, path, headers, body }` against `origin`.
 * Returns requests/s, latency percentiles (ms), the statuses seen, and the raw
 * latencies and duration for [`merge`].
 */
export async function load(origin, next, { connections = 16, warmupMs = 1000, durationMs = 5000 } = {}) {
  const pool = new Pool(origin, { connections, pipelining: 1 });
  const latencies = [];
  const statuses = {};
  let seq = 0;
  let measuring = false;
  let stop = false;

  async function loop() {
    while (!stop) {
      const req = next(seq++);
      const t0 = performance.now();
      let status;
      try {
        const res = await pool.request(req);
        await res.body.text();
        status = res.statusCode;
      } catch (e) {
        // Counted, not fatal: the report shows every status that was not expected.
        status = e.code || 'error';
      }
      const ms = performance.now() - t0;
      if (measuring && !stop) {
        latencies.push(ms);
        statuses[status] = (statuses[status] || 0) + 1;
      }
    }
  }

  const loops = Array.from({ length: connections }, loop);
  await sleep(warmupMs);
  measuring = true;
  const start = performance.now();
  await sleep(durationMs);
  stop = true;
  const elapsed = (performance.now() - start) / 1000;
  await Promise.all(loops);
  await pool.close();
  return { ...summarize(latencies, elapsed), statuses, latencies, seconds: elapsed };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** One summary of several windows of the same contender and route. */
export function merge(windows) {
  const statuses = {};
  for (const w of windows) for (const [k, n] of Object.entries(w.statuses)) statuses[k] = (statuses[k] || 0) + n;
  const seconds = windows.reduce((s, w) => s + w.seconds, 0);
  return { ...summarize(windows.flatMap((w) => w.latencies), seconds), statuses };
}
