// A pool opened from an embeddings file with nothing left to embed but one text, larger than one
// request of jobs per embedder (4,096): every item reaches the learner, all but that one from the
// cache, matched by name without being read; labeling goes on. The embedding workers build the
// model only when an item needs it: the one that embeds the extra text holds it, the other not. The file is written here as `quarry embed` would write
// it for the bundled text model (its model key; names #1…#N; content hashes), with seeded rows.
// And when the cache lost a named row before the start, that item is embedded in the tab.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { answerOne, launch, serve, watch } from './harness.mjs';

/** The bundled all-MiniLM-L6-v2's model key (as `quarry embed --model minilm` writes it). */
const MINILM_KEY = '9d8555163a9d05ce55191d20a906d0ef93c38e28e986971a6609ec6482ca59a1';

/** `quarry_core::cache::digest` of one part: SHA-256 of its length (u64 LE) and its bytes. */
function digest(text) {
  const bytes = Buffer.from(text);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(bytes.length));
  return createHash('sha256').update(len).update(bytes).digest('hex');
}

/** A safetensors embeddings file of `texts` (384 f16 values each, multiples of 1/8 from a
 * seeded generator: exact in f16). */
function embeddingsFile(texts) {
  const dim = 384;
  const data = Buffer.alloc(texts.length * dim * 2);
  let seed = 7;
  for (let i = 0; i < texts.length * dim; i++) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    const k = (seed >> 8) % 16 - 8; // −8…7, an eighth each: −1…0.875
    // f16 of k/8: sign, exponent, mantissa of a small multiple of 1/8.
    const v = k / 8;
    let h = 0;
    if (v !== 0) {
      const a = Math.abs(v);
      const e = Math.floor(Math.log2(a));
      h = ((e + 15) << 10) | Math.round((a / 2 ** e - 1) * 1024);
      if (v < 0) h |= 0x8000;
    }
    data.writeUInt16LE(h, 2 * i);
  }
  const meta = {
    items: JSON.stringify(texts.map((_, i) => `#${i + 1}`)),
    hashes: JSON.stringify(texts.map(digest)),
    model_key: MINILM_KEY,
    format_version: '1',
    left_out: '[]',
  };
  let header = Buffer.from(JSON.stringify({
    __metadata__: meta,
    embeddings: { dtype: 'F16', shape: [texts.length, dim], data_offsets: [0, data.length] },
  }));
  header = Buffer.concat([header, Buffer.alloc((8 - (header.length % 8)) % 8, 0x20)]);
  const n = Buffer.alloc(8);
  n.writeBigUInt64LE(BigInt(header.length));
  return Buffer.concat([n, header, data]);
}

/** Opens `texts.safetensors` (of `n` rows) and then `texts.txt` from `dir`, running `between`
 * in between, starts labeling with three classes, and returns the embedding run's summary line
 * once the run is over (the page's console line `quarry: embedding: …`). */
async function labelFromFile(page, dir, n, between = async () => {}) {
  const logs = [];
  page.on('console', (m) => logs.push(m.text()));
  await page.getByTestId('open-embeddings').setInputFiles(join(dir, 'texts.safetensors'));
  await page.getByTestId('embeddings-status').getByText(new RegExp(`^${n} embeddings from texts\\.safetensors are ready`)).waitFor({ timeout: 300_000 });
  await between();
  await page.getByTestId('open-text').setInputFiles(join(dir, 'texts.txt'));
  await page.getByTestId('setup-summary').waitFor();
  await page.getByRole('textbox', { name: 'Classes' }).fill('one\ntwo\nthree');
  await page.getByRole('button', { name: 'Start labeling' }).click();
  await page.getByRole('group', { name: 'Classes', exact: true }).waitFor({ timeout: 300_000 });
  await page.getByTestId('embedding-strip').waitFor({ state: 'detached', timeout: 300_000 });
  const deadline = Date.now() + 60_000;
  let line;
  while (!(line = logs.find((l) => l.startsWith('quarry: embedding:'))) && Date.now() < deadline) await page.waitForTimeout(200);
  console.log(line);
  return line ?? '';
}

test('10,000 texts from an embeddings file: every item in the learner, one embedded, the model built only where needed', { timeout: 600_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'quarry-scale-'));
  const server = await serve();
  const browser = await launch();
  try {
    const texts = Array.from({ length: 10_000 }, (_, i) => `synthetic text number ${i} about topic ${i % 7}`);
    await writeFile(join(dir, 'texts.safetensors'), embeddingsFile(texts));
    // One text more than the file holds: embedded in the tab.
    await writeFile(join(dir, 'texts.txt'), `${texts.join('\n')}\na text the file does not hold\n`);
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const problems = watch(page, new URL(server.url).origin);
    await page.goto(server.url);
    const line = await labelFromFile(page, dir, 10_000);
    const deadline = Date.now() + 60_000;
    // All from the cache, by name, but the extra text: embedded.
    assert.match(line, /^quarry: embedding: 10001 items \(10000 from the cache\) by \d+ workers/);
    // Each embedder's wasm memory, as it reported at its end: the text model built takes over
    // 200 MiB; the embedders that had nothing to embed stay far below.
    const mib = line.match(/wasm memory per worker: ([\d, ]+) MiB/)[1].split(', ').map(Number);
    console.log(`embedders' wasm memory: ${mib.join(', ')} MiB`);
    assert.ok(mib.length >= 2, 'two embedders or more');
    assert.equal(mib.filter((m) => m > 200).length, 1, 'one embedder built the model');
    assert.equal(mib.filter((m) => m < 120).length, mib.length - 1, 'the other embedders did not');
    // The run over, the embedders are terminated (their memory given back): the learner, with
    // 10,001 rows, is the one worker left.
    while (page.workers().length > 1 && Date.now() < deadline) await page.waitForTimeout(200);
    const left = [];
    for (const w of page.workers()) {
      left.push(await w.evaluate(async () => [self.name, (await wasm_bindgen({ module_or_path: './worker_bg.wasm' })).memory.buffer.byteLength / 2 ** 20]));
    }
    assert.equal(left.length, 1, `workers left: ${JSON.stringify(left)}`);
    assert.equal(left[0][0], 'quarry learner');
    assert.ok(left[0][1] < 120, `the learner's wasm memory: ${left[0][1]} MiB`);
    await answerOne(page);
    assert.deepEqual(problems, []);
  } finally {
    await browser.close();
    await server.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('rows an embeddings file named but the cache lost before the start: those items are embedded in the tab', { timeout: 600_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'quarry-scale-'));
  const server = await serve();
  const browser = await launch();
  try {
    const texts = Array.from({ length: 24 }, (_, i) => `a short text number ${i} about topic ${i % 3}`);
    await writeFile(join(dir, 'texts.safetensors'), embeddingsFile(texts));
    await writeFile(join(dir, 'texts.txt'), `${texts.join('\n')}\n`);
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const problems = watch(page, new URL(server.url).origin);
    await page.goto(server.url);
    // The browser (or another tab's cache limit) removes the rows: every named look-up misses.
    const line = await labelFromFile(page, dir, 24, () => page.evaluate(() => new Promise((ok, fail) => {
      const r = indexedDB.open('quarry');
      r.onerror = () => fail(r.error);
      r.onsuccess = () => {
        const names = ['embedding-blocks', 'embedding-block-hashes', 'embedding-block-use'];
        const tx = r.result.transaction(names, 'readwrite');
        for (const n of names) tx.objectStore(n).clear();
        tx.oncomplete = () => { r.result.close(); ok(); };
        tx.onerror = () => fail(tx.error);
      };
    })));
    assert.match(line, /^quarry: embedding: 24 items \(0 from the cache\)/);
    await answerOne(page);
    assert.deepEqual(problems, []);
  } finally {
    await browser.close();
    await server.close();
    await rm(dir, { recursive: true, force: true });
  }
});
