//! Finding and installing the tools the build and tests need, from package registries only.

use std::path::PathBuf;
use std::process::Command;

pub const TRUNK_VERSION: &str = "0.21.14";

/// Running commands with their output shown.
pub mod cmd {
    use std::process::Command;

    /// Runs `c`, inheriting stdio.
    ///
    /// # Errors
    /// When it cannot start or exits non-zero.
    pub fn run(c: &mut Command) -> Result<(), String> {
        let status = c
            .status()
            .map_err(|e| format!("could not run {c:?}: {e}"))?;
        if status.success() {
            Ok(())
        } else {
            Err(format!("{c:?} failed ({status})"))
        }
    }

    /// Runs `c` and returns its stdout, or `None` when it cannot start or fails.
    pub fn output(c: &mut Command) -> Option<String> {
        let out = c.output().ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    }
}

/// The repository root and the PATH the tools are found on.
pub struct Env {
    root: PathBuf,
    path: String,
}

/// The version of `package` in a Cargo.lock text.
pub fn locked_version(lock: &str, package: &str) -> Option<String> {
    let needle = format!("name = \"{package}\"\nversion = \"");
    let at = lock.find(&needle)? + needle.len();
    Some(lock[at..].split('"').next()?.to_string())
}

impl Env {
    /// Locates the repository root and puts `~/.cargo/bin` and `node_modules/.bin` on PATH.
    pub fn detect() -> Result<Env, String> {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .canonicalize()
            .map_err(|e| e.to_string())?;
        let home = std::env::var("HOME").unwrap_or_else(|_| "/root".into());
        let cargo_home = std::env::var("CARGO_HOME").unwrap_or_else(|_| format!("{home}/.cargo"));
        let path = format!(
            "{}:{cargo_home}/bin:{}",
            root.join("node_modules/.bin").display(),
            std::env::var("PATH").unwrap_or_default()
        );
        Ok(Env { root, path })
    }

    /// A command run in the repository root with the tools' PATH.
    pub fn command(&self, program: &str) -> Command {
        let mut c = Command::new(program);
        c.current_dir(&self.root).env("PATH", &self.path);
        c
    }

    fn has(&self, program: &str, args: &[&str], want: &str) -> bool {
        cmd::output(self.command(program).args(args)).is_some_and(|o| o.contains(want))
    }

    /// Downloads the crates Cargo.lock names, so Trunk's offline cargo builds find them.
    pub fn fetch(&self) -> Result<(), String> {
        cmd::run(self.command("cargo").args(["fetch", "--locked"]))
    }

    /// wasm32 target, trunk, wasm-bindgen-cli (the Cargo.lock version), npm's binaryen.
    pub fn ensure_build_tools(&self) -> Result<(), String> {
        if !self.has(
            "rustup",
            &["target", "list", "--installed"],
            "wasm32-unknown-unknown",
        ) {
            println!("xtask: installing the wasm32-unknown-unknown target");
            cmd::run(
                self.command("rustup")
                    .args(["target", "add", "wasm32-unknown-unknown"]),
            )?;
        }
        if !self.has("trunk", &["--version"], TRUNK_VERSION) {
            println!("xtask: installing trunk {TRUNK_VERSION} (several minutes, once)");
            cmd::run(self.command("cargo").args([
                "install",
                "trunk",
                "--version",
                TRUNK_VERSION,
                "--locked",
            ]))?;
        }
        let lock =
            std::fs::read_to_string(self.root.join("Cargo.lock")).map_err(|e| e.to_string())?;
        let bindgen =
            locked_version(&lock, "wasm-bindgen").ok_or("wasm-bindgen is not in Cargo.lock")?;
        if !self.has("wasm-bindgen", &["--version"], &bindgen) {
            println!("xtask: installing wasm-bindgen-cli {bindgen} (several minutes, once)");
            // Not --locked: its lockfile pins a crate version the registry mirror does not serve.
            cmd::run(self.command("cargo").args([
                "install",
                "wasm-bindgen-cli",
                "--version",
                &bindgen,
            ]))?;
        }
        self.ensure_node_packages()
    }

    fn ensure_node_packages(&self) -> Result<(), String> {
        let ready = self.root.join("node_modules/.bin/wasm-opt").exists()
            && self
                .root
                .join("node_modules/playwright-core/package.json")
                .exists();
        if ready {
            return Ok(());
        }
        if cmd::output(self.command("npm").arg("--version")).is_none() {
            self.apt_install(&["nodejs", "npm"])?;
        }
        println!("xtask: installing node packages (binaryen, playwright-core)");
        cmd::run(self.command("npm").args(["ci", "--no-audit", "--no-fund"]))
    }

    /// Runs tools/check_onnx_classifier.py (onnxruntime on the classifier the native tests
    /// exported) in a virtual environment under target/ with the pinned requirements.
    pub fn check_onnx_classifier(&self) -> Result<(), String> {
        let venv = self.root.join("target/onnx-check-venv");
        let python = venv.join("bin/python");
        let requirements = self.root.join("tools/requirements-onnx-check.txt");
        let stamp = venv.join("requirements.txt");
        let wanted = std::fs::read_to_string(&requirements).map_err(|e| e.to_string())?;
        if std::fs::read_to_string(&stamp).ok().as_deref() != Some(wanted.as_str()) {
            println!("xtask: installing onnxruntime for the classifier check (once)");
            cmd::run(self.command("python3").arg("-m").arg("venv").arg(&venv))?;
            cmd::run(
                self.command(python.to_str().ok_or("bad path")?)
                    .args(["-m", "pip", "install", "--quiet", "-r"])
                    .arg(&requirements),
            )?;
            std::fs::write(&stamp, wanted).map_err(|e| e.to_string())?;
        }
        cmd::run(
            self.command(python.to_str().ok_or("bad path")?)
                .arg("tools/check_onnx_classifier.py")
                .arg("target/onnx-classifier"),
        )
    }

    /// Debian's Chromium, which the browser tests drive.
    pub fn ensure_browser_tools(&self) -> Result<(), String> {
        if !std::path::Path::new("/usr/bin/chromium").exists() {
            self.apt_install(&["chromium"])?;
        }
        Ok(())
    }

    /// A Vulkan driver for the GPU backend's native tests: Mesa's lavapipe (software) where the
    /// machine has no other. The tests then require an adapter (`QUARRY_REQUIRE_GPU`).
    pub fn ensure_vulkan(&self) -> Result<(), String> {
        let icds = std::fs::read_dir("/usr/share/vulkan/icd.d")
            .map(|d| d.count())
            .unwrap_or(0);
        if icds == 0 {
            self.apt_install(&["mesa-vulkan-drivers"])?;
        }
        Ok(())
    }

    fn apt_install(&self, packages: &[&str]) -> Result<(), String> {
        println!("xtask: installing {} from Debian", packages.join(", "));
        let sudo = cmd::output(Command::new("id").arg("-u")).is_some_and(|u| u.trim() != "0");
        let apt = |args: &[&str]| {
            let mut c = if sudo {
                Command::new("sudo")
            } else {
                Command::new("apt-get")
            };
            if sudo {
                c.arg("apt-get");
            }
            c.args(args).env("DEBIAN_FRONTEND", "noninteractive");
            cmd::run(&mut c)
        };
        apt(&["update"])?;
        let mut args = vec!["install", "-y", "--no-install-recommends"];
        args.extend_from_slice(packages);
        apt(&args)
    }
}
