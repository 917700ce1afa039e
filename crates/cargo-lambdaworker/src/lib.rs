#![warn(missing_docs)]
//! `cargo lambdaworker`: start, run and package a serverless Temporal worker written with
//! [`lambdaworker`](https://docs.rs/lambdaworker), in any Cargo project.
//!
//! - [`new`]: a starter project (a workflow, an activity, `temporal.toml`, a README) that
//!   builds and passes its test as it is.
//! - [`dev`]: the local serverless loop: a Temporal dev server whose Worker Controller invokes
//!   your function through local STS and Lambda ([`lw_local`]), one line per invocation,
//!   the accounting at the end; `--watch` registers each rebuild as a new version.
//! - [`package`]: a reproducible `bootstrap.zip` in `target/lambda/<name>/`, with the
//!   configuration, certificate, glibc and size checks.
//! - [`deploy`]: each build published as its own Lambda version and registered as a Worker
//!   Deployment Version pointing at that version's qualified ARN; `status`, `promote`,
//!   `ramp` and the IAM `policies`.
//!
//! Each command's flags are a [`clap::Args`] struct beside its code, whose `run` the binary
//! calls: [`new::NewArgs`], [`dev::DevArgs`], [`package::PackageArgs`] and
//! [`deploy::cli`]'s. Their fields are the library's own options ([`Selection`],
//! [`dev::DevOptions`], [`package::Request`], [`deploy::Flags`]), so a flag is declared
//! once. This repository's `xtask` parses [`package::PackageArgs`] too.

pub mod deploy;
pub mod dev;
mod error;
pub mod new;
pub mod package;
pub mod project;

use std::process::Command;

pub use deploy::settings::MetadataKey;
pub use error::Error;
pub use lw_runtime::error_chain;
pub use project::{Project, Selection};

/// The cargo that runs us (`$CARGO` under `cargo lambdaworker`), else `cargo` from PATH.
pub fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// Parses `--env NAME=VALUE`.
pub fn parse_env(value: &str) -> Result<(String, String), Error> {
    value
        .split_once('=')
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .ok_or_else(|| Error::EnvWithoutValue {
            value: value.to_owned(),
        })
}

/// One progress line on stderr, as cargo prints them.
pub fn progress(message: &str) {
    eprintln!("{:>12} {message}", "lambdaworker");
}

/// Runs a `cargo build` (its own progress goes to the terminal); a failure names the command.
pub(crate) fn run_build(mut cmd: Command) -> Result<(), Error> {
    let command = format!(
        "cargo {}",
        cmd.get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    );
    match cmd.status() {
        Ok(status) if status.success() => Ok(()),
        Ok(status) => Err(Error::Build { command, status }),
        Err(source) => Err(Error::BuildStart { command, source }),
    }
}

/// Runs a command's async work on a runtime of its own.
pub(crate) fn block_on<T>(
    work: impl std::future::Future<Output = Result<T, Error>>,
) -> Result<T, Error> {
    let runtime =
        tokio::runtime::Runtime::new().map_err(Error::io(".", "cannot start the async runtime"))?;
    runtime.block_on(work)
}
