//! Entry point of Quarry's page: mounts the Leptos UI.

fn main() {
    console_error_panic_hook::set_once();
    quarry_app::ui::offline::register();
    leptos::mount::mount_to_body(quarry_app::ui::App);
}
