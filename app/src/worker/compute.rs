//! Where the learner worker runs its pool passes: the WebGPU backend (`quarry-gpu`) when the
//! page asks for it and the worker's `navigator.gpu` offers an adapter that passes the
//! self-check, else the CPU kernels. A GPU that fails is dropped for the rest of the session.

use std::cell::RefCell;
use std::rc::Rc;

use quarry_gpu::{self_check, Gpu};

use super::post;
use crate::protocol::{Compute, WorkerResponse};

/// The side panel's name for the CPU backend: the learner's one worker.
pub const CPU: &str = "CPU, 1 worker";

/// The learner worker's backend.
#[derive(Default)]
pub struct Slot {
    /// The GPU, while it is used (taken out while a refresh awaits it).
    pub gpu: Option<Gpu>,
    /// Counts choices: a GPU that finishes starting after a newer choice is dropped.
    generation: u64,
}

fn announce(name: String, note: Option<String>) {
    post(&WorkerResponse::Backend { name, note });
}

fn gpu_name(gpu: &Gpu) -> String {
    format!("WebGPU: {}", gpu.name())
}

/// Applies the page's choice: the CPU at once, or starts the GPU (in the background: requests
/// go on meanwhile on the CPU) and announces the outcome. A new learner keeps a working GPU,
/// which forgets the old learner's rows.
pub fn choose(slot: &Rc<RefCell<Slot>>, compute: Compute) {
    let mut s = slot.borrow_mut();
    s.generation += 1;
    let allow_software = match compute {
        Compute::Cpu => {
            s.gpu = None;
            announce(CPU.into(), Some("the CPU is chosen in the settings".into()));
            return;
        }
        Compute::Gpu { allow_software } => allow_software,
    };
    if let Some(gpu) = s.gpu.as_mut() {
        gpu.forget();
        announce(gpu_name(gpu), None);
        return;
    }
    let generation = s.generation;
    drop(s);
    let slot = slot.clone();
    wasm_bindgen_futures::spawn_local(async move {
        let started = start(allow_software).await;
        let mut s = slot.borrow_mut();
        if s.generation != generation {
            return;
        }
        match started {
            Ok(gpu) => {
                announce(gpu_name(&gpu), None);
                s.gpu = Some(gpu);
            }
            Err(why) => announce(CPU.into(), Some(why)),
        }
    });
}

async fn start(allow_software: bool) -> Result<Gpu, String> {
    let mut gpu = Gpu::new(allow_software).await.map_err(|e| e.to_string())?;
    self_check(&mut gpu).await.map_err(|e| e.to_string())?;
    Ok(gpu)
}

/// Puts back the GPU a pass took out, unless it broke: then the CPU takes over for the
/// session, and the page hears why.
pub fn put_back(slot: &Rc<RefCell<Slot>>, gpu: Option<Gpu>) {
    let Some(gpu) = gpu else { return };
    if let Some(why) = gpu.fault() {
        web_sys::console::warn_1(&format!("quarry: WebGPU turned off: {why}").into());
        announce(
            CPU.into(),
            Some(format!("WebGPU failed and was turned off: {why}")),
        );
        return;
    }
    slot.borrow_mut().gpu.get_or_insert(gpu);
}
