// Browser benchmark (prints numbers; not a test): embedding throughput, in one run on a built
// dist/, interleaved so both engines see the same machine:
//   1. onnxruntime-web (wasm, one thread) on Quarry's EfficientNet-Lite0 files, f32 and int8;
//   2. tract in Quarry's worker on the same model ("model alone": `TimeModel`, the model on a
//      prepared input, no decoding, cache or messages), one worker and `--workers` at once;
//   3. the app itself on the Fashion-MNIST demo (2,000 images, empty cache): items/s from the
//      first embedded item to the last, against workers × the model-alone rate, with a trace of
//      how busy each thread of the page was (Chromium's `toplevel` and `devtools.timeline` trace
//      events).
//
//   node e2e/bench-embed.mjs [--rounds 3] [--runs 8] [--pool FRESH.zip]
//
// With `--pool`, the app also embeds a project zip without cached embeddings (make one with
// `cargo run --release -p quarry-core --example browser_pool -- FRESH.zip 50000 --fresh`),
// timed the same way after the demo.
//
// onnxruntime-web is not a dependency of Quarry: the script installs it (pinned, from npm) into
// target/bench/ort the first time.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ROOT, launch, serve, watch } from './harness.mjs';

const ORT_VERSION = '1.30.0';
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const ROUNDS = arg('rounds', 3);
const RUNS = arg('runs', 8);
const POOL = process.argv.includes('--pool') ? process.argv[process.argv.indexOf('--pool') + 1] : null;

const ortHome = join(ROOT, 'target/bench/ort');
const ortDist = join(ortHome, 'node_modules/onnxruntime-web/dist');
if (!existsSync(ortDist)) {
  await mkdir(ortHome, { recursive: true });
  execFileSync('npm', ['install', '--prefix', ortHome, '--no-audit', '--no-fund',
    `onnxruntime-web@${ORT_VERSION}`], { stdio: 'inherit' });
}
const blank = join(ROOT, 'target/bench/page');
await mkdir(blank, { recursive: true });
await writeFile(join(blank, 'index.html'), '<!doctype html><link rel=icon href="data:,"><title>bench</title>');

const server = await serve(join(ROOT, 'dist'), {
  '/ort/': ortDist, '/assets-models/': join(ROOT, 'assets/models'), '/bench/': blank,
});
const browser = await launch();
const median = (v) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
const cores = (await import('node:os')).cpus().length;

try {
  // ---- Engines, model alone -------------------------------------------------------------
  const page = await browser.newPage();
  const problems = watch(page, server.url);
  await page.goto(`${server.url}bench/`);
  await page.evaluate(async () => {
    const ort = await import('/ort/ort.wasm.min.mjs');
    ort.env.wasm.numThreads = 1;
    ort.env.wasm.wasmPaths = '/ort/';
    const input = new Float32Array(3 * 224 * 224);
    for (let i = 0; i < input.length; i++) input[i] = Math.sin(i * 0.37) * 0.9;
    const sessions = {};
    for (const [name, file] of [['f32', 'efficientnet_lite0_f32.onnx'], ['int8', 'efficientnet_lite0_int8.onnx']]) {
      sessions[name] = await ort.InferenceSession.create(`/assets-models/${file}`,
        { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
    }
    window.ortRun = async (name, runs) => {
      const s = sessions[name];
      const feeds = { [s.inputNames[0]]: new ort.Tensor('float32', input, [1, 3, 224, 224]) };
      const ms = [];
      for (let r = 0; r < runs; r++) {
        const t0 = performance.now();
        await s.run(feeds);
        ms.push(performance.now() - t0);
      }
      return ms;
    };
    // Quarry's worker, driven with its own messages (serde's JSON shapes).
    const model = { Image: { url: '/models/efficientnet_lite0_int8.onnx', spec: {
      size: 224, mean: [127, 127, 127], std: [128, 128, 128], layout: 'Nchw', channels: 'Rgb', output: null } } };
    const ask = (w, message, answer) => new Promise((resolve, reject) => {
      w.onmessage = (ev) => {
        const d = ev.data;
        if (d === 'Ready') return;
        if (d?.Failed) reject(new Error(d.Failed.message));
        else if (d?.[answer]) resolve(d[answer]);
      };
      w.postMessage(message);
    });
    window.tractWorkers = [];
    window.tractStart = async (n) => {
      while (window.tractWorkers.length < n) {
        const w = new Worker('/worker_loader.js');
        // Messages sent before the wasm listens are lost: wait for `Ready` first.
        await new Promise((ok) => { w.onmessage = (ev) => { if (ev.data === 'Ready') ok(); }; });
        await ask(w, { LoadModel: { model } }, 'ModelLoaded');
        window.tractWorkers.push(w);
      }
    };
    window.tractRun = (n, runs) => Promise.all(window.tractWorkers.slice(0, n)
      .map((w) => ask(w, { TimeModel: { runs } }, 'ModelTimed').then((r) => r.ms)));
  });
  const workers = Math.min(4, Math.max(1, cores));
  await page.evaluate((n) => window.tractStart(n), workers);
  // Warm up every engine once.
  await page.evaluate(() => Promise.all([window.ortRun('f32', 2), window.ortRun('int8', 2)]));
  // A build without `TimeModel` (before this benchmark existed) measures ORT and the app only.
  const tract = await page.evaluate((n) => window.tractRun(n, 2).then(() => true, () => false), workers);

  const times = { 'ort f32': [], 'ort int8': [], 'tract, 1 worker': [], [`tract, ${workers} workers at once`]: [] };
  for (let r = 0; r < ROUNDS; r++) {
    times['ort f32'].push(...await page.evaluate((n) => window.ortRun('f32', n), RUNS));
    times['ort int8'].push(...await page.evaluate((n) => window.ortRun('int8', n), RUNS));
    if (!tract) continue;
    times['tract, 1 worker'].push(...(await page.evaluate((n) => window.tractRun(1, n), RUNS))[0]);
    const each = await page.evaluate(([w, n]) => window.tractRun(w, n), [workers, RUNS]);
    times[`tract, ${workers} workers at once`].push(...each.flat());
  }
  console.log(`model alone, ms per image (median of ${ROUNDS} × ${RUNS}, interleaved; ${cores} cores):`);
  for (const [name, v] of Object.entries(times)) {
    if (v.length) console.log(`  ${name.padEnd(28)} ${median(v).toFixed(1)}`);
  }
  const alone = tract ? median(times[`tract, ${workers} workers at once`]) : NaN;
  const ceiling = (workers * 1000) / alone;
  await page.close();

  // ---- The app on the Fashion-MNIST demo ------------------------------------------------
  // First visit (the service worker installs and caches each demo file on first use), then a
  // second visit with the service worker's cache warm and the embedding cache emptied.
  const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  const first = await context.newPage();
  const appProblems = watch(first, server.url);
  await measureApp(first, 'first visit', ceiling);
  await first.close();
  const second = await context.newPage();
  appProblems.push(...watch(second, server.url));
  await second.goto(server.url);
  await second.evaluate(() => new Promise((ok, fail) => {
    const open = indexedDB.open('quarry');
    open.onerror = fail;
    open.onsuccess = () => {
      const stores = ['embeddings', 'embedding-use', 'embedding-blocks', 'embedding-block-hashes', 'embedding-block-use'];
      const tx = open.result.transaction(stores, 'readwrite');
      stores.forEach((s) => tx.objectStore(s).clear());
      tx.oncomplete = () => { open.result.close(); ok(); };
      tx.onerror = fail;
    };
  }));
  await measureApp(second, 'second visit, embedding cache emptied', ceiling);
  if (POOL) {
    await second.close();
    const pool = await context.newPage();
    appProblems.push(...watch(pool, server.url));
    await measureApp(pool, POOL, ceiling, POOL);
  }
  const all = [...problems, ...appProblems];
  if (all.length) console.log(`problems: ${all.join('; ')}`);
} finally {
  await browser.close();
  await server.close();
}

/** Starts the Fashion-MNIST demo on `app` and prints its items/s from the first embedded item to
 * the last, against `ceiling` (workers × the model-alone rate), the threads' busy shares and the
 * app's own per-stage timing. */
async function measureApp(app, label, ceiling, zip = null) {
  const timing = [];
  app.on('console', (m) => { if (m.text().startsWith('quarry: embedding')) timing.push(m.text()); });
  await app.goto(server.url);
  const t0 = performance.now();
  if (zip) await app.getByTestId('open-project').setInputFiles(zip);
  else await app.getByRole('button', { name: 'Try Fashion-MNIST (2,000 images)' }).click();
  let total = 0;
  const count = () => app.evaluate(() => {
    const m = document.querySelector('[data-testid=embedded]')?.textContent.match(/^(\d+) \/ (\d+)/);
    if (m) return [Number(m[1]), Number(m[2])];
    const bar = document.querySelector('[role=progressbar]');
    return [Number(bar?.getAttribute('aria-valuenow') ?? 0), Number(bar?.getAttribute('aria-valuemax') ?? 0)];
  }).then(([done, of]) => { total = of || total; return done; });
  while ((await count()) < 1) await app.waitForTimeout(50);  // also learns the total
  const first = performance.now();
  const firstCount = await count();
  // A long pool run is not traced (the trace would grow by hundreds of MB).
  if (!zip) await browser.startTracing(app, { categories: ['toplevel', 'devtools.timeline', '__metadata'] });
  let last = firstCount;
  for (;;) {
    last = await count();
    if (total && last >= total) break;
    await app.waitForTimeout(zip ? 1000 : 100);
  }
  const end = performance.now();
  const trace = zip ? null : JSON.parse((await browser.stopTracing()).toString()).traceEvents;
  const rate = ((last - firstCount) * 1000) / (end - first);
  console.log(`app, ${zip ? '' : 'Fashion-MNIST demo, '}${label}: first item after ${((first - t0) / 1000).toFixed(1)} s; `
    + `${last - firstCount} items in ${((end - first) / 1000).toFixed(1)} s = ${rate.toFixed(2)} items/s`);
  console.log(`  workers × model alone = ${ceiling.toFixed(2)} items/s; app / that = ${(rate / ceiling).toFixed(2)} (target ≥ 0.85)`);
  if (trace) threadReport(trace, (end - first) * 1000);
  for (let k = 0; k < 100 && !timing.length; k++) await app.waitForTimeout(100);
  for (const line of timing) console.log(`  ${line}`);
}

/** Prints how busy each thread of the page's renderer was: the union of its traced events
 * (top-level tasks, and the script calls that a task posted with `scheduler.postTask` runs,
 * which appear as `FunctionCall` alone) ÷ the window. */
function threadReport(events, windowUs) {
  const names = new Map();
  for (const e of events) {
    if (e.ph === 'M' && e.name === 'thread_name') names.set(`${e.pid}/${e.tid}`, e.args.name);
  }
  const renderer = [...names].find(([, n]) => n === 'CrRendererMain')?.[0].split('/')[0];
  const spans = new Map();
  for (const e of events) {
    if (e.ph !== 'X' || String(e.pid) !== renderer || !e.dur) continue;
    const key = `${e.pid}/${e.tid}`;
    if (!spans.has(key)) spans.set(key, []);
    spans.get(key).push([e.ts, e.ts + e.dur]);
  }
  const busy = new Map();
  for (const [key, list] of spans) {
    list.sort((a, b) => a[0] - b[0]);
    let us = 0;
    let [from, to] = list[0];
    for (const [a, b] of list) {
      if (a > to) { us += to - from; [from, to] = [a, b]; } else to = Math.max(to, b);
    }
    busy.set(key, us + (to - from));
  }
  let total = 0;
  const rows = [...busy].filter(([, us]) => us > windowUs * 0.005).sort((a, b) => b[1] - a[1]);
  console.log('  busy share of the embedding window, by thread of the page:');
  for (const [key, us] of rows) {
    total += us;
    console.log(`    ${(names.get(key) ?? key).padEnd(26)} ${((100 * us) / windowUs).toFixed(0)}%`);
  }
  console.log(`    all of them: ${((100 * total) / windowUs).toFixed(0)}% of one core (${cores} cores)`);
}
