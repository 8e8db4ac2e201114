// Candidate set queries on the text demo (702 sentences, 7 topics): once enough answers
// calibrate the conformal rule, the current item shows its likely topics first, keyed 1..k in
// probability order, with "Not here" (0) opening the full list; every answer lands on the class
// meant (checked in the history); the hit rate shown matches what was answered; the setting
// brings the full list back; `?` lists every shortcut.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { launch, serve, topicsDemo, watch, shownCandidates, pressClass } from './harness.mjs';

test('candidate sets: keys 1..k, "Not here", hit rate, the full-list setting', { timeout: 600_000 }, async () => {
  const server = await serve();
  const browser = await launch();
  try {
    const { demo, topicOf } = await topicsDemo();
    const classes = demo.classes;
    assert.equal(classes.length, 7);

    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const problems = watch(page, new URL(server.url).origin);
    await page.goto(server.url);
    await page.getByRole('button', { name: 'Try a text demo (702 sentences, 7 topics)' }).click();
    await page.getByRole('group', { name: 'Classes', exact: true }).waitFor({ timeout: 300_000 });
    const counter = page.getByTestId('labeled-count');
    // Audits off: every answer trains and calibrates, so the count below is exact.
    await page.getByRole('combobox', { name: 'Audit questions' }).selectOption('off');

    const tally = { hit: 0, miss: 0, full: 0 };
    let sawNotHere = false;
    let sawSet = false;
    for (let i = 0; i < 60 && !(sawSet && sawNotHere && tally.hit >= 3); i++) {
      const text = await page.getByTestId('item-text').textContent();
      const topic = topicOf.get(text);
      assert.ok(topic, `unknown text ${text}`);
      const set = await shownCandidates(page);
      if (set) {
        sawSet = true;
        // A set is smaller than the list, keyed 1..k in order, with "Not here" on 0.
        assert.ok(set.length >= 1 && set.length < classes.length, `set ${set}`);
        const keys = await page.locator('.candidate-button').evaluateAll((bs) => bs.map((b) => b.getAttribute('aria-keyshortcuts')));
        assert.deepEqual(keys, set.map((_, k) => String(k + 1)));
        assert.equal(await page.getByRole('button', { name: /Not here/ }).getAttribute('aria-keyshortcuts'), '0');
        assert.equal(await page.getByRole('group', { name: 'Classes', exact: true }).isVisible(), false);
      }
      // Once, with the true topic in the set, open the full list anyway: still a hit.
      let how;
      if (set && set.includes(topic) && !sawNotHere) {
        await page.getByRole('button', { name: /Not here/ }).click();
        await page.getByRole('group', { name: 'Classes', exact: true }).waitFor();
        assert.equal(await shownCandidates(page), null);
        sawNotHere = true;
        await page.keyboard.press(String(classes.indexOf(topic) + 1));
        how = 'hit';
      } else {
        how = await pressClass(page, classes, topic);
      }
      tally[how] += 1;
      await page.waitForFunction((n) => document.querySelector('[data-testid=labeled-count]').textContent.startsWith(`${n} /`), i + 1);
      // The answer went to the topic meant, whatever key it took.
      const name = await page.locator('.history-list li').first().locator('select').getAttribute('aria-label');
      const value = await page.locator('.history-list li').first().locator('select').inputValue();
      assert.equal(classes[Number(value)], topic, `${name}: ${how}`);
    }
    assert.ok(sawSet, `no candidate set after ${JSON.stringify(tally)}`);
    assert.ok(sawNotHere, 'never a set holding the topic');
    const asked = tally.hit + tally.miss;
    const shown = await page.getByTestId('set-hit-rate').textContent();
    assert.match(shown, new RegExp(`held the answer ${tally.hit} of ${asked} times`));
    console.log(`candidate sets: ${tally.hit} hits, ${tally.miss} misses, ${tally.full} full-list answers; ${shown}`);

    // The setting: the full list for every item.
    await page.getByRole('checkbox', { name: /Always show the full class list/ }).check();
    await page.getByRole('group', { name: 'Classes', exact: true }).waitFor();
    assert.equal(await shownCandidates(page), null);
    const before = await counter.textContent();
    const text = await page.getByTestId('item-text').textContent();
    await page.keyboard.press(String(classes.indexOf(topicOf.get(text)) + 1));
    await page.waitForFunction((b) => document.querySelector('[data-testid=labeled-count]').textContent !== b, before);
    assert.equal(await shownCandidates(page), null);

    // `?` lists every shortcut, the candidate keys among them; Escape closes it; so does the button.
    await page.keyboard.press('?');
    const help = page.getByRole('dialog', { name: 'Keyboard shortcuts' });
    await help.waitFor();
    const listed = await help.locator('dt').allTextContents();
    for (const k of ['1 – 9', '1 – k', '0', 'Enter or A', 'N', 'S or Space', 'M', 'Ctrl+A', 'Backspace or Ctrl+Z', 'Ctrl+Y or Ctrl+Shift+Z', '?']) {
      assert.ok(listed.includes(k), `${k} missing from ${listed}`);
    }
    await page.keyboard.press('Escape');
    await help.waitFor({ state: 'hidden' });
    await page.getByRole('button', { name: /Shortcuts/ }).click();
    await help.waitFor();
    await page.keyboard.press('?');
    await help.waitFor({ state: 'hidden' });
    assert.deepEqual(problems, []);
  } finally {
    await browser.close();
    await server.close();
  }
});
