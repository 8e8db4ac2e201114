// End to end: the payoff. Label the emoji demo (40 answers, accepting the model's guess with
// Enter where it is right), see the audited accuracy with its interval, browse the Predictions
// view and label two items from it, and download every export: the predictions CSV and JSONL
// (one row per item, person labels kept), the class-folder zip and the ONNX classifier,
// which `cargo xtask test` then loads in tract (core/tests/classifier_export.rs, ignored test
// `the_downloaded_classifier_agrees_with_the_predictions`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { launch, serve, truth, watch, ROOT } from './harness.mjs';

const ANSWERS = 40;

test('accept guesses, audit the model and export predictions and the classifier', { timeout: 900_000 }, async () => {
  const server = await serve();
  const browser = await launch();
  try {
    const page = await browser.newPage({ acceptDownloads: true, viewport: { width: 1200, height: 900 } });
    const problems = watch(page, new URL(server.url).origin);
    const gt = await truth('emoji');
    const classes = ['animals & nature', 'food & drink', 'travel & places'];
    await page.goto(server.url);
    await page.getByRole('button', { name: 'Try the demo' }).click();
    await page.getByRole('group', { name: 'Classes' }).waitFor({ timeout: 300_000 });
    // Audits are on by default.
    assert.match(await page.getByTestId('audit-note').textContent(), /One question in 10/);

    const counter = page.getByTestId('labeled-count');
    const answered = new Map();
    let accepted = 0;
    for (let i = 0; i < ANSWERS; i++) {
      // One read of the screen: the item, its guess and the marked button belong together (a
      // refresh may land between two separate reads).
      const { name, guess, predicted, before } = await page.evaluate(() => {
        const marked = document.querySelectorAll('.class-button.predicted');
        return {
          name: document.querySelector('.item-name').textContent,
          guess: document.querySelector('[data-testid=guess]')?.textContent ?? '',
          predicted: marked.length === 1 ? marked[0].getAttribute('aria-label') : null,
          before: document.querySelector('[data-testid=labeled-count]').textContent,
        };
      });
      const label = gt.get(name);
      const counted = () => page.waitForFunction((b) => document.querySelector('[data-testid=labeled-count]').textContent !== b, before, { timeout: 10_000 }).then(() => true, () => false);
      let done = false;
      if (guess && predicted === label) {
        assert.match(guess, /Model's guess: .+ \(\d+%\)/);
        await page.keyboard.press('Enter');
        done = await counted();
        if (done) accepted += 1;
      }
      // Without a guess (or if it vanished under the key) the class key answers the same item.
      if (!done && await page.locator('.item-name').textContent() === name) {
        await page.keyboard.press(String(classes.indexOf(label) + 1));
        assert.ok(await counted(), `answer ${i} was not counted`);
      }
      answered.set(name, label);
      // Let the learner catch up now and then, so guesses and audits arrive.
      if (i % 5 === 4) await page.waitForTimeout(400);
    }
    assert.ok(accepted >= 3, `only ${accepted} guesses accepted`);
    assert.match(await counter.textContent(), new RegExp(`^${ANSWERS} /`));

    // The audited estimate, with its interval, once audit answers are in.
    await page.waitForFunction(
      () => /^Audited accuracy \d+% \(95% interval \d+–\d+%, \d+ audits?\)$/.test(document.querySelector('[data-testid=audited-accuracy]').textContent),
      null, { timeout: 60_000 },
    );
    const audited = await page.getByTestId('audited-accuracy').textContent();
    const [, acc, lo, hi] = audited.match(/(\d+)% \(95% interval (\d+)–(\d+)%/).map(Number);
    assert.ok(lo <= acc && acc <= hi, audited);
    // The confusion matrix lists a cell's items.
    await page.locator('details.confusion summary').click();
    await page.locator('[data-testid=confusion] td.diagonal button:not([disabled])').first().click();
    assert.ok((await page.locator('[data-testid=cell-items] li').count()) >= 1);

    // Predictions cover the embedded items: wait for the whole pool.
    await page.waitForFunction(
      (n) => document.querySelector('[data-testid=embedded]').textContent.startsWith(`${n} / ${n}`),
      gt.size, { timeout: 600_000 },
    );
    // Predictions CSV: every item of the pool, person labels kept.
    const [csvDownload] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Export predictions (CSV)' }).click(),
    ]);
    assert.equal(csvDownload.suggestedFilename(), 'quarry-predictions.csv');
    if (process.env.QUARRY_DEBUG) await copyFile(await csvDownload.path(), '/tmp/pred.csv');
    const rows = (await readFile(await csvDownload.path(), 'utf8')).trim().split('\n');
    assert.ok(rows[0].startsWith('item,label,source,probability,'), rows[0]);
    assert.equal(rows.length - 1, gt.size);
    const byItem = new Map(rows.slice(1).map((r) => { const f = r.split(','); return [f[0], f]; }));
    for (const [name, label] of answered) {
      const f = byItem.get(name);
      assert.deepEqual([f[1], f[2], f[3]], [label, 'person', '1'], `row of ${name}`);
    }
    const modelRows = [...byItem.values()].filter((f) => f[2] === 'model');
    assert.equal(modelRows.length, gt.size - answered.size);
    const right = modelRows.filter((f) => gt.get(f[0]) === f[1]).length;
    assert.ok(right / modelRows.length > 0.6, `model labels right ${right}/${modelRows.length}`);

    const [jsonlDownload] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Export predictions (JSONL)' }).click(),
    ]);
    const lines = (await readFile(await jsonlDownload.path(), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(lines.length, gt.size);
    assert.ok(lines.every((l) => ['person', 'model'].includes(l.source)));

    const [onnxDownload] = await Promise.all([
      page.waitForEvent('download', { timeout: 120_000 }),
      page.getByRole('button', { name: 'Export classifier (ONNX)' }).click(),
    ]);
    assert.equal(onnxDownload.suggestedFilename(), 'quarry-classifier.onnx');
    const out = join(ROOT, 'e2e/out');
    await mkdir(out, { recursive: true });
    await copyFile(await onnxDownload.path(), join(out, 'quarry-classifier.onnx'));
    await copyFile(await csvDownload.path(), join(out, 'quarry-predictions.csv'));
    const onnx = await readFile(join(out, 'quarry-classifier.onnx'));
    assert.ok(onnx.length > 1_000_000, `classifier is ${onnx.length} bytes`);

    // The Predictions view: the whole pool, least sure first, only the rows in sight in the DOM.
    await page.getByRole('button', { name: 'Predictions', exact: true }).click();
    await page.waitForFunction(() => document.querySelectorAll('.prediction-row[data-probability]').length >= 5, null, { timeout: 60_000 });
    assert.match(await page.getByTestId('predictions-summary').textContent(), new RegExp(`^${gt.size} items`));
    const shown = await page.locator('.prediction-row').count();
    assert.ok(shown < 40, `${shown} rows in the DOM for ${gt.size} items`);
    const probs = await page.locator('.prediction-row').evaluateAll((rows) => rows
      .sort((a, b) => parseFloat(a.style.top) - parseFloat(b.style.top))
      .map((r) => parseFloat(r.dataset.probability)));
    for (let k = 1; k < probs.length; k++) assert.ok(probs[k - 1] <= probs[k], `not sorted: ${probs}`);
    // Scrolling to the end renders the last rows.
    await page.getByTestId('prediction-list').evaluate((el) => { el.scrollTop = el.scrollHeight; });
    await page.waitForFunction(() => [...document.querySelectorAll('.prediction-row')].some((r) => parseFloat(r.style.top) > 20000));
    await page.getByTestId('prediction-list').evaluate((el) => { el.scrollTop = 0; });
    // Only the model's items; check two of one true class and press its key: two answers.
    await page.getByRole('combobox', { name: 'Labeled by' }).selectOption('model');
    await page.waitForTimeout(300);
    const rowsNow = await page.locator('.prediction-row').evaluateAll((rows) => rows.map((r) => r.dataset.item));
    const byTruth = new Map();
    for (const n of rowsNow) byTruth.set(gt.get(n), [...(byTruth.get(gt.get(n)) ?? []), n]);
    const [cls, pair] = [...byTruth.entries()].find(([, names]) => names.length >= 2);
    for (const n of pair.slice(0, 2)) await page.getByRole('checkbox', { name: `Select ${n}` }).check();
    const beforeBulk = await counter.textContent();
    await page.keyboard.press(String(classes.indexOf(cls) + 1));
    await page.waitForFunction((b) => document.querySelector('[data-testid=labeled-count]').textContent !== b, beforeBulk);
    assert.match(await counter.textContent(), new RegExp(`^${ANSWERS + 2} /`));
    for (const n of pair.slice(0, 2)) answered.set(n, cls);
    await page.getByRole('button', { name: 'Back to labeling' }).click();

    // The class-folder zip, your labels only: every item once, answered ones in their class.
    const [foldersDownload] = await Promise.all([
      page.waitForEvent('download', { timeout: 120_000 }),
      page.getByRole('button', { name: 'Export class folders (.zip)' }).click(),
    ]);
    const zip = await readFile(await foldersDownload.path());
    // Walk the central directory from the end record.
    const end = zip.lastIndexOf(Buffer.from('PK\x05\x06', 'latin1'));
    assert.ok(end > 0, 'no end of central directory');
    const entries = [];
    for (let k = 0, at = zip.readUInt32LE(end + 16); k < zip.readUInt16LE(end + 10); k++) {
      assert.equal(zip.readUInt32LE(at), 0x02014b50);
      const [name, extra, comment] = [zip.readUInt16LE(at + 28), zip.readUInt16LE(at + 30), zip.readUInt16LE(at + 32)];
      entries.push(zip.subarray(at + 46, at + 46 + name).toString('utf8'));
      at += 46 + name + extra + comment;
    }
    assert.equal(entries.length, gt.size);
    for (const [name, label] of answered) assert.ok(entries.includes(`${label}/${name}`), `${label}/${name} missing`);
    assert.equal(entries.filter((e) => e.startsWith('unlabeled/')).length, gt.size - answered.size);

    assert.deepEqual(problems, []);
  } finally {
    await browser.close();
    await server.close();
  }
});
