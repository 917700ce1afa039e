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
//! The binary is a thin command line over these modules; this repository's `xtask` calls the
//! same functions.

pub mod deploy;
pub mod dev;
mod error;
pub mod new;
pub mod package;
pub mod project;

use std::process::Command;

pub use error::Error;
pub use project::{Project, Selection};

/// The cargo that runs us (`$CARGO` under `cargo lambdaworker`), else `cargo` from PATH.
pub fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// An error and its causes, each `Display`ed once, joined with `: ` (never a `Debug` dump).
pub fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let t = s.to_string();
        if !text.contains(&t) {
            text = format!("{text}: {t}");
        }
        source = s.source();
    }
    text
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
    let status = cmd.status().map_err(|e| Error::Build {
        command: command.clone(),
        status: e.to_string(),
    })?;
    if status.success() {
        Ok(())
    } else {
        Err(Error::Build {
            command,
            status: status.to_string(),
        })
    }
}
