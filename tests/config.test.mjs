// A missing or malformed setting is named in the response and the log, never a panic.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startWorker, tma } from './support/harness.mjs';

test('a missing BOT_TOKEN is named; health still answers', async () => {
  const w = await startWorker({});
  try {
    assert.equal((await w.fetch('/healthz')).status, 200);
    const r = await w.fetch('/api/verify', { method: 'POST', headers: tma({ id: 1, first_name: 'A' }) });
    assert.equal(r.status, 503);
    assert.equal(r.json.error.code, 'not_configured');
    assert.match(r.json.error.message, /BOT_TOKEN/);
  } finally { await w.dispose(); }
});

test('a malformed setting is named without its value', async () => {
  const w = await startWorker({ BOT_TOKEN: '1:x', INIT_DATA_MAX_AGE: 'forever-secret' });
  try {
    const r = await w.fetch('/api/products');
    assert.equal(r.status, 503);
    assert.match(r.json.error.message, /INIT_DATA_MAX_AGE/);
    assert.doesNotMatch(r.text, /forever-secret/);
    // The next request is served as well: nothing crashed.
    assert.equal((await w.fetch('/healthz')).status, 200);
  } finally { await w.dispose(); }
});
