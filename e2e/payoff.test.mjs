// End to end: the payoff. Label the emoji demo (40 answers, accepting the model's guess with
// Enter where it is right), see the audited accuracy with its interval, and download every export:
// the predictions CSV and JSONL (one row per item, person labels kept) and the ONNX classifier,
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
      const name = await page.locator('.item-name').textContent();
      const label = gt.get(name);
      const before = await counter.textContent();
      const guess = await page.getByTestId('guess').textContent();
      const marked = page.locator('.class-button.predicted');
      const predicted = (await marked.count()) === 1 ? await marked.getAttribute('aria-label') : null;
      if (guess && predicted === label) {
        assert.match(guess, /Model's guess: .+ \(\d+%\)/);
        await page.keyboard.press('Enter');
        accepted += 1;
      } else {
        await page.keyboard.press(String(classes.indexOf(label) + 1));
      }
      answered.set(name, label);
      await page.waitForFunction((b) => document.querySelector('[data-testid=labeled-count]').textContent !== b, before);
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

    // Predictions CSV: every item of the pool, person labels kept.
    const [csvDownload] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Export predictions (CSV)' }).click(),
    ]);
    assert.equal(csvDownload.suggestedFilename(), 'quarry-predictions.csv');
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

    assert.deepEqual(problems, []);
  } finally {
    await browser.close();
    await server.close();
  }
});
