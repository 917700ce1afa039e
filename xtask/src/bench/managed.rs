//! `cargo xtask bench --managed`: Lambda Managed Instances through the real Worker
//! Controller and `lw-local`. N greeting workflows started at once; the controller invokes
//! the function; instances serve one invocation at a time (Lambda's default) or several
//! (`PerExecutionEnvironmentMaxConcurrency`). Beside them, one worker with the capacity of
//! several (the alternative to a worker per invocation: one worker shared by the concurrent
//! invocations) and the Python SDK's worker at one at a time (no SDK's Lambda worker serves
//! concurrent invocations).
//!
//! Writes the table between the `managed:begin` / `managed:end` markers of
//! `docs/performance.md`.

use std::{path::PathBuf, time::Duration};

use lw_local::{FunctionConfig, LocalLambda, RoleConfig};
use lw_testkit::{DevServer, Greetings, unique};
use tokio::time::Instant;

use super::report::{machine, update_section};

/// One configuration of the comparison.
#[derive(Clone)]
pub(super) struct Scenario {
    pub(super) label: String,
    pub(super) program: PathBuf,
    pub(super) task_root: Option<PathBuf>,
    pub(super) per_instance: u32,
    pub(super) env: Vec<(&'static str, String)>,
}

/// One burst, measured.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub(super) struct ManagedRun {
    workflows: usize,
    seconds_to_all_done: f64,
    instances: usize,
    invocations: u64,
    /// The most invocations one instance held at once.
    peak_in_flight: usize,
    /// Peak RSS of the largest instance, MiB.
    peak_rss_mib_max: f64,
    /// Peak RSS averaged over the instances, MiB.
    peak_rss_mib_mean: f64,
    /// Seconds the instances held at least one invocation, summed.
    instance_busy_s: f64,
}

pub(super) struct ManagedArgs {
    pub(super) workflows: usize,
    pub(super) per_instance: u32,
    pub(super) runs: usize,
    pub(super) write_docs: bool,
}

/// Runs every scenario `args.runs` times (interleaved) and returns the median run of each.
pub(super) async fn managed_bench(
    scenarios: &[Scenario],
    args: &ManagedArgs,
) -> Result<Vec<(String, ManagedRun, Vec<f64>)>, String> {
    let aws = LocalLambda::start().await.map_err(|e| e.to_string())?;
    let server = DevServer::start_with(lw_local::worker_controller_config(), aws.server_env())
        .map_err(|e| e.to_string())?;
    eprintln!("xtask: dev server at {}", server.address);
    let result = async {
        let mut runs: Vec<Vec<ManagedRun>> = vec![Vec::new(); scenarios.len()];
        for round in 0..args.runs {
            for (k, s) in scenarios.iter().enumerate() {
                let r = burst(s, &aws, &server, args.workflows).await?;
                eprintln!("xtask: managed {} run {}: {r:?}", s.label, round + 1);
                runs[k].push(r);
            }
        }
        let mut out = Vec::new();
        for (s, mut rs) in scenarios.iter().zip(runs) {
            let all: Vec<f64> = rs.iter().map(|r| r.seconds_to_all_done).collect();
            rs.sort_by(|a, b| a.seconds_to_all_done.total_cmp(&b.seconds_to_all_done));
            out.push((s.label.clone(), rs.swap_remove(rs.len() / 2), all));
        }
        Ok::<_, String>(out)
    }
    .await;
    aws.stop().await;
    server.stop();
    result
}

/// N workflows at once through the controller; waits for them and for the invocations.
async fn burst(
    s: &Scenario,
    aws: &LocalLambda,
    server: &DevServer,
    workflows: usize,
) -> Result<ManagedRun, String> {
    let e = |e: &dyn std::fmt::Display| format!("{}: {e}", s.label);
    let (deployment, task_queue) = (unique("mi-dep"), unique("mi"));
    let name = unique("mi-fn");
    let role = format!("arn:aws:iam::000000000000:role/{}", unique("mi-invoker"));
    let external_id = unique("ext");
    aws.add_role(RoleConfig {
        arn: role.clone(),
        external_id: Some(external_id.clone()),
    });
    let mut config = FunctionConfig::new(&name, &s.program)
        .timeout(Duration::from_secs(20))
        .concurrency(100)
        .per_instance_concurrency(s.per_instance)
        .env("TEMPORAL_ADDRESS", server.address.clone())
        .env("TEMPORAL_NAMESPACE", "default")
        .env("TEMPORAL_TASK_QUEUE", task_queue.clone())
        .env("LW_DEPLOYMENT_NAME", deployment.clone())
        .env("LW_BUILD_ID", "b1")
        .env("TEMPORAL_CONFIG_FILE", "");
    config.task_root = s.task_root.clone();
    for (k, v) in &s.env {
        config = config.env(*k, v.clone());
    }
    let arn = aws.add_function(config);
    server
        .create_lambda_version(&deployment, "b1", &arn, &role, &external_id)
        .map_err(|x| e(&x))?;
    server
        .set_current_version(&deployment, "b1")
        .map_err(|x| e(&x))?;
    // The validation invocation ends before the burst, so only the burst is measured.
    wait_idle(aws, &name).await;
    let before = aws.accounting(&name).unwrap_or_default();
    let g = Greetings::connect(server, &task_queue)
        .await
        .map_err(|x| e(&x))?;
    let names: Vec<String> = (0..workflows).map(|i| format!("w{i}")).collect();
    let started = Instant::now();
    let ids = g.start(&names).await.map_err(|x| e(&x))?;
    g.wait_all(&ids, Duration::from_secs(300))
        .await
        .map_err(|x| e(&x))?;
    let seconds = started.elapsed().as_secs_f64();
    for o in g.outcomes(&ids).await.map_err(|x| e(&x))? {
        if o.result.is_none() || o.activity_completions != 1 {
            return Err(e(&format!("workflow {} not completed once: {o:?}", o.id)));
        }
    }
    wait_idle(aws, &name).await;
    let a = aws.accounting(&name).unwrap_or_default();
    if a.errors + a.timeouts > before.errors + before.timeouts {
        return Err(e(&format!("{} errors, {} timeouts", a.errors, a.timeouts)));
    }
    let rss: Vec<f64> = a
        .per_instance
        .iter()
        .map(|i| i.peak_rss_kib as f64 / 1024.0)
        .collect();
    Ok(ManagedRun {
        workflows,
        seconds_to_all_done: seconds,
        instances: a.instances,
        invocations: a.invocations - before.invocations,
        peak_in_flight: a
            .per_instance
            .iter()
            .map(|i| i.peak_in_flight)
            .max()
            .unwrap_or(0),
        peak_rss_mib_max: rss.iter().copied().fold(0.0, f64::max),
        peak_rss_mib_mean: rss.iter().sum::<f64>() / rss.len().max(1) as f64,
        instance_busy_s: a.per_instance.iter().map(|i| i.busy_ms).sum::<u64>() as f64 / 1000.0,
    })
}

/// Until the function has no invocation in flight (at most a function timeout and a bit).
async fn wait_idle(aws: &LocalLambda, name: &str) {
    let until = Instant::now() + Duration::from_secs(40);
    loop {
        let a = aws.accounting(name).unwrap_or_default();
        if (a.invocations > 0 && a.in_flight == 0) || Instant::now() >= until {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The markdown table of the median runs.
pub(super) fn managed_table(
    args: &ManagedArgs,
    results: &[(String, ManagedRun, Vec<f64>)],
) -> String {
    let mut t = format!(
        "`cargo xtask bench --managed --workflows {} --per-instance {} --runs {}` on {}: {} \
         greeting workflows started at once; the dev server's Worker Controller invokes the \
         function through `lw-local` (function timeout 20 s, no idle exit, release build); the \
         median of {} runs by time to all done (every run's in the last column). Every \
         workflow completed with its activity recorded once, in every run.\n\n\
         | function | time to all done | instances | invocations | most at once per instance \
         | peak RSS per instance (max / mean) | instance-seconds busy | runs (s) |\n\
         |---|---|---|---|---|---|---|---|\n",
        args.workflows,
        args.per_instance,
        args.runs,
        machine(),
        args.workflows,
        args.runs
    );
    for (label, r, all) in results {
        let runs: Vec<String> = all.iter().map(|s| format!("{s:.1}")).collect();
        t.push_str(&format!(
            "| {label} | {:.1} s | {} | {} | {} | {:.1} / {:.1} MiB | {:.0} | {} |\n",
            r.seconds_to_all_done,
            r.instances,
            r.invocations,
            r.peak_in_flight,
            r.peak_rss_mib_max,
            r.peak_rss_mib_mean,
            r.instance_busy_s,
            runs.join(", ")
        ));
    }
    t
}

pub(super) fn write(
    root: &std::path::Path,
    args: &ManagedArgs,
    results: &[(String, ManagedRun, Vec<f64>)],
) -> Result<(), String> {
    let table = managed_table(args, results);
    println!("\n{table}");
    let out = root.join("target").join("bench");
    std::fs::create_dir_all(&out).map_err(|e| e.to_string())?;
    let json: Vec<_> = results
        .iter()
        .map(|(l, r, all)| serde_json::json!({"scenario": l, "median": r, "runs_s": all}))
        .collect();
    std::fs::write(
        out.join("managed.json"),
        serde_json::to_string_pretty(&json).unwrap_or_default(),
    )
    .map_err(|e| e.to_string())?;
    if args.write_docs {
        update_section(&root.join("docs").join("performance.md"), "managed", &table)?;
        eprintln!("xtask: docs/performance.md updated (managed)");
    }
    Ok(())
}
