// A test-only entry point: the real one (wrangler.toml's `main`) with D1 made as
// slow as the test asks, to play a remote database that hangs. (Blocking the local
// D1 with a long query would freeze the whole local runtime, timers included, which
// no deployment sees.) `POST /__test/d1-delay {"ms":N}` sets the delay; that request
// never reaches the app.
import { WorkerEntrypoint } from 'cloudflare:workers';
import Entry from '../../src/edge/entry.mjs';

let delayMs = 0;
const wait = () => (delayMs > 0 ? new Promise((r) => setTimeout(r, delayMs)) : Promise.resolve());

// Named like the real classes: the worker crate checks a binding's constructor name.
class D1PreparedStatement {
  constructor(stmt) { this.inner = stmt; }
  bind(...args) { return new D1PreparedStatement(this.inner.bind(...args)); }
  async first(...args) { await wait(); return this.inner.first(...args); }
  async all() { await wait(); return this.inner.all(); }
  async run() { await wait(); return this.inner.run(); }
  async raw(...args) { await wait(); return this.inner.raw(...args); }
}

class D1Database {
  constructor(db) { this.inner = db; }
  prepare(sql) { return new D1PreparedStatement(this.inner.prepare(sql)); }
  async batch(stmts) { await wait(); return this.inner.batch(stmts.map((s) => s.inner)); }
  async exec(sql) { await wait(); return this.inner.exec(sql); }
}

export default class extends WorkerEntrypoint {
  async fetch(request) {
    if (new URL(request.url).pathname === '/__test/d1-delay') {
      delayMs = (await request.json()).ms;
      return new Response(JSON.stringify({ ms: delayMs }), { headers: { 'content-type': 'application/json' } });
    }
    return new Entry(this.ctx, { ...this.env, DB: new D1Database(this.env.DB) }).fetch(request);
  }
}
