// tma-emulator's TON Connect wallet, injected into the Mini App (served at /tonconnect-wallet.js).
// It defines window.__JS_BRIDGE_KEY__ = { tonconnect }, the JS bridge @tonconnect/sdk's injected
// provider uses. It never fetches anything itself (the app's CSP allows connect-src 'self' only):
// each call goes to the emulator's client page, the iframe's parent, with postMessage; the page
// asks the emulator and posts the answer back.
//
// @tonconnect/ui lists it as an installed wallet in its desktop wallet list (a window wider than
// 440 pixels, like the client page's Mini App frame); its mobile list offers bridge wallets only.
(() => {
  'use strict';
  const KEY = '__JS_BRIDGE_KEY__';
  if (window[KEY]) return;
  const script = document.currentScript;
  // The client page is served by the same emulator as this script.
  const emulator = script && script.src ? new URL(script.src).origin : '';
  const inPage = window.parent && window.parent !== window && emulator !== '';
  const pending = new Map();
  const listeners = new Set();
  let nextId = 0;

  window.addEventListener('message', (e) => {
    if (e.source !== window.parent || e.origin !== emulator) return;
    const m = e.data;
    if (!m || typeof m !== 'object' || typeof m.tmaEmulatorWallet !== 'string') return;
    if (m.tmaEmulatorWallet === 'reply') {
      const p = pending.get(m.id);
      if (!p) return;
      pending.delete(m.id);
      if (m.error) p.reject(new Error(m.error));
      else p.resolve(m.result);
    } else if (m.tmaEmulatorWallet === 'event') {
      for (const cb of Array.from(listeners)) {
        try { cb(m.event); } catch (err) { console.error(err); }
      }
    }
  });

  function call(method, params) {
    if (!inPage) {
      return Promise.reject(new Error('the emulator wallet works only inside the emulator\'s client page'));
    }
    const id = ++nextId;
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject });
      window.parent.postMessage({ tmaEmulatorWallet: 'request', id, method, params }, emulator);
    });
  }

  window[KEY] = {
    tonconnect: {
      deviceInfo: __DEVICE_INFO__,
      walletInfo: {
        name: '__WALLET_NAME__',
        app_name: '__APP_NAME__',
        image: emulator + '/tonconnect-wallet.png',
        about_url: emulator + '/',
        platforms: ['chrome', 'firefox', 'safari'],
      },
      protocolVersion: 2,
      isWalletBrowser: false,
      connect: (protocolVersion, request) => call('connect', { protocolVersion, request }),
      restoreConnection: () => call('restoreConnection', {}),
      send: (request) => call('send', { request }),
      listen: (callback) => {
        listeners.add(callback);
        return () => listeners.delete(callback);
      },
      // Deprecated in the SDK but still called when the app disconnects.
      disconnect: () => { call('disconnect', {}).catch(() => {}); },
    },
  };
})();
