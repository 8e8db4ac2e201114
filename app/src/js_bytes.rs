//! Bytes out of a JS buffer that nothing else uses (an IndexedDB value, a message's array, a
//! file read): copied into wasm memory, and the buffer given back to the browser at once.
//!
//! Why: a buffer dropped by the code is only freed at the isolate's next garbage collection,
//! which V8 puts off until tens of MB of them have piled up. A fill of a million cached rows
//! reads a thousand blocks of 1.3 MB; each embedder held 40-60 MiB of them as garbage at the
//! fill's highest point. Detaching a buffer (transferring it to a length of 0) frees its bytes
//! now.

use js_sys::{ArrayBuffer, Uint8Array};

/// The bytes of `array`, whose buffer is then detached and freed: `array`, and every other
/// view of its buffer, is empty afterwards. Only for arrays whose buffer is the caller's alone.
pub fn take(array: &Uint8Array) -> Vec<u8> {
    let bytes = array.to_vec();
    release(&array.buffer());
    bytes
}

/// Detaches `buffer`, freeing its bytes now (see [`take`]). A buffer that cannot be detached
/// (a wasm memory, a shared buffer) is left as it is, for the collector.
pub fn release(buffer: &ArrayBuffer) {
    let _ = buffer.transfer_with_length(0);
}
