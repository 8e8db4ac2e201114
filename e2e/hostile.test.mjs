// Hostile and damaged inputs, made at test time, as an adversarial user would try them: each
// ends in a clear message naming the file (or line) and the reason, and the rest goes on.
//   - a CSV whose quote never closes: the line that opened it is named, the rows before it
//     are offered;
//   - a zip whose entry names climb out of the folder (`../../evil.png`, `/abs/x.png`,
//     `C:\win\y.png`): taken in as plain relative names, never with `..`;
//   - a zip bomb (64 MiB of zeros deflated to 64 KiB): refused before it is inflated;
//   - a truncated JPEG (which decoders turn into a partial picture without a word): listed as
//     left out with the reason, the other images embedded;
//   - a model whose output is NaN: said once, and the model is used no further;
//   - a huge image that exhausts an embedding worker's memory: the worker dies, the image is
//     listed as left out with the reason, a new worker embeds the rest;
//   - a 5 MB single-line text: the page stays responsive (the card shows the first
//     characters and says how many more there are);
//   - the learner worker fails: the pool starts again from the embedding cache, every answer
//     kept, and labeling goes on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { crc32, deflateSync } from 'node:zlib';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { answerOne, launch, openDemo, serve, watch, zipOf, ROOT } from './harness.mjs';

const IMAGES = join(ROOT, 'assets/demo/emoji/images');

test('hostile inputs: an unclosed CSV quote, a zip-slip zip, a zip bomb', { timeout: 600_000 }, async () => {
  const server = await serve();
  const browser = await launch();
  const dir = await mkdtemp(join(tmpdir(), 'quarry-hostile-'));
  try {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const problems = watch(page, new URL(server.url).origin);
    await page.goto(server.url);

    // The quote opened on line 4 never closes.
    const csv = join(dir, 'broken.csv');
    await writeFile(csv, 'text,label\n"fine, quoted",a\nplain,b\n"broken,c\nlater,d\nmore,e\n');
    await page.getByTestId('open-text').setInputFiles(csv);
    await page.getByTestId('setup-summary').waitFor();
    assert.equal(await page.getByTestId('setup-summary').textContent(), '2 texts; 2 come with a label.');
    await page.getByText(/line 4 opens a quote \("\) that never closes/).waitFor();
    await page.goto(server.url);

    // Entry names that climb out of the folder.
    const png = (f) => readFile(join(IMAGES, f));
    const slip = join(dir, 'slip.zip');
    await writeFile(slip, zipOf([
      { name: '../../evil.png', data: await png('airplane.png') },
      { name: '/abs/x.png', data: await png('ant.png') },
      { name: 'C:\\win\\y.png', data: await png('apple.png') },
      { name: 'ok/z.png', data: await png('banana.png') },
    ]));
    await page.getByTestId('open-files').setInputFiles(slip);
    await page.getByTestId('setup-summary').waitFor();
    assert.match(await page.getByTestId('setup-summary').textContent(), /^4 images/);
    await page.getByRole('textbox', { name: 'Classes' }).fill('one\ntwo');
    await page.getByRole('button', { name: 'Start labeling' }).click();
    await page.getByRole('group', { name: 'Classes', exact: true }).waitFor({ timeout: 300_000 });
    const names = [];
    for (const q of ['evil', 'x.png', 'y.png', 'z.png']) {
      await page.getByRole('searchbox', { name: 'Search the pool' }).fill(q);
      names.push(await page.locator('.hits .hit').first().textContent());
    }
    assert.deepEqual(names, ['evil.png', 'abs/x.png', 'win/y.png', 'ok/z.png']);
    await page.getByRole('searchbox', { name: 'Search the pool' }).fill('..');
    assert.equal(await page.locator('.hits .hit').count(), 0);
    await page.goto(server.url);

    // A zip bomb: refused, named, before it is inflated.
    const bomb = join(dir, 'bomb.zip');
    await writeFile(bomb, zipOf([{ name: 'bomb.png', data: Buffer.alloc(64 << 20), deflate: true }]));
    await page.getByTestId('open-files').setInputFiles(bomb);
    const alert = page.getByRole('alert');
    await alert.getByText(/bomb\.png.*refused as a zip bomb/).waitFor({ timeout: 60_000 });
    console.log(await alert.textContent());
    await page.goto(server.url);

    // A JPEG cut at 60% (made by the browser's own encoder), among whole images.
    const jpeg = Buffer.from(await page.evaluate(async () => {
      const c = document.createElement('canvas');
      c.width = c.height = 96;
      const g = c.getContext('2d');
      for (let i = 0; i < 96; i += 8) { g.fillStyle = `hsl(${i * 4}, 70%, 50%)`; g.fillRect(i, 0, 8, 96); }
      const blob = await new Promise((ok) => c.toBlob(ok, 'image/jpeg', 0.9));
      return [...new Uint8Array(await blob.arrayBuffer())];
    }));
    const cut = join(dir, 'cut.zip');
    await writeFile(cut, zipOf([
      { name: 'whole.jpg', data: jpeg },
      { name: 'cut.jpg', data: jpeg.subarray(0, Math.floor(jpeg.length * 0.6)) },
      { name: 'ant.png', data: await png('ant.png') },
      { name: 'apple.png', data: await png('apple.png') },
    ]));
    await page.getByTestId('open-files').setInputFiles(cut);
    await page.getByTestId('setup-summary').waitFor();
    await page.getByRole('textbox', { name: 'Classes' }).fill('one\ntwo');
    await page.getByRole('button', { name: 'Start labeling' }).click();
    // Listed under the import notes (folded away).
    await page.getByText(/cut\.jpg was left out: .*cut short/).waitFor({ state: 'attached', timeout: 300_000 });
    await page.waitForFunction(() => /^4 \/ 4 items embedded/.test(document.querySelector('[data-testid=embedded]')?.textContent ?? ''), null, { timeout: 300_000 });
    assert.deepEqual(problems.filter((p) => !/zip bomb|cut short/.test(p)), []);
  } finally {
    await browser.close();
    await server.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('a model whose output is NaN: said once, and embedding stops', { timeout: 600_000 }, async () => {
  const server = await serve();
  const browser = await launch();
  try {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const problems = watch(page, new URL(server.url).origin);
    await page.goto(server.url);
    const names = readdirSync(IMAGES).sort().slice(0, 20);
    await page.getByTestId('open-files').setInputFiles(names.map((n) => join(IMAGES, n)));
    await page.getByTestId('setup-summary').waitFor();
    await page.getByTestId('open-model').setInputFiles(join(ROOT, 'core/tests/fixtures/nan_output.onnx'));
    await page.getByText(/Your model nan_output\.onnx \(Image model\)/).waitFor();
    await page.getByRole('textbox', { name: 'Classes' }).fill('animals\nfood\ntravel');
    await page.getByRole('button', { name: 'Start labeling' }).click();
    const alerts = page.getByRole('alert').getByText(/the model gives values that are not numbers \(NaN or infinite\) for .*: it cannot embed these items/);
    await alerts.first().waitFor({ timeout: 120_000 });
    // Every embedding worker stops at its first item; the page says it once.
    await page.waitForTimeout(1500);
    assert.equal(await alerts.count(), 1);
    const said = problems.filter((p) => p.includes('not numbers'));
    assert.ok(said.length >= 1 && said.length <= 4, `said ${said.length} times in the console (one per worker at most)`);
    assert.deepEqual(problems.filter((p) => !p.includes('not numbers')), []);
  } finally {
    await browser.close();
    await server.close();
  }
});

/** A PNG of `side` × `side` transparent pixels (RGBA): a few hundred kB that decode to
 * side² × 4 bytes. */
function hugePng(side) {
  const chunk = (type, data) => {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(data.length, 0);
    head.write(type, 4, 'latin1');
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
    return Buffer.concat([head, data, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(side, 0);
  ihdr.writeUInt32BE(side, 4);
  ihdr.set([8, 6, 0, 0, 0], 8); // 8 bits, RGBA, deflate, no filter method, no interlace
  const raw = Buffer.alloc((side * 4 + 1) * side); // every row: filter 0, then zeros
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw, { level: 9 })), chunk('IEND', Buffer.alloc(0)),
  ]);
}

test('an image that exhausts an embedding worker\'s memory: left out, a new worker goes on', { timeout: 600_000 }, async () => {
  const server = await serve();
  // Each wasm memory may grow to 320 MiB here (a device short of memory): the 8,000 × 8,000
  // image needs 256 MB to decode and 192 MB more to flatten, so its worker runs out of memory.
  const browser = await launch(['--js-flags=--wasm-max-mem-pages=5120']);
  const dir = await mkdtemp(join(tmpdir(), 'quarry-oom-'));
  try {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const problems = watch(page, new URL(server.url).origin);
    await page.goto(server.url);
    const names = readdirSync(IMAGES).sort().slice(0, 12);
    const huge = join(dir, 'huge.png');
    await writeFile(huge, hugePng(8000));
    // The huge image is among the first each worker takes.
    const files = [huge, ...names.map((n) => join(IMAGES, n))];
    await page.getByTestId('open-files').setInputFiles(files);
    await page.getByTestId('setup-summary').waitFor();
    await page.getByRole('textbox', { name: 'Classes' }).fill('animals\nfood\ntravel');
    await page.getByRole('button', { name: 'Start labeling' }).click();
    const left = page.getByText(/huge\.png was left out: the worker embedding it stopped \(.*\): it ran out of memory or crashed/);
    await left.waitFor({ state: 'attached', timeout: 300_000 });
    console.log(await left.textContent());
    await page.waitForFunction(() => /^13 \/ 13 items embedded/.test(document.querySelector('[data-testid=embedded]')?.textContent ?? ''), null, { timeout: 300_000 });
    // The other twelve reached the learner: labeling goes on over them.
    await page.getByRole('group', { name: 'Classes', exact: true }).waitFor();
    await answerOne(page);
    assert.equal(await page.getByText(/was left out/).count(), 1);
    // The dead worker's own error is the only complaint.
    assert.deepEqual(problems.filter((p) => !/unreachable|RuntimeError|memory|background worker/i.test(p)), []);
  } finally {
    await browser.close();
    await server.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('a 5 MB single-line text: the page stays responsive', { timeout: 600_000 }, async () => {
  const server = await serve();
  const browser = await launch();
  const dir = await mkdtemp(join(tmpdir(), 'quarry-long-'));
  try {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const problems = watch(page, new URL(server.url).origin);
    await page.goto(server.url);
    await page.evaluate(() => {
      window.longTasks = [];
      new PerformanceObserver((l) => l.getEntries().forEach((e) => window.longTasks.push(e.duration)))
        .observe({ type: 'longtask', buffered: true });
    });
    const words = 'lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor ';
    const line = words.repeat(Math.ceil(5e6 / words.length));
    const file = join(dir, 'long.txt');
    await writeFile(file, `a short text\n${line}\nanother short text\nthe last text\n`);
    await page.getByTestId('open-text').setInputFiles(file);
    await page.getByTestId('setup-summary').waitFor();
    assert.equal(await page.getByTestId('setup-summary').textContent(), '4 texts; 0 come with a label.');
    await page.getByRole('textbox', { name: 'Classes' }).fill('one\ntwo');
    await page.getByRole('button', { name: 'Start labeling' }).click();
    await page.getByRole('group', { name: 'Classes', exact: true }).waitFor({ timeout: 300_000 });
    await page.waitForFunction(() => /^4 \/ 4 items embedded/.test(document.querySelector('[data-testid=embedded]')?.textContent ?? ''), null, { timeout: 300_000 });
    // Answer until the long text is on the card: its first characters, and how many more.
    let shown = '';
    for (let i = 0; i < 4 && !shown.includes('more characters not shown'); i++) {
      shown = await page.getByTestId('item-text').textContent();
      if (!shown.includes('more characters not shown')) {
        await page.keyboard.press('1');
        await page.waitForTimeout(500);
      }
    }
    assert.match(shown, /^lorem ipsum dolor .*… \([\d,]+ more characters not shown\)$/);
    assert.ok(shown.length < 4_100, `${shown.length} characters drawn`);
    await page.keyboard.press('2');
    await page.waitForTimeout(1000);
    const long = await page.evaluate(() => window.longTasks);
    const worst = Math.max(0, ...long);
    console.log(`main-thread tasks over 50 ms: ${long.length}, the longest ${worst.toFixed(0)} ms (before the text was cut where drawn: 979 ms opening, 2,097 ms on the card, ~650 ms per answer)`);
    // Loose on purpose (a shared CI machine): before, the card alone held the page for 2 s.
    assert.ok(worst < 500, `the page was held for ${worst.toFixed(0)} ms`);
    assert.deepEqual(problems, []);
  } finally {
    await browser.close();
    await server.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('the learner fails: started again from the cache, every answer kept', { timeout: 600_000 }, async () => {
  const server = await serve();
  const browser = await launch();
  try {
    const { page, problems } = await openDemo(browser, server);
    for (let i = 0; i < 3; i++) await answerOne(page);
    const count = () => page.getByTestId('labeled-count').textContent();
    assert.match(await count(), /^3 \//);
    let learner;
    for (const w of page.workers()) if (await w.evaluate(() => self.name) === 'quarry learner') learner = w;
    assert.ok(learner, 'the learner worker is named');
    // An uncaught error in the worker, as a trap (out of memory, a panic) raises.
    await learner.evaluate(() => { setTimeout(() => { throw new Error('test: the learner stops'); }); });
    const notice = page.getByText(/the learner stopped \(.*test: the learner stops.*\) and was started again: it takes every embedding back from the cache\. Your 3 labels are kept\./);
    await notice.waitFor({ timeout: 120_000 });
    await page.getByTestId('embedding-strip').waitFor({ state: 'detached', timeout: 300_000 });
    await page.getByRole('group', { name: 'Classes', exact: true }).waitFor();
    assert.match(await count(), /^3 \//);
    // The new learner takes answers and learns from them.
    await answerOne(page);
    assert.match(await count(), /^4 \//);
    assert.deepEqual(problems.filter((p) => !/test: the learner stops|background worker/.test(p)), []);
  } finally {
    await browser.close();
    await server.close();
  }
});
