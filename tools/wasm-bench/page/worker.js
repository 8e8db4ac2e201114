// Runs bench.wasm in a dedicated worker, as the app's learner runs: one refresh per strategy.
// With `memory`: the default policy's refresh on the learner itself (no copy), three times, and
// the module's memory after the setup and at the end (its peak: wasm memory never shrinks).
onmessage = async ({ data: { pool, dim, classes, labels, batch, kinds, memory } }) => {
  try {
    const { instance } = await WebAssembly.instantiateStreaming(fetch('bench.wasm'), {
      bench: { now: () => performance.now() },
    });
    const x = instance.exports;
    const t0 = performance.now();
    if (x.setup(pool, dim, classes, labels, batch) !== 0) throw new Error('setup failed');
    const setupMs = performance.now() - t0;
    if (memory) {
      const held = x.memory_bytes();
      const refreshes = [];
      for (let i = 0; i < 3; i++) {
        if (x.run_in_place(0) !== 0) throw new Error('auto: refresh failed');
        refreshes.push({ refresh_ms: x.total_ms(), fit_ms: x.fit_ms(), select_ms: x.select_ms() });
      }
      postMessage({ setupMs, held, peak: x.memory_bytes(), refreshes });
      return;
    }
    const results = {};
    for (const [name, index] of kinds) {
      const rc = x.run(index);
      if (rc !== 0) throw new Error(`${name}: error ${rc}`);
      results[name] = { refresh_ms: x.total_ms(), fit_ms: x.fit_ms(), select_ms: x.select_ms() };
    }
    const similarMs = x.similar(5);
    const mapMs = x.map();
    postMessage({ setupMs, results, similarMs, mapMs });
  } catch (e) {
    postMessage({ error: String(e) });
  }
};
