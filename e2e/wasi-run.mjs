// Runs a wasm32-wasip1 program under Node's WASI (V8, the engine of Chromium's workers), with
// the current folder readable: `node e2e/wasi-run.mjs PROGRAM.wasm [ARGS…]`. Used to profile
// tract's WebAssembly kernels outside the browser (core/examples/model_profile.rs).
import { readFile } from 'node:fs/promises';
import { WASI } from 'node:wasi';

const [program, ...args] = process.argv.slice(2);
const wasi = new WASI({ version: 'preview1', args: [program, ...args], env: {}, preopens: { '.': '.' } });
const module = await WebAssembly.compile(await readFile(program));
const instance = await WebAssembly.instantiate(module, wasi.getImportObject());
process.exitCode = wasi.start(instance);
