//! Child processes and ports: what the dev server, the function instances and the test
//! fixtures share.

use crate::LocalError;

/// Spawns `cmd` so that it dies with this process (SIGKILL on exit) and returns its pid.
///
/// `PR_SET_PDEATHSIG` fires when the spawning *thread* exits, so the spawn happens on a
/// thread parked for the life of the process.
pub fn spawn_tied(mut cmd: std::process::Command) -> Result<u32, LocalError> {
    use std::os::unix::process::CommandExt;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("lw-local-child".into())
        .spawn(move || {
            // SAFETY: prctl is async-signal-safe; nothing else runs between fork and exec.
            unsafe {
                cmd.pre_exec(|| {
                    libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                    Ok(())
                });
            }
            let spawned = cmd.spawn().map(|child| {
                let pid = child.id();
                // Reaping is left to the process's end; the child lives as long as we do.
                std::mem::forget(child);
                pid
            });
            let keep = spawned.is_ok();
            let _ = tx.send(spawned);
            if keep {
                loop {
                    std::thread::park();
                }
            }
        })?;
    rx.recv()
        .map_err(|_| LocalError::Command("spawning thread died".into()))?
        .map_err(LocalError::from)
}

/// A program from `$env_var` if set, else the first `name` on PATH.
pub fn find_program(env_var: &str, name: &str) -> Option<std::path::PathBuf> {
    if let Ok(p) = std::env::var(env_var)
        && !p.is_empty()
    {
        return Some(std::path::PathBuf::from(p));
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// A free TCP port on 127.0.0.1 (bound then released).
pub fn free_port() -> Result<u16, LocalError> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?.port())
}
