// Browser benchmark (prints numbers; not a test): "More like this" and the Map on a large pool
// in headless Chromium. Make the pool, then run it on a built dist/:
//
//   cargo run -p quarry-core --example browser_pool -- target/bench/pool.zip [ITEMS]
//   node e2e/bench-explore.mjs target/bench/pool.zip
//
// (the pool of e2e/bench-predictions.mjs: 50,000 items by default, 1280-d embeddings that come
// along into the embedding cache). Measured: "More like this" — the learner worker's exact
// search (its own clock, shown in the grid's status) and click → grid drawn; the Map — click →
// every point drawn (the layout in the worker, the pool's predictions, the first frame); then
// frame times: the canvas's own drawing time (`data-frame-ms`) and the time between animation
// frames while the pointer hovers across the map and while it drags a lasso (a full redraw of
// every point per move), and a change of colouring.
import { performance } from 'node:perf_hooks';
import { launch, msStats, openPool, serve, watch } from './harness.mjs';

const zip = process.argv[2];
if (!zip) {
  console.error('usage: node e2e/bench-explore.mjs POOL.zip');
  process.exit(2);
}
const server = await serve();
const browser = await launch();
const ms = (t) => `${(performance.now() - t).toFixed(0)} ms`;
const stats = (v) => msStats(v, '');
try {
  const page = await (await browser.newContext({ viewport: { width: 1300, height: 1100 } })).newPage();
  const problems = watch(page, server.url);
  await page.goto(server.url);
  const opened = await openPool(page, zip);
  console.log(`pool in the learner: ${opened.pool.toFixed(0)} ms (${opened.embedded})`);
  let t;
  await page.waitForFunction(() => document.querySelector('.item-name'));

  // More like this, five times (a different current item each time).
  const worker = [];
  const wall = [];
  for (let k = 0; k < 5; k++) {
    t = performance.now();
    await page.keyboard.press('m');
    await page.waitForFunction(() => /items most like .* \(exact search, \d+ ms\)/.test(document.querySelector('[data-testid=similar-status]')?.textContent ?? ''));
    await page.locator('.tile').first().waitFor();
    wall.push(performance.now() - t);
    worker.push(Number((await page.getByTestId('similar-status').textContent()).match(/exact search, (\d+) ms/)[1]));
    await page.keyboard.press('Escape');
    await page.keyboard.press('s');
    await page.waitForTimeout(300);
  }
  console.log(`More like this (48 nearest, exact), in the learner worker: ${stats(worker)}`);
  console.log(`More like this, key → grid drawn: ${stats(wall)}`);

  // The Map.
  t = performance.now();
  await page.getByRole('button', { name: 'Map', exact: true }).click();
  const canvas = page.locator('canvas[aria-label="Map of the pool"]');
  await page.waitForFunction(() => Number(document.querySelector('canvas')?.dataset.points ?? 0) > 0, null, { timeout: 600_000 });
  await page.waitForFunction(() => Number(document.querySelector('canvas')?.dataset.frameMs ?? 0) > 0);
  console.log(`open the Map → ${await canvas.getAttribute('data-points')} points drawn: ${ms(t)}`);
  console.log(await page.getByTestId('map-summary').textContent());
  const box = await canvas.boundingBox();
  const frames = async (moves) => page.evaluate(async (moves) => {
    const c = document.querySelector('canvas');
    const r = c.getBoundingClientRect();
    const gaps = [];
    const draws = [];
    let last = performance.now();
    for (const [kind, x, y] of moves) {
      c.dispatchEvent(new MouseEvent(kind, { clientX: r.left + x, clientY: r.top + y, bubbles: true }));
      await new Promise((ok) => requestAnimationFrame(ok));
      const now = performance.now();
      gaps.push(now - last);
      last = now;
      draws.push(Number(c.dataset.frameMs));
    }
    return { gaps, draws };
  }, moves);
  const hover = [];
  for (let i = 0; i < 120; i++) hover.push(['mousemove', 40 + (i * 4.5) % 560, 40 + (i * 7.3) % 560]);
  const h = await frames(hover);
  console.log(`hovering (tooltip, no redraw), time between frames: ${stats(h.gaps.slice(1))}`);
  const lasso = [['mousedown', 200, 200]];
  for (let i = 0; i < 120; i++) {
    const a = (i / 120) * 2 * Math.PI;
    lasso.push(['mousemove', 320 + 120 * Math.cos(a), 320 + 120 * Math.sin(a)]);
  }
  const l = await frames(lasso);
  console.log(`dragging a lasso (full redraw per move): drawing ${stats(l.draws.slice(1))}; between frames ${stats(l.gaps.slice(1))}`);
  await page.mouse.move(box.x + 320, box.y + 320);
  await page.mouse.up();
  const sel = await page.getByTestId('map-selected').textContent().catch(() => 'none');
  console.log(`lasso selected: ${sel}`);
  t = performance.now();
  await page.getByRole('combobox', { name: 'Colour the map by' }).selectOption('uncertainty');
  await page.waitForTimeout(50);
  console.log(`recolour by uncertainty: drawing ${await canvas.getAttribute('data-frame-ms')} ms`);
  if (problems.length) console.log('problems:', problems);
} finally {
  await browser.close();
  await server.close();
}
