// Starts Quarry's worker: loads the wasm-bindgen glue (no-modules build), then the wasm, whose
// `main` installs the message handler and posts `Ready`.
importScripts('./worker.js');
wasm_bindgen({ module_or_path: './worker_bg.wasm' });
