// Quarry's service worker: keeps the app and its bundled models on this machine so Quarry opens
// and works offline once loaded. It only ever fetches the app's own files from the app's own
// origin; it never sees the person's files (those are blob: URLs and IndexedDB records, which
// do not pass through here), and it sends nothing anywhere.
const VERSION = 'quarry-v1';
// The app itself: fetched from the network when there is one (so an update shows at once),
// from the cache when offline.
const SHELL = [
  './', 'index.html', 'quarry-app.js', 'quarry-app_bg.wasm', 'style.css',
  'worker_loader.js', 'worker.js', 'worker_bg.wasm', 'manifest.webmanifest', 'icon.svg', 'icon-192.png',
  'icon-512.png',
];
// Large files that never change under the same name: from the cache first.
const MODELS = [
  'models/efficientnet_lite0_int8.onnx', 'models/minilm_l6_int8.onnx', 'models/minilm_tokenizer.json',
];

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(VERSION).then((c) => c.addAll([...SHELL, ...MODELS])).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const key of await caches.keys()) if (key !== VERSION) await caches.delete(key);
    await self.clients.claim();
  })());
});

const scope = new URL(self.registration.scope);
const isShell = (path) => path === scope.pathname || SHELL.some((f) => new URL(f, scope).pathname === path);

self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  // Only the app's own files; anything else is left to the browser (and the page's CSP).
  if (event.request.method !== 'GET' || url.origin !== scope.origin) return;
  event.respondWith((async () => {
    const cache = await caches.open(VERSION);
    if (isShell(url.pathname)) {
      try {
        const fresh = await fetch(event.request);
        if (fresh.ok) await cache.put(event.request, fresh.clone());
        return fresh;
      } catch (offline) {
        const kept = await cache.match(event.request, { ignoreSearch: true });
        if (kept) return kept;
        throw offline;
      }
    }
    // Models and demo files: cached on first use.
    const kept = await cache.match(event.request);
    if (kept) return kept;
    const fresh = await fetch(event.request);
    if (fresh.ok) await cache.put(event.request, fresh.clone());
    return fresh;
  })());
});
