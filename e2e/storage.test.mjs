// Storage in this browser: the space Quarry uses and the browser allows is shown, and "Clear
// cached embeddings" empties the embedding cache (the demo's embeddings were cached as it was
// embedded, 8-bit: 1,284 bytes each; a second clear finds none). Labeling goes on: the learner
// holds its own rows.
// The cache's limit: over it, the least recently used embeddings are removed (the emoji demo's,
// when the text demo is embedded after it under a limit of 1,000).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { answerOne, launch, openDemo, serve, watch } from './harness.mjs';

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
    // Cached in the learner's 8-bit form, a block of rows per record: a scale and one byte
    // per value (1,280 + 4 bytes) per row, and a 32-byte content hash per row.
    const blocks = await page.evaluate(() => new Promise((ok, fail) => {
      const r = indexedDB.open('quarry');
      r.onerror = () => fail(r.error);
      r.onsuccess = () => {
        const names = ['embedding-blocks', 'embedding-block-hashes', 'embedding-block-use'];
        const tx = r.result.transaction(names);
        const [rows, hashes, uses] = names.map((n) => tx.objectStore(n).getAll());
        tx.oncomplete = () => ok(uses.result.map((u, i) => ({
          n: u.n,
          rows: `${rows.result[i].constructor.name} ${rows.result[i].byteLength / u.n}`,
          hashes: hashes.result[i].byteLength / u.n,
        })));
        tx.onerror = () => fail(tx.error);
      };
    }));
    assert.ok(blocks.length > 0 && blocks.length < 508 / 4, `${blocks.length} blocks`);
    assert.equal(blocks.reduce((s, b) => s + b.n, 0), 508);
    assert.deepEqual(new Set(blocks.map((b) => `${b.rows}, ${b.hashes}`)), new Set(['Uint8Array 1284, 32']));
    await page.getByRole('button', { name: 'Clear cached embeddings' }).click();
    const cleared = page.getByTestId('storage-cleared');
    await cleared.waitFor();
    const n = Number((await cleared.textContent()).match(/^Cleared (\d+) cached embeddings/)[1]);
    assert.ok(n >= 500, `the demo's 508 embeddings were cached (${n})`);
    await page.getByRole('button', { name: 'Clear cached embeddings' }).click();
    await page.waitForFunction(() => /^Cleared 0 cached/.test(document.querySelector('[data-testid=storage-cleared]')?.textContent ?? ''));
    // Labeling goes on.
    await answerOne(page);
    assert.deepEqual(problems, []);
  } finally {
    await browser.close();
    await server.close();
  }
});

/** How many cached embeddings were last used before `t`, and how many not (the blocks'
 * stamps, each counted for its rows). */
async function stamps(page, t) {
  return page.evaluate((t) => new Promise((ok, fail) => {
    const r = indexedDB.open('quarry');
    r.onerror = () => fail(r.error);
    r.onsuccess = () => {
      const all = r.result.transaction('embedding-block-use').objectStore('embedding-block-use').getAll();
      const rows = (f) => all.result.filter(f).reduce((n, s) => n + s.n, 0);
      all.onsuccess = () => ok({
        older: rows((s) => s.t < t),
        newer: rows((s) => s.t >= t),
      });
      all.onerror = () => fail(all.error);
    };
  }), t);
}

test('the embedding cache keeps at most its limit, the least recently used going first', { timeout: 600_000 }, async () => {
  const server = await serve();
  const browser = await launch();
  try {
    const { page, problems } = await openDemo(browser, server);
    await page.getByText('Storage in this browser').click();
    const count = page.getByTestId('cache-count');
    await page.waitForFunction(() => document.querySelector('[data-testid=cache-count]')?.textContent === 'Cached embeddings: 508.');
    const t0 = await page.evaluate(() => Date.now());
    assert.deepEqual(await stamps(page, t0), { older: 508, newer: 0 });
    const limit = page.getByRole('combobox', { name: 'Embedding cache limit' });
    assert.match(await limit.locator('option:checked').textContent(), /^250,000 \(about 321 MB at 1,280 values\)$/);
    await limit.selectOption('1000');
    await page.waitForTimeout(500);
    assert.equal(await count.textContent(), 'Cached embeddings: 508.');

    // The text demo's 702 embeddings come after: 1,210 > 1,000, so 210 of the emoji go.
    await page.goto(server.url);
    await page.getByRole('button', { name: /Try a text demo/ }).click();
    await page.getByRole('group', { name: 'Classes', exact: true }).waitFor({ timeout: 300_000 });
    await page.getByTestId('embedding-strip').waitFor({ state: 'detached', timeout: 300_000 });
    await page.getByText('Storage in this browser').click();
    await page.waitForFunction(() => document.querySelector('[data-testid=cache-count]')?.textContent === 'Cached embeddings: 1,000.', null, { timeout: 60_000 });
    assert.deepEqual(await stamps(page, t0), { older: 298, newer: 702 });
    assert.equal(await limit.locator('option:checked').getAttribute('value'), '1000');
    assert.deepEqual(problems, []);
  } finally {
    await browser.close();
    await server.close();
  }
});

test('embeddings cached before the limit existed are stamped as used long ago, and still counted', { timeout: 400_000 }, async () => {
  const server = await serve();
  const browser = await launch();
  try {
    const page = await browser.newPage();
    // The database as a Quarry of version 2 left it, made on the same origin (a page the
    // server does not have).
    await page.goto(`${server.url}not-the-app`);
    await page.evaluate(() => new Promise((ok, fail) => {
      const r = indexedDB.open('quarry', 2);
      r.onupgradeneeded = () => ['projects', 'progress', 'items', 'embeddings'].forEach((s) => r.result.createObjectStore(s));
      r.onerror = () => fail(r.error);
      r.onsuccess = () => {
        const tx = r.result.transaction('embeddings', 'readwrite');
        ['m/a', 'm/b', 'm/c'].forEach((k) => tx.objectStore('embeddings').put(new Uint8Array(8), k));
        tx.oncomplete = () => { r.result.close(); ok(); };
        tx.onerror = () => fail(tx.error);
      };
    }));
    const problems = watch(page, new URL(server.url).origin);
    await page.goto(server.url);
    await page.getByRole('button', { name: 'Try the demo' }).waitFor();
    await page.waitForFunction(() => new Promise((ok) => {
      const r = indexedDB.open('quarry');
      r.onsuccess = () => {
        const v = r.result.version;
        if (v !== 4) { r.result.close(); ok(false); return; }
        const all = r.result.transaction('embedding-use').objectStore('embedding-use').getAll();
        all.onsuccess = () => { r.result.close(); ok(all.result.length === 3 && all.result.every((s) => s.t === 0)); };
      };
    }), null, { timeout: 30_000 });
    // Still counted beside the blocks the demo's embeddings go into (version 4).
    await page.getByRole('button', { name: 'Try the demo' }).click();
    await page.getByRole('group', { name: 'Classes', exact: true }).waitFor({ timeout: 300_000 });
    await page.getByTestId('embedding-strip').waitFor({ state: 'detached', timeout: 300_000 });
    await page.getByText('Storage in this browser').click();
    await page.waitForFunction(() => document.querySelector('[data-testid=cache-count]')?.textContent === 'Cached embeddings: 511.');
    assert.deepEqual(problems, []);
  } finally {
    await browser.close();
    await server.close();
  }
});

test('an embedding cached by an older version is used for its item and moves into a block', { timeout: 600_000 }, async () => {
  const server = await serve();
  const browser = await launch();
  try {
    // The demo once, to learn its model key and one item's row (hash and 8-bit bytes).
    const first = await openDemo(browser, server);
    const one = await first.page.evaluate(() => new Promise((ok, fail) => {
      const r = indexedDB.open('quarry');
      r.onerror = () => fail(r.error);
      r.onsuccess = () => {
        const tx = r.result.transaction(['embedding-blocks', 'embedding-block-hashes', 'embedding-block-use']);
        const keys = tx.objectStore('embedding-block-use').getAllKeys();
        keys.onsuccess = () => { try {
          const key = keys.result[0];
          const rows = tx.objectStore('embedding-blocks').get(key);
          const hashes = tx.objectStore('embedding-block-hashes').get(key);
          const use = tx.objectStore('embedding-block-use').get(key);
          tx.oncomplete = () => {
            const stride = rows.result.byteLength / use.result.n;
            const hex = [...new Uint8Array(hashes.result.buffer, hashes.result.byteOffset, 32)]
              .map((b) => b.toString(16).padStart(2, '0')).join('');
            r.result.close();
            ok({ model: key.slice(0, key.lastIndexOf('/')), hex, row: [...rows.result.slice(0, stride)] });
          };
        } catch (e) { fail(e); } };
      };
    }));
    // The cache as a version-3 Quarry would have left it: that one row as a single entry, no
    // blocks (the same page and profile, away from the app).
    const page = first.page;
    const away = first.problems.length;
    await page.goto(`${server.url}not-the-app`);
    await page.evaluate((one) => new Promise((ok, fail) => {
      const r = indexedDB.open('quarry');
      r.onerror = () => fail(r.error);
      r.onsuccess = () => { try {
        const stores = ['embedding-blocks', 'embedding-block-hashes', 'embedding-block-use', 'embeddings', 'embedding-use'];
        const tx = r.result.transaction(stores, 'readwrite');
        stores.slice(0, 3).forEach((s) => tx.objectStore(s).clear());
        const key = `${one.model}/${one.hex}`;
        tx.objectStore('embeddings').put(new Uint8Array(one.row), key);
        tx.objectStore('embedding-use').put({ t: 0 }, key);
        tx.oncomplete = () => { r.result.close(); ok(); };
        tx.onerror = () => fail(tx.error);
      } catch (e) { fail(e); } };
    }), one);
    const logs = [];
    page.on('console', (m) => logs.push(m.text()));
    await page.goto(server.url);
    const back = first.problems.length; // the page away from the app is a 404, as meant
    await page.getByRole('button', { name: 'Try the demo' }).click();
    await page.getByRole('group', { name: 'Classes', exact: true }).waitFor({ timeout: 300_000 });
    await page.getByTestId('embedding-strip').waitFor({ state: 'detached', timeout: 300_000 });
    const summary = logs.find((l) => l.startsWith('quarry: embedding:')) ?? '';
    assert.match(summary, /508 items \(1 from the cache\)/, summary);
    // Moved: no single entry left, every row in blocks, the old row among them.
    await page.getByText('Storage in this browser').click();
    await page.waitForFunction(() => document.querySelector('[data-testid=cache-count]')?.textContent === 'Cached embeddings: 508.');
    const left = await page.evaluate(() => new Promise((ok) => {
      const r = indexedDB.open('quarry');
      r.onsuccess = () => {
        const c = r.result.transaction('embeddings').objectStore('embeddings').count();
        c.onsuccess = () => { r.result.close(); ok(c.result); };
      };
    }));
    assert.equal(left, 0);
    assert.deepEqual([...first.problems.slice(0, away), ...first.problems.slice(back)], []);
  } finally {
    await browser.close();
    await server.close();
  }
});
