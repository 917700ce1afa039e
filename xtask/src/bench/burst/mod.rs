//! Bursts through the real Worker Controller: N greeting workflows started at once on a
//! function registered as a serverless worker version; the dev server's Worker Controller
//! invokes it through `lw-local` while tasks find no poller. Used by `cargo xtask bench
//! --burst` (idle exit, concurrency 1 and Managed Instances, the Python SDK's worker beside
//! them), `--managed` (a worker per invocation against one shared worker) and `cargo xtask
//! soak --burst` (a larger burst).
//!
//! Besides time to all done and billed GB-s, each run says where the time went: when the
//! controller invoked (`lw-local` records each Invoke), how long an invocation took to pick
//! up its first task (the worker identity on each task's start event in the server's history
//! is `<requestId>@<function ARN>`), and the server's and the workers' CPU.

use std::path::Path;

use super::{Peer, build_peers};

mod measure;
mod report;
mod runner;

/// `--burst`, `--managed` and `soak --burst`.
pub(crate) struct BurstArgs {
    /// `--managed`: a worker per invocation against one shared worker (issue 17's choice);
    /// otherwise the burst comparison.
    pub(crate) managed: bool,
    pub(crate) workflows: usize,
    pub(crate) per_instance: u32,
    pub(crate) runs: usize,
    /// The idle exit the idle-exit rows use.
    pub(crate) idle_exit: String,
    pub(crate) write_docs: bool,
    /// `cargo xtask soak --burst`: the command line the tables name.
    pub(crate) soak: bool,
    /// `--only TEXT`: the scenarios whose name contains TEXT (the docs are left alone).
    pub(crate) only: Option<String>,
    /// `--server-setting KEY=VALUE`, repeatable: dev server settings on top of the Worker
    /// Controller's (the docs are left alone).
    pub(crate) server_settings: Vec<String>,
}

impl BurstArgs {
    /// Takes one of the burst's flags (`--only`, `--workflows`, `--per-instance`, `--runs`,
    /// `--idle-exit`, `--server-setting`) with its value.
    pub(crate) fn set(&mut self, flag: &str, value: Option<&str>) -> Result<(), String> {
        let value = value.ok_or(format!("{flag} takes a value"))?;
        let number = || -> Result<usize, String> {
            value
                .parse::<usize>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or(format!("{flag} takes a number (at least 1), not {value:?}"))
        };
        match flag {
            "--only" => self.only = Some(value.to_owned()),
            "--server-setting" => {
                if value
                    .split_once('=')
                    .is_none_or(|(k, _)| k.trim().is_empty())
                {
                    return Err(format!(
                        "--server-setting takes KEY=VALUE, a dev server dynamic config \
                         value such as frontend.enableCancelWorkerPollsOnShutdown=true, not \
                         {value:?}"
                    ));
                }
                self.server_settings.push(value.to_owned());
            }
            "--workflows" => self.workflows = number()?,
            "--runs" => self.runs = number()?,
            "--per-instance" => {
                self.per_instance = u32::try_from(number()?)
                    .ok()
                    .filter(|n| *n <= 1600)
                    .ok_or("--per-instance takes a number from 1 to 1600")?
            }
            "--idle-exit" => {
                let digits = value.strip_suffix("ms").or_else(|| value.strip_suffix('s'));
                if digits.is_none_or(|d| d.parse::<u64>().is_err()) {
                    return Err(format!(
                        "--idle-exit takes a duration such as 500ms or 2s, not {value:?}"
                    ));
                }
                self.idle_exit = value.to_owned();
            }
            other => return Err(format!("{other} is not a burst flag")),
        }
        Ok(())
    }
}

impl Default for BurstArgs {
    fn default() -> Self {
        Self {
            managed: false,
            workflows: 200,
            per_instance: 8,
            runs: 3,
            idle_exit: "500ms".into(),
            write_docs: true,
            soak: false,
            only: None,
            server_settings: Vec::new(),
        }
    }
}

/// The scenarios of `--burst` (or of `--managed`), each with its label, program,
/// per-instance concurrency and environment.
fn scenarios(b: &BurstArgs, rust: &Peer, python: &Peer) -> Vec<runner::Scenario> {
    let scenario =
        |label: String, peer: &Peer, per_instance: u32, extra: &[(&'static str, String)]| {
            let mut env: Vec<(&'static str, String)> = peer
                .env
                .iter()
                .map(|(k, v)| (*k, (*v).to_owned()))
                .collect();
            env.extend(extra.iter().cloned());
            runner::Scenario {
                label,
                program: peer.program.clone(),
                task_root: peer.task_root.clone(),
                per_instance,
                env,
                without_idle_exit: None,
            }
        };
    let n = b.per_instance;
    let scaled = super::scaled(rust);
    let idle = [("LAMBDAWORKER_IDLE_EXIT", b.idle_exit.clone())];
    if b.managed {
        let slots = [("LW_GREETING_SLOT_SCALE", n.to_string())];
        return vec![
            scenario("rust, one at a time (Lambda default)".into(), rust, 1, &[]),
            scenario(
                format!("rust, Managed Instances: {n} at once per instance, a worker each"),
                rust,
                n,
                &[],
            ),
            scenario(
                format!("rust, one worker with {n}× the slots and pollers, one at a time"),
                &scaled,
                1,
                &slots,
            ),
            scenario(
                "python, one at a time (Lambda default)".into(),
                python,
                1,
                &[],
            ),
        ];
    }
    let i = &b.idle_exit;
    let mut wide = idle.to_vec();
    wide.push(("LW_GREETING_SLOT_SCALE", "4".into()));
    let mut scenarios = vec![
        scenario("rust, one at a time".into(), rust, 1, &[]),
        scenario(
            format!("rust, one at a time, idle exit {i}"),
            rust,
            1,
            &idle,
        ),
        scenario(
            format!("rust, one at a time, idle exit {i}, 4× slots and pollers"),
            &scaled,
            1,
            &wide,
        ),
        scenario(
            format!("rust, Managed Instances, {n} at once per instance"),
            rust,
            n,
            &[],
        ),
        scenario(
            format!("rust, Managed Instances, {n} at once per instance, idle exit {i}"),
            rust,
            n,
            &idle,
        ),
        scenario(
            "python, one at a time (its SDK polls to the deadline)".into(),
            python,
            1,
            &[],
        ),
    ];
    // Each idle-exit scenario is set against the one named as it is up to ", idle exit".
    let labels: Vec<String> = scenarios.iter().map(|s| s.label.clone()).collect();
    for s in &mut scenarios {
        if let Some((base, _)) = s.label.split_once(", idle exit") {
            s.without_idle_exit = labels.iter().position(|l| l == base);
        }
    }
    scenarios
}

/// Runs the burst scenarios and writes their table (and, for `--burst`, the chart).
pub(super) fn run(b: &BurstArgs, rust: &Peer, python: &Peer, root: &Path) -> Result<(), String> {
    let scenarios = match &b.only {
        Some(only) => select(scenarios(b, rust, python), only)?,
        None => scenarios(b, rust, python),
    };
    let write_docs = b.write_docs && b.only.is_none() && b.server_settings.is_empty();
    let runtime = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    let all = runtime.block_on(runner::run_scenarios(
        &scenarios,
        &b.server_settings,
        b.workflows,
        b.runs,
    ))?;
    let results: Vec<_> = scenarios
        .into_iter()
        .zip(all)
        .map(|(s, runs)| (s, runner::median_run(&runs), runs))
        .collect();
    let command = report::Command {
        line: command_line(b),
        workflows: b.workflows,
        runs: b.runs,
    };
    if b.managed {
        let table = report::managed_table(&command, &results);
        return report::write(root, "managed", &table, &results, write_docs);
    }
    let table = report::burst_table(&command, &results);
    let section = if b.soak { "burst-soak" } else { "burst" };
    let svg = if write_docs && !b.soak {
        root.join("docs").join("burst.svg")
    } else {
        root.join("target")
            .join("bench")
            .join(format!("{section}.svg"))
    };
    chart(root, &svg, &results)?;
    report::write(root, section, &table, &results, write_docs && !b.soak)
}

/// The scenarios whose label contains `only`, each idle-exit one still set against its
/// counterpart where that is kept too.
fn select(scenarios: Vec<runner::Scenario>, only: &str) -> Result<Vec<runner::Scenario>, String> {
    let kept: Vec<usize> = (0..scenarios.len())
        .filter(|&k| scenarios[k].label.contains(only))
        .collect();
    if kept.is_empty() {
        return Err(format!("--only {only}: no scenario's name contains it"));
    }
    Ok(kept
        .iter()
        .map(|&k| {
            let mut s = scenarios[k].clone();
            s.without_idle_exit = s
                .without_idle_exit
                .and_then(|base| kept.iter().position(|&j| j == base));
            s
        })
        .collect())
}

/// The command line the tables name.
fn command_line(b: &BurstArgs) -> String {
    if b.soak {
        return format!("cargo xtask soak --burst --workflows {}", b.workflows);
    }
    let settings: String = b
        .server_settings
        .iter()
        .map(|s| format!(" --server-setting {s}"))
        .collect();
    format!(
        "cargo xtask bench --{} --workflows {} --per-instance {} --runs {}{}{settings}",
        if b.managed { "managed" } else { "burst" },
        b.workflows,
        b.per_instance,
        b.runs,
        if b.managed || b.idle_exit == "500ms" {
            String::new()
        } else {
            format!(" --idle-exit {}", b.idle_exit)
        }
    )
}

/// The timeline chart of the median runs: invocations in flight and workflows completed.
fn chart(
    root: &Path,
    svg: &Path,
    results: &[(runner::Scenario, measure::BurstRun, Vec<measure::BurstRun>)],
) -> Result<(), String> {
    let series: Vec<crate::chart_burst::Series<'_>> = results
        .iter()
        .map(|(s, r, _)| crate::chart_burst::Series {
            label: &s.label,
            in_flight: &r.timeline,
            completed: &r.completed_s,
        })
        .collect();
    let until = results
        .iter()
        .map(|(_, r, _)| r.seconds_to_all_done)
        .fold(0.0, f64::max)
        * 1.3;
    std::fs::create_dir_all(root.join("target").join("bench")).map_err(|e| e.to_string())?;
    crate::chart_burst::draw(svg, &series, until.max(1.0))?;
    eprintln!("xtask: chart written to {}", svg.display());
    Ok(())
}

/// `cargo xtask soak --burst [--workflows N]`: one larger burst of each scenario, written to
/// `target/bench/burst-soak.*`.
pub(crate) fn soak(args: &[String]) -> Result<(), String> {
    let mut b = BurstArgs {
        workflows: 1000,
        runs: 1,
        write_docs: false,
        soak: true,
        ..BurstArgs::default()
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--burst" => {}
            "--workflows" => b.set(arg, it.next().map(String::as_str))?,
            other => return Err(format!("soak: unknown argument {other}")),
        }
    }
    let root = crate::workspace_root();
    crate::ensure_temporal_cli()?;
    let (rust, python) = build_peers(&root, false, true)?;
    run(&b, &rust, &python, &root)
}

#[cfg(test)]
mod tests;
