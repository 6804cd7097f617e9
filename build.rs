// Record the git commit the binary is built from, for manifest.json and `--version`. Absent
// outside git.
fn git(args: &[&str]) -> Option<String> {
    std::process::Command::new("git")
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

fn main() {
    let commit = git(&["rev-parse", "HEAD"]).unwrap_or_default();
    println!("cargo:rustc-env=COPROSIM_GIT_COMMIT={commit}");
    let version = env!("CARGO_PKG_VERSION");
    let long = if commit.is_empty() {
        format!("{version} (not built from a git checkout)")
    } else {
        format!("{version} (commit {commit})")
    };
    println!("cargo:rustc-env=COPROSIM_VERSION={long}");
    // Rebuild when HEAD moves: HEAD names a branch, whose ref file (or packed-refs) changes
    // with each commit. Watching only HEAD and the refs folder left stale commits behind.
    // In a worktree, HEAD is the worktree's own but branch refs live in the common directory.
    if let (Some(dir), Some(common)) = (git(&["rev-parse", "--git-dir"]), git(&["rev-parse", "--git-common-dir"])) {
        let (dir, common) = (std::path::Path::new(&dir), std::path::Path::new(&common));
        let mut watch = vec![dir.join("HEAD"), common.join("packed-refs")];
        if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
            watch.push(common.join(branch));
        }
        for path in watch.iter().filter(|p| p.exists()) {
            println!("cargo:rerun-if-changed={}", path.display());
        }
    }
    println!("cargo:rerun-if-changed=build.rs");
    build_explorer();
}

/// Compile the explorer (crates/explorer) for the browser and leave it in OUT_DIR for
/// `coprosim explore` to embed. It needs the `wasm32-unknown-unknown` target; without it
/// the command line still builds, and `explore` says how to get the explorer.
fn build_explorer() {
    let root = std::path::PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    for watched in ["crates/core/src", "crates/core/Cargo.toml", "crates/explorer/src", "crates/explorer/Cargo.toml"] {
        println!("cargo:rerun-if-changed={}", root.join(watched).display());
    }
    println!("cargo:rerun-if-env-changed=COPROSIM_NO_EXPLORER");
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR").unwrap()).join("explorer.wasm");
    let built = if std::env::var_os("COPROSIM_NO_EXPLORER").is_some() {
        Err("COPROSIM_NO_EXPLORER is set".to_string())
    } else {
        compile_explorer(&root)
    };
    match built {
        Ok(wasm) => {
            std::fs::copy(&wasm, &out).expect("copy the explorer into OUT_DIR");
        }
        Err(why) => {
            println!("cargo:warning=coprosim is built without its browser explorer ({why})");
            std::fs::write(&out, b"").expect("write OUT_DIR");
        }
    }
}

fn compile_explorer(root: &std::path::Path) -> Result<std::path::PathBuf, String> {
    // Its own target directory: the outer build holds the lock on the usual one.
    let target_dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
        .join("explorer-wasm");
    let mut cargo = std::process::Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cargo
        .current_dir(root)
        .args(["build", "--quiet", "-p", "coprosim-explorer", "--profile", "explorer"])
        .args(["--target", "wasm32-unknown-unknown"])
        .env("CARGO_TARGET_DIR", &target_dir);
    // What the outer build passes its own compiler (clippy's driver, flags for the host) is
    // not for this one.
    for var in ["RUSTC_WORKSPACE_WRAPPER", "RUSTC_WRAPPER", "CLIPPY_ARGS", "RUSTFLAGS", "CARGO_ENCODED_RUSTFLAGS"] {
        cargo.env_remove(var);
    }
    let output = cargo.output().map_err(|e| format!("cannot run cargo: {e}"))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let why = if stderr.contains("wasm32-unknown-unknown") && stderr.contains("target may not be installed") {
            "the wasm32-unknown-unknown target is not installed: rustup target add wasm32-unknown-unknown".to_string()
        } else {
            format!("building crates/explorer for wasm32-unknown-unknown failed: {}", stderr.trim())
        };
        return Err(why);
    }
    Ok(target_dir.join("wasm32-unknown-unknown/explorer/coprosim_explorer.wasm"))
}
