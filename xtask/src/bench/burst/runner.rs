//! Running a burst: each scenario's function registered as a serverless worker version,
//! its burst started on a quiet server, waited for, and measured.

use std::{path::PathBuf, time::Duration};

use lw_local::{FunctionConfig, LocalLambda};
use lw_testkit::{DevServer, Greetings, WorkflowOutcome, unique};
use tokio::time::Instant;

use super::measure::{BurstRun, measure, ms};

/// One configuration of a comparison.
#[derive(Debug, Clone)]
pub(super) struct Scenario {
    pub(super) label: String,
    pub(super) program: PathBuf,
    pub(super) task_root: Option<PathBuf>,
    pub(super) per_instance: u32,
    pub(super) env: Vec<(&'static str, String)>,
    /// For an idle-exit scenario: the index of the same scenario without it, which its
    /// time and GB-s are set against.
    pub(super) without_idle_exit: Option<usize>,
}

/// The function every scenario runs as.
pub(super) const TIMEOUT: Duration = Duration::from_secs(20);
pub(super) const MEMORY_MB: u32 = 256;

/// The least time from registering a version to its burst, whatever the idle exit: the
/// server works on a new version for seconds after it is made current, and a burst started
/// sooner is slower for it (seen as ~0.5 s on a 4 s burst).
const SINCE_REGISTERED: Duration = Duration::from_secs(15);

/// Runs every scenario `runs` times (interleaved) on one dev server (the Worker
/// Controller's settings and `settings`) and returns every run, by scenario.
pub(super) async fn run_scenarios(
    scenarios: &[Scenario],
    settings: &[String],
    workflows: usize,
    runs: usize,
) -> Result<Vec<Vec<BurstRun>>, String> {
    let aws = LocalLambda::start().await.map_err(|e| e.to_string())?;
    let mut config = lw_local::worker_controller_config();
    config.extend(settings.iter().cloned());
    let server = DevServer::start_with(config, aws.server_env()).map_err(|e| e.to_string())?;
    eprintln!("xtask: dev server at {}", server.address);
    let result = async {
        let mut all: Vec<Vec<BurstRun>> = vec![Vec::new(); scenarios.len()];
        for round in 0..runs {
            for (k, s) in scenarios.iter().enumerate() {
                let r = burst(s, &aws, &server, workflows).await?;
                eprintln!(
                    "xtask: burst {} run {}: {:.1} s, {} invocations on {} instances, \
                     {:.1} GB-s/1000",
                    s.label,
                    round + 1,
                    r.seconds_to_all_done,
                    r.invocations,
                    r.instances,
                    r.gb_s_per_1000
                );
                all[k].push(r);
            }
        }
        Ok::<_, String>(all)
    }
    .await;
    aws.stop().await;
    server.stop();
    result
}

/// The median run by time to all done.
pub(super) fn median_run(runs: &[BurstRun]) -> BurstRun {
    let mut sorted = runs.to_vec();
    sorted.sort_by(|a, b| a.seconds_to_all_done.total_cmp(&b.seconds_to_all_done));
    sorted.swap_remove(sorted.len() / 2)
}

/// N workflows at once through the controller; waits for them and for the invocations.
async fn burst(
    s: &Scenario,
    aws: &LocalLambda,
    server: &DevServer,
    workflows: usize,
) -> Result<BurstRun, String> {
    let e = |e: &dyn std::fmt::Display| format!("{}: {e}", s.label);
    let (name, task_queue) = register(s, aws, server)?;
    let registered = Instant::now();
    // The validation invocation ends before the burst, so only the burst is measured; and
    // the server has finished registering the version (its internal workflows), so every
    // scenario's burst starts on a quiet server.
    wait_idle(aws, &name).await;
    tokio::time::sleep_until(registered + SINCE_REGISTERED).await;
    settle(server).await;
    let before = aws.accounting(&name).unwrap_or_default();
    let server_cpu = || server.proc_status().map(|p| p.cpu_ms).unwrap_or_default();
    let cpu_before = server_cpu();
    let g = Greetings::connect(server, &task_queue)
        .await
        .map_err(|x| e(&x))?;
    let names: Vec<String> = (0..workflows).map(|i| format!("w{i}")).collect();
    let started = Instant::now();
    let started_unix = std::time::SystemTime::now();
    let ids = g.start(&names).await.map_err(|x| e(&x))?;
    g.wait_all(&ids, Duration::from_secs(300))
        .await
        .map_err(|x| e(&x))?;
    let polled = started.elapsed().as_secs_f64();
    let outcomes = g.outcomes(&ids).await.map_err(|x| e(&x))?;
    for o in &outcomes {
        if o.result.is_none() || o.activity_completions != 1 {
            return Err(e(&format!("workflow {} not completed once: {o:?}", o.id)));
        }
    }
    print_last_workflow(&s.label, &outcomes, started_unix);
    wait_idle(aws, &name).await;
    let server_cpu_ms = server_cpu().saturating_sub(cpu_before);
    let a = aws.accounting(&name).unwrap_or_default();
    if a.errors + a.timeouts > before.errors + before.timeouts {
        return Err(e(&format!("{} errors, {} timeouts", a.errors, a.timeouts)));
    }
    let mut run = measure(&before, &a, workflows, &outcomes, started_unix, polled);
    run.server_cpu_ms_per_wf = server_cpu_ms as f64 / workflows as f64;
    Ok(run)
}

/// Registers the scenario's function as a serverless worker version (made current);
/// returns the function's name and task queue.
fn register(
    s: &Scenario,
    aws: &LocalLambda,
    server: &DevServer,
) -> Result<(String, String), String> {
    let name = unique("burst-fn");
    let mut config = FunctionConfig::new(&name, &s.program)
        .timeout(TIMEOUT)
        .memory_mb(MEMORY_MB)
        .concurrency(100)
        .per_instance_concurrency(s.per_instance);
    config.task_root = s.task_root.clone();
    let env = s.env.iter().map(|(k, v)| (*k, v.clone()));
    let task_queue = crate::bench::serverless::register(aws, server, "burst", config, env)
        .map_err(|x| format!("{}: {x}", s.label))?;
    Ok((name, task_queue))
}

/// Prints the history of the workflow that completed last, relative to the burst's start:
/// where a burst's tail went.
fn print_last_workflow(label: &str, outcomes: &[WorkflowOutcome], started: std::time::SystemTime) {
    let Some(last) = outcomes.iter().max_by_key(|o| o.closed_at) else {
        return;
    };
    let events: Vec<String> = last
        .timeline
        .iter()
        .map(|(kind, at)| {
            let kind = kind.trim_start_matches("EVENT_TYPE_").to_lowercase();
            format!("{kind} {:.2}s", (ms(*at) - ms(started)) / 1000.0)
        })
        .collect();
    eprintln!(
        "xtask: {label}: the last workflow to complete: {}",
        events.join(", ")
    );
}

/// Until the dev server's CPU has been below 10 % of a core for two half-seconds in a row
/// (at most 20 s).
async fn settle(server: &DevServer) {
    let cpu = || server.proc_status().map(|p| p.cpu_ms).unwrap_or_default();
    let until = Instant::now() + Duration::from_secs(20);
    let mut quiet = 0;
    while quiet < 2 && Instant::now() < until {
        let before = cpu();
        tokio::time::sleep(Duration::from_millis(500)).await;
        quiet = if cpu().saturating_sub(before) < 50 {
            quiet + 1
        } else {
            0
        };
    }
}

/// Until the function has no invocation in flight (at most a function timeout and a bit).
async fn wait_idle(aws: &LocalLambda, name: &str) {
    let until = Instant::now() + TIMEOUT + Duration::from_secs(20);
    loop {
        let a = aws.accounting(name).unwrap_or_default();
        if (a.invocations > 0 && a.in_flight == 0) || Instant::now() >= until {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
