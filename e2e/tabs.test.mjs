// Two tabs on one project: the second shows it read-only (a Web Lock held by the first), its
// answers are neither shown nor saved; "Take over here" moves the project to it (reopened as
// saved) and the first tab becomes read-only. No interleaved writes: what is saved is exactly
// the answers of the tab that held the project.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { launch, serve, watch } from './harness.mjs';

const count = async (page) => Number((await page.getByTestId('labeled-count').textContent()).split(' ')[0]);
const countIs = (page, n) => page.waitForFunction((n) => document.querySelector('[data-testid=labeled-count]')?.textContent.startsWith(`${n} /`), n);

test('two tabs on one project: read-only, then take over', { timeout: 600_000 }, async () => {
  const server = await serve();
  const browser = await launch();
  try {
    const context = await browser.newContext({ viewport: { width: 1300, height: 1000 } });
    const first = await context.newPage();
    const origin = new URL(server.url).origin;
    const problems = watch(first, origin);
    await first.goto(server.url);
    await first.getByRole('button', { name: 'Try the demo' }).click();
    await first.getByRole('group', { name: 'Classes', exact: true }).waitFor({ timeout: 300_000 });
    await first.keyboard.press('1');
    await countIs(first, 1);

    // The same project in a second tab: read-only, and a key there changes nothing.
    const second = await context.newPage();
    const problems2 = watch(second, origin);
    await second.goto(server.url);
    const row = second.getByTestId('project').first();
    await row.getByRole('button', { name: 'Resume' }).click();
    await second.getByRole('group', { name: 'Classes', exact: true }).waitFor({ timeout: 300_000 });
    await second.getByTestId('read-only').getByText(/open in another tab/).waitFor();
    await countIs(second, 1);
    await second.keyboard.press('1');
    await second.waitForTimeout(1000);
    assert.equal(await count(second), 1, 'a read-only tab does not answer');
    // The first tab goes on.
    await first.keyboard.press('2');
    await countIs(first, 2);

    // Take over: the second tab reopens the project as saved (2 answers) and holds it.
    await second.getByRole('button', { name: 'Take over here' }).click();
    await second.getByTestId('read-only').waitFor({ state: 'detached' });
    await countIs(second, 2);
    await first.getByTestId('read-only').getByText(/taken over in another tab/).waitFor();
    await first.keyboard.press('1');
    await first.waitForTimeout(1000);
    assert.equal(await count(first), 2, 'the tab that lost the project does not answer');
    await second.keyboard.press('3');
    await countIs(second, 3);

    // What is saved is the second tab's: a third tab reads 3 answers.
    await first.close();
    await second.close();
    const third = await context.newPage();
    await third.goto(server.url);
    await third.getByTestId('project').first().getByText(/3 of \d+ labeled/).waitFor();
    assert.deepEqual([...problems, ...problems2], []);
  } finally {
    await browser.close();
    await server.close();
  }
});
