// The learner's WebGPU backend in the browser: headless Chromium with WebGPU on SwiftShader (a
// software adapter, allowed by the page's ?webgpu=software). The start-up self-check must pass
// (Core-Set's picks and the class probabilities the same as the CPU's on a seeded pool), the side
// panel must name the backend, the app's own passes (Core-Set picks, whole-pool predictions) must
// run on it without error and give the CPU's predictions to the last digit, and the "Use the CPU
// only" setting must switch. Without the parameter a software adapter is refused. SwiftShader is
// for correctness only: nothing here is a speed claim.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { chromium } from 'playwright-core';
import { serve, truth, watch } from './harness.mjs';

const LABELS = 12;

function launchWithWebGpu() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--enable-unsafe-webgpu',
      '--use-webgpu-adapter=swiftshader', '--enable-features=Vulkan'],
  });
}

async function predictionsCsv(page) {
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Export predictions (CSV)' }).click(),
  ]);
  return readFile(await download.path(), 'utf8');
}

test('the learner runs on WebGPU (SwiftShader) and agrees with the CPU', { timeout: 900_000 }, async () => {
  const server = await serve();
  const browser = await launchWithWebGpu();
  try {
    const origin = new URL(server.url).origin;
    const page = await browser.newPage({ acceptDownloads: true, viewport: { width: 1200, height: 900 } });
    const problems = watch(page, origin);
    const gt = await truth('emoji');
    const classes = ['animals & nature', 'food & drink', 'travel & places'];
    await page.goto(`${server.url}?webgpu=software`);
    await page.getByRole('button', { name: 'Try the demo' }).click();
    const backend = page.getByTestId('backend');
    await page.waitForFunction(
      () => /^WebGPU: /.test(document.querySelector('[data-testid=backend]')?.textContent ?? ''),
      null, { timeout: 120_000 },
    ).catch(async () => assert.fail(`backend: ${await backend.textContent()} (${await page.getByTestId('backend-note').textContent()})`));
    console.log(`# ${await backend.textContent()}`);

    // Core-Set picks on the GPU from the first answer on.
    await page.getByRole('group', { name: 'Classes' }).waitFor({ timeout: 300_000 });
    // Every label trains and is cross-validated (no audit questions held out), so the estimate's
    // note names them all once the last refresh has landed.
    await page.getByRole('combobox', { name: 'Audit questions' }).selectOption('off');
    await page.getByRole('combobox', { name: 'Strategy' }).selectOption('coreset');
    await page.waitForFunction(() => document.querySelector('[data-testid=strategy]').textContent.includes('coreset'));
    for (let n = 1; n <= LABELS; n++) {
      const name = await page.locator('.item-name').textContent();
      await page.keyboard.press(String(classes.indexOf(gt.get(name)) + 1));
      await page.waitForFunction(
        (k) => document.querySelector('[data-testid=labeled-count]').textContent.startsWith(`${k} /`), n,
      );
    }
    await page.waitForFunction(
      (n) => document.querySelector('[data-testid=embedded]').textContent.startsWith(`${n} / ${n}`),
      gt.size, { timeout: 600_000 },
    );
    await page.getByText(`on the ${LABELS} labeled items`).waitFor({ timeout: 60_000 });
    assert.match(await backend.textContent(), /^WebGPU: /, 'the GPU failed while labeling');

    // The whole pool's probabilities on the GPU, then on the CPU: the same file.
    const onGpu = await predictionsCsv(page);
    const cpuOnly = page.getByTestId('cpu-only');
    await cpuOnly.check();
    await page.waitForFunction(() => document.querySelector('[data-testid=backend]').textContent === 'CPU, 1 worker');
    assert.match(await page.getByTestId('backend-note').textContent(), /chosen in the settings/);
    const onCpu = await predictionsCsv(page);
    assert.equal(onGpu.trim().split('\n').length, gt.size + 1);
    assert.equal(onGpu, onCpu, 'GPU and CPU predictions differ');

    // Back to the GPU; the setting is kept in this browser.
    await cpuOnly.uncheck();
    await page.waitForFunction(() => /^WebGPU: /.test(document.querySelector('[data-testid=backend]').textContent));
    assert.equal(await page.evaluate(() => localStorage.getItem('quarry.cpu-only')), null);
    assert.deepEqual(problems, []);

    // Without ?webgpu=software the software adapter is refused, and the panel says why.
    const plain = await browser.newPage();
    const plainProblems = watch(plain, origin);
    await plain.goto(server.url);
    await plain.getByRole('button', { name: 'Try the demo' }).click();
    await plain.waitForFunction(
      () => /software adapter/.test(document.querySelector('[data-testid=backend-note]')?.textContent ?? ''),
      null, { timeout: 120_000 },
    );
    assert.equal(await plain.getByTestId('backend').textContent(), 'CPU, 1 worker');
    assert.deepEqual(plainProblems, []);
  } finally {
    await browser.close();
    await server.close();
  }
});
