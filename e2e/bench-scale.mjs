// Browser benchmark (prints numbers; not a test): what a tab holds with a large pool. Make a
// synthetic embeddings file and its texts, then run it on a built dist/:
//
//   python3 tools/synthetic_text_embeddings.py 1000000
//   node --experimental-websocket e2e/bench-scale.mjs texts-1000000.safetensors texts-1000000.txt
//
// Rows of the image model's length (`... synthetic_text_embeddings.py 1000000 1280`, then the
// same with texts-1000000-1280.*) measure what a tab holds at a million images, less their URLs.
//
// Open embeddings… keeps every row in the browser's cache; the texts opened next are all matched
// by name (nothing is embedded); then a few answers. Printed: the time of each step, the memory
// of the tab's renderer process (the page, its workers and service worker: resident set, from
// /proc) and of all renderer processes together (Chromium's own omnibox popup included: a
// bound from above), the page's JS heap, and answer → next item on screen. The renderers are
// sampled every 250 ms of the fill (the highest of each second is printed). GC_BEFORE=1 forces a collection in the page before *Start
// labeling* (what the page still holds of the steps before); SMAPS=PREFIX copies each renderer
// process's /proc smaps after the fill; MID_S=SECONDS sets when each worker's heap is read
// during the fill.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { heapUsage } from './heap-usage.mjs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { answerLatency, launchPersistent, serve, timeAnswers, watch } from './harness.mjs';

const [vectors, texts] = process.argv.slice(2);
if (!vectors || !texts) {
  console.error('usage: node e2e/bench-scale.mjs FILE.safetensors TEXTS.txt');
  process.exit(2);
}
/** Chromium's renderer processes (this benchmark opens one page): each one's resident MiB and
 * proportional MiB (Pss: a page shared with other processes, such as Chromium's own code,
 * counted as its share). */
function renderers() {
  const out = execFileSync('ps', ['-eo', 'pid=,rss=,args='], { encoding: 'utf8' });
  return out.split('\n').filter((l) => l.includes('--type=renderer')).map((l) => {
    const [pid, rss] = l.trim().split(/\s+/);
    let pss = 0;
    try {
      pss = Number(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8').match(/^Pss:\s+(\d+)/m)[1]) / 1024;
    } catch { /* gone meanwhile */ }
    return { rss: Number(rss) / 1024, pss };
  });
}
/** The tab's own process (the largest renderer: it holds the pool) and all renderers
 * together, resident; and all together proportionally (`pss`). Besides the tab's process (the
 * page, its workers and its service worker) Chromium 156 keeps a renderer for its own omnibox
 * popup (chrome://omnibox-popup.top-chrome/, ≈ 150 MiB, most of it Chromium's code, which both
 * resident figures count in full): part of no tab, so the sum bounds the tab from above. */
function totals() {
  const now = renderers();
  return {
    tab: Math.max(0, ...now.map((r) => r.rss)),
    all: now.reduce((sum, r) => sum + r.rss, 0),
    pss: now.reduce((sum, r) => sum + r.pss, 0),
  };
}
/** [`totals`] now, in words. */
function mem() {
  const { tab, all } = totals();
  return `tab ${tab.toFixed(0)} MiB (all renderers ${all.toFixed(0)})`;
}
/** MiB of the page's wasm memory and of each worker's (a wasm memory never shrinks: each is
 * its peak). The glue's init returns the running instance's exports. */
async function wasmMib(page) {
  const mib = (b) => Math.round(b / 2 ** 20);
  const main = await page.evaluate(async () => (await window.wasmBindings.default()).memory.buffer.byteLength);
  const workers = [];
  for (const w of page.workers()) {
    workers.push(await w.evaluate(async () => (await wasm_bindgen({ module_or_path: './worker_bg.wasm' })).memory.buffer.byteLength));
  }
  return [main, ...workers].map(mib);
}
const server = await serve();
// --expose-gc: after the run, a forced collection in the page and every worker shows what is
// held, apart from garbage not collected yet.
const PORT = 9333;
// A profile on disk: a million rows of 1,280 values (1.2 GB cached) exceed what a context kept
// in memory is allowed.
const profile = await mkdtemp(join(tmpdir(), 'quarry-scale-'));
// No spare renderer: Chromium 156 keeps one ready for the next site (76 MiB, part of no tab),
// which the renderers' sum would count.
const browser = await launchPersistent(profile, ['--js-flags=--expose-gc', `--remote-debugging-port=${PORT}`, '--disable-features=SpareRendererForSitePerProcess']);
const s = (t) => `${((performance.now() - t) / 1000).toFixed(1)} s`;
try {
  const page = browser.pages()[0] ?? await browser.newPage();
  await page.setViewportSize({ width: 1300, height: 1000 });
  const problems = watch(page, new URL(server.url).origin);
  const logs = [];
  page.on('console', (m) => logs.push(m.text()));
  await page.goto(server.url);
  await page.evaluate(() => localStorage.setItem('quarry.cache-limit', '0'));
  console.log(`start: ${mem()}`);
  let t = performance.now();
  await page.getByTestId('open-embeddings').setInputFiles(vectors);
  await page.getByTestId('embeddings-status').getByText(/embeddings from .* are ready/).waitFor({ timeout: 3_600_000 });
  const pageWasm = async () => (await wasmMib(page))[0];
  console.log(`Open embeddings…: ${s(t)}; ${mem()}; page wasm ${await pageWasm()} MiB`);
  t = performance.now();
  await page.getByTestId('open-text').setInputFiles(texts);
  await page.getByTestId('setup-summary').waitFor({ timeout: 600_000 });
  console.log(`texts read: ${s(t)} (${await page.getByTestId('setup-summary').textContent()}); page wasm ${await pageWasm()} MiB`);
  await page.getByRole('textbox', { name: 'Classes' }).fill('one\ntwo\nthree');
  if (process.env.GC_BEFORE) {
    await page.evaluate(() => gc());
    await page.waitForTimeout(2000);
    console.log(`forced collection before the start: ${mem()}`);
  }
  t = performance.now();
  // The renderers' highest memory during the fill, sampled every 250 ms: resident (all
  // renderer processes together, as everywhere else here), the tab's own process alone (the
  // largest), and proportional (all together, shared pages counted once).
  let fillPeak = 0;
  let peakAt = 0;
  let tabPeak = 0;
  let pssPeak = 0;
  const series = [];
  let ticks = 0;
  const sampler = setInterval(() => {
    const { tab, all: mib, pss } = totals();
    tabPeak = Math.max(tabPeak, tab);
    pssPeak = Math.max(pssPeak, pss);
    if (ticks++ % 4 === 0) series.push(0);
    series[series.length - 1] = Math.max(series[series.length - 1], Math.round(mib));
    if (mib > fillPeak) [fillPeak, peakAt] = [mib, ticks / 4];
  }, 250);
  // Who holds the memory MID_S seconds into the fill (default 6: a fill of a million rows takes
  // 10-11 s), garbage included (nothing collected first).
  const midS = Number(process.env.MID_S ?? 6);
  const midway = new Promise((ok) => setTimeout(ok, midS * 1000))
    .then(async () => [mem(), await heapUsage(PORT, server.url, { collect: false })])
    .catch((e) => ['?', e]);
  await page.getByRole('button', { name: 'Start labeling' }).click();
  await page.getByRole('group', { name: 'Classes', exact: true }).waitFor({ timeout: 3_600_000 });
  console.log(`labeling screen: ${s(t)}; page wasm ${await pageWasm()} MiB`);
  await page.getByTestId('embedding-strip').waitFor({ state: 'detached', timeout: 3_600_000 });
  clearInterval(sampler);
  const end = renderers();
  console.log(`every item in the learner: ${s(t)}; ${mem()}`);
  console.log(`  highest during the fill (sampled every 250 ms): tab ${tabPeak.toFixed(0)} MiB; all renderers ${fillPeak.toFixed(0)} MiB (${peakAt.toFixed(2)} s in), proportionally (Pss) ${pssPeak.toFixed(0)} MiB`);
  console.log(`  all renderers, highest each second: ${series.join(' ')}`);
  console.log(`  now, each renderer: ${end.map((r) => `${r.rss.toFixed(0)} MiB resident, ${r.pss.toFixed(0)} Pss`).join('; ')}`);
  const [midMib, mid] = await midway;
  console.log(`${midS} s into the fill: ${midMib}`);
  for (const h of Array.isArray(mid) ? mid : []) {
    console.log(`  JS heap ${h.usedMib} MiB used of ${h.totalMib}, array buffers ${h.backingMib} MiB, wasm ${h.wasmMib} MiB: ${h.url}`);
  }
  // Right after the fill the renderer holds its garbage (the rows crossed as f32 arrays); most
  // of it is collected within seconds, with nothing forcing it.
  await page.waitForTimeout(2000);
  console.log(`2 s later: ${mem()}`);
  console.log(logs.find((l) => l.startsWith('quarry: embedding:')) ?? '(no embedding summary)');
  console.log(`wasm memories: ${(await wasmMib(page)).join(' MiB, ')} MiB (the page, then each worker)`);
  await page.evaluate(() => gc());
  for (const w of page.workers()) await w.evaluate(() => gc());
  await page.waitForTimeout(2000);
  console.log(`after a forced garbage collection in the page and each worker: ${mem()}`);
  for (const h of await heapUsage(PORT, server.url)) {
    console.log(`  JS heap ${h.usedMib} MiB used of ${h.totalMib}, array buffers ${h.backingMib} MiB, wasm ${h.wasmMib} MiB: ${h.url}`);
  }
  if (process.env.SMAPS) {
    const pids = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' }).split('\n')
      .filter((l) => l.includes('--type=renderer')).map((l) => l.trim().split(/\s+/)[0]);
    for (const pid of pids) execFileSync('cp', [`/proc/${pid}/smaps`, `${process.env.SMAPS}.${pid}`]);
  }
  await timeAnswers(page);
  for (let i = 0; i < 12; i++) {
    await page.keyboard.press(String(1 + (i % 3)));
    await page.waitForTimeout(800);
  }
  const l = await answerLatency(page);
  const f = (v) => v?.toFixed(0);
  console.log(`answer → next item (a key every 0.8 s): median ${f(l.median)} ms, p95 ${f(l.p95)} ms, max ${f(l.max)} ms over ${l.n}`);
  await page.waitForTimeout(5000);
  const heap = await page.evaluate(() => performance.memory?.usedJSHeapSize / 2 ** 20);
  console.log(`after 12 answers: ${mem()} (page JS heap ${heap?.toFixed(0)} MiB)`);
  if (problems.length) console.log('problems:', problems);
} finally {
  await browser.close();
  await server.close();
  await rm(profile, { recursive: true, force: true });
}
