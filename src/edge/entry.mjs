// The worker's entry point (wrangler.toml's `main`): the entrypoint that
// worker-build generates (build/index.js), wrapped so that every request gets a
// JSON answer even when the Rust code panics.
//
// The wasm is built with panic=abort: a panic is a WebAssembly.RuntimeError
// (`unreachable`), the instance is dead, and the runtime would answer with its
// own non-JSON error page, or never answer when the panic happened inside an
// async task. The generated class already swaps in a fresh instance for the next
// request; this wrapper answers the failing request, and every request that was
// in flight on the dead instance, with `500 {"error":{"code":"internal",…}}`.
import { WorkerEntrypoint } from 'cloudflare:workers';
import Generated from '../../build/index.js';

const INTERNAL = JSON.stringify({
  error: { code: 'internal', message: 'the server failed to answer this request; please try again' },
});

function internalError() {
  return new Response(INTERNAL, { status: 500, headers: { 'content-type': 'application/json' } });
}

// Requests in flight, each with the function that fails it. A trap kills the
// one wasm instance they all share, so all of them are lost.
const inFlight = new Set();

function isTrap(e) {
  return e instanceof WebAssembly.RuntimeError;
}

function failInFlight(e) {
  if (!isTrap(e)) return;
  for (const fail of inFlight) fail(e);
}

// A panic inside an async task surfaces here rather than in the fetch call.
addEventListener('error', (event) => failInFlight(event.error));
addEventListener('unhandledrejection', (event) => failInFlight(event.reason));

function failure(e) {
  // The log gets the kind of failure, never request data (it may hold secrets).
  console.error(`internal error: ${e && e.name}: ${e && e.message}`);
  return internalError();
}

async function settle(answer) {
  let fail;
  const failed = new Promise((_, reject) => { fail = reject; });
  inFlight.add(fail);
  try {
    return await Promise.race([answer, failed]);
  } catch (e) {
    return failure(e);
  } finally {
    inFlight.delete(fail);
  }
}

export default class extends WorkerEntrypoint {
  fetch(request) {
    let answer;
    try {
      // Constructed per request, so the generated proxy can reset a dead instance.
      answer = new Generated(this.ctx, this.env).fetch(request);
    } catch (e) {
      failInFlight(e);
      return failure(e);
    }
    return settle(answer);
  }

  // The Cron Trigger. A trap here fails the run (the runtime logs it); the
  // generated class resets the instance for whatever comes next.
  async scheduled(controller) {
    const inner = new Generated(this.ctx, this.env);
    return inner.scheduled(controller);
  }
}
