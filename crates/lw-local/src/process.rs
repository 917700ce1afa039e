//! Child processes and ports for the dev server (and, public with the `testing` feature,
//! for the repository's test fixtures): a child that dies with this process, a program
//! found on PATH, and a free loopback port.

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

/// A free TCP port on 127.0.0.1 (bound then released), chosen below the kernel's ephemeral
/// range where there is room.
///
/// A port in the ephemeral range can be taken by any outgoing connection while its server
/// is down: a client reconnecting to a stopped server can even be given the server's own
/// port as its local port (a TCP self-connect), and the restarted server then fails to
/// bind. Ports below the range are only ever taken by an explicit bind.
///
/// A port is handed out once per process: two callers asking one after the other (a dev
/// server's three ports, say) never get the same one.
pub fn free_port() -> Result<u16, LocalError> {
    static GIVEN: std::sync::Mutex<Vec<u16>> = std::sync::Mutex::new(Vec::new());
    let mut given = GIVEN.lock().unwrap_or_else(|e| e.into_inner());
    let (low, _) = ephemeral_range();
    const FLOOR: u16 = 20_000;
    if low > FLOOR + 1_000 {
        let span = u128::from(low - FLOOR);
        for _ in 0..64 {
            let port = FLOOR + (uuid::Uuid::new_v4().as_u128() % span) as u16;
            if !given.contains(&port) && std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
                given.push(port);
                return Ok(port);
            }
        }
    }
    for _ in 0..64 {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        if !given.contains(&port) {
            given.push(port);
            return Ok(port);
        }
    }
    Err(LocalError::Command(
        "free some TCP ports on 127.0.0.1: every port tried was taken or already handed out".into(),
    ))
}

/// The kernel's ephemeral port range (`net.ipv4.ip_local_port_range`); Linux's default
/// where it cannot be read.
fn ephemeral_range() -> (u16, u16) {
    let text =
        std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range").unwrap_or_default();
    let mut parts = text.split_whitespace().map(str::parse::<u16>);
    match (parts.next(), parts.next()) {
        (Some(Ok(low)), Some(Ok(high))) if low <= high => (low, high),
        _ => (32_768, 60_999),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_ports_are_free_distinct_and_outside_the_ephemeral_range() {
        let (low, high) = ephemeral_range();
        let mut seen = std::collections::HashSet::new();
        for _ in 0..200 {
            let port = free_port().unwrap();
            assert!(seen.insert(port), "{port} was handed out twice");
            assert!(std::net::TcpListener::bind(("127.0.0.1", port)).is_ok());
            if low > 21_000 {
                assert!(
                    port < low,
                    "{port} is inside the ephemeral range {low}-{high}"
                );
            }
        }
    }
}
