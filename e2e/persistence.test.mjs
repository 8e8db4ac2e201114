// Never losing work, in a real browser: the tab closed right after an answer, a reload while
// items are still being embedded and one while labeling, undo/redo and the history panel, a
// corrupted stored project, storage the browser refuses, project files, and the projects list.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile, mkdtemp, copyFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launch, serve, truth, topicsDemo, watch, storedZip, pressClass, ROOT } from './harness.mjs';

const CLASSES = ['animals & nature', 'food & drink', 'travel & places'];
const count = (page) => page.getByTestId('labeled-count').textContent();
const current = (page) => page.locator('.item-name').textContent();

async function waitCount(page, n) {
  await page.waitForFunction(
    (k) => document.querySelector('[data-testid=labeled-count]')?.textContent.startsWith(`${k} /`),
    n,
    { timeout: 300_000 },
  );
}

/** Answers the current item from the ground truth; resolves once the screen has moved on. */
async function answer(page, gt, answered) {
  const name = await current(page);
  const label = gt.get(name);
  await page.keyboard.press(String(CLASSES.indexOf(label) + 1));
  answered.push([name, label]);
  await waitCount(page, answered.length);
}

/** The project as the app would save it now (the "Save project file" download). */
async function projectFile(page) {
  const [d] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Save project file' }).click(),
  ]);
  const path = await d.path();
  return { path, json: JSON.parse(await readFile(path, 'utf8')) };
}

const answersOf = (p) => p.session.answers.map((a) => [p.session.items[a.item], CLASSES[a.class]]);

async function resumeFirst(page) {
  const row = page.getByTestId('project').first();
  await row.waitFor();
  await row.getByRole('button', { name: 'Resume' }).click();
  await page.getByRole('group', { name: 'Classes' }).waitFor({ timeout: 300_000 });
}

test('answers survive a closed tab and reloads; undo, redo, history; corrupt records', { timeout: 900_000 }, async () => {
  const server = await serve();
  const browser = await launch();
  const origin = new URL(server.url).origin;
  try {
    const gt = await truth('emoji');
    const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1200, height: 900 } });
    let page = await context.newPage();
    let problems = watch(page, origin);
    await page.goto(server.url);
    assert.equal(await page.getByTestId('project').count(), 0, 'a fresh browser has no projects');
    await page.getByRole('button', { name: 'Try the demo' }).click();
    await page.getByRole('group', { name: 'Classes' }).waitFor({ timeout: 300_000 });

    // Reload while items are still being embedded, right after two answers.
    const answered = [];
    await answer(page, gt, answered);
    await answer(page, gt, answered);
    const embedding = await page.getByRole('progressbar').isVisible();
    await page.reload();
    await resumeFirst(page);
    await waitCount(page, 2);
    console.log(`reloaded ${embedding ? 'while embedding' : 'after embedding'}`);

    // Close the tab the moment the screen shows an answer: no grace period.
    await answer(page, gt, answered);
    await page.close({ runBeforeUnload: false });
    assert.deepEqual(problems, []);
    page = await context.newPage();
    problems = watch(page, origin);
    await page.goto(server.url);
    await page.getByText(`3 of ${gt.size} labeled`).waitFor();
    await resumeFirst(page);
    await waitCount(page, 3);
    assert.deepEqual(answersOf((await projectFile(page)).json), answered);
    // Nothing written to the cache is embedded twice: the windows of items embedded and written
    // before the reload and the close (each embedder writes a window of 16, then 8, after
    // embedding it) come from the cache; a window still in flight when the tab went is embedded
    // again. How many windows made it depends on the timing: at least the first.
    await page.getByTestId('embedded').getByText(new RegExp(`^${gt.size} / ${gt.size} items embedded`)).waitFor({ timeout: 300_000 });
    const cached = Number((await page.getByTestId('embedded').textContent()).match(/(\d+) from the cache/)[1]);
    console.log(`${cached} embeddings came from the cache`);
    assert.ok(cached >= 16, `only ${cached} embeddings came from the cache`);

    // Undo twice, redo once (Ctrl+Y), then answer on: the history follows.
    for (let i = 0; i < 5; i++) await answer(page, gt, answered);
    await page.keyboard.press('Backspace');
    await waitCount(page, 7);
    await page.keyboard.press('Backspace');
    await waitCount(page, 6);
    await page.keyboard.press('Control+y');
    await waitCount(page, 7);
    answered.pop();
    assert.equal(await page.getByRole('button', { name: /^Redo/ }).isEnabled(), true);
    // What is left to redo survives a reload, like the undo history.
    await page.reload();
    await resumeFirst(page);
    await waitCount(page, 7);
    await page.getByRole('button', { name: /^Redo/ }).waitFor();
    assert.equal(await page.getByRole('button', { name: /^Redo/ }).isEnabled(), true);

    // History panel: relabel the first answer, remove the second.
    await page.getByTestId('history').locator('summary').click();
    const rows = page.getByTestId('history-row');
    assert.equal(await rows.count(), 7);
    const first = rows.last();
    const wrong = CLASSES.find((c) => c !== answered[0][1]);
    await first.getByRole('combobox').selectOption({ label: wrong });
    await first.getByTestId('history-answer').filter({ hasText: wrong }).waitFor();
    answered[0][1] = wrong;
    await rows.nth(5).getByRole('button', { name: /^Remove/ }).click();
    await waitCount(page, 6);
    answered.splice(1, 1);
    assert.equal(await page.getByRole('button', { name: /^Redo/ }).isEnabled(), false);

    // Reload mid-labeling: the same answers, in the same order, with the relabel.
    await page.reload();
    await resumeFirst(page);
    await waitCount(page, 6);
    // The learner has caught up with all six labels (so the file carries the head).
    await page.getByText('on the 6 labeled items').waitFor({ timeout: 300_000 });
    const { path: saved, json } = await projectFile(page);
    assert.deepEqual(answersOf(json), answered);
    assert.equal(json.source.kind, 'demo');
    // With the head's weights, one row per class.
    assert.equal(json.head.classes, CLASSES.length);
    assert.equal(json.head.weights.length, json.head.classes * (json.head.dim + 1));

    // Rename, then a second project beside it.
    await page.reload();
    const row = page.getByTestId('project').first();
    await row.getByRole('button', { name: 'Rename' }).click();
    await row.getByRole('textbox', { name: 'Project name' }).fill('Emoji, my way');
    await row.getByRole('button', { name: 'Save name' }).click();
    await page.getByText('Emoji, my way').waitFor();

    // A project file opened in a fresh browser profile resumes the demo with every answer.
    const fresh = await browser.newContext({ acceptDownloads: true, viewport: { width: 1200, height: 900 } });
    const other = await fresh.newPage();
    const otherProblems = watch(other, origin);
    await other.goto(server.url);
    const bad = join(await mkdtemp(join(tmpdir(), 'quarry-bad-')), 'broken.json');
    await writeFile(bad, '{"format":"quarry-project","version":99}');
    await other.getByTestId('open-project').setInputFiles(bad);
    await other.getByText(/newer Quarry \(version 99\)/).waitFor();
    await other.getByRole('button', { name: 'Dismiss' }).click();
    await other.getByTestId('open-project').setInputFiles(saved);
    await other.getByRole('group', { name: 'Classes' }).waitFor({ timeout: 300_000 });
    await waitCount(other, 6);
    assert.deepEqual(answersOf((await projectFile(other)).json), answered);
    await other.reload();
    await other.getByTestId('project').first().waitFor();
    assert.equal(await other.getByTestId('project').count(), 1, 'the opened file is saved in that browser');
    assert.deepEqual(otherProblems.filter((p) => !/broken\.json cannot be opened/.test(p)), []);
    await fresh.close();

    // Corrupt the stored progress: a clear message, the record can be downloaded or deleted.
    await page.evaluate(async () => {
      const db = await new Promise((ok, no) => {
        const r = indexedDB.open('quarry');
        r.onsuccess = () => ok(r.result);
        r.onerror = () => no(r.error);
      });
      const tx = db.transaction('progress', 'readwrite');
      const store = tx.objectStore('progress');
      const keys = await new Promise((ok) => { const r = store.getAllKeys(); r.onsuccess = () => ok(r.result); });
      store.put('{"format":"quarry-project","version":1,"title":"x","session":{"items":[], "cla', keys[0]);
      await new Promise((ok) => { tx.oncomplete = ok; });
      db.close();
    });
    await page.reload();
    await page.getByTestId('project').first().getByRole('button', { name: 'Resume' }).click();
    await page.getByText(/This project cannot be opened: .*not JSON/).waitFor();
    const broken = page.getByTestId('broken-project');
    await broken.waitFor();
    const [raw] = await Promise.all([
      page.waitForEvent('download'),
      broken.getByRole('button', { name: 'Download what is stored' }).click(),
    ]);
    assert.match(await readFile(await raw.path(), 'utf8'), /"session":\{"items":\[\], "cla$/);
    await broken.getByRole('button', { name: 'Delete it' }).click();
    await page.getByTestId('project').waitFor({ state: 'detached' });

    // Deleting asks first.
    await page.getByRole('button', { name: 'Try the demo' }).click();
    await page.getByRole('group', { name: 'Classes' }).waitFor({ timeout: 300_000 });
    await page.reload();
    const again = page.getByTestId('project').first();
    await again.getByRole('button', { name: 'Delete…' }).click();
    await again.getByRole('button', { name: 'Keep' }).click();
    assert.equal(await page.getByTestId('project').count(), 1);
    await again.getByRole('button', { name: 'Delete…' }).click();
    await again.getByRole('button', { name: 'Delete', exact: true }).click();
    await page.getByTestId('project').waitFor({ state: 'detached' });
    assert.deepEqual(problems.filter((p) => !/cannot be opened/.test(p)), []);
  } finally {
    await browser.close();
    await server.close();
  }
});

test('a zip project reopens with nothing to pick; a folder project asks for its files again', { timeout: 600_000 }, async () => {
  const server = await serve();
  const browser = await launch();
  const origin = new URL(server.url).origin;
  try {
    const gt = await truth('emoji');
    const names = [...gt.keys()].slice(0, 40);
    const images = join(ROOT, 'assets/demo/emoji/images');
    const dir = await mkdtemp(join(tmpdir(), 'quarry-resume-'));
    const zip = join(dir, 'emoji.zip');
    await writeFile(zip, storedZip(await Promise.all(
      names.map(async (n) => ({ name: `emoji/${n}`, data: await readFile(join(images, n)) })),
    )));
    const folder = join(dir, 'shots');
    await mkdir(folder);
    for (const n of names) await copyFile(join(images, n), join(folder, n));

    const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1200, height: 900 } });
    const page = await context.newPage();
    const problems = watch(page, origin);
    for (const [how, input, files] of [['zip', 'open-files', [zip]], ['folder', 'open-folder', folder]]) {
      await page.goto(server.url);
      await page.getByTestId(input).setInputFiles(files);
      await page.getByRole('textbox', { name: 'Classes' }).fill(CLASSES.join('\n'));
      await page.getByRole('button', { name: 'Start labeling' }).click();
      await page.getByRole('group', { name: 'Classes' }).waitFor({ timeout: 300_000 });
      const answered = [];
      const name = (await current(page)).split('/').pop();
      await page.keyboard.press(String(CLASSES.indexOf(gt.get(name)) + 1));
      answered.push(name);
      await waitCount(page, 1);
      await page.reload();
      // The newest project is listed first.
      await page.getByTestId('project').first().getByRole('button', { name: 'Resume' }).click();
      if (how === 'folder') {
        // The browser forgot the folder: the app says so and waits for it.
        await page.getByTestId('reopen').getByText(/open the same folder or image files again/).waitFor();
        await page.getByTestId('open-folder').setInputFiles(folder);
      }
      await page.getByRole('group', { name: 'Classes' }).waitFor({ timeout: 300_000 });
      await waitCount(page, 1);
      assert.notEqual((await current(page)).split('/').pop(), name, `${how}: the answered item is not asked again`);
      await page.getByTestId('history').locator('summary').click();
      assert.match(await page.getByTestId('history-row').first().textContent(), new RegExp(name.replace('.', '\\.')));
    }
    assert.deepEqual(problems, []);

    // Asked for, the project travels with its files: one zip another browser opens as it was.
    // (Its embeddings go along once they exist: the resumed project has finished embedding.)
    await page.getByTestId('embedded')
      .getByText(new RegExp(`^${names.length} / ${names.length} items embedded`))
      .waitFor({ timeout: 300_000 });
    const [bundle] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Save project with its files (.zip)' }).click(),
    ]);
    assert.equal(bundle.suggestedFilename(), 'quarry-project.zip');
    const moved = join(dir, 'moved.zip');
    await bundle.saveAs(moved);
    const elsewhere = await (await browser.newContext({ viewport: { width: 1200, height: 900 } })).newPage();
    const elsewhereProblems = watch(elsewhere, origin);
    await elsewhere.goto(server.url);
    await elsewhere.getByTestId('open-project').setInputFiles(moved);
    await elsewhere.getByRole('group', { name: 'Classes' }).waitFor({ timeout: 300_000 });
    await waitCount(elsewhere, 1);
    assert.equal(await elsewhere.getByTestId('reopen').count(), 0, 'nothing to open again');
    // Its embeddings came along: nothing is embedded again there.
    await elsewhere.getByTestId('embedded')
      .getByText(`${names.length} / ${names.length} items embedded · ${names.length} from the cache`)
      .waitFor({ timeout: 300_000 });
    // Saved in that browser as a zip project: reopening needs nothing.
    await elsewhere.reload();
    await resumeFirst(elsewhere);
    await waitCount(elsewhere, 1);
    assert.deepEqual(elsewhereProblems, []);
  } finally {
    await browser.close();
    await server.close();
  }
});

test('when the browser refuses to save, labeling goes on and the project file is offered', { timeout: 600_000 }, async () => {
  const server = await serve();
  const browser = await launch();
  try {
    const gt = await truth('emoji');
    const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1200, height: 900 } });
    // As in a browser with site data turned off.
    await context.addInitScript(() => {
      Object.defineProperty(window, 'indexedDB', {
        get() { throw new DOMException('The user denied permission to access the database.', 'SecurityError'); },
      });
    });
    const page = await context.newPage();
    await page.goto(server.url);
    await page.getByText(/Saved projects cannot be read: this browser does not let the page save/).waitFor();
    await page.getByRole('button', { name: 'Dismiss' }).click();
    await page.getByRole('button', { name: 'Try the demo' }).click();
    await page.getByRole('group', { name: 'Classes' }).waitFor({ timeout: 300_000 });
    const status = page.getByTestId('save-status');
    await status.getByText(/Not saved in this browser/).waitFor();
    const answered = [];
    await answer(page, gt, answered);
    await answer(page, gt, answered);
    const [d] = await Promise.all([
      page.waitForEvent('download'),
      status.getByRole('button', { name: 'Download project file' }).click(),
    ]);
    assert.deepEqual(answersOf(JSON.parse(await readFile(await d.path(), 'utf8'))), answered);
  } finally {
    await browser.close();
    await server.close();
  }
});

test('a full disk mid-session: the answer still counts, the reason is shown, the file is offered', { timeout: 600_000 }, async () => {
  const server = await serve();
  const browser = await launch();
  try {
    const gt = await truth('emoji');
    const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1200, height: 900 } });
    // Writes fail as on a full disk once the test says so.
    await context.addInitScript(() => {
      const put = IDBObjectStore.prototype.put;
      IDBObjectStore.prototype.put = function () {
        if (window.__full) throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
        return put.apply(this, arguments);
      };
    });
    const page = await context.newPage();
    await page.goto(server.url);
    await page.getByRole('button', { name: 'Try the demo' }).click();
    await page.getByRole('group', { name: 'Classes' }).waitFor({ timeout: 300_000 });
    const answered = [];
    await answer(page, gt, answered);
    await page.getByTestId('save-status').getByText('Every answer is saved').waitFor();
    await page.evaluate(() => { window.__full = true; });
    await answer(page, gt, answered);
    await page.getByText(/storage for this page is full/).first().waitFor();
    const status = page.getByTestId('save-status');
    await status.getByText(/Not saved in this browser/).waitFor();
    await answer(page, gt, answered);
    const [d] = await Promise.all([
      page.waitForEvent('download'),
      status.getByRole('button', { name: 'Download project file' }).click(),
    ]);
    assert.deepEqual(answersOf(JSON.parse(await readFile(await d.path(), 'utf8'))), answered);
    // What was saved before the disk filled is still there.
    await page.evaluate(() => { window.__full = false; });
    await page.reload();
    await page.getByText(`1 of ${gt.size} labeled`).waitFor();
  } finally {
    await browser.close();
    await server.close();
  }
});

test('a text project keeps its names and texts as blobs; one saved as strings before still reopens', { timeout: 600_000 }, async () => {
  const server = await serve();
  const browser = await launch();
  const origin = new URL(server.url).origin;
  try {
    const dir = await mkdtemp(join(tmpdir(), 'quarry-texts-'));
    const lines = Array.from({ length: 30 }, (_, i) => `sentence ${i + 1}: ${i % 2 ? 'a cat on a mat' : 'a car on a road'} ✓`);
    const file = join(dir, 'lines.txt');
    await writeFile(file, `${lines.join('\n')}\n`);
    const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1200, height: 900 } });
    const page = await context.newPage();
    const problems = watch(page, origin);
    await page.goto(server.url);
    await page.getByTestId('open-text').setInputFiles(file);
    await page.getByRole('textbox', { name: 'Classes' }).fill('cats\ncars');
    await page.getByRole('button', { name: 'Start labeling' }).click();
    await page.getByRole('group', { name: 'Classes' }).waitFor({ timeout: 300_000 });
    for (const [i, key] of ['1', '2'].entries()) {
      await page.getByTestId('item-text').waitFor();
      await page.keyboard.press(key);
      await waitCount(page, i + 1);
    }
    // The one record of the project's items: names and texts as JSON in blobs, which the
    // page turns back into strings, as a project saved before 2026-12-05 has them.
    const stored = await page.evaluate(() => new Promise((ok, fail) => {
      const r = indexedDB.open('quarry');
      r.onerror = () => fail(r.error);
      r.onsuccess = () => {
        const tx = r.result.transaction('items', 'readwrite');
        const items = tx.objectStore('items');
        const cursor = items.openCursor();
        cursor.onsuccess = async () => {
          const { key, value } = cursor.result;
          const kinds = [value.names, value.texts].map((v) => (v instanceof Blob ? 'blob' : typeof v));
          const [names, texts] = await Promise.all([value.names.text(), value.texts.text()]);
          const tx2 = r.result.transaction('items', 'readwrite');
          tx2.objectStore('items').put({ ...value, names, texts }, key);
          tx2.oncomplete = () => { r.result.close(); ok({ kinds, names: JSON.parse(names), texts: JSON.parse(texts) }); };
          tx2.onerror = () => fail(tx2.error);
        };
        cursor.onerror = () => fail(cursor.error);
      };
    }));
    assert.deepEqual(stored.kinds, ['blob', 'blob']);
    assert.deepEqual(stored.names, lines.map((_, i) => `#${i + 1}`));
    assert.deepEqual(stored.texts, lines);
    await page.reload();
    await resumeFirst(page);
    await waitCount(page, 2);
    const shown = await page.getByTestId('item-text').textContent();
    assert.ok(lines.some((l) => l.startsWith(shown.replace(/…$/, ''))), `"${shown}" is none of the texts`);
    const { json } = await projectFile(page);
    assert.equal(json.session.items.length, lines.length);
    assert.equal(json.session.answers.length, 2);
    assert.deepEqual(problems, []);
  } finally {
    await browser.close();
    await server.close();
  }
});

// The embedding workers write the cache while the person answers. Chromium 156 was seen to run
// the database's read-write transactions one at a time, whatever their stores, and a worker busy
// embedding hears its transaction's events only seconds later: before each transaction was
// committed as soon as it was issued (`idb::done_issuing`), the saves of answers queued behind
// the cache's writes (6-11 s) and passed the 10 s limit ("can no longer be saved": CI, and 4 of
// 5 runs on 2 cores).
test('answers given while the model is still embedding are saved, not queued behind the cache', { timeout: 600_000 }, async () => {
  const server = await serve();
  const browser = await launch();
  try {
    const { demo, topicOf } = await topicsDemo();
    const page = await browser.newPage();
    // How long each of the page's saves took, from its transaction to `complete` (printed).
    await page.addInitScript(() => {
      const open = IDBDatabase.prototype.transaction;
      window.saves = [];
      IDBDatabase.prototype.transaction = function (names, mode, options) {
        const tx = open.call(this, names, mode, options);
        if (mode === 'readwrite' && [].concat(names).includes('progress')) {
          const t0 = performance.now();
          tx.addEventListener('complete', () => window.saves.push(performance.now() - t0));
        }
        return tx;
      };
    });
    const problems = watch(page, new URL(server.url).origin);
    await page.goto(server.url);
    await page.getByRole('button', { name: 'Try a text demo (702 sentences, 7 topics)' }).click();
    await page.getByRole('group', { name: 'Classes', exact: true }).waitFor({ timeout: 300_000 });
    const N = 20;
    for (let i = 0; i < N; i++) {
      const text = await page.getByTestId('item-text').textContent();
      await pressClass(page, demo.classes, topicOf.get(text));
      await waitCount(page, i + 1);
    }
    const embedded = await page.getByTestId('embedded').textContent();
    // The last save has ended (saved, or failed and said why).
    await page.waitForFunction(() => !document.querySelector('[data-testid=save-status]')?.textContent.includes('Saving'));
    assert.deepEqual(problems, []);
    assert.match(await page.getByTestId('save-status').textContent(), /Every answer is saved/);
    // What the browser holds: the project's summary counts every answer.
    const stored = await page.evaluate(() => new Promise((ok, fail) => {
      const req = indexedDB.open('quarry');
      req.onerror = () => fail(req.error);
      req.onsuccess = () => {
        const all = req.result.transaction('projects').objectStore('projects').getAll();
        all.onsuccess = () => ok(all.result.map((s) => JSON.parse(s)));
      };
    }));
    assert.equal(stored.length, 1);
    assert.equal(stored[0].labeled, N);
    const saves = await page.evaluate(() => window.saves);
    const slowest = Math.max(...saves);
    console.log(`${N} answers while embedding (at the last: ${embedded}); slowest save ${slowest.toFixed(0)} ms of ${saves.length}`);
    // Not a speed target: a save queued behind the cache waits for seconds (6-11 s measured
    // before the fix, against 60-70 ms after), and at 10 s the page stops saving. A run where
    // the queue happened to stay under the limit is caught here.
    assert.ok(slowest < 5_000, `a save waited ${slowest.toFixed(0)} ms`);
  } finally {
    await browser.close();
    await server.close();
  }
});
