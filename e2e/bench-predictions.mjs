// Browser benchmark (prints numbers; not a test): the Predictions view on a 50,000-item pool in
// headless Chromium. Make the pool, then run it on a built dist/:
//
//   cargo run -p quarry-core --example browser_pool -- target/bench/pool.zip [ITEMS]
//   node e2e/bench-predictions.mjs target/bench/pool.zip
//
// The zip is a self-contained project (10 classes, 200 labels) whose items' embeddings
// (1280-d) come along into the browser's embedding cache, so opening it "embeds" by cache
// look-ups. Measured: opening until the pool is in the learner; opening the Predictions view
// (the learner worker's probabilities for the whole pool, the transfer, the view's sort);
// scrolling it frame by frame; a jump to the middle; changing the sort and the filters; bulk
// labeling from the view until it shows the answers; then answer → next item on the labeling
// screen at a person's pace.
import { performance } from 'node:perf_hooks';
import { answerLatency, launch, msStats, openPool, serve, timeAnswers, watch } from './harness.mjs';

const zip = process.argv[2];
if (!zip) {
  console.error('usage: node e2e/bench-predictions.mjs POOL.zip');
  process.exit(2);
}
const server = await serve();
const browser = await launch();
const ms = (t) => `${(performance.now() - t).toFixed(0)} ms`;
const stats = (v) => msStats(v, ' frames');
try {
  const page = await (await browser.newContext({ viewport: { width: 1200, height: 900 } })).newPage();
  const problems = watch(page, server.url);
  await page.goto(server.url);
  const opened = await openPool(page, zip);
  console.log(`open the project zip → labeling screen: ${opened.labeling.toFixed(0)} ms`);
  console.log(`… every item in the learner: ${opened.pool.toFixed(0)} ms (${opened.embedded})`);
  let t;

  // Opening the view: whole-pool probabilities in the worker, transfer, sort, first rows.
  t = performance.now();
  await page.getByRole('button', { name: 'Predictions', exact: true }).click();
  await page.locator('.prediction-row').first().waitFor({ timeout: 600_000 });
  console.log(`open the Predictions view → first rows: ${ms(t)}`);
  console.log(`rows in the DOM: ${await page.locator('.prediction-row').count()}`);
  console.log(`summary: ${await page.getByTestId('predictions-summary').textContent()}`);

  // Scrolling: three screens per frame, 240 frames; time between animation frames.
  const scroll = await page.evaluate(async () => {
    const list = document.querySelector('[data-testid=prediction-list]');
    const frames = [];
    let last = performance.now();
    for (let f = 0; f < 240; f++) {
      list.scrollTop += 3 * list.clientHeight;
      await new Promise((r) => requestAnimationFrame(r));
      const now = performance.now();
      frames.push(now - last);
      last = now;
    }
    return frames;
  });
  console.log(`scroll 3 screens per frame: ${stats(scroll)}`);
  const jump = await page.evaluate(async () => {
    const list = document.querySelector('[data-testid=prediction-list]');
    const t0 = performance.now();
    list.scrollTop = list.scrollHeight / 2;
    await new Promise((r) => requestAnimationFrame(r));
    return performance.now() - t0;
  });
  console.log(`jump to the middle → next frame: ${jump.toFixed(1)} ms`);

  // Sort and filters: the change handler re-orders the whole pool, then one frame.
  const change = (label, value) => page.evaluate(async ([label, value]) => {
    const select = document.querySelector(`select[aria-label="${label}"]`);
    const t0 = performance.now();
    select.value = value;
    select.dispatchEvent(new Event('change', { bubbles: true }));
    await new Promise((r) => requestAnimationFrame(r));
    return performance.now() - t0;
  }, [label, value]);
  for (const [label, value] of [['Sort predictions', 'most'], ['Predicted class', '3'],
    ['Labeled by', 'model'], ['Predicted class', ''], ['Labeled by', 'all'], ['Sort predictions', 'least']]) {
    console.log(`${label} → ${value || 'any'}: ${(await change(label, value)).toFixed(1)} ms`);
  }

  // Bulk labeling from the view: three checked, class key 1; until they are saved and the view
  // shows them as yours.
  await page.evaluate(async () => {
    document.querySelector('[data-testid=prediction-list]').scrollTop = 0;
    await new Promise((r) => requestAnimationFrame(r));
  });
  for (let k = 0; k < 3; k++) {
    await page.locator('.prediction-row input[type=checkbox]').nth(k).click();
    await page.getByTestId('predictions-summary').getByText(`${k + 1} selected`).waitFor();
  }
  const counter = page.getByTestId('labeled-count');
  const before = await counter.textContent();
  const firstRow = await page.locator('.prediction-row').first().textContent();
  t = performance.now();
  await page.keyboard.press('1');
  await page.waitForFunction((b) => document.querySelector('[data-testid=labeled-count]').textContent !== b, before);
  console.log(`bulk label 3 → saved and counted: ${ms(t)} (${await counter.textContent()})`);
  await page.waitForFunction((f) => document.querySelector('.prediction-row')?.textContent !== f, firstRow, { timeout: 600_000 });
  console.log(`… the view shows them as yours: ${ms(t)}`);

  // Answer → next item at this size: back to labeling, answers at a person's pace (class key 1),
  // timed from each keydown to the frame after the next item is shown; and how stale the queue
  // shown gets: `data-queue-age` counts the answers it does not reflect yet (refreshes asked
  // after the one whose queue is shown). At most 1 means it keeps up.
  await page.getByRole('button', { name: 'Back to labeling', exact: true }).click();
  await page.locator('.item-name').waitFor();
  await timeAnswers(page);
  await page.evaluate(() => {
    window.__ages = [];
    const queue = document.querySelector('.queue');
    new MutationObserver(() => window.__ages.push(Number(queue.dataset.queueAge)))
      .observe(queue, { attributes: true, attributeFilter: ['data-queue-age'] });
  });
  for (const pace of [1000, 500]) {
    for (let k = 0; k < 20; k++) {
      await page.keyboard.press('1');
      await page.waitForTimeout(pace);
    }
    const lat = await answerLatency(page);
    const ages = await page.evaluate(() => window.__ages.splice(0));
    const stale = ages.filter((a) => a > 1).length;
    console.log(`one answer per ${pace} ms: answer → next item median ${lat.median.toFixed(0)} ms, p95 ${lat.p95.toFixed(0)} ms, max ${lat.max.toFixed(0)} ms over ${lat.n} answers; `
      + `queue age at most ${Math.max(0, ...ages)} answers (${stale} of ${ages.length} changes above 1)`);
    await page.evaluate(() => { window.__answerMs = []; });
  }
  const heap = await page.evaluate(() => performance.memory?.usedJSHeapSize ?? 0);
  console.log(`page JS heap: ${(heap / 1048576).toFixed(0)} MiB`);
  if (problems.length) console.log(`problems: ${problems.join('; ')}`);
} finally {
  await browser.close();
  await server.close();
}
