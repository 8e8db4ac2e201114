//! Entry point of Quarry's Web Worker (built by Trunk with `data-type="worker"`).

fn main() {
    quarry_app::worker::run();
}
