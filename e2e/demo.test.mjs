// End to end: start the emoji demo, wait for embedding, label 30 items with the keyboard from the
// ground truth, check the accuracy estimate, skip, undo, and export the CSV.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { launch, serve, truth, watch, timeAnswers, answerLatency } from './harness.mjs';

const LABELS = 30;

test('label the emoji demo with the keyboard and export the CSV', { timeout: 600_000 }, async () => {
  const server = await serve();
  const browser = await launch();
  try {
    const page = await browser.newPage({ acceptDownloads: true, viewport: { width: 1200, height: 820 } });
    const problems = [];
    const origin = new URL(server.url).origin;
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('console', (m) => { if (m.type() === 'error') problems.push(`console error: ${m.text()}`); });
    page.on('request', (r) => {
      const u = r.url();
      if (!u.startsWith(origin) && !u.startsWith('data:') && !u.startsWith('blob:')) problems.push(`request off origin: ${u}`);
    });
    const gt = await truth('emoji');
    const classes = ['animals & nature', 'food & drink', 'travel & places'];

    await page.goto(server.url);
    await page.getByRole('button', { name: 'Try the demo' }).click();
    const bar = page.getByRole('progressbar');
    await bar.waitFor();
    assert.equal(await bar.getAttribute('aria-valuemax'), String(gt.size));
    await page.getByText(/per second/).waitFor();

    // The page must stay responsive while workers embed.
    let worst = 0;
    while (await bar.isVisible().catch(() => false)) {
      const t0 = Date.now();
      await page.evaluate(() => 1);
      worst = Math.max(worst, Date.now() - t0);
      await page.waitForTimeout(250);
    }
    assert.ok(worst < 1500, `main thread blocked for ${worst} ms during embedding`);

    const classGroup = page.getByRole('group', { name: 'Classes' });
    await classGroup.waitFor({ timeout: 300_000 });
    for (const c of classes) await page.getByRole('button', { name: c, exact: true }).waitFor();
    // This test counts cross-validated labels exactly: no audit questions held out of training
    // (e2e/payoff.test.mjs tests them).
    await page.getByRole('combobox', { name: 'Audit questions' }).selectOption('off');
    const counter = page.getByTestId('labeled-count');
    assert.match(await counter.textContent(), new RegExp(`^0 / ${gt.size}$`));
    assert.match(await page.getByTestId('strategy').textContent(), /typiclust/);

    const answered = [];
    const current = async () => {
      const name = await page.locator('.item-name').textContent();
      assert.equal(await page.locator('.item-image').getAttribute('alt'), name);
      return name;
    };
    async function labelCurrent() {
      const name = await current();
      const label = gt.get(name);
      assert.ok(label, `unknown item ${name}`);
      const before = answered.length;
      await page.keyboard.press(String(classes.indexOf(label) + 1));
      answered.push([name, label]);
      await page.waitForFunction(
        (n) => document.querySelector('[data-testid=labeled-count]').textContent.startsWith(`${n} /`),
        before + 1,
      );
    }
    for (let i = 0; i < LABELS; i++) await labelCurrent();

    // Thumbnails of the queued batch are visible once the latest refresh has landed (answers
    // come faster than refreshes here, so the queue may be drained for a moment).
    await page.waitForFunction(() => document.querySelectorAll('.thumbs img').length >= 1, null, { timeout: 30_000 });
    // Every class has 2+ labels per class by now, so the policy has switched to power-margin.
    await page.waitForFunction(() => document.querySelector('[data-testid=strategy]').textContent.includes('margin'));

    // The accuracy estimate appears. With audits off it is cross-validation on the labels asked,
    // which active learning picks among the hard items: on this demo it underestimates by about
    // 20 points (docs/evidence.md), so at 30 labels it sits near 50% and is no test of learning
    // (one CI run saw 47%). The model's guesses on the pool are, below.
    await page.waitForFunction(() => /%$/.test(document.querySelector('[data-testid=accuracy]').textContent));
    // The panel catches up with the latest answer (stale refreshes are dropped, not queued).
    await page.getByText(`on the ${LABELS} labeled items`).waitFor({ timeout: 30_000 });
    const acc = parseFloat(await page.getByTestId('accuracy').textContent());
    assert.ok(acc >= 0 && acc <= 100, `accuracy estimate ${acc}%`);
    assert.ok((await page.locator('svg.curve circle.dot').count()) >= 5, 'learning curve has too few points');

    // Switching strategy re-scores the pool without losing anything.
    const picker = page.getByRole('combobox', { name: 'Strategy' });
    await picker.selectOption('badge');
    await page.waitForFunction(() => document.querySelector('[data-testid=strategy]').textContent.includes('badge'));
    assert.match(await counter.textContent(), new RegExp(`^${LABELS} /`));
    await picker.selectOption('auto');
    await page.waitForFunction(() => document.querySelector('[data-testid=strategy]').textContent.includes('margin'));

    // Skip once: the item leaves the queue, nothing is labeled.
    const skipped = await current();
    await page.keyboard.press('s');
    await page.waitForFunction(() => /^1 skipped/.test(document.querySelector('.sidebar .muted').textContent));
    assert.notEqual(await current(), skipped);
    assert.match(await counter.textContent(), new RegExp(`^${LABELS} /`));

    // Undo twice: the skip, then the last label; that item is asked again.
    await page.keyboard.press('Backspace');
    await page.waitForFunction(() => /^0 skipped/.test(document.querySelector('.sidebar .muted').textContent));
    assert.equal(await current(), skipped);
    await page.keyboard.press('Control+z');
    await page.waitForFunction((n) => document.querySelector('[data-testid=labeled-count]').textContent.startsWith(`${n} /`), LABELS - 1);
    const [undoneName] = answered.pop();
    assert.equal(await current(), undoneName);
    await labelCurrent();

    // Answer → next item at a person's pace (a benchmark figure, printed; issue 12's target is
    // a median under 50 ms and a 95th percentile under 100 ms).
    await timeAnswers(page);
    for (let i = 0; i < 12; i++) {
      await page.waitForTimeout(500);
      await labelCurrent();
    }
    const lat = await answerLatency(page);
    console.log(`answer → next item, ${lat.n} answers at a person's pace: median ${lat.median.toFixed(0)} ms, p95 ${lat.p95.toFixed(0)} ms, max ${lat.max.toFixed(0)} ms`);
    assert.equal(lat.n, 12, 'every answer showed another item');

    if (process.env.QUARRY_SCREENSHOT) {
      await page.waitForTimeout(500);
      await page.screenshot({ path: process.env.QUARRY_SCREENSHOT });
    }

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Export labels (CSV)' }).click(),
    ]);
    assert.equal(download.suggestedFilename(), 'quarry-labels.csv');
    const csv = (await readFile(await download.path(), 'utf8')).trim().split('\n');
    assert.equal(csv[0], 'item,label');
    assert.deepEqual(csv.slice(1), answered.map(([n, l]) => `${n},${l}`));

    // The model learned: its guesses on the items nobody labeled beat chance (1/3) by far. At
    // 43 labels the head is right on about three in four (docs/evidence.md, margin sampling).
    const [predictions] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Export predictions (CSV)' }).click(),
    ]);
    const guesses = (await readFile(await predictions.path(), 'utf8')).trim().split('\n').slice(1)
      .map((r) => r.split(',')).filter((f) => f[2] === 'model');
    assert.equal(guesses.length, gt.size - answered.length);
    const right = guesses.filter((f) => gt.get(f[0]) === f[1]).length;
    console.log(`model's guesses on the unlabeled pool: ${right} / ${guesses.length} right; estimate at ${LABELS} labels ${acc}%`);
    assert.ok(right / guesses.length > 0.6, `model's guesses right ${right}/${guesses.length}`);

    // The whole project as a versioned file: every answer in order, the classes, the settings.
    const [saved] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Save project file' }).click(),
    ]);
    assert.equal(saved.suggestedFilename(), 'quarry-project.json');
    const project = JSON.parse(await readFile(await saved.path(), 'utf8'));
    assert.equal(project.format, 'quarry-project');
    assert.equal(project.version, 1);
    assert.deepEqual(project.session.classes.map((c) => c.name), classes);
    assert.deepEqual(
      project.session.answers.map((a) => [project.session.items[a.item], classes[a.class]]),
      answered,
    );
    assert.equal(project.strategy, 'auto');
    assert.equal(project.model.Image.url, 'models/efficientnet_lite0_int8.onnx');

    assert.deepEqual(problems, []);
  } finally {
    await browser.close();
    await server.close();
  }
});

test('workers start from the module the page compiled once; where it cannot compile, each compiles its own', { timeout: 600_000 }, async () => {
  const server = await serve();
  const browser = await launch();
  try {
    for (const compiles of [true, false]) {
      const context = await browser.newContext({ viewport: { width: 1200, height: 820 } });
      // What each worker is sent first: the compiled module, or the wasm's URL.
      await context.addInitScript((compiles) => {
        const post = Worker.prototype.postMessage;
        const seen = new WeakSet();
        window.firstMessages = [];
        Worker.prototype.postMessage = function (message, ...rest) {
          if (!seen.has(this)) {
            seen.add(this);
            window.firstMessages.push(message instanceof WebAssembly.Module ? 'module' : typeof message);
          }
          return post.call(this, message, ...rest);
        };
        if (!compiles) WebAssembly.compileStreaming = () => Promise.reject(new Error('compiling refused for the test'));
      }, compiles);
      const page = await context.newPage();
      const problems = watch(page, new URL(server.url).origin);
      await page.goto(server.url);
      await page.getByRole('button', { name: 'Try the demo' }).click();
      await page.getByRole('group', { name: 'Classes' }).waitFor({ timeout: 300_000 });
      await page.keyboard.press('1');
      await page.getByTestId('labeled-count').getByText(/^1 \//).waitFor({ timeout: 60_000 });
      const first = await page.evaluate(() => window.firstMessages);
      assert.ok(first.length >= 2, `only ${first.length} workers started`);
      assert.deepEqual(first, first.map(() => (compiles ? 'module' : 'string')));
      assert.deepEqual(problems, []);
      await context.close();
    }
  } finally {
    await browser.close();
    await server.close();
  }
});
