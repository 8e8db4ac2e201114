// Privacy, proven as an adversary would: every request of a whole session is recorded (demo
// load, embedding, 30 answers, exports, reload, resume, then offline), and the page's network
// APIs are wrapped to catch any call that could carry data out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { launch, serve, truth, ROOT } from './harness.mjs';

const CLASSES = ['animals & nature', 'food & drink', 'travel & places'];
const DIST = join(ROOT, 'dist');

async function files(dir) {
  const out = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await files(p)));
    else out.push(`/${relative(DIST, p).split('\\').join('/')}`);
  }
  return out;
}

/** Wraps every way a page can send data; records each use in `window.__net`. */
function spy() {
  const log = (kind, detail) => window.__net.push({ kind, ...detail });
  window.__net = [];
  const realFetch = window.fetch;
  window.fetch = function (input, init) {
    const url = typeof input === 'string' ? input : input.url;
    log('fetch', { url: new URL(url, location.href).href, method: init?.method ?? 'GET', body: init?.body != null });
    return realFetch.apply(this, arguments);
  };
  const open = XMLHttpRequest.prototype.open;
  XMLHttpRequest.prototype.open = function (method, url) {
    log('xhr', { url: String(url), method });
    return open.apply(this, arguments);
  };
  const RealSocket = window.WebSocket;
  window.WebSocket = function (url) {
    log('websocket', { url: String(url) });
    return new RealSocket(...arguments);
  };
  const RealSource = window.EventSource;
  window.EventSource = function (url) {
    log('eventsource', { url: String(url) });
    return new RealSource(...arguments);
  };
  const beacon = navigator.sendBeacon?.bind(navigator);
  navigator.sendBeacon = (url, data) => {
    log('beacon', { url: String(url), body: data != null });
    return beacon?.(url, data);
  };
  const RealPeer = window.RTCPeerConnection;
  window.RTCPeerConnection = function () {
    log('webrtc', {});
    return new RealPeer(...arguments);
  };
  document.addEventListener('securitypolicyviolation', (e) => log('csp', { url: e.blockedURI, directive: e.violatedDirective }));
}

test('a whole session makes no request beyond the app’s own files, and works offline', { timeout: 900_000 }, async () => {
  const server = await serve();
  const browser = await launch();
  const origin = new URL(server.url).origin;
  const own = new Set(await files(DIST));
  try {
    // The CSP allows the one inline script by hash: every inline script Trunk wrote must match.
    const html = await readFile(join(DIST, 'index.html'), 'utf8');
    const csp = html.match(/http-equiv="Content-Security-Policy" content="([^"]+)"/)[1];
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /connect-src 'self' blob:;/);
    for (const [, body] of html.matchAll(/<script[^>]*>([\s\S]*?)<\/script>/g)) {
      const hash = createHash('sha256').update(body).digest('base64');
      assert.ok(csp.includes(`'sha256-${hash}'`), `inline script not allowed by the CSP: sha256-${hash}`);
    }

    const gt = await truth('emoji');
    const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1200, height: 900 } });
    await context.addInitScript(spy);
    const requests = [];
    let phase = 'first load';
    context.on('request', (r) => requests.push({ url: r.url(), method: r.method(), body: r.postData(), phase }));
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const netCalls = [];
    const collect = async () => netCalls.push(...(await page.evaluate(() => window.__net)));

    await page.goto(server.url);
    await page.getByRole('button', { name: 'Try the demo' }).click();
    await page.getByRole('group', { name: 'Classes' }).waitFor({ timeout: 300_000 });
    await page.getByRole('progressbar').waitFor({ state: 'hidden', timeout: 300_000 });
    phase = 'labeling';
    const answered = [];
    for (let i = 0; i < 30; i++) {
      const name = await page.locator('.item-name').textContent();
      await page.keyboard.press(String(CLASSES.indexOf(gt.get(name)) + 1));
      answered.push(name);
      await page.waitForFunction((n) => document.querySelector('[data-testid=labeled-count]').textContent.startsWith(`${n} /`), answered.length);
    }
    for (const button of ['Export labels (CSV)', 'Save project file']) {
      await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: button }).click()]);
    }
    await collect();

    phase = 'reload';
    await page.reload();
    await page.evaluate(() => navigator.serviceWorker.ready);
    await page.getByTestId('project').first().getByRole('button', { name: 'Resume' }).click();
    await page.getByRole('group', { name: 'Classes' }).waitFor({ timeout: 300_000 });
    await page.getByRole('progressbar').waitFor({ state: 'hidden', timeout: 300_000 });
    phase = 'resumed';
    await page.waitForFunction(() => document.querySelector('[data-testid=labeled-count]').textContent.startsWith('30 /'));
    const name = await page.locator('.item-name').textContent();
    await page.keyboard.press(String(CLASSES.indexOf(gt.get(name)) + 1));
    await page.waitForFunction(() => document.querySelector('[data-testid=labeled-count]').textContent.startsWith('31 /'));
    await collect();

    // Offline: the app, the model and the demo come from this machine; the work resumes.
    phase = 'offline';
    await context.setOffline(true);
    await page.reload();
    await page.getByTestId('project').first().getByRole('button', { name: 'Resume' }).click();
    await page.getByRole('group', { name: 'Classes' }).waitFor({ timeout: 300_000 });
    await page.waitForFunction(() => document.querySelector('[data-testid=labeled-count]').textContent.startsWith('31 /'));
    await page.getByRole('progressbar').waitFor({ state: 'hidden', timeout: 300_000 });
    await collect();
    await context.setOffline(false);

    // 1. Every request went to the app's own origin, for one of the app's own files, as a plain GET.
    const offOrigin = requests.filter((r) => !r.url.startsWith('blob:') && !r.url.startsWith('data:') && new URL(r.url).origin !== origin);
    assert.deepEqual(offOrigin, [], 'requests left the origin');
    const local = requests.filter((r) => r.url.startsWith(origin));
    const notOwn = local.filter((r) => {
      const u = new URL(r.url);
      const path = decodeURIComponent(u.pathname);
      return u.search !== '' || !(path === '/' || own.has(path));
    });
    assert.deepEqual(notOwn, [], 'requests for something that is not one of the app’s files');
    assert.deepEqual(requests.filter((r) => r.method !== 'GET' || r.body != null), [], 'requests that carry data');

    // 2. Once the app's files are loaded, labeling, exporting and saving request nothing new.
    const before = new Set(local.filter((r) => r.phase === 'first load').map((r) => r.url));
    const later = local.filter((r) => r.phase === 'labeling' && !before.has(r.url));
    assert.deepEqual(later, [], 'requests while labeling for files not loaded before');
    const reloaded = new Set(local.filter((r) => r.phase === 'reload').map((r) => r.url));
    const afterResume = local.filter((r) => r.phase === 'resumed' && !reloaded.has(r.url));
    assert.deepEqual(afterResume, [], 'requests after resuming for files not loaded before');

    // 3. No code used a channel that could carry data out, and the CSP blocked nothing.
    const channels = netCalls.filter((c) => c.kind !== 'fetch');
    assert.deepEqual(channels, [], 'XHR, WebSocket, EventSource, beacon or WebRTC was used, or the CSP blocked something');
    const fetches = netCalls.filter((c) => c.kind === 'fetch');
    const badFetch = fetches.filter((f) => f.body || f.method !== 'GET'
      || !(f.url.startsWith('blob:') || (f.url.startsWith(origin) && own.has(decodeURIComponent(new URL(f.url).pathname)))));
    assert.deepEqual(badFetch, [], 'fetch called with data or for something other than the app’s files');
    assert.deepEqual(errors, []);
    console.log(`${requests.length} requests recorded (${local.filter((r) => r.phase === 'labeling').length} while labeling), ${fetches.length} fetch calls in the page`);
  } finally {
    await browser.close();
    await server.close();
  }
});
