//! `cargo xtask bench`'s flags.

use std::time::Duration;

use super::burst;

/// What `cargo xtask bench` was asked for.
pub(super) struct Args {
    pub(super) samples: usize,
    pub(super) batch: usize,
    pub(super) loop_workflows: usize,
    pub(super) loop_runs: usize,
    pub(super) timeout: Duration,
    pub(super) write_docs: bool,
    /// Build the greeting worker without lambdaworker's default features (`kms`, `otel`).
    pub(super) no_default_features: bool,
    /// Only a burst through the Worker Controller (`--burst`, `--managed`).
    pub(super) burst: Option<burst::BurstArgs>,
}

pub(super) fn parse(args: &[String]) -> Result<Args, String> {
    let mut a = Args {
        samples: 5,
        batch: 50,
        loop_workflows: 30,
        loop_runs: 3,
        timeout: Duration::from_secs(25),
        write_docs: true,
        no_default_features: false,
        burst: None,
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut number = |what: &str| -> Result<usize, String> {
            it.next()
                .and_then(|n| n.parse().ok())
                .ok_or(format!("{what} takes a number"))
        };
        match arg.as_str() {
            "--samples" => a.samples = number("--samples")?.max(1),
            "--batch" => a.batch = number("--batch")?.max(1),
            "--loop-workflows" => a.loop_workflows = number("--loop-workflows")?,
            "--loop-runs" => a.loop_runs = number("--loop-runs")?.max(1),
            "--timeout" => a.timeout = Duration::from_secs(number("--timeout")?.max(10) as u64),
            "--no-default-features" => a.no_default_features = true,
            "--burst" | "--managed" => {
                a.burst = Some(burst::BurstArgs {
                    managed: arg == "--managed",
                    ..burst::BurstArgs::default()
                })
            }
            "--only" | "--workflows" | "--per-instance" | "--runs" | "--idle-exit"
            | "--server-setting" => a
                .burst
                .as_mut()
                .ok_or(format!("{arg} goes after --burst or --managed"))?
                .set(arg, it.next().map(String::as_str))?,
            "--smoke" => {
                // A quick check that the bench works (CI): one sample, small batch, no loop,
                // the docs left alone.
                a.samples = 1;
                a.batch = 10;
                a.loop_workflows = 0;
                a.write_docs = false;
            }
            other => {
                return Err(format!(
                    "bench: unknown argument {other}\nusage: cargo xtask bench [--samples N] \
                     [--batch N] [--loop-workflows N] [--loop-runs N] [--timeout SECONDS] \
                     [--no-default-features] [--smoke] | bench (--burst|--managed) [--workflows N] \
                     [--per-instance N] [--runs N] [--idle-exit DURATION] [--only TEXT] \
                     [--server-setting KEY=VALUE]"
                ));
            }
        }
    }
    Ok(a)
}
