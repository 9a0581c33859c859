// The client page's side of the emulator's TON Connect wallet (served at /tonconnect-client.js).
// The Mini App's injected wallet (/tonconnect-wallet.js) posts its calls here; this page asks the
// emulator (same origin) and posts the answers back. A sendTransaction shows the confirm panel
// (#ton-confirm) until the user, or a test through the control API, decides.
(() => {
  'use strict';
  const page = window.tmaEmulatorPage;
  const $ = (id) => document.getElementById(id);
  const st = { request: null, walletKey: '' };

  async function api(path, body) {
    const opts = body === undefined ? {} : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
    const r = await fetch(path, opts);
    const data = await r.json().catch(() => ({}));
    if (!r.ok) throw new Error(data.error || r.statusText);
    return data;
  }

  function toFrame(target, origin, message) {
    try { target.postMessage(message, origin); } catch (_) { /* the app navigated away */ }
  }

  window.addEventListener('message', async (e) => {
    if (e.source !== page.frame.contentWindow) return;
    const m = e.data;
    if (!m || typeof m !== 'object' || m.tmaEmulatorWallet !== 'request') return;
    const target = e.source;
    const origin = e.origin;
    const user_id = page.userId();
    page.log('wallet.' + m.method, m.params);
    try {
      let result;
      if (m.method === 'connect') {
        result = await api('/control/ton/connect', { user_id, origin, request: m.params.request });
      } else if (m.method === 'restoreConnection') {
        result = await api('/control/ton/restore', { user_id, origin });
      } else if (m.method === 'disconnect') {
        await api('/control/ton/disconnect', { user_id, origin });
        result = {};
      } else if (m.method === 'send') {
        const r = await api('/control/ton/send', { user_id, origin, request: m.params.request });
        result = r.response || (await confirm(r.request));
      } else {
        throw new Error('unknown wallet method ' + m.method);
      }
      page.log('→ wallet.' + m.method, result);
      toFrame(target, origin, { tmaEmulatorWallet: 'reply', id: m.id, result });
    } catch (err) {
      page.log('→ wallet.' + m.method + '_error', { error: err.message });
      toFrame(target, origin, { tmaEmulatorWallet: 'reply', id: m.id, error: err.message });
    }
    refreshWallet();
  });

  function describe(msg) {
    const p = msg.payload;
    if (p.kind === 'comment') return ' · “' + p.comment + '”';
    if (p.kind === 'jetton_transfer') {
      return ' · transfer ' + p.amount_text + ' ' + (p.jetton || 'jettons') + ' to ' + p.to + (p.comment ? ' · “' + p.comment + '”' : '') +
        (p.own_jetton_wallet ? '' : ' (not your jetton wallet!)');
    }
    if (p.kind === 'body') return ' · op ' + p.opcode;
    return '';
  }

  // Shows the panel for a pending request and waits until it is decided.
  async function confirm(req) {
    st.request = req.id;
    const panel = $('ton-confirm');
    panel.dataset.requestId = req.id;
    panel.dataset.status = 'pending';
    $('ton-confirm-origin').textContent = req.origin + ' asks to send from ' + req.summary.from;
    $('ton-confirm-messages').replaceChildren(...req.summary.messages.map((msg) => {
      const li = document.createElement('li');
      li.dataset.testid = 'ton-confirm-message';
      li.dataset.kind = msg.payload.kind;
      li.textContent = msg.amount_ton + ' TON to ' + msg.to + describe(msg);
      return li;
    }));
    $('ton-confirm-total').textContent = 'Total ' + req.summary.total_ton + ' TON + ~' + req.summary.fee_ton + ' TON fees · balance ' + req.summary.balance_ton + ' TON';
    $('ton-confirm-error').textContent = req.summary.insufficient ? 'Insufficient balance' : '';
    $('ton-confirm-button').disabled = !!req.summary.insufficient;
    $('ton-reject-button').disabled = false;
    panel.hidden = false;
    let r = req;
    while (r.status === 'pending') {
      try {
        r = await api('/control/ton/requests/' + encodeURIComponent(req.id) + '?wait_ms=20000');
      } catch (_) {
        await new Promise((ok) => setTimeout(ok, 1000));
      }
    }
    if (st.request === req.id) {
      panel.hidden = true;
      panel.dataset.status = r.status;
      st.request = null;
    }
    return r.response;
  }

  async function decide(action) {
    const id = st.request;
    if (!id) return;
    $('ton-confirm-button').disabled = true;
    $('ton-reject-button').disabled = true;
    try {
      await api('/control/ton/requests/' + encodeURIComponent(id) + '/' + action, {});
    } catch (err) {
      $('ton-confirm-error').textContent = err.message;
      $('ton-reject-button').disabled = false;
    }
  }
  $('ton-confirm-button').onclick = () => decide('confirm');
  $('ton-reject-button').onclick = () => decide('reject');

  // Disconnects every app of this user and tells the Mini App, as a wallet's settings would.
  $('ton-disconnect').onclick = async () => {
    const user_id = page.userId();
    const list = await api('/control/ton/connections?user_id=' + user_id).catch(() => []);
    for (const c of list) await api('/control/ton/disconnect', { user_id, origin: c.origin }).catch(() => {});
    const event = { event: 'disconnect', id: Date.now(), payload: {} };
    if (page.frame.contentWindow) toFrame(page.frame.contentWindow, '*', { tmaEmulatorWallet: 'event', event });
    page.log('→ wallet.disconnect_event', event);
    refreshWallet();
  };

  async function refreshWallet() {
    try {
      const user_id = page.userId();
      if (!user_id) return;
      const [w, apps] = await Promise.all([
        api('/control/ton/wallets/' + user_id),
        api('/control/ton/connections?user_id=' + user_id),
      ]);
      const key = JSON.stringify([w.address, w.balance, w.usdt_balance, apps.length]);
      if (key === st.walletKey) return;
      st.walletKey = key;
      $('ton-wallet-address').textContent = w.address_non_bounceable;
      $('ton-wallet-address').dataset.raw = w.address_raw;
      $('ton-wallet-ton').textContent = (Number(w.balance) / 1e9).toFixed(4);
      $('ton-wallet-usdt').textContent = (Number(w.usdt_balance) / 1e6).toFixed(2);
      $('ton-wallet-apps').textContent = apps.length ? 'Connected: ' + apps.map((a) => a.app_name).join(', ') : 'No app connected';
      $('ton-wallet').dataset.connected = String(apps.length > 0);
    } catch (_) { /* emulator restarting */ }
  }
  setInterval(refreshWallet, 1500);
  refreshWallet();
})();
