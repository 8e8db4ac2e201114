//! One tab writes a project. While a project is open its tab holds a Web Lock
//! (`navigator.locks`) named after it; a second tab opening the same project does not get it
//! and shows the project read-only, with "Take over here"; a tab whose lock is taken over
//! becomes read-only. A read-only tab writes nothing ([`super::persist`] checks
//! [`AppState::read_only`]), so two tabs never interleave their writes. Taking over reopens
//! the project from what is saved (the other tab may have answered since). `navigator.locks`
//! is reached through `Reflect`; a browser without it works as before, one tab or many.

use std::cell::RefCell;

use js_sys::{Function, Object, Promise, Reflect};
use leptos::prelude::*;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use super::project::reopen;
use super::state::{AppState, ReadOnly};

thread_local! {
    /// The project whose lock this tab holds, and what releases it.
    static HELD: RefCell<Option<(String, Function)>> = const { RefCell::new(None) };
}

fn lock_name(id: &str) -> String {
    format!("quarry-project-{id}")
}

/// `navigator.locks.request(name, options, callback)`; `None` without Web Locks.
fn request(name: &str, options: &Object, callback: &JsValue) -> Option<Promise> {
    let navigator = web_sys::window()?.navigator();
    let locks = Reflect::get(&navigator, &"locks".into())
        .ok()
        .filter(JsValue::is_object)?;
    let f: Function = Reflect::get(&locks, &"request".into())
        .ok()?
        .dyn_into()
        .ok()?;
    f.call3(&locks, &name.into(), options, callback)
        .ok()?
        .dyn_into()
        .ok()
}

/// Lets go of the lock this tab holds, if any.
fn release() {
    if let Some((_, resolve)) = HELD.take() {
        let _ = resolve.call0(&JsValue::NULL);
    }
}

fn holds(id: &str) -> bool {
    HELD.with_borrow(|h| h.as_ref().is_some_and(|(held, _)| held == id))
}

/// Holds project `id`'s lock while it is open here; when another tab holds it, this tab shows
/// the project read-only.
pub fn hold(state: AppState, id: String) {
    if !holds(&id) {
        acquire(state, id, false, || {});
    }
}

/// "Take over here": takes the lock from the other tab, then reopens the project as saved.
pub fn take_over(state: AppState) {
    let Some(ReadOnly { id, .. }) = state.read_only.get_untracked() else {
        return;
    };
    let again = id.clone();
    acquire(state, id, true, move || {
        leptos::task::spawn_local(async move {
            if let Err(e) = reopen(state, again).await {
                state.report(e);
            }
        });
    });
}

fn acquire(state: AppState, id: String, steal: bool, granted: impl FnOnce() + 'static) {
    release();
    let options = Object::new();
    let flag = if steal { "steal" } else { "ifAvailable" };
    let _ = Reflect::set(&options, &flag.into(), &JsValue::TRUE);
    let mine = id.clone();
    let callback = Closure::once_into_js(move |lock: JsValue| -> JsValue {
        if lock.is_null() {
            state.read_only.set(Some(ReadOnly {
                id: mine,
                why: "This project is open in another tab. Here it is read-only: nothing you do \
                      in this tab is saved."
                    .into(),
            }));
            return JsValue::NULL;
        }
        state.read_only.set(None);
        // Held until `release` resolves this promise.
        let mut resolver = None;
        let held = Promise::new(&mut |resolve, _| resolver = Some(resolve));
        if let Some(resolve) = resolver {
            HELD.set(Some((mine, resolve)));
        }
        granted();
        held.into()
    });
    let Some(promise) = request(&lock_name(&id), &options, &callback) else {
        return;
    };
    // A lock another tab takes over ends with an error here: this tab stops writing.
    leptos::task::spawn_local(async move {
        if JsFuture::from(promise).await.is_err() {
            if holds(&id) {
                HELD.set(None);
            }
            state.read_only.set(Some(ReadOnly {
                id,
                why: "This project was taken over in another tab. This tab no longer saves \
                      anything."
                    .into(),
            }));
        }
    });
}
