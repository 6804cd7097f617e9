// Record the git commit the binary is built from, for manifest.json. Absent outside git.
fn main() {
    let commit = std::process::Command::new("git")
        .args(["rev-parse", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
        .unwrap_or_default();
    println!("cargo:rustc-env=COPROSIM_GIT_COMMIT={commit}");
    for head in [".git/HEAD", ".git/refs/heads"] {
        if std::path::Path::new(head).exists() {
            println!("cargo:rerun-if-changed={head}");
        }
    }
    println!("cargo:rerun-if-changed=build.rs");
}
