//! Quarry's project automation, run as `cargo xtask <command>` (alias in .cargo/config.toml).
//!
//! * `serve` — installs what is missing, builds the app and serves it on 127.0.0.1.
//! * `test`  — installs what is missing, then runs every check: fmt, clippy (native and wasm32),
//!   native tests, the wasm build, and the browser tests in headless Chromium.
//!
//! Everything comes from package registries (crates.io, npm, Debian); nothing is downloaded at
//! run time by the app or by Trunk (`offline = true` in Trunk.toml).

mod tools;

use std::process::ExitCode;

use tools::{cmd, Env};

const USAGE: &str =
    "usage: cargo xtask <serve [--port N] [--production] | test [--no-browser] | screenshot>";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("serve") => serve(&args[1..]),
        Some("test") => test(&args[1..]),
        Some("screenshot") => screenshot(),
        _ => Err(USAGE.to_string()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

fn serve(args: &[String]) -> Result<(), String> {
    let mut port = "8080".to_string();
    let mut production = false;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--port" => port = it.next().ok_or("--port needs a value")?.clone(),
            "--production" => production = true,
            other => return Err(format!("unknown option {other}; {USAGE}")),
        }
    }
    let env = Env::detect()?;
    env.ensure_build_tools()?;
    println!("xtask: building Quarry; when Trunk says it is listening, open http://127.0.0.1:{port}/ and click \"Try the demo\"");
    let mut trunk = env.command("trunk");
    trunk.args([
        "serve",
        "--release",
        "--port",
        &port,
        "--address",
        "127.0.0.1",
        "--no-autoreload",
    ]);
    if !production {
        trunk.args(["--cargo-profile", "ci"]);
    }
    env.fetch()?;
    cmd::run(&mut trunk)
}

fn test(args: &[String]) -> Result<(), String> {
    let browser = !args.iter().any(|a| a == "--no-browser");
    let env = Env::detect()?;
    env.ensure_build_tools()?;
    env.ensure_vulkan()?;
    if browser {
        env.ensure_browser_tools()?;
    }
    env.fetch()?;
    let step = |name: &str| println!("\nxtask: ── {name} ──");

    step("rustfmt");
    cmd::run(env.command("cargo").args(["fmt", "--all", "--check"]))?;
    step("clippy (native)");
    cmd::run(env.command("cargo").args([
        "clippy",
        "--locked",
        "-p",
        "quarry-core",
        "-p",
        "quarry-gpu",
        "-p",
        "quarry-cli",
        "-p",
        "xtask",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))?;
    step("clippy (wasm32)");
    cmd::run(env.command("cargo").args([
        "clippy",
        "--locked",
        "-p",
        "quarry-app",
        "--target",
        "wasm32-unknown-unknown",
        "--all-features",
        "--",
        "-D",
        "warnings",
    ]))?;
    step("native tests (the GPU backend's on Vulkan: lavapipe unless the machine has a GPU)");
    cmd::run(
        env.command("cargo")
            .args([
                "test",
                "--locked",
                "-p",
                "quarry-core",
                "-p",
                "quarry-gpu",
                "-p",
                "quarry-cli",
                "-p",
                "xtask",
            ])
            .env("QUARRY_REQUIRE_GPU", "1"),
    )?;
    step("exported classifier in onnxruntime (Python)");
    env.check_onnx_classifier()?;
    if browser {
        step("wasm build (trunk)");
        build_dist(&env)?;
        step("browser tests (headless Chromium)");
        cmd::run(
            env.command("node")
                .args(["--test", "--test-concurrency=1", "e2e/"]),
        )?;
        step("the classifier downloaded in the browser, in tract");
        cmd::run(env.command("cargo").args([
            "test",
            "--locked",
            "-p",
            "quarry-core",
            "--test",
            "classifier_export",
            "--",
            "--ignored",
        ]))?;
    }
    println!("\nxtask: all checks passed");
    Ok(())
}

fn screenshot() -> Result<(), String> {
    let env = Env::detect()?;
    env.ensure_build_tools()?;
    env.ensure_browser_tools()?;
    env.fetch()?;
    build_dist(&env)?;
    cmd::run(
        env.command("node")
            .args(["--test", "e2e/demo.test.mjs"])
            .env("QUARRY_SCREENSHOT", "docs/labeling.png"),
    )?;
    println!("xtask: wrote docs/labeling.png");
    Ok(())
}

fn build_dist(env: &Env) -> Result<(), String> {
    cmd::run(
        env.command("trunk")
            .args(["build", "--release", "--cargo-profile", "ci"]),
    )
}

#[cfg(test)]
mod tests {
    use super::tools::locked_version;

    #[test]
    fn trunk_config_pins_the_locked_wasm_bindgen() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let lock = std::fs::read_to_string(root.join("Cargo.lock")).unwrap();
        let locked = locked_version(&lock, "wasm-bindgen").unwrap();
        let trunk = std::fs::read_to_string(root.join("Trunk.toml")).unwrap();
        assert!(
            trunk.contains(&format!("wasm_bindgen = \"{locked}\"")),
            "Trunk.toml must pin wasm-bindgen {locked}"
        );
    }

    #[test]
    fn core_never_depends_on_browser_crates() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let manifest = std::fs::read_to_string(root.join("core/Cargo.toml")).unwrap();
        for banned in [
            "leptos",
            "web-sys",
            "js-sys",
            "wasm-bindgen =",
            "gloo",
            "wgpu",
        ] {
            assert!(
                !manifest.contains(banned),
                "core/Cargo.toml must not depend on {banned}"
            );
        }
    }
}
