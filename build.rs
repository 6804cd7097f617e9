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
}
