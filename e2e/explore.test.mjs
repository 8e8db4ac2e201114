// "More like this", search by example and the Map on the text demo (702 sentences, 7 topics):
// the grid holds the current sentence's neighbours (mostly its own topic) with the model's
// guesses; click, shift-click and Ctrl+A select; a class key labels the selection, each item
// its own answer, and one Backspace undoes one of them; a typed sentence finds its neighbours;
// the Map draws every item, hovering shows one, clicking asks it, a lasso selects, the t-SNE
// layout forms with its progress shown and is drawn whole; a class
// key of one's own answers, and a key already taken is refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { launch, openDemo, serve, topicsDemo, watch, pressClass, ROOT } from './harness.mjs';

const count = async (page) => Number((await page.getByTestId('labeled-count').textContent()).split(' ')[0]);
const countIs = (page, n) => page.waitForFunction((n) => document.querySelector('[data-testid=labeled-count]').textContent.startsWith(`${n} /`), n);

/** Hovers over the Map until an unlabeled item's card shows: its position and item. */
async function unlabeledPoint(page, box) {
  for (let y = 40; y < box.height - 40; y += 9) {
    for (let x = 40; x < box.width - 40; x += 9) {
      await page.mouse.move(box.x + x, box.y + y);
      const card = page.getByTestId('map-hover');
      if (await card.count()) {
        const status = await card.locator('.muted').textContent();
        if (!status.startsWith('you:')) return { x, y, item: await card.getAttribute('data-item') };
      }
    }
  }
  return null;
}

test('More like this: bulk labels with undo; search by example; the Map', { timeout: 600_000 }, async () => {
  const server = await serve();
  const browser = await launch();
  try {
    const { demo, topicOf } = await topicsDemo();
    const classes = demo.classes;

    const page = await browser.newPage({ viewport: { width: 1300, height: 1000 } });
    const problems = watch(page, new URL(server.url).origin);
    await page.goto(server.url);
    await page.getByRole('button', { name: 'Try a text demo (702 sentences, 7 topics)' }).click();
    await page.getByRole('group', { name: 'Classes', exact: true }).waitFor({ timeout: 300_000 });
    await page.getByRole('combobox', { name: 'Audit questions' }).selectOption('off');
    // A few answers, so the model has guesses; then the whole pool embedded.
    for (let i = 0; i < 8; i++) {
      const text = await page.getByTestId('item-text').textContent();
      await pressClass(page, classes, topicOf.get(text));
      await countIs(page, i + 1);
    }
    await page.waitForFunction(() => !document.querySelector('.embedding-strip'), null, { timeout: 300_000 }).catch(() => {});

    // More like this on the current sentence.
    const query = await page.getByTestId('item-text').textContent();
    await page.getByRole('button', { name: /^More like this/ }).click();
    const status = page.getByTestId('similar-status');
    await page.waitForFunction(() => /items most like/.test(document.querySelector('[data-testid=similar-status]')?.textContent ?? ''));
    console.log(await status.textContent());
    const tiles = page.locator('.tile');
    const n = await tiles.count();
    assert.ok(n >= 20, `${n} tiles`);
    const texts = await page.locator('.tile .tile-text').allTextContents();
    assert.ok(!texts.includes(query), 'the item itself is not its own neighbour');
    const same = texts.slice(0, 10).filter((t) => topicOf.get(t) === topicOf.get(query)).length;
    assert.ok(same >= 4, `only ${same} of the 10 nearest share the topic (chance: 1.4)`);
    const guesses = await page.locator('.tile .tile-guess').allTextContents();
    assert.ok(guesses.some((g) => /^model: .+ \d+%$/.test(g)), `no model guess in ${guesses.slice(0, 3)}`);
    const sims = (await page.locator('.tile .tile-similarity').allTextContents()).map(Number);
    assert.deepEqual(sims, [...sims].sort((a, b) => b - a), 'most similar first');

    // Click, shift-click, Ctrl+A, clear.
    const selected = page.getByTestId('similar-selected');
    await tiles.nth(0).locator('.tile-pick').click();
    await tiles.nth(3).locator('.tile-pick').click({ modifiers: ['Shift'] });
    assert.equal(await selected.textContent(), '4 selected:');
    await page.keyboard.press('Control+a');
    assert.equal(await selected.textContent(), `${n} selected:`);
    await page.getByRole('button', { name: 'Clear selection' }).click();
    await selected.waitFor({ state: 'detached' });

    // Five unlabeled neighbours of one topic (the one most of the unlabeled tiles share: which
    // items were asked first, and so which are labeled, varies with the embedding's pace),
    // labeled with one key.
    const unlabeled = [...Array(n).keys()].filter((k) => !guesses[k].startsWith('you:'));
    const tally = new Map();
    for (const k of unlabeled) tally.set(topicOf.get(texts[k]), (tally.get(topicOf.get(texts[k])) ?? 0) + 1);
    const topic = [...tally].sort((a, b) => b[1] - a[1])[0][0];
    const picks = unlabeled.filter((k) => topicOf.get(texts[k]) === topic).slice(0, 5);
    assert.equal(picks.length, 5, `only ${picks.length} unlabeled neighbours share a topic`);
    for (const k of picks) await tiles.nth(k).locator('.tile-pick').click();
    assert.equal(await selected.textContent(), '5 selected:');
    const before = await count(page);
    await page.keyboard.press(String(classes.indexOf(topic) + 1));
    await countIs(page, before + 5);
    for (const k of picks) assert.equal(await tiles.nth(k).locator('.tile-guess').textContent(), `you: ${topic}`);
    const history = await page.locator('.history-list li').count();
    // One Backspace undoes one of those answers.
    await page.keyboard.press('Backspace');
    await countIs(page, before + 4);
    const youNow = (await page.locator('.tile .tile-guess').allTextContents()).filter((g) => g === `you: ${topic}`).length;
    assert.ok(youNow >= 4);
    assert.equal(await page.locator('.history-list li').count(), history - 1);
    await page.keyboard.press('Escape');
    await page.locator('.similar').waitFor({ state: 'detached' });

    // Search by example: a sentence typed.
    const example = demo.texts[5];
    await page.getByRole('searchbox', { name: 'Find items like this sentence' }).fill(example);
    await page.getByRole('button', { name: 'Find similar' }).click();
    await page.waitForFunction(() => /items most like “/.test(document.querySelector('[data-testid=similar-status]')?.textContent ?? ''), null, { timeout: 120_000 });
    // The sentence itself is in the pool: it comes first.
    assert.equal(await page.locator('.tile .tile-text').first().textContent(), example);
    await page.keyboard.press('Escape');

    // The Map: every embedded item drawn; hover shows one; a click asks it.
    await page.getByRole('button', { name: 'Map', exact: true }).click();
    const canvas = page.locator('canvas[aria-label="Map of the pool"]');
    await page.waitForFunction(() => Number(document.querySelector('canvas')?.dataset.points ?? 0) === 702, null, { timeout: 60_000 });
    console.log(await page.getByTestId('map-summary').textContent());
    const box = await canvas.boundingBox();
    let found = await unlabeledPoint(page, box);
    assert.ok(found, 'no unlabeled point to hover');
    const frame = Number(await canvas.getAttribute('data-frame-ms'));
    assert.ok(frame > 0, `frame time ${frame}`);
    // A lasso around it selects it (and its close neighbours).
    await page.mouse.move(box.x + found.x - 15, box.y + found.y - 15);
    await page.mouse.down();
    for (const [dx, dy] of [[15, -15], [15, 15], [-15, 15], [-15, -15]]) await page.mouse.move(box.x + found.x + dx, box.y + found.y + dy, { steps: 4 });
    await page.mouse.up();
    assert.match(await page.getByTestId('map-selected').textContent(), /^\d+ selected:$/);
    await page.getByRole('button', { name: 'Clear selection' }).click();
    // The t-SNE layout forms in the worker, drawn as it goes, with its progress.
    await page.evaluate(() => {
      window.formingSeen = 0;
      new MutationObserver(() => {
        if (document.querySelector('progress[aria-label="Map layout"]')) window.formingSeen++;
      }).observe(document.body, { subtree: true, childList: true, attributes: true });
    });
    await page.getByRole('combobox', { name: 'Lay the map out by' }).selectOption('tsne');
    await page.waitForFunction(() => /t-SNE, perplexity 30.*\d+\.\d s\)/.test(document.querySelector('[data-testid=map-summary]')?.textContent ?? ''), null, { timeout: 120_000 });
    assert.ok(await page.evaluate(() => window.formingSeen) > 0, 'the progress was shown');
    assert.equal(await page.locator('progress[aria-label="Map layout"]').count(), 0);
    assert.equal(Number(await canvas.getAttribute('data-points')), 702);
    console.log(await page.getByTestId('map-summary').textContent());
    found = await unlabeledPoint(page, box);
    assert.ok(found, 'no unlabeled point to hover on the t-SNE map');
    // A click asks it.
    await page.mouse.click(box.x + found.x, box.y + found.y);
    await page.locator('.map').waitFor({ state: 'detached' });
    await page.waitForFunction((name) => document.querySelector('.item-name')?.textContent === name, found.item);

    // Keys of one's own: class 1 on J; a key already taken is refused with what holds it.
    await page.keyboard.press('?');
    const help = page.getByRole('dialog', { name: 'Keyboard shortcuts' });
    await help.getByText('Choose your own keys').click();
    const first = help.getByRole('textbox', { name: `Key for ${classes[0]}` });
    await first.fill('j');
    await first.press('Tab');
    await page.waitForFunction(() => document.querySelector('.classes .class-button kbd')?.textContent === 'J');
    const second = help.getByRole('textbox', { name: `Key for ${classes[1]}` });
    await second.fill('j');
    await second.press('Tab');
    assert.match(await help.getByTestId('key-problem').textContent(), new RegExp(`already answers “${classes[0]}”`));
    await help.getByRole('button', { name: /^Close/ }).click();
    const n0 = await count(page);
    await page.keyboard.press('j');
    await countIs(page, n0 + 1);
    assert.equal(await page.locator('.history-list li').first().locator('select').inputValue(), '0');
    assert.deepEqual(problems, []);
  } finally {
    await browser.close();
    await server.close();
  }
});

test('search by example: an image picked is embedded in the tab and found in the pool', { timeout: 600_000 }, async () => {
  const server = await serve();
  const browser = await launch();
  try {
    const { page, problems } = await openDemo(browser, server);
    // The person's copy of one of the pool's images: its own row comes first, similarity ~1.
    await page.getByLabel('Find items like an image').setInputFiles(join(ROOT, 'assets/demo/emoji/images/airplane.png'));
    await page.waitForFunction(() => /items most like airplane\.png/.test(document.querySelector('[data-testid=similar-status]')?.textContent ?? ''), null, { timeout: 120_000 });
    assert.equal(await page.locator('.tile').first().getAttribute('data-item'), 'airplane.png');
    assert.ok(Number(await page.locator('.tile .tile-similarity').first().textContent()) > 0.99);
    // A file that is not an image gets a clear message, and nothing else changes.
    await page.getByLabel('Find items like an image').setInputFiles({ name: 'notes.png', mimeType: 'image/png', buffer: Buffer.from('not a picture') });
    await page.waitForFunction(() => /^No search: 'notes.png' is not a readable image/.test(document.querySelector('[data-testid=similar-status]')?.textContent ?? ''), null, { timeout: 60_000 });
    console.log(await page.getByTestId('similar-status').textContent());
    assert.deepEqual(problems, []);
  } finally {
    await browser.close();
    await server.close();
  }
});
