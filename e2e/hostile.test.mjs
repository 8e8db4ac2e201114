// Hostile and damaged inputs, made at test time, as an adversarial user would try them: each
// ends in a clear message naming the file (or line) and the reason, and the rest goes on.
//   - a CSV whose quote never closes: the line that opened it is named, the rows before it
//     are offered;
//   - a zip whose entry names climb out of the folder (`../../evil.png`, `/abs/x.png`,
//     `C:\win\y.png`): taken in as plain relative names, never with `..`;
//   - a zip bomb (64 MiB of zeros deflated to 64 KiB): refused before it is inflated;
//   - a truncated JPEG (which decoders turn into a partial picture without a word): listed as
//     left out with the reason, the other images embedded;
//   - a model whose output is NaN: said once, and the model is used no further.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launch, serve, watch, zipOf, ROOT } from './harness.mjs';

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
