//! Bytes out of a JS buffer that nothing else uses (an IndexedDB value, a message's array, a
//! file read): copied into wasm memory, and the buffer given back to the browser at once.
//!
//! Why: a buffer dropped by the code is only freed at the isolate's next garbage collection,
//! which V8 puts off until tens of MB of them have piled up. A fill of a million cached rows
//! reads a thousand blocks of 1.3 MB; each embedder held 40-60 MiB of them as garbage at the
//! fill's highest point. Detaching a buffer (transferring it to a length of 0) frees its bytes
//! now.

use js_sys::{ArrayBuffer, Uint32Array, Uint8Array};
use wasm_bindgen_futures::JsFuture;
use web_sys::Blob;

use crate::idb::explain;

/// The bytes of `array`, whose buffer is then detached and freed: `array`, and every other
/// view of its buffer, is empty afterwards. Only for arrays whose buffer is the caller's alone.
pub fn take(array: &Uint8Array) -> Vec<u8> {
    let bytes = array.to_vec();
    release(&array.buffer());
    bytes
}

/// [`take`] for an array of `u32`s.
pub fn take_u32(array: &Uint32Array) -> Vec<u32> {
    let values = array.to_vec();
    release(&array.buffer());
    values
}

/// Detaches `buffer`, freeing its bytes now (see [`take`]). A buffer that cannot be detached
/// (a wasm memory, a shared buffer) is left as it is, for the collector.
fn release(buffer: &ArrayBuffer) {
    let _ = buffer.transfer_with_length(0);
}

/// The bytes of `blob` (the buffer the browser reads them into is freed at once).
///
/// # Errors
/// The browser's reason when the blob cannot be read (a file changed or gone).
pub async fn read(blob: &Blob) -> Result<Vec<u8>, String> {
    let buf = JsFuture::from(blob.array_buffer()).await.map_err(explain)?;
    Ok(take(&Uint8Array::new(&buf)))
}

/// Bytes `from..to` of `blob`, as [`read`] reads them.
///
/// # Errors
/// As [`read`].
pub async fn read_slice(blob: &Blob, from: f64, to: f64) -> Result<Vec<u8>, String> {
    read(&blob.slice_with_f64_and_f64(from, to).map_err(explain)?).await
}
