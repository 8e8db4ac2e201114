// Shared set-up for Quarry's browser tests: a static server for dist/ on 127.0.0.1 and a headless
// Debian Chromium driven by playwright-core. No browser download, no network beyond loopback.
import { createServer } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, resolve } from 'node:path';
import { chromium } from 'playwright-core';
import { deflateRawSync } from 'node:zlib';

export const ROOT = resolve(new URL('..', import.meta.url).pathname);
const TYPES = {
  '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm', '.css': 'text/css',
  '.json': 'application/json', '.png': 'image/png', '.onnx': 'application/octet-stream',
  '.mjs': 'text/javascript',
};

/** Serves `dir` (dist/, or $QUARRY_DIST) on an ephemeral loopback port; resolves to { url, close }. `mounts` maps URL
 * prefixes ('/ort/') to other folders (benchmarks). */
export async function serve(dir = process.env.QUARRY_DIST ?? join(ROOT, 'dist'), mounts = {}) {
  const server = createServer(async (req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url, 'http://x').pathname));
    const mount = Object.keys(mounts).find((m) => path.startsWith(m));
    let file = mount ? join(mounts[mount], path.slice(mount.length)) : join(dir, path);
    try {
      if ((await stat(file)).isDirectory()) file = join(file, 'index.html');
      const body = await readFile(file);
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
      res.end(body);
    } catch {
      res.writeHead(404);
      res.end('not found');
    }
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address();
  return { url: `http://127.0.0.1:${port}/`, close: () => new Promise((ok) => server.close(ok)) };
}

/** Launches headless Chromium with the flags this closed network needs, and `extra` ones. */
export async function launch(extra = []) {
  return chromium.launch(launchOptions(extra));
}

/** A browser context with its profile on disk in `dir`, as a person's browser keeps it (a
 * context without one keeps its storage in memory and allows it a small share). */
export async function launchPersistent(dir, extra = [], options = {}) {
  return chromium.launchPersistentContext(dir, { ...launchOptions(extra), ...options });
}

function launchOptions(extra) {
  return {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync', ...extra],
  };
}

/** Reads a demo's ground truth: Map(item -> label). Tests only; the app never sees it. */
export async function truth(set) {
  const text = await readFile(join(ROOT, 'assets/demo', set, 'truth.csv'), 'utf8');
  const rows = text.trim().split('\n').slice(1).map((l) => l.split(','));
  return new Map(rows.map(([item, label]) => [item, label]));
}

/** The text demo's `demo.json` (items, texts, classes) and each of its texts' topic by the
 * ground truth: Map(text -> topic). Tests only; the app never sees it. */
export async function topicsDemo() {
  const demo = JSON.parse(await readFile(join(ROOT, 'assets/demo/topics/demo.json'), 'utf8'));
  const gt = await truth('topics');
  return { demo, topicOf: new Map(demo.items.map((id, i) => [demo.texts[i], gt.get(id)])) };
}

/** Collects page errors, console errors and requests that leave `origin` into an array. */
export function watch(page, origin) {
  const problems = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console error: ${m.text()}`); });
  page.on('request', (r) => {
    const u = r.url();
    if (!u.startsWith(origin) && !u.startsWith('data:') && !u.startsWith('blob:')) problems.push(`request off origin: ${u}`);
  });
  return problems;
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** A zip archive (stored entries) of `files`: [{ name, data: Buffer }]. */
export function storedZip(files) {
  return zipOf(files);
}

/** A zip of `files` (`{ name, data, deflate }`): stored, or deflated where `deflate` is set. */
export function zipOf(files) {
  const locals = [];
  const centrals = [];
  let offset = 0;
  for (const { name, data, deflate = false } of files) {
    const nameBuf = Buffer.from(name, 'utf8');
    const crc = crc32(data);
    const packed = deflate ? deflateRawSync(data) : data;
    const method = deflate ? 8 : 0;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0); local.writeUInt16LE(20, 4); local.writeUInt16LE(0x0800, 6);
    local.writeUInt16LE(method, 8); local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(packed.length, 18); local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBuf.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0); central.writeUInt16LE(20, 4); central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8); central.writeUInt16LE(method, 10); central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(packed.length, 20); central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(nameBuf.length, 28); central.writeUInt32LE(offset, 42);
    locals.push(local, nameBuf, packed);
    centrals.push(central, nameBuf);
    offset += 30 + nameBuf.length + packed.length;
  }
  const dir = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0); end.writeUInt16LE(files.length, 8); end.writeUInt16LE(files.length, 10);
  end.writeUInt32LE(dir.length, 12); end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, dir, end]);
}

/** Starts timing answer → next item: from each keydown to the frame after `.item-name` shows
 * another item and its picture (if any) has loaded. Read with `answerLatency`. */
export async function timeAnswers(page) {
  await page.evaluate(() => {
    window.__answerMs = [];
    let pending = null;
    const name = () => document.querySelector('.item-name')?.textContent ?? null;
    document.addEventListener('keydown', () => { pending = { t: performance.now(), from: name() }; }, { capture: true });
    new MutationObserver(() => {
      if (pending && name() !== pending.from) {
        const { t } = pending;
        pending = null;
        const shown = () => requestAnimationFrame(() => window.__answerMs.push(performance.now() - t));
        const img = document.querySelector('.item-image');
        if (!img || img.complete) shown();
        else img.addEventListener('load', shown, { once: true });
      }
    }).observe(document.body, { subtree: true, childList: true, characterData: true });
  });
}

/** Median, 95th percentile and largest answer → next item time (ms) since `timeAnswers`. */
export async function answerLatency(page) {
  const ms = (await page.evaluate(() => window.__answerMs)).slice().sort((a, b) => a - b);
  const at = (q) => ms[Math.min(ms.length - 1, Math.floor(q * ms.length))];
  return { n: ms.length, median: at(0.5), p95: at(0.95), max: ms[ms.length - 1] };
}

/** The candidate classes shown for the current item (button labels, in key order), or null
 * when the item is asked with the full class list. */
export async function shownCandidates(page) {
  return page.evaluate(() => {
    const group = document.querySelector('[data-testid=candidates]');
    return group ? [...group.querySelectorAll('.candidate-button')].map((b) => b.getAttribute('aria-label')) : null;
  });
}

/** Answers the current item with class `label` as a person would: its key in the candidate set
 * when one is shown and holds it; else "Not here" (0) first when a set is shown, then its key in
 * the full list (`classes` in button order). Returns 'hit', 'miss' or 'full'. */
export async function pressClass(page, classes, label) {
  const set = await shownCandidates(page);
  const k = set ? set.indexOf(label) : -1;
  if (k >= 0) {
    await page.keyboard.press(String(k + 1));
    return 'hit';
  }
  if (set) {
    await page.keyboard.press('0');
    await page.getByRole('group', { name: 'Classes', exact: true }).waitFor();
  }
  await page.keyboard.press(String(classes.indexOf(label) + 1));
  return set ? 'miss' : 'full';
}

/** Median, 95th percentile and largest of `v` (milliseconds), in words. */
export function msStats(v, what = '') {
  const s = [...v].sort((a, b) => a - b);
  const at = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))].toFixed(1);
  return `median ${at(0.5)} ms, p95 ${at(0.95)} ms, max ${s[s.length - 1].toFixed(1)} ms over ${s.length}${what}`;
}

/** Opens the self-contained project zip `zip` (a benchmark pool whose embeddings ride along)
 * and waits until every item is in the learner. Returns the milliseconds to the labeling
 * screen and to the whole pool, and the sidebar's count. */
export async function openPool(page, zip) {
  const t = performance.now();
  await page.getByTestId('open-project').setInputFiles(zip);
  await page.getByRole('group', { name: 'Classes' }).waitFor({ timeout: 1_800_000 });
  const labeling = performance.now() - t;
  await page.waitForFunction(() => {
    const m = document.querySelector('[data-testid=embedded]')?.textContent.match(/^(\d+) \/ (\d+) items embedded/);
    return m && m[1] === m[2];
  }, null, { timeout: 1_800_000, polling: 1000 });
  return { labeling, pool: performance.now() - t, embedded: await page.getByTestId('embedded').textContent() };
}

/** Opens a new page on `server`, starts the demo behind `button` and waits until every item
 * is embedded; returns the page and its recorded problems ([`watch`]). */
export async function openDemo(browser, server, button = 'Try the demo') {
  const page = await browser.newPage({ viewport: { width: 1300, height: 1000 } });
  const problems = watch(page, new URL(server.url).origin);
  await page.goto(server.url);
  await page.getByRole('button', { name: button }).click();
  await page.getByRole('group', { name: 'Classes', exact: true }).waitFor({ timeout: 300_000 });
  await page.getByTestId('embedding-strip').waitFor({ state: 'detached', timeout: 300_000 });
  return { page, problems };
}

/** Answers the current item with key 1 and waits until the labeled count moves: labeling goes
 * on. */
export async function answerOne(page) {
  const before = await page.getByTestId('labeled-count').textContent();
  await page.keyboard.press('1');
  await page.waitForFunction((b) => document.querySelector('[data-testid=labeled-count]').textContent !== b, before);
}
