// The classroom race on the text demo (702 sentences, 7 topics): once every item is embedded,
// "Race" sets up random, margin and the default policy on three seeds; → steps one round,
// Space runs the rest; every strategy's curve (mean line + seed band) is drawn with all 21
// rounds, the legend shows each one's accuracy and the items it asked last; presenter mode
// toggles with its key and its button.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { launch, openDemo, serve } from './harness.mjs';

test('race: curves drawn live, step and run, presenter mode', { timeout: 600_000 }, async () => {
  const server = await serve();
  const browser = await launch();
  try {
    const { page, problems } = await openDemo(browser, server, 'Try a text demo (702 sentences, 7 topics)');

    await page.getByRole('button', { name: 'Race', exact: true }).click();
    const status = page.getByTestId('race-status');
    await page.waitForFunction(() => /^Ready/.test(document.querySelector('[data-testid=race-status]')?.textContent ?? ''), null, { timeout: 60_000 });
    // One step: the first labels of every lane, drawn.
    await page.keyboard.press('ArrowRight');
    await page.waitForFunction(() => /^Paused at 10 labels/.test(document.querySelector('[data-testid=race-status]').textContent));
    const lanes = page.locator('.race-chart g.lane');
    assert.equal(await lanes.count(), 3);
    // Run the rest.
    await page.keyboard.press('Space');
    await page.waitForFunction(() => /^Racing/.test(document.querySelector('[data-testid=race-status]').textContent));
    await page.waitForFunction(() => /^Finished at 210 labels/.test(document.querySelector('[data-testid=race-status]').textContent), null, { timeout: 300_000 });
    for (let s = 0; s < 3; s++) {
      const line = await lanes.nth(s).locator('polyline').getAttribute('points');
      assert.equal(line.trim().split(' ').length, 21, `strategy ${s}: ${line}`);
      const band = await lanes.nth(s).locator('polygon').getAttribute('points');
      assert.equal(band.trim().split(' ').length, 42);
    }
    const legend = await page.locator('.race-legend li').allTextContents();
    console.log(legend.map((l) => l.slice(0, 80)));
    assert.equal(legend.length, 3);
    const accuracy = await page.locator('.race-legend .race-accuracy').allTextContents();
    assert.ok(accuracy.every((a) => /^\d+\.\d% \(seeds \d+\.\d–\d+\.\d%\)$/.test(a)), accuracy.join(' | '));
    // Margin and the default policy asked items, shown under their names.
    assert.ok(await page.locator('.race-legend li').nth(1).locator('.asked-text').count() > 0);
    // Presenter mode: the key and the button.
    const section = page.locator('section.race');
    await page.keyboard.press('p');
    await page.waitForFunction(() => document.querySelector('section.race').classList.contains('presenter'));
    const button = page.getByRole('button', { name: /Presenter mode/ });
    assert.equal(await button.getAttribute('aria-pressed'), 'true');
    await button.click();
    assert.equal(await section.evaluate((s) => s.classList.contains('presenter')), false);
    assert.deepEqual(problems, []);
  } finally {
    await browser.close();
    await server.close();
  }
});
