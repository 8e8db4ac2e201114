// Storage in this browser: the space Quarry uses and the browser allows is shown, and "Clear
// cached embeddings" empties the embedding cache (the demo's embeddings were cached as it was
// embedded, 8-bit: 1,284 bytes each; a second clear finds none). Labeling goes on: the learner
// holds its own rows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { launch, openDemo, serve } from './harness.mjs';

test('storage: space used and allowed; Clear cached embeddings', { timeout: 600_000 }, async () => {
  const server = await serve();
  const browser = await launch();
  try {
    const { page, problems } = await openDemo(browser, server);
    await page.getByText('Storage in this browser').click();
    const line = page.getByTestId('storage-line');
    await line.waitFor();
    console.log(await line.textContent());
    assert.match(await line.textContent(), /^Quarry uses [\d.]+ (MB|GB) of the [\d.]+ (MB|GB) this browser allows \((kept for good|the browser may clear it)/);
    // Cached in the learner's 8-bit form: a scale and one byte per value (1,280 + 4 bytes).
    const sizes = await page.evaluate(() => new Promise((ok, fail) => {
      const r = indexedDB.open('quarry');
      r.onerror = () => fail(r.error);
      r.onsuccess = () => {
        const get = r.result.transaction('embeddings').objectStore('embeddings').getAll(null, 5);
        get.onsuccess = () => ok(get.result.map((v) => `${v.constructor.name} ${v.byteLength}`));
        get.onerror = () => fail(get.error);
      };
    }));
    assert.deepEqual(sizes, Array(5).fill('Uint8Array 1284'));
    await page.getByRole('button', { name: 'Clear cached embeddings' }).click();
    const cleared = page.getByTestId('storage-cleared');
    await cleared.waitFor();
    const n = Number((await cleared.textContent()).match(/^Cleared (\d+) cached embeddings/)[1]);
    assert.ok(n >= 500, `the demo's 508 embeddings were cached (${n})`);
    await page.getByRole('button', { name: 'Clear cached embeddings' }).click();
    await page.waitForFunction(() => /^Cleared 0 cached/.test(document.querySelector('[data-testid=storage-cleared]')?.textContent ?? ''));
    // Labeling goes on.
    const before = await page.getByTestId('labeled-count').textContent();
    await page.keyboard.press('1');
    await page.waitForFunction((b) => document.querySelector('[data-testid=labeled-count]').textContent !== b, before);
    assert.deepEqual(problems, []);
  } finally {
    await browser.close();
    await server.close();
  }
});
