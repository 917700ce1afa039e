//! What xtask's tests share.

/// Lowers this test process's CPU priority, and so its cargo builds': a build takes what the
/// timing-sensitive end-to-end tests running beside it (`cargo xtask test` runs several at
/// once) leave.
pub fn yield_cpu() {
    // SAFETY: nice(2) only changes this process's scheduling priority.
    let _ = unsafe { libc::nice(10) };
}
