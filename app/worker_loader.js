// Starts Quarry's worker: loads the wasm-bindgen glue (no-modules build), then the wasm from
// the page's first message: the module the page compiled once for all its workers (its
// compiled code is then held once in the tab, not once per worker: ≈ 50 MiB each), or the
// wasm's URL where the page could not compile it. The wasm's `main` installs the message
// handler and posts `Ready`; the page sends nothing else before that.
importScripts('./worker.js');
self.onmessage = (event) => {
  self.onmessage = null;
  wasm_bindgen({ module_or_path: event.data });
};
