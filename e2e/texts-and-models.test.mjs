// End to end: a CSV of texts (column choice, given labels, labeling, search) embedded with the
// bundled MiniLM; a custom ONNX model (the f32 image model loaded as "your own") and broken model
// files with specific messages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile, copyFile, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launch, serve, truth, watch, pressClass, ROOT } from './harness.mjs';

const csvField = (s) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

test('a CSV of texts: choose columns, label, search', { timeout: 600_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'quarry-text-'));
  const server = await serve();
  const browser = await launch();
  try {
    const demo = JSON.parse(await readFile(join(ROOT, 'assets/demo/topics/demo.json'), 'utf8'));
    const gt = await truth('topics');
    const rows = demo.items.slice(0, 120).map((id, i) => ({ id, text: demo.texts[i], topic: gt.get(id) }));
    const labelOf = new Map(rows.map((r) => [r.text, r.topic]));
    // Five rows come with their topic; the rest have an empty label cell.
    const lines = ['id,text,topic', ...rows.map((r, i) => [r.id, csvField(r.text), i < 5 ? r.topic : ''].join(','))];
    const file = join(dir, 'utterances.csv');
    await writeFile(file, lines.join('\n') + '\n');

    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const problems = watch(page, new URL(server.url).origin);
    await page.goto(server.url);
    await page.getByTestId('open-text').setInputFiles(file);
    const summary = page.getByTestId('setup-summary');
    await summary.waitFor();
    assert.equal(await summary.textContent(), '120 texts; 5 come with a label.');
    // The text and label columns were guessed; choosing "id" as the text changes the preview.
    const textColumn = page.getByRole('combobox', { name: 'Text column' });
    assert.equal(await textColumn.inputValue(), '1');
    assert.equal(await page.getByRole('combobox', { name: 'Label column' }).inputValue(), '2');
    await textColumn.selectOption({ label: 'id' });
    await page.locator('.preview li', { hasText: rows[0].id }).first().waitFor();
    await textColumn.selectOption({ label: 'text' });
    await page.locator('.preview li', { hasText: rows[0].text }).first().waitFor();
    assert.match(await page.getByTestId('model-name').textContent(), /MiniLM/);
    await page.getByRole('textbox', { name: 'Classes' }).fill(demo.classes.join('\n'));
    await page.getByRole('button', { name: 'Start labeling' }).click();

    await page.getByRole('group', { name: 'Classes' }).waitFor({ timeout: 300_000 });
    const counter = page.getByTestId('labeled-count');
    await page.waitForFunction(() => document.querySelector('[data-testid=labeled-count]').textContent.startsWith('5 /'));
    const answered = new Set(rows.slice(0, 5).map((r) => r.text));
    for (let i = 0; i < 10; i++) {
      const text = await page.getByTestId('item-text').textContent();
      answered.add(text);
      const topic = labelOf.get(text);
      assert.ok(topic, `unknown text ${text}`);
      const before = await counter.textContent();
      await pressClass(page, demo.classes, topic);
      await page.waitForFunction((b) => document.querySelector('[data-testid=labeled-count]').textContent !== b, before);
    }
    assert.match(await counter.textContent(), /^15 \/ 120$/);
    // Search inside the texts: pick an unlabeled hit, it becomes the current item. The word comes
    // from a row not answered above (which rows were asked depends on the embedding's pace).
    const row = rows.slice(60).find((r) => !answered.has(r.text));
    const word = row.text.split(/\s+/).find((w) => w.length > 5) ?? row.text;
    await page.getByRole('searchbox', { name: 'Search the pool' }).fill(word);
    const hit = page.locator('.hits li').filter({ hasText: /unlabeled$/ }).first();
    const target = await hit.locator('.hit').textContent();
    await hit.locator('.hit').click();
    await page.waitForFunction((t) => document.querySelector('[data-testid=item-text]')?.textContent === t, target);
    assert.deepEqual(problems, []);
  } finally {
    await browser.close();
    await server.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('your own ONNX model, and model files that cannot be used', { timeout: 600_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'quarry-model-'));
  const server = await serve();
  const browser = await launch();
  try {
    const gt = await truth('emoji');
    const names = [...gt.keys()].slice(0, 24);
    const images = [];
    for (const n of names) {
      await copyFile(join(ROOT, 'assets/demo/emoji/images', n), join(dir, n));
      images.push(join(dir, n));
    }
    const broken = join(dir, 'broken.onnx');
    await writeFile(broken, 'definitely not protobuf');

    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const problems = watch(page, new URL(server.url).origin);
    await page.goto(server.url);
    await page.getByTestId('open-files').setInputFiles(images);
    await page.getByTestId('setup-summary').waitFor();
    const model = page.getByTestId('model-name');
    assert.match(await model.textContent(), /EfficientNet-Lite0 \(bundled/);

    // Broken files: specific messages, the bundled model stays.
    const alert = page.getByRole('alert');
    await page.getByTestId('open-model').setInputFiles(broken);
    await alert.getByText(/broken\.onnx cannot be used as a model: .*not an ONNX file/).waitFor();
    await page.getByTestId('open-model').setInputFiles(join(ROOT, 'core/tests/fixtures/unknown_op.onnx'));
    await alert.getByText(/operator 'FancyPooling'.*cannot run/).waitFor();
    await page.getByTestId('open-model').setInputFiles(join(ROOT, 'assets/models/minilm_l6_int8.onnx'));
    await page.getByText(/Your model minilm_l6_int8\.onnx \(Text model\)/).waitFor();
    await page.getByRole('textbox', { name: 'Classes' }).fill('animals\nfood\ntravel');
    await page.getByRole('button', { name: 'Start labeling' }).click();
    await alert.getByText('a text model cannot embed images').waitFor();
    await page.getByRole('button', { name: 'Dismiss' }).click();

    // The f32 image model as the person's own: inspected, preprocessing proposed, then used.
    await page.getByTestId('open-model').setInputFiles(join(ROOT, 'assets/models/efficientnet_lite0_f32.onnx'));
    await page.getByText(/Your model efficientnet_lite0_f32\.onnx \(Image model\).*embedding f32\[\?, 1280\]/).waitFor();
    assert.equal(await page.getByRole('spinbutton', { name: 'Input size' }).inputValue(), '224');
    assert.equal(await page.getByRole('combobox', { name: 'Layout' }).inputValue(), 'nchw');
    assert.equal(await page.getByRole('combobox', { name: 'Value scaling' }).inputValue(), 'minus-one-to-one');
    assert.equal(await page.getByRole('combobox', { name: 'Embedding output' }).inputValue(), 'embedding');
    await page.getByRole('button', { name: 'Start labeling' }).click();
    await page.getByRole('group', { name: 'Classes' }).waitFor({ timeout: 300_000 });
    const counter = page.getByTestId('labeled-count');
    const short = { 'animals & nature': 'animals', 'food & drink': 'food', 'travel & places': 'travel' };
    const order = ['animals', 'food', 'travel'];
    for (let i = 0; i < 5; i++) {
      const name = await page.locator('.item-name').textContent();
      const before = await counter.textContent();
      await page.keyboard.press(String(order.indexOf(short[gt.get(name)]) + 1));
      await page.waitForFunction((b) => document.querySelector('[data-testid=labeled-count]').textContent !== b, before);
    }
    assert.match(await counter.textContent(), /^5 \/ 24$/);
    const expected = ['broken.onnx', 'FancyPooling', 'a text model cannot embed images'];
    assert.deepEqual(problems.filter((p) => !expected.some((e) => p.includes(e))), []);
  } finally {
    await browser.close();
    await server.close();
    await rm(dir, { recursive: true, force: true });
  }
});
