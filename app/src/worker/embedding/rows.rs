//! An embedder's channel to the learner: rows go in buffers the learner gives back (at most
//! [`IN_FLIGHT_MAX`] on their way), and the page hears which items are done once the learner
//! has given back the buffer that carried them, in [`REPORT_MS`] batches.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;

use js_sys::{Array, ArrayBuffer, Float32Array, Promise, Uint32Array, Uint8Array};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{MessageEvent, MessagePort};

use super::now;
use crate::protocol::{WorkerRequest, WorkerResponse};
use crate::worker::{post, scope};

thread_local! {
    /// This worker's end of its channel to the learner.
    static SINK: RefCell<Option<MessagePort>> = const { RefCell::new(None) };
    /// Items delivered but not yet reported to the page, how many of them came from the cache,
    /// and when the page last heard.
    static UNREPORTED: RefCell<(Vec<usize>, usize, f64)> = const { RefCell::new((Vec::new(), 0, 0.0)) };
    /// Buffers the learner gave back once it had copied the rows out ([`buffer_for`]).
    static SPARE: RefCell<Vec<ArrayBuffer>> = const { RefCell::new(Vec::new()) };
    /// Buffers sent to the learner and not given back yet ([`room`]).
    static IN_FLIGHT: Cell<usize> = const { Cell::new(0) };
    /// Ends the wait of [`room`] when the learner gives a buffer back.
    static ON_BACK: RefCell<Option<js_sys::Function>> = const { RefCell::new(None) };
    /// The items of each buffer in flight, oldest first, and how many came from the cache:
    /// reported to the page when the learner gives that buffer back ([`deliver`]).
    static AWAITING: RefCell<VecDeque<(Vec<usize>, usize)>> = const { RefCell::new(VecDeque::new()) };
}

/// Buffers of rows on their way to the learner at most ([`room`]): 8 windows of 256 rows of
/// 1,280 values are 16 MiB.
const IN_FLIGHT_MAX: usize = 8;
/// How long [`room`] waits for a buffer to come back before sending anyway (a learner busy
/// with a refresh of a million items gives one back within 2 s).
const ROOM_WAIT_MS: i32 = 5_000;

/// The page hears which items are done at most this often (each report re-renders the
/// progress on the main thread, which shares the cores with the embedders).
const REPORT_MS: f64 = 500.0;

/// Buffers the learner gave back, kept at most this many (each as large as the largest window
/// sent: 1.3 MB for 256 rows of 1,280 values).
const SPARES: usize = 8;

/// Sends this worker's embeddings to `port` from now on, and takes the buffers the learner
/// sends back over it for the next rows.
pub(in crate::worker) fn connect(port: MessagePort) {
    let on_back = Closure::<dyn FnMut(MessageEvent)>::new(|ev: MessageEvent| {
        if let Ok(buffer) = ev.data().dyn_into::<ArrayBuffer>() {
            IN_FLIGHT.set(IN_FLIGHT.get().saturating_sub(1));
            // The learner gives buffers back in the order they came, having queued their rows.
            if let Some((items, cached)) = AWAITING.with_borrow_mut(VecDeque::pop_front) {
                report(&items, cached, false);
            }
            SPARE.with_borrow_mut(|spare| {
                if spare.len() < SPARES {
                    spare.push(buffer);
                }
            });
            if let Some(resume) = ON_BACK.take() {
                let _ = resume.call1(&JsValue::NULL, &JsValue::TRUE);
            }
        }
    });
    // Setting the handler starts the port; it lives as long as the worker.
    port.set_onmessage(Some(on_back.as_ref().unchecked_ref()));
    on_back.forget();
    SINK.set(Some(port));
}

/// `values` in a `Float32Array` over a buffer the learner gave back ([`buffer_for`]).
pub(super) fn rows_array(values: &[f32]) -> Float32Array {
    let buffer = buffer_for(values.len() * 4);
    let array = Float32Array::new_with_byte_offset_and_length(&buffer, 0, values.len() as u32);
    array.copy_from(values);
    array
}

/// `bytes` (compact rows) in a `Uint8Array` over a buffer the learner gave back
/// ([`buffer_for`]).
pub(super) fn compact_array(bytes: &[u8]) -> Uint8Array {
    let buffer = buffer_for(bytes.len());
    let array = Uint8Array::new_with_byte_offset_and_length(&buffer, 0, bytes.len() as u32);
    array.copy_from(bytes);
    array
}

/// A buffer of at least `bytes` bytes: one the learner gave back when one is large enough,
/// else a new one (of a power of two bytes, so that later windows fit it).
///
/// Why: every buffer that crosses to another worker is held there by the browser until its
/// collector frees the message that carried it, which the pace of a fill outruns (a million
/// rows of 1,280 values are 5 GB of such buffers); sent back and forth, a few buffers carry
/// them all.
fn buffer_for(bytes: usize) -> ArrayBuffer {
    let spare = SPARE.with_borrow_mut(|spare| {
        let i = spare
            .iter()
            .position(|b| b.byte_length() as usize >= bytes)?;
        Some(spare.swap_remove(i))
    });
    spare.unwrap_or_else(|| ArrayBuffer::new(bytes.next_power_of_two() as u32))
}

/// Returns once fewer than [`IN_FLIGHT_MAX`] buffers of rows are on their way to the learner
/// (or after [`ROOM_WAIT_MS`] without one coming back: a learner that stopped answering does
/// not stop the run).
///
/// Why: rows read from the cache come faster than the learner takes them in (a million rows
/// of 1,280 values: read in 12 s, taken in over 30 s). Unchecked, the windows waiting for the
/// learner each held a buffer of their own, hundreds of megabytes at the end of a fill.
pub(super) async fn room() {
    fewer_in_flight_than(IN_FLIGHT_MAX).await;
}

/// Returns once every buffer of rows has come back from the learner (or after [`ROOM_WAIT_MS`]
/// without one coming back), and reports every item delivered to the page, now.
///
/// Why: the page asks the learner for a refresh when it hears that the last items are in. Told
/// before the learner had queued their rows (the rows and the page's request come over
/// different channels, in no set order), that refresh left them out, and with them any label
/// they carry (the accuracy estimate then counted fewer labels until the next answer).
pub(super) async fn settled() {
    fewer_in_flight_than(1).await;
    for (items, cached) in AWAITING.take() {
        report(&items, cached, false);
    }
    report(&[], 0, true);
}

/// Returns once fewer than `limit` buffers are with the learner, or after [`ROOM_WAIT_MS`]
/// without one coming back.
async fn fewer_in_flight_than(limit: usize) {
    while IN_FLIGHT.get() >= limit {
        let back = Promise::new(&mut |resume, _| {
            let _ = scope()
                .set_timeout_with_callback_and_timeout_and_arguments_0(&resume, ROOM_WAIT_MS);
            ON_BACK.set(Some(resume));
        });
        let given = wasm_bindgen_futures::JsFuture::from(back).await;
        if given.ok() != Some(JsValue::TRUE) {
            return;
        }
    }
}

/// Sends `items`' embeddings (`data`: one row after another, f32 or compact, over `buffer`) to
/// the learner, transferring the buffers; the page hears they are done (`cached` of them from
/// the cache) once the learner gives the buffer back, having queued the rows ([`settled`]).
/// Without a channel every item fails with the reason.
pub(super) fn deliver(items: &[usize], data: &JsValue, buffer: &ArrayBuffer, cached: usize) {
    let ids: Vec<u32> = items.iter().map(|&i| i as u32).collect();
    let ids = Uint32Array::from(ids.as_slice());
    let sent = SINK.with_borrow(|sink| {
        let port = sink
            .as_ref()
            .ok_or("this worker is not connected to the learner")?;
        port.post_message_with_transferable(
            &Array::of2(&ids, data),
            &Array::of2(&ids.buffer(), buffer),
        )
        .map_err(|e| format!("the embedding could not reach the learner: {e:?}"))
    });
    match sent {
        Ok(()) => {
            IN_FLIGHT.set(IN_FLIGHT.get() + 1);
            AWAITING.with_borrow_mut(|a| a.push_back((items.to_vec(), cached)));
        }
        Err(message) => {
            for &item in items {
                post(&WorkerResponse::ItemFailed {
                    item,
                    message: message.to_string(),
                });
            }
        }
    }
}

/// Adds `items` (`cached` of them from the cache) to the next [`WorkerResponse::Embedded`],
/// and sends it when [`REPORT_MS`] have passed since the last one, or at once with `flush`.
fn report(items: &[usize], cached: usize, flush: bool) {
    let due = UNREPORTED.with_borrow_mut(|(pending, from_cache, last)| {
        pending.extend_from_slice(items);
        *from_cache += cached;
        let t = now();
        if pending.is_empty() || !(flush || t - *last >= REPORT_MS) {
            return None;
        }
        *last = t;
        Some((std::mem::take(pending), std::mem::take(from_cache)))
    });
    if let Some((items, cached)) = due {
        post(&WorkerResponse::Embedded { items, cached });
    }
}

/// Reads a message from an embedder's port: item ids and their embeddings, one row after
/// another (f32, or compact rows from the cache), as the learner's request, and the buffer
/// that carried them, to give back ([`buffer_for`]).
pub(in crate::worker) fn received(data: &JsValue) -> Option<(WorkerRequest, ArrayBuffer)> {
    let parts: &Array = data.dyn_ref()?;
    let ids: Uint32Array = parts.get(0).dyn_into().ok()?;
    let items = ids.to_vec().into_iter().map(|i| i as usize).collect();
    let rows = parts.get(1);
    if let Some(values) = rows.dyn_ref::<Float32Array>() {
        let embeddings = values.to_vec();
        return Some((
            WorkerRequest::AddEmbeddings { items, embeddings },
            values.buffer(),
        ));
    }
    let bytes: Uint8Array = rows.dyn_into().ok()?;
    let request = WorkerRequest::AddCompact {
        items,
        rows: bytes.to_vec(),
    };
    Some((request, bytes.buffer()))
}
