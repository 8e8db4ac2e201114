// Embeddings made outside the tab: `quarry embed` embeds a folder of images natively; "Open
// embeddings…" keeps them in the browser; the same folder opened next is labeled with nothing
// left to embed (every item from the cache): matched by name (one file's bytes changed after it
// was embedded: still its row, found without reading it), or by content (one file renamed). A
// damaged file is refused by name and reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, mkdir, copyFile, readdir, readFile, rename, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launch, serve, watch, ROOT } from './harness.mjs';

/** The `quarry` binary (the native tests build it; built here if they did not run). */
function quarry() {
  const bin = join(ROOT, 'target/debug/quarry');
  if (!existsSync(bin)) execFileSync('cargo', ['build', '-q', '-p', 'quarry-cli'], { cwd: ROOT, stdio: 'inherit' });
  return bin;
}

test('quarry embed, then Open embeddings…: the folder is labeled with nothing left to embed', { timeout: 600_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'quarry-vectors-'));
  const server = await serve();
  const browser = await launch();
  try {
    const images = join(dir, 'shots');
    await mkdir(images);
    const all = (await readdir(join(ROOT, 'assets/demo/emoji/images'))).sort().slice(0, 30);
    for (const f of all) await copyFile(join(ROOT, 'assets/demo/emoji/images', f), join(images, f));
    const file = join(dir, 'shots.safetensors');
    execFileSync(quarry(), ['embed', images, '--out', file], { stdio: 'pipe' });
    // The same run in two shards, opened together below.
    const shards = [1, 2].map((i) => join(dir, `shots-${i}.safetensors`));
    shards.forEach((out, i) => execFileSync(quarry(), ['embed', images, '--out', out, '--shard', `${i + 1}/2`], { stdio: 'pipe' }));
    // Changed after embedding (bytes after the PNG's end: the same picture, another hash): found
    // by name. Renamed: found by content.
    await writeFile(join(images, all[0]), Buffer.concat([await readFile(join(images, all[0])), Buffer.from('trailing bytes')]));
    await rename(join(images, all[1]), join(images, 'renamed.png'));

    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const problems = watch(page, new URL(server.url).origin);
    const logs = [];
    page.on('console', (m) => logs.push(m.text()));
    await page.goto(server.url);
    // A damaged file first: refused with the file's name and the reason.
    const bytes = await readFile(file);
    await writeFile(join(dir, 'cut.safetensors'), bytes.subarray(0, bytes.length - 100));
    await page.getByTestId('open-embeddings').setInputFiles(join(dir, 'cut.safetensors'));
    await page.getByRole('alert').getByText(/cut\.safetensors: the file is cut short/).waitFor();
    await page.getByRole('button', { name: 'Dismiss' }).click();

    await page.getByTestId('open-embeddings').setInputFiles(shards);
    await page.getByTestId('embeddings-status').getByText(/^30 embeddings from shots-1\.safetensors, shots-2\.safetensors are ready/).waitFor({ timeout: 60_000 });
    await page.getByTestId('open-folder').setInputFiles(images);
    await page.getByTestId('setup-summary').waitFor();
    await page.getByRole('textbox', { name: 'Classes' }).fill('animals\nfood\ntravel');
    await page.getByRole('button', { name: 'Start labeling' }).click();
    await page.getByRole('group', { name: 'Classes' }).waitFor({ timeout: 120_000 });
    await page.waitForFunction(() => !document.querySelector('[data-testid=embedding-strip]'), null, { timeout: 120_000 });
    const deadline = Date.now() + 60_000;
    let line;
    while (!(line = logs.find((l) => l.startsWith('quarry: embedding:'))) && Date.now() < deadline) await page.waitForTimeout(200);
    console.log(line);
    assert.match(line ?? '', /^quarry: embedding: 30 items \(30 from the cache\)/);
    const expected = ['cut.safetensors'];
    assert.deepEqual(problems.filter((p) => !expected.some((e) => p.includes(e))), []);
  } finally {
    await browser.close();
    await server.close();
    await rm(dir, { recursive: true, force: true });
  }
});
