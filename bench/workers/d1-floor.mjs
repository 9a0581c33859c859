// Baseline for the D1 routes: the empty worker plus one D1 read (a primary-key
// lookup in `orders`). No worker that makes a D1 round trip per request can
// beat it, so it shows how much of the empty worker's rate local D1 leaves.
const BODY = '{"ok":true}';

export default {
  async fetch(request, env) {
    if (request.body) await request.arrayBuffer();
    await env.DB.prepare('SELECT id FROM orders WHERE id = ?1').bind('o_floor').first();
    return new Response(BODY, { headers: { 'content-type': 'application/json' } });
  },
};
