// Browser benchmark (prints numbers; not a test): what reading one image costs the browser, by
// the way a worker gets it. A worker reads the Fashion-MNIST demo's 2,000 images (1 MB), eight
// at a time as the embedders do, in four ways:
//   1. `fetch` of the app's own URL on a first visit: through the service worker, which also
//      stores each file (the demo's images before they were packed into one zip);
//   2. the same, stored already;
//   3. `fetch` of an object URL (`blob:`, as a person's files were read);
//   4. `Blob.arrayBuffer()` on the handle itself (as the embedders read images now).
// For each: the wall time and the CPU time of every Chromium process together (from /proc, so
// Linux only), which is what the embedders lose on a machine whose cores they fill.
//
//   node e2e/bench-fetch.mjs            (needs a built dist/ that still holds the demo's folder
//                                        of images: it serves assets/demo/fashion/images itself)
import { readFileSync, readdirSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ROOT, launch, serve } from './harness.mjs';

const blank = join(ROOT, 'target/bench/page');
const server = await serve(join(ROOT, 'dist'), {
  '/bench/': blank, '/fashion-images/': join(ROOT, 'assets/demo/fashion/images'),
});
const browser = await launch();

/** CPU milliseconds used so far by every Chromium process. */
function chromiumCpuMs() {
  let ticks = 0;
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('chrom')) continue;
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch { /* the process ended meanwhile */ }
  }
  return ticks * 10;
}

try {
  await mkdir(blank, { recursive: true });
  await writeFile(join(blank, 'index.html'), '<!doctype html><link rel=icon href="data:,"><title>bench</title>');
  const page = await browser.newPage();
  await page.goto(server.url);
  await page.waitForFunction(() => navigator.serviceWorker.controller, null, { timeout: 30000 });
  await page.goto(`${server.url}bench/`);
  await page.waitForTimeout(2000);
  const names = JSON.parse(readFileSync(join(ROOT, 'assets/demo/fashion/demo.json'))).items;
  const ways = [
    ['fetch through the service worker, first visit', 'url'],
    ['fetch through the service worker, stored', 'url'],
    ['fetch of an object URL', 'blob-url'],
    ['Blob.arrayBuffer() on the handle', 'blob'],
  ];
  console.log(`reading the ${names.length} images of the Fashion-MNIST demo in a worker, 8 at a time:`);
  for (const [label, way] of ways) {
    await page.evaluate(async ([names, way]) => {
      const source = `onmessage = async (e) => {
        const { urls, blobs } = e.data;
        const n = urls ? urls.length : blobs.length;
        const t0 = performance.now();
        for (let i = 0; i < n; i += 8) {
          const window = [];
          for (let j = i; j < Math.min(n, i + 8); j++) {
            window.push(blobs ? blobs[j].arrayBuffer() : fetch(urls[j]).then((r) => r.arrayBuffer()));
          }
          await Promise.all(window);
        }
        postMessage(performance.now() - t0);
      };`;
      const worker = new Worker(URL.createObjectURL(new Blob([source], { type: 'text/javascript' })));
      const urls = names.map((n) => `${location.origin}/fashion-images/${n}`);
      let message = { urls };
      if (way !== 'url') {
        const blobs = await Promise.all(urls.map(async (u) => new Blob(
          [await (await fetch(u)).arrayBuffer()], { type: 'image/png' })));
        message = way === 'blob' ? { blobs } : { urls: blobs.map((b) => URL.createObjectURL(b)) };
      }
      window.benchRun = () => new Promise((ok) => {
        worker.onmessage = (e) => { worker.terminate(); ok(e.data); };
        worker.postMessage(message);
      });
    }, [names, way]);
    const cpu0 = chromiumCpuMs();
    const wall = await page.evaluate(() => window.benchRun());
    const cpu = chromiumCpuMs() - cpu0;
    console.log(`  ${label.padEnd(48)} ${(wall / names.length).toFixed(2)} ms wall, `
      + `${(cpu / names.length).toFixed(2)} ms of Chromium's CPU per image`);
  }
} finally {
  await browser.close();
  await server.close();
}
