// Headless Chromium for the browser tests: Debian's chromium through playwright-core.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { eventually } from './emulator.mjs';

export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

/** Starts Chromium. Fails, never skips: `make test` installs it, so a missing one is a broken setup. */
export async function launchChromium() {
  assert.ok(existsSync(CHROMIUM),
    `Chromium not found at ${CHROMIUM}: install it (apt-get install chromium, or run make test) or set CHROMIUM_PATH`);
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: CHROMIUM,
    // No network of its own (updates, sync, QUIC): the tests' pages reach only local servers.
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

// Runs in every frame before its scripts. Every frame records uncaught errors and CSP
// violations; the client page (the top frame) also records each event the Mini App posts it.
export function instrument() {
  const problems = (window.__problems = []);
  window.addEventListener('error', (e) => problems.push(`error: ${e.message}`));
  window.addEventListener('unhandledrejection', (e) => problems.push(`unhandledrejection: ${e.reason}`));
  document.addEventListener('securitypolicyviolation', (e) =>
    problems.push(`csp: ${e.violatedDirective} blocked ${e.blockedURI}`));
  if (window !== window.top) return;
  const events = (window.__tgEvents = []);
  window.addEventListener('message', (e) => {
    let m;
    try { m = typeof e.data === 'string' ? JSON.parse(e.data) : e.data; } catch { return; }
    if (!m || typeof m.eventType !== 'string') return;
    let data = m.eventData;
    if (typeof data === 'string' && data) { try { data = JSON.parse(data); } catch { /* as sent */ } }
    events.push({ type: m.eventType, data: data || null });
  });
}

/**
 * The emulator's client page for `user`, with the emulator's own launch, the Mini App loaded in
 * its frame and verified. `app`: the Mini App's frame; `problems`: page errors, console errors
 * and CSP reports (the client page's own favicon aside).
 */
export async function openEmulatedClient(browser, emu, user) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await context.addInitScript(instrument);
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(`pageerror in ${page.url()}: ${e.message}`));
  page.on('console', (m) => {
    const where = m.location().url || '';
    if (where.endsWith('/favicon.ico') && where.startsWith(emu.url)) return; // the client page's, not the app's
    if (m.type() === 'error' || /Content Security Policy/i.test(m.text())) problems.push(`console ${m.type()} at ${where}: ${m.text()}`);
  });
  await page.goto(`${emu.url}/?user_id=${user.id}`);
  await page.locator('body[data-ready="true"]').waitFor({ timeout: 10000 });
  const app = page.frameLocator('#app-frame');
  await app.locator('#status[data-kind="success"]').waitFor({ timeout: 15000 });
  return { page, app, problems };
}

/**
 * Loads `url` (the Mini App at `origin` with its launch in the hash, and a query no earlier
 * load had, so it is a new document) in the client page's frame, forgets the events posted so
 * far, and resolves once that new document has verified its launch data: the frame locator.
 */
export async function loadInFrame(page, origin, url) {
  await page.evaluate((src) => {
    window.__tgEvents.length = 0;
    document.getElementById('app-frame').src = src;
  }, url);
  const search = new URL(url).search;
  // The new document, not the one it replaces (whose status says success already).
  const frame = () => page.frames().find((f) => f.url().startsWith(`${origin}/`) && new URL(f.url()).search === search);
  await eventually(async () => Boolean(frame()), { what: `the frame to load ${search}` });
  await frame().locator('#status[data-kind="success"]').waitFor({ timeout: 15000 });
  return page.frameLocator('#app-frame');
}
