//! What the tests that drive `cargo lambdaworker` on projects outside the workspace share.

use std::path::{Path, PathBuf};

/// The workspace root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("the workspace root")
        .to_path_buf()
}

/// The shared target directory (the outside projects build into it, so the dependencies
/// are built once).
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("target"))
}

/// Lowers this test process's CPU priority, and so its cargo builds': a build takes what the
/// timing-sensitive end-to-end tests running beside it (`cargo xtask test` runs several at
/// once) leave.
pub fn yield_cpu() {
    // SAFETY: nice(2) only changes this process's scheduling priority.
    let _ = unsafe { libc::nice(10) };
}
