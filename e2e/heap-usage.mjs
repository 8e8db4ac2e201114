// The JS heap of a page and of each of its workers, over the DevTools protocol (a browser
// launched with --remote-debugging-port=PORT; Node 20 needs --experimental-websocket): used
// heap, and the ArrayBuffers' backing stores outside it (Runtime.getHeapUsage). For the
// benchmarks: what no wasm memory and no page heap accounts for.

/** [{url, usedMib, backingMib}] for the page at `pageUrl` and each worker it started, after a
 * forced collection in each unless `collect` is false (what is held then, garbage included). */
export async function heapUsage(port, pageUrl, { collect = true } = {}) {
  const version = await (await fetch(`http://127.0.0.1:${port}/json/version`)).json();
  const ws = new WebSocket(version.webSocketDebuggerUrl);
  await new Promise((ok, fail) => { ws.onopen = ok; ws.onerror = fail; });
  let next = 0;
  const pending = new Map();
  const attached = [];
  ws.onmessage = (m) => {
    const d = JSON.parse(m.data);
    if (d.id !== undefined && pending.has(d.id)) {
      pending.get(d.id)(d);
      pending.delete(d.id);
    } else if (d.method === 'Target.attachedToTarget') {
      attached.push(d.params);
    }
  };
  const send = (method, params = {}, sessionId) => new Promise((ok, fail) => {
    const id = ++next;
    pending.set(id, (d) => (d.error ? fail(new Error(`${method}: ${d.error.message}`)) : ok(d.result)));
    ws.send(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }));
  });
  try {
    const { targetInfos } = await send('Target.getTargets');
    const target = targetInfos.find((t) => t.type === 'page' && t.url.startsWith(pageUrl));
    const { sessionId } = await send('Target.attachToTarget', { targetId: target.targetId, flatten: true });
    await send('Target.setAutoAttach', { autoAttach: true, waitForDebuggerOnStart: false, flatten: true }, sessionId);
    await new Promise((r) => setTimeout(r, 1000));
    const mib = (b) => Math.round((b ?? 0) / 2 ** 20);
    const out = [];
    for (const [url, s] of [[target.url, sessionId], ...attached.map((a) => [a.targetInfo.url, a.sessionId])]) {
      if (collect) await send('HeapProfiler.collectGarbage', {}, s).catch(() => null);
      const h = await send('Runtime.getHeapUsage', {}, s);
      // A worker's wasm memory tells which worker it is (the learner's holds the pool).
      const wasm = await send('Runtime.evaluate', {
        expression: "typeof wasm_bindgen === 'function' ? wasm_bindgen({ module_or_path: './worker_bg.wasm' }).then((w) => w.memory.buffer.byteLength) : 0",
        awaitPromise: true,
        returnByValue: true,
      }, s).catch(() => null);
      out.push({
        url, usedMib: mib(h.usedSize), totalMib: mib(h.totalSize), backingMib: mib(h.backingStorageSize),
        wasmMib: mib(wasm?.result?.value),
      });
    }
    return out;
  } finally {
    ws.close();
  }
}
