// End to end with the person's own images: a folder (class folders + unlabeled files + junk + a
// corrupt image) and a zip; the setup screen; labeling while embedding; class add/rename/merge
// and "none of these".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, copyFile, writeFile, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launch, serve, truth, watch, storedZip, pressClass, ROOT } from './harness.mjs';

const IMAGES = join(ROOT, 'assets/demo/emoji/images');
const SHORT = { 'animals & nature': 'animals', 'food & drink': 'food', 'travel & places': 'travel' };

/** Up to `n` demo images per class, by ground truth: Map(short class -> [file]). */
async function byClass(n) {
  const gt = await truth('emoji');
  const out = new Map();
  for (const [item, label] of gt) {
    const list = out.get(SHORT[label]) ?? [];
    if (list.length < n) list.push(item);
    out.set(SHORT[label], list);
  }
  return { gt, out };
}

async function openPage(browser, server) {
  const page = await browser.newPage({ acceptDownloads: true, viewport: { width: 1200, height: 900 } });
  const problems = watch(page, new URL(server.url).origin);
  await page.goto(server.url);
  return { page, problems };
}

const labeledCount = (page) => page.getByTestId('labeled-count').textContent();

/** Answers the current item from ground truth (`classes` = button order, short names). */
async function answerFromTruth(page, gt, classes) {
  const name = (await page.locator('.item-name').textContent()).split('/').pop();
  const label = SHORT[gt.get(name)];
  const before = await labeledCount(page);
  const k = classes.indexOf(label);
  if (k < 0) {
    await page.keyboard.press('n');
    await page.waitForFunction((b) => document.querySelector('.item-name')?.textContent !== b, name);
  } else {
    await pressClass(page, classes, label);
    await page.waitForFunction((b) => document.querySelector('[data-testid=labeled-count]').textContent !== b, before);
  }
}

test('a folder with class folders, unlabeled images, junk and a corrupt image', { timeout: 600_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'quarry-folder-'));
  const server = await serve();
  const browser = await launch();
  try {
    const { gt, out } = await byClass(12);
    const root = join(dir, 'shots');
    await mkdir(join(root, 'animals'), { recursive: true });
    await mkdir(join(root, 'food'), { recursive: true });
    let given = 0;
    for (const [cls, files] of out) {
      for (const [i, f] of files.entries()) {
        // Three of each of animals and food go in their class folder; the rest at the top.
        const sub = i < 3 && cls !== 'travel' ? cls : '';
        if (sub) given++;
        await copyFile(join(IMAGES, f), join(root, sub, f));
      }
    }
    await writeFile(join(root, 'notes.txt'), 'not an image');
    await writeFile(join(root, 'broken.png'), 'this is not a PNG');
    const images = [...out.values()].flat().length + 1;

    const { page, problems } = await openPage(browser, server);
    await page.getByTestId('open-folder').setInputFiles(root);
    const summary = page.getByTestId('setup-summary');
    await summary.waitFor();
    assert.equal(await summary.textContent(), `${images} images; ${given} come with a label.`);
    await page.getByText('1 files were left out').waitFor();
    const classes = page.getByRole('textbox', { name: 'Classes' });
    assert.equal(await classes.inputValue(), 'animals\nfood');
    // One class is not enough.
    await classes.fill('animals');
    await page.getByRole('button', { name: 'Start labeling' }).click();
    await page.getByRole('alert').getByText('at least two classes').waitFor();
    await page.getByRole('button', { name: 'Dismiss' }).click();
    await classes.fill('animals\nfood\ntravel');
    await page.getByRole('button', { name: 'Start labeling' }).click();

    await page.getByRole('group', { name: 'Classes' }).waitFor({ timeout: 300_000 });
    // The given labels count from the start; the corrupt image is reported, not fatal.
    await page.waitForFunction((g) => document.querySelector('[data-testid=labeled-count]').textContent.startsWith(`${g} /`), given);
    await page.getByText('notes on the import').waitFor({ timeout: 120_000 });
    await page.locator('.notices summary').click();
    await page.getByText(/broken\.png was left out: .*not a readable image/).waitFor();

    const order = ['animals', 'food', 'travel'];
    for (let i = 0; i < 8; i++) await answerFromTruth(page, gt, order);
    assert.match(await labeledCount(page), new RegExp(`^${given + 8} /`));

    // Classes: add "plants", rename "food" → "food & drink", merge "plants" into "animals".
    await page.getByRole('textbox', { name: 'New class name' }).fill('plants');
    await page.getByRole('button', { name: 'Add class' }).click();
    // The class list shows every class (with four, the answer buttons may show a candidate
    // set without the one looked for).
    await page.getByRole('button', { name: 'Edit class plants' }).waitFor();
    await page.getByRole('button', { name: 'Edit class food' }).click();
    await page.getByRole('textbox', { name: 'New name' }).fill('food & drink');
    await page.getByRole('button', { name: 'Rename' }).click();
    await page.getByRole('button', { name: 'Edit class food & drink' }).waitFor();
    // Label one item "plants" (key 4), then merge plants into animals: the label moves.
    const before = await labeledCount(page);
    await page.keyboard.press('4');
    await page.waitForFunction((b) => document.querySelector('[data-testid=labeled-count]').textContent !== b, before);
    await page.getByRole('button', { name: 'Edit class plants' }).click();
    await page.getByRole('combobox', { name: 'Merge into' }).selectOption({ label: 'animals' });
    await page.getByRole('button', { name: 'Merge into' }).click();
    // The merge is shown once it is saved; the class list is where it shows (the answer
    // buttons may hide "plants" earlier: with four classes they show a candidate set).
    await page.getByRole('button', { name: 'Edit class plants' }).waitFor({ state: 'detached' });
    await page.getByRole('button', { name: 'plants', exact: true }).waitFor({ state: 'detached' });
    const names = await page.locator('.per-class .class-name').allTextContents();
    assert.deepEqual(names, ['animals', 'food & drink', 'travel']);
    const counts = (await page.locator('.per-class .n').allTextContents()).map(Number);
    assert.equal(counts.reduce((a, b) => a + b, 0), given + 9);
    // The learner follows: a fresh queue arrives and labeling goes on with three classes.
    await answerFromTruth(page, gt, order);
    // "None of these" takes an item out of the queue without a class.
    const current = await page.locator('.item-name').textContent();
    await page.getByRole('button', { name: /None of these/ }).click();
    await page.waitForFunction((c) => document.querySelector('.item-name')?.textContent !== c, current);
    await page.getByText('1 none of these').waitFor();
    const expected = ['broken.png', 'at least two classes'];
    assert.deepEqual(problems.filter((p) => !expected.some((e) => p.includes(e))), []);
  } finally {
    await browser.close();
    await server.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('a zip of class folders is read in the browser', { timeout: 600_000 }, async () => {
  const server = await serve();
  const browser = await launch();
  const dir = await mkdtemp(join(tmpdir(), 'quarry-zip-'));
  try {
    const { gt, out } = await byClass(10);
    const files = [];
    for (const [cls, list] of out) {
      for (const [i, f] of list.entries()) {
        const name = i < 2 ? `set/${cls}/${f}` : `set/unlabeled/${f}`;
        files.push({ name, data: await readFile(join(IMAGES, f)) });
      }
    }
    files.push({ name: 'set/README.txt', data: Buffer.from('hello') });
    const zip = join(dir, 'emoji.zip');
    await writeFile(zip, storedZip(files));

    const { page, problems } = await openPage(browser, server);
    await page.getByTestId('open-files').setInputFiles(zip);
    const summary = page.getByTestId('setup-summary');
    await summary.waitFor();
    assert.equal(await summary.textContent(), `${files.length - 1} images; 6 come with a label.`);
    await page.getByText('1 entries that are not images were left out').waitFor();
    assert.equal(await page.getByRole('textbox', { name: 'Classes' }).inputValue(), 'animals\nfood\ntravel');
    await page.getByRole('button', { name: 'Start labeling' }).click();
    await page.getByRole('group', { name: 'Classes' }).waitFor({ timeout: 300_000 });
    const order = ['animals', 'food', 'travel'];
    for (let i = 0; i < 6; i++) await answerFromTruth(page, gt, order);
    assert.match(await labeledCount(page), /^12 \/ 30$/);
    // Items show from object URLs of the unzipped entries.
    assert.match(await page.locator('.item-image').getAttribute('src'), /^blob:/);
    // Search finds an item by name and asks it now.
    await page.getByRole('searchbox', { name: 'Search the pool' }).fill('unlabeled/');
    const hit = page.locator('.hits li').filter({ hasText: /unlabeled$/ }).first();
    const target = await hit.locator('.hit').textContent();
    await hit.locator('.hit').click();
    await page.waitForFunction((t) => document.querySelector('.item-name')?.textContent === t, target);
    assert.deepEqual(problems, []);
  } finally {
    await browser.close();
    await server.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('images dropped on the start screen open the setup screen', { timeout: 300_000 }, async () => {
  const server = await serve();
  const browser = await launch();
  try {
    const { out } = await byClass(4);
    const files = [];
    for (const list of out.values()) {
      for (const f of list) files.push({ name: f, b64: (await readFile(join(IMAGES, f))).toString('base64') });
    }
    const { page, problems } = await openPage(browser, server);
    const data = await page.evaluateHandle((list) => {
      const dt = new DataTransfer();
      for (const { name, b64 } of list) {
        const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
        dt.items.add(new File([bytes], name, { type: 'image/png' }));
      }
      return dt;
    }, files);
    await page.locator('.start').dispatchEvent('dragover', { dataTransfer: data });
    await page.locator('.start').dispatchEvent('drop', { dataTransfer: data });
    const summary = page.getByTestId('setup-summary');
    await summary.waitFor();
    assert.equal(await summary.textContent(), `${files.length} images; 0 come with a label.`);
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.getByRole('button', { name: 'Try the demo' }).waitFor();
    assert.deepEqual(problems, []);
  } finally {
    await browser.close();
    await server.close();
  }
});

test('a multi-label project: sets of classes, none, export', { timeout: 600_000 }, async () => {
  const server = await serve();
  const browser = await launch();
  try {
    const { gt, out } = await byClass(6);
    const files = [...out.values()].flat().map((f) => join(IMAGES, f));
    const { page, problems } = await openPage(browser, server);
    await page.getByTestId('open-files').setInputFiles(files);
    await page.getByTestId('setup-summary').waitFor();
    await page.getByRole('checkbox', { name: /multi-label/ }).check();
    await page.getByRole('textbox', { name: 'Classes' }).fill('animals\nfood\ntravel\nfavourite');
    await page.getByRole('button', { name: 'Start labeling' }).click();
    await page.getByRole('group', { name: 'Classes' }).waitFor({ timeout: 300_000 });
    const order = ['animals', 'food', 'travel', 'favourite'];
    const counter = page.getByTestId('labeled-count');
    const expected = [];
    for (let i = 0; i < 6; i++) {
      const name = await page.locator('.item-name').textContent();
      const before = await counter.textContent();
      let set = [SHORT[gt.get(name)]];
      if (i % 2 === 1) set.push('favourite');
      if (i === 4) set = [];
      // The model's guess may come toggled already: toggle what differs from the set wanted.
      for (const c of order) {
        const pressed = (await page.getByRole('button', { name: c, exact: true }).getAttribute('aria-pressed')) === 'true';
        if (pressed !== set.includes(c)) await page.keyboard.press(String(order.indexOf(c) + 1));
      }
      // The chosen classes show as pressed until saved.
      for (const c of set) assert.equal(await page.getByRole('button', { name: c, exact: true }).getAttribute('aria-pressed'), 'true');
      await page.keyboard.press('Enter');
      await page.waitForFunction((b) => document.querySelector('[data-testid=labeled-count]').textContent !== b, before);
      expected.push(`${name},${set.sort((a, b) => order.indexOf(a) - order.indexOf(b)).join(';')}`);
    }
    assert.match(await counter.textContent(), /^6 \//);
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Export labels (CSV)' }).click(),
    ]);
    const csv = (await readFile(await download.path(), 'utf8')).trim().split('\n');
    assert.equal(csv[0], 'item,labels');
    assert.deepEqual(csv.slice(1), expected);
    // The classifier of a multi-label project: one sigmoid per class, said in its metadata
    // (core/tests/classifier_export.rs checks the numbers).
    const [onnxDownload] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Export classifier (ONNX)' }).click(),
    ]);
    assert.equal(onnxDownload.suggestedFilename(), 'quarry-classifier.onnx');
    const onnx = await readFile(await onnxDownload.path());
    assert.ok(onnx.length > 1_000_000, `classifier is ${onnx.length} bytes`);
    for (const s of ['multi_label', 'Sigmoid', '["animals","food","travel","favourite"]']) {
      assert.ok(onnx.includes(Buffer.from(s)), `the classifier holds ${s}`);
    }
    assert.deepEqual(problems, []);
  } finally {
    await browser.close();
    await server.close();
  }
});
