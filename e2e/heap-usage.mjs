// The JS heap of a page and of each of its workers, over the DevTools protocol (a browser
// launched with --remote-debugging-port=PORT; Node 20 needs --experimental-websocket): used
// heap, and the ArrayBuffers' backing stores outside it (Runtime.getHeapUsage). For the
// benchmarks: what no wasm memory and no page heap accounts for.

/** [{url, usedMib, backingMib}] for the page at `pageUrl` and each worker it started. */
export async function heapUsage(port, pageUrl) {
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
      const h = await send('Runtime.getHeapUsage', {}, s);
      out.push({ url, usedMib: mib(h.usedSize), totalMib: mib(h.totalSize), backingMib: mib(h.backingStorageSize) });
    }
    return out;
  } finally {
    ws.close();
  }
}
