// Baseline 1, the runtime's limit: every request gets the same constant answer.
// It reads the request body first: workerd closes a keep-alive connection whose
// request body was left unread, and any real handler reads it anyway.
const BODY = '{"ok":true}';

export default {
  async fetch(request) {
    if (request.body) await request.arrayBuffer();
    return new Response(BODY, { headers: { 'content-type': 'application/json' } });
  },
};
