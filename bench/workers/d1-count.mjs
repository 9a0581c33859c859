// The entry module of every contender in the bench: it passes requests straight
// through, and for a request with `x-bench-count: 1` it counts the D1 round trips
// the worker makes (each run/all/first/raw/exec is one, a batch is one) and reports
// them in `x-bench-d1-calls`, and, for a wasm worker, the JS↔wasm crossings
// (bench/workers/crossings.mjs) in `x-bench-crossings`. The count pass sends one
// request at a time, apart from the timed runs.

const ROUND_TRIPS = ['run', 'all', 'first', 'raw'];

function countingStatement(stmt, count) {
  for (const m of ROUND_TRIPS) {
    const f = stmt[m];
    stmt[m] = (...args) => (count(), f.apply(stmt, args));
  }
  const bind = stmt.bind;
  stmt.bind = (...args) => countingStatement(bind.apply(stmt, args), count);
  return stmt;
}

function countingEnv(env, count) {
  const db = new Proxy(env.DB, {
    get(target, key) {
      if (key === 'prepare') return (sql) => countingStatement(target.prepare(sql), count);
      if (key === 'batch' || key === 'exec') return (arg) => (count(), target[key](arg));
      // The constructor stays unbound: workers-rs checks its name.
      const v = Reflect.get(target, key);
      return typeof v === 'function' && key !== 'constructor' ? v.bind(target) : v;
    },
  });
  return new Proxy(env, { get: (target, key) => (key === 'DB' ? db : Reflect.get(target, key)) });
}

/** A module worker (`{ fetch }`) or a `WorkerEntrypoint` class, called the same way. */
function call(inner, request, env, ctx) {
  return typeof inner === 'function'
    ? inner.prototype.fetch.call({ env, ctx }, request)
    : inner.fetch(request, env, ctx);
}

export function withD1Count(inner) {
  return {
    async fetch(request, env, ctx) {
      if (request.headers.get('x-bench-count') !== '1') return call(inner, request, env, ctx);
      let calls = 0;
      const crossings = globalThis.__benchCrossings;
      const before = crossings?.n;
      const res = await call(inner, request, countingEnv(env, () => calls++), ctx);
      const out = new Response(res.body, res);
      out.headers.set('x-bench-d1-calls', String(calls));
      if (crossings) out.headers.set('x-bench-crossings', String(crossings.n - before));
      return out;
    },
  };
}
