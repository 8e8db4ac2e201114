// `quarry bench` in the learner worker's setting: headless Chromium, a dedicated worker,
// quarry-core in wasm32 with SIMD128. Build first:
//   (cd tools/wasm-bench && cargo build --release --target wasm32-unknown-unknown)
// then: node tools/wasm-bench/run.mjs [POOL [DIM [CLASSES [LABELS [BATCH]]]]]
// Prints the same table as `quarry bench` (defaults 100,000 × 1280, 10 classes, 200 labels,
// batch 100; auto with AnchorAL, the rest on the whole pool).
import { copyFile, mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launch, serve, ROOT } from '../../e2e/harness.mjs';

const HERE = join(ROOT, 'tools/wasm-bench');
// With --memory: the default policy on the learner itself (no copy), and the worker's memory.
const memory = process.argv.includes('--memory');
const [pool = 100000, dim = 1280, classes = 10, labels = 200, batch = 100] = process.argv.slice(2).filter((a) => a !== '--memory').map(Number);
// Indices into StrategyKind::ALL (core/src/acquire.rs).
const KINDS = [['auto', 0], ['margin', 1], ['dropquery', 8], ['badge', 9], ['coreset', 10], ['typiclust', 11], ['probcover', 12], ['cold-start', 13]];

const dir = await mkdtemp(join(tmpdir(), 'quarry-wasm-bench-'));
for (const f of await readdir(join(HERE, 'page'))) await copyFile(join(HERE, 'page', f), join(dir, f));
await copyFile(join(HERE, 'target/wasm32-unknown-unknown/release/quarry_wasm_bench.wasm'), join(dir, 'bench.wasm'));
const server = await serve(dir);
const browser = await launch();
try {
  const page = await browser.newPage();
  await page.goto(server.url);
  const version = await browser.version();
  const out = await page.evaluate((msg) => new Promise((ok) => {
    const w = new Worker('worker.js');
    w.onmessage = (e) => ok(e.data);
    w.postMessage(msg);
  }), { pool, dim, classes, labels, batch, kinds: KINDS, memory });
  if (out.error) throw new Error(out.error);
  if (memory) {
    const mib = (b) => (b / 2 ** 20).toFixed(0);
    console.log(`Chromium ${version}, learner in a dedicated worker: pool ${pool} × ${dim}, ${classes} classes, ${labels} labels, batch ${batch}; setup ${(out.setupMs / 1000).toFixed(1)} s`);
    console.log(`worker memory holding the pool: ${mib(out.held)} MiB; after three refreshes with the default policy (AnchorAL): ${mib(out.peak)} MiB (its peak)`);
    for (const r of out.refreshes) console.log(`  refresh ${r.refresh_ms.toFixed(0)} ms (fit + estimate ${r.fit_ms.toFixed(0)} ms, selection ${r.select_ms.toFixed(0)} ms)`);
  } else {
    console.log(`Chromium ${version}, learner in a dedicated worker (wasm32 + SIMD128, one thread): pool ${pool} × ${dim}, ${classes} classes, ${labels} labels, batch ${batch}; setup ${(out.setupMs / 1000).toFixed(1)} s`);
    console.log('| strategy | refresh | of which fit + estimate | of which selection |');
    console.log('|---|---|---|---|');
    for (const [name] of KINDS) {
      const r = out.results[name];
      console.log(`| ${name} | ${r.refresh_ms.toFixed(0)} ms | ${r.fit_ms.toFixed(0)} ms | ${r.select_ms.toFixed(0)} ms |`);
    }
    console.log(`More like this (the 48 nearest of one item, exact, whole pool): ${out.similarMs.toFixed(1)} ms (best of 5)`);
    console.log(`The Map (PCA fit on 4,000 rows, every row projected): ${out.mapMs.toFixed(0)} ms`);
  }
} finally {
  await browser.close();
  await server.close();
}
