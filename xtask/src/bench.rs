//! `cargo xtask bench`: the greeting worker against its peer, the Python SDK's own Lambda
//! worker (`temporalio.contrib.aws.lambda_worker`, run by `awslambdaric` as AWS runs
//! Python), on the same dev server, the same Runtime API emulator and the same workload,
//! shipped defaults on both sides, interleaved A B A B.
//!
//! Writes `target/bench/results.json`, `docs/bench.svg` and the table between the
//! `bench:begin` / `bench:end` markers of `docs/performance.md`.

use std::{
    path::{Path, PathBuf},
    process::Command,
    time::{Duration, SystemTime},
};

use lw_local::{FunctionConfig, LocalLambda, RoleConfig};
use lw_testkit::{
    DevServer, FunctionSpec, Greetings, GrpcRecorder, InvocationResult, LocalFunction, Outcome,
    WorkflowOutcome, unique,
};
use serde_json::json;
use tokio::time::Instant;

/// The peer's versions, pinned so runs compare like with like.
const PY_PACKAGES: &[&str] = &["temporalio==1.35.0", "awslambdaric==4.2.2"];
/// Both workers' default shutdown deadline buffer (stop timeout 5 s + 2 s for hooks).
const BUFFER: Duration = Duration::from_secs(7);
const BUILD_ID: &str = "b1";

struct Args {
    samples: usize,
    batch: usize,
    loop_workflows: usize,
    loop_runs: usize,
    timeout: Duration,
    write_docs: bool,
}

fn parse(args: &[String]) -> Result<Args, String> {
    let mut a = Args {
        samples: 5,
        batch: 50,
        loop_workflows: 30,
        loop_runs: 3,
        timeout: Duration::from_secs(25),
        write_docs: true,
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
                     [--smoke]"
                ));
            }
        }
    }
    Ok(a)
}

/// One side of the comparison.
#[derive(Clone)]
struct Peer {
    name: &'static str,
    program: PathBuf,
    task_root: Option<PathBuf>,
    env: Vec<(&'static str, &'static str)>,
}

/// What one cold start and the warm invocation after it measured.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub(crate) struct Sample {
    /// Process exec → first `/next`.
    pub(crate) init_ms: f64,
    /// Cold invocation (a fresh process on a registered version) handed out → first
    /// pre-started workflow completed.
    pub(crate) first_workflow_ms: f64,
    /// The same for a version's very first invocation, which includes the server adding the
    /// task queue to the version.
    pub(crate) new_version_first_ms: f64,
    /// Cold invocation: handed out → last pre-started workflow completed.
    pub(crate) cold_busy_ms: f64,
    /// Cold invocation billed: init + handed out → response.
    pub(crate) cold_billed_ms: f64,
    /// Warm invocation: workflows drained per second.
    pub(crate) batch_per_s: f64,
    /// Warm invocation: handed out → last workflow completed.
    pub(crate) warm_busy_ms: f64,
    /// Warm invocation billed: handed out → response.
    pub(crate) warm_billed_ms: f64,
    /// Warm: handed out → first workflow-task poll reaching the server.
    pub(crate) to_polling_ms: f64,
    /// Warm, nothing in flight: stop (deadline − buffer) → response posted.
    pub(crate) stop_to_response_ms: f64,
    /// Peak RSS of the function process, MiB.
    pub(crate) peak_rss_mib: f64,
    /// Warm batch: the function process's CPU time per workflow, ms.
    pub(crate) worker_cpu_ms_per_wf: f64,
    /// Warm batch: the dev server's CPU time per workflow, ms.
    pub(crate) server_cpu_ms_per_wf: f64,
}

/// Through the local serverless loop.
#[derive(Debug, Clone, Default, serde::Serialize)]
struct LoopRun {
    workflows: usize,
    invocations: u64,
    cold_starts: u64,
    billed_ms: u64,
    gb_seconds: f64,
    gb_s_per_1000: f64,
    seconds_to_complete: f64,
    median_latency_ms: f64,
    /// Every run's invocations and GB-s per 1000 workflows (this one is the median run).
    runs: Vec<(u64, f64)>,
}

pub fn bench(args: &[String]) -> Result<(), String> {
    let args = parse(args)?;
    let root = crate::workspace_root();
    crate::ensure_temporal_cli()?;
    let mut build = crate::cargo();
    build.args(["build", "--release", "-p", "greeting"]);
    crate::run("building the greeting example (release)", build)?;
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| root.join("target"));
    let rust = Peer {
        name: "rust",
        program: target.join("release").join("greeting"),
        task_root: None,
        env: Vec::new(),
    };
    let python = python_peer(&target.join("bench"), &root)?;
    let micro = criterion()?;
    let runtime = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    let (samples, loops) = runtime.block_on(run_all(&args, &[rust, python]))?;
    let results = json!({
        "machine": machine(),
        "args": {
            "samples": args.samples, "batch": args.batch,
            "loop_workflows": args.loop_workflows, "timeout_s": args.timeout.as_secs(),
        },
        "samples": samples.iter().map(|(p, s)| json!({"peer": p, "samples": s})).collect::<Vec<_>>(),
        "loop": loops.iter().map(|(p, l)| json!({"peer": p, "run": l})).collect::<Vec<_>>(),
    });
    let out = target.join("bench");
    std::fs::create_dir_all(&out).map_err(|e| e.to_string())?;
    std::fs::write(
        out.join("results.json"),
        serde_json::to_string_pretty(&results).unwrap_or_default(),
    )
    .map_err(|e| e.to_string())?;
    let mut table = table(&args, &samples, &loops);
    if !micro.is_empty() {
        table.push_str(
            "\nThe lifecycle alone, without a server (criterion, `cargo bench -p lw-runtime \
             --bench lifecycle`, criterion's point estimate):\n\n| bench | time |\n|---|---|\n",
        );
        for (name, time) in &micro {
            table.push_str(&format!("| `{name}` | {time} |\n"));
        }
    }
    println!("\n{table}");
    let svg = if args.write_docs {
        root.join("docs").join("bench.svg")
    } else {
        out.join("bench.svg")
    };
    crate::chart::draw(&svg, &medians(&samples), &loop_rows(&loops))?;
    eprintln!("xtask: chart written to {}", svg.display());
    if args.write_docs {
        update_performance_md(&root.join("docs").join("performance.md"), &table)?;
        eprintln!("xtask: docs/performance.md updated");
    }
    Ok(())
}

/// Runs the criterion benches of the lifecycle; returns `(bench, median time)`.
fn criterion() -> Result<Vec<(String, String)>, String> {
    eprintln!("xtask: criterion benches of the lifecycle (cargo bench -p lw-runtime)");
    let out = crate::cargo()
        .args(["bench", "-p", "lw-runtime", "--bench", "lifecycle"])
        .current_dir(crate::workspace_root())
        .stderr(std::process::Stdio::inherit())
        .output()
        .map_err(|e| format!("cargo bench: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    print!("{text}");
    if !out.status.success() {
        return Err(format!("cargo bench failed ({})", out.status));
    }
    // Criterion prints `name  time:   [low mid high]`, the name alone on its line when long;
    // our bench names are `group/name`.
    let mut found = Vec::new();
    let mut name = String::new();
    for line in text.lines() {
        let (head, rest) = match line.split_once("time:") {
            Some((h, r)) => (h.trim(), Some(r)),
            None => (line.trim(), None),
        };
        if head.contains('/') && !head.contains(' ') {
            name = head.to_owned();
        }
        if let Some(rest) = rest {
            let parts: Vec<&str> = rest
                .trim()
                .trim_start_matches('[')
                .trim_end_matches(']')
                .split_whitespace()
                .collect();
            if parts.len() >= 6 {
                found.push((name.clone(), format!("{} {}", parts[2], parts[3])));
            }
        }
    }
    Ok(found)
}

/// Creates `target/bench/venv` with the peer's packages and its `bootstrap`.
fn python_peer(dir: &Path, root: &Path) -> Result<Peer, String> {
    let venv = dir.join("venv");
    let python = venv.join("bin").join("python");
    let ready = python.is_file()
        && Command::new(&python)
            .args([
                "-c",
                "import temporalio.contrib.aws.lambda_worker, awslambdaric",
            ])
            .status()
            .is_ok_and(|s| s.success());
    if !ready {
        let mut mk = Command::new("python3");
        mk.args(["-m", "venv"]).arg(&venv);
        crate::run("creating the Python peer's venv", mk)?;
        let mut pip = Command::new(venv.join("bin").join("pip"));
        pip.args(["install", "--quiet"]).args(PY_PACKAGES);
        crate::run("installing temporalio and awslambdaric", pip)?;
    }
    let task_root = dir.join("python");
    std::fs::create_dir_all(&task_root).map_err(|e| e.to_string())?;
    std::fs::copy(
        root.join("xtask/bench/python/handler.py"),
        task_root.join("handler.py"),
    )
    .map_err(|e| format!("copying the Python handler: {e}"))?;
    let bootstrap = task_root.join("bootstrap");
    // As AWS's Python runtime does: a shell bootstrap exec'ing the runtime interface client.
    std::fs::write(
        &bootstrap,
        format!(
            "#!/bin/sh\ncd \"$(dirname \"$0\")\"\nexec \"{}\" -m awslambdaric handler.lambda_handler\n",
            python.display()
        ),
    )
    .map_err(|e| e.to_string())?;
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&bootstrap, std::fs::Permissions::from_mode(0o755))
        .map_err(|e| e.to_string())?;
    Ok(Peer {
        name: "python",
        program: bootstrap,
        task_root: Some(task_root),
        env: Vec::new(),
    })
}

type Samples = Vec<(&'static str, Vec<Sample>)>;
type Loops = Vec<(&'static str, LoopRun)>;

async fn run_all(args: &Args, peers: &[Peer]) -> Result<(Samples, Loops), String> {
    let aws = LocalLambda::start().await.map_err(|e| e.to_string())?;
    let server = DevServer::start_with(lw_local::worker_controller_config(), aws.server_env())
        .map_err(|e| e.to_string())?;
    eprintln!("xtask: dev server at {}", server.address);
    let result = async {
        // Warm-up, not measured: page cache, Python bytecode, the server's first requests.
        for p in peers {
            eprintln!("xtask: warm-up run of {}", p.name);
            sample(p, &server, args, 5).await?;
        }
        let mut samples: Samples = peers.iter().map(|p| (p.name, Vec::new())).collect();
        for i in 0..args.samples {
            for (k, p) in peers.iter().enumerate() {
                let s = sample(p, &server, args, args.batch).await?;
                eprintln!("xtask: sample {} {}: {s:?}", i + 1, p.name);
                samples[k].1.push(s);
            }
        }
        let mut loops = Loops::new();
        if args.loop_workflows > 0 {
            // Ours again with the idle early exit on (issue 8), in the same loop.
            let mut idle = peers[0].clone();
            idle.name = "rust-idle";
            idle.env.push(("LAMBDAWORKER_IDLE_EXIT", "500ms"));
            let loop_peers: Vec<&Peer> = peers.iter().chain(std::iter::once(&idle)).collect();
            let mut runs: Vec<Vec<LoopRun>> = vec![Vec::new(); loop_peers.len()];
            for round in 0..args.loop_runs {
                for (k, p) in loop_peers.iter().enumerate() {
                    let l = loop_run(p, &aws, &server, args).await?;
                    eprintln!("xtask: loop {} run {}: {l:?}", p.name, round + 1);
                    runs[k].push(l);
                }
            }
            for (p, mut rs) in loop_peers.iter().zip(runs) {
                // The median run by GB-s, with every run's figures beside it.
                let all: Vec<(u64, f64)> = rs
                    .iter()
                    .map(|l| (l.invocations, l.gb_s_per_1000))
                    .collect();
                rs.sort_by(|a, b| a.gb_s_per_1000.total_cmp(&b.gb_s_per_1000));
                let mut l = rs.swap_remove(rs.len() / 2);
                l.runs = all;
                loops.push((p.name, l));
            }
        }
        Ok::<_, String>((samples, loops))
    }
    .await;
    aws.stop().await;
    server.stop();
    result
}

/// Converts the server's clock to the emulator's.
struct Clock {
    at: Instant,
    sys: SystemTime,
}

impl Clock {
    fn now() -> Self {
        Self {
            at: Instant::now(),
            sys: SystemTime::now(),
        }
    }
    fn instant(&self, t: SystemTime) -> Instant {
        match t.duration_since(self.sys) {
            Ok(d) => self.at + d,
            Err(e) => self.at.checked_sub(e.duration()).unwrap_or(self.at),
        }
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn names(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("bench-{i}")).collect()
}

fn responded(r: &InvocationResult, peer: &str) -> Result<(), String> {
    match &r.outcome {
        Outcome::Response(_) => Ok(()),
        other => Err(format!("{peer}: the invocation did not answer: {other:?}")),
    }
}

/// When each workflow of `outs` completed, on the emulator's clock; an error unless all did.
fn closed_at(outs: &[WorkflowOutcome], clock: &Clock) -> Result<Vec<Instant>, String> {
    let closed: Vec<Instant> = outs
        .iter()
        .filter_map(|o| o.closed_at.map(|t| clock.instant(t)))
        .collect();
    if closed.len() == outs.len() {
        Ok(closed)
    } else {
        Err(format!(
            "only {} of {} workflows completed",
            closed.len(),
            outs.len()
        ))
    }
}

/// The first dozen RPCs within 300 ms of `from`, as `+12.3 ms PollWorkflowTaskQueue`.
fn first_calls(recorder: &GrpcRecorder, from: Instant) -> Vec<String> {
    recorder
        .call_times()
        .into_iter()
        .filter(|(_, t)| *t >= from && *t < from + Duration::from_millis(300))
        .take(12)
        .map(|(path, t)| {
            format!(
                "+{:.1} ms {}",
                ms(t - from),
                path.rsplit('/').next().unwrap_or(&path)
            )
        })
        .collect()
}

/// What a cold invocation measured, on the emulator's clock.
struct Cold {
    result: InvocationResult,
    delivered: Instant,
    /// The first and the last of its workflows to complete.
    first_done: Instant,
    last_done: Instant,
}

/// A cold invocation of `function` with ten workflows started just before it. Prints where
/// the time went (the first RPCs, the first workflow's history).
async fn cold_invocation(
    peer: &Peer,
    function: &LocalFunction,
    g: &Greetings,
    recorder: &GrpcRecorder,
    clock: &Clock,
    what: &str,
) -> Result<Cold, String> {
    let e = |e: lw_testkit::TestkitError| format!("{}: {e}", peer.name);
    let ids = g.start(&names(10)).await.map_err(e)?;
    let cold = function.invoke(json!({})).await.map_err(e)?;
    responded(&cold, peer.name).map_err(|m| format!("{m}\n{}", function.logs()))?;
    if !cold.cold {
        return Err(format!("{}: the {what} was not a cold start", peer.name));
    }
    if let Some(report) = cold.response().filter(|r| r.is_object()) {
        eprintln!("xtask: {} {what}, report: {report}", peer.name);
    }
    let delivered = cold.delivered_at.ok_or("cold: never delivered")?;
    let outs = g.outcomes(&ids).await.map_err(e)?;
    let closed =
        closed_at(&outs, clock).map_err(|m| format!("{}: {m} in the {what}", peer.name))?;
    eprintln!(
        "xtask: {} {what}, first RPCs: {:?}",
        peer.name,
        first_calls(recorder, delivered)
    );
    let first_done = closed.iter().min().copied().unwrap_or(delivered);
    let last_done = closed.iter().max().copied().unwrap_or(delivered);
    if let Some(i) = closed.iter().position(|t| *t == first_done) {
        let events: Vec<String> = outs[i]
            .timeline
            .iter()
            .map(|(kind, t)| {
                let at = clock.instant(*t);
                let (sign, d) = if at >= delivered {
                    ("+", at - delivered)
                } else {
                    ("-", delivered - at)
                };
                format!(
                    "{sign}{:.1} ms {}",
                    ms(d),
                    kind.trim_start_matches("EVENT_TYPE_")
                )
            })
            .collect();
        eprintln!(
            "xtask: {} {what}, the first workflow's history: {events:?}",
            peer.name
        );
    }
    Ok(Cold {
        result: cold,
        delivered,
        first_done,
        last_done,
    })
}

/// One sample: a brand-new deployment version whose first invocation registers the task
/// queue with the server; then a fresh process (a cold start on the registered version, as
/// every cold start after a version's first is) and a warm invocation draining `batch`
/// workflows.
async fn sample(
    peer: &Peer,
    server: &DevServer,
    args: &Args,
    batch: usize,
) -> Result<Sample, String> {
    let e = |e: lw_testkit::TestkitError| format!("{}: {e}", peer.name);
    let recorder = GrpcRecorder::start(&server.address).await.map_err(e)?;
    let (task_queue, deployment) = (unique("bench"), unique("bench-dep"));
    server
        .set_current_version(&deployment, BUILD_ID)
        .map_err(e)?;
    let spec = |timeout: Duration| {
        let mut spec = FunctionSpec::new(&peer.program, &format!("bench-{}", peer.name))
            .timeout(timeout)
            .env("TEMPORAL_ADDRESS", recorder.address.clone())
            .env("TEMPORAL_NAMESPACE", "default")
            .env("TEMPORAL_TASK_QUEUE", task_queue.clone())
            .env("LW_DEPLOYMENT_NAME", deployment.clone())
            .env("LW_BUILD_ID", BUILD_ID)
            .env("TEMPORAL_CONFIG_FILE", "");
        spec.task_root = peer.task_root.clone();
        spec
    };
    let g = Greetings::connect(server, &task_queue).await.map_err(e)?;
    let clock = Clock::now();
    // The version's first invocation: the server adds the task queue to the version when
    // the first pollers arrive. 10 s timeout (3 s of work): enough, and no 18 s wait.
    let first_fn = LocalFunction::new(spec(Duration::from_secs(10)))
        .await
        .map_err(e)?;
    let new_version = cold_invocation(
        peer,
        &first_fn,
        &g,
        &recorder,
        &clock,
        "first invocation of a new version",
    )
    .await?;
    first_fn.kill();
    // A fresh process on the now registered version: the cold start measured.
    let function = LocalFunction::new(spec(args.timeout)).await.map_err(e)?;
    let cold = cold_invocation(peer, &function, &g, &recorder, &clock, "cold invocation").await?;
    let init = function.next_calls()[0] - function.spawn_times()[0];
    let mut s = Sample {
        init_ms: ms(init),
        first_workflow_ms: ms(cold.first_done.saturating_duration_since(cold.delivered)),
        new_version_first_ms: ms(new_version
            .first_done
            .saturating_duration_since(new_version.delivered)),
        cold_busy_ms: ms(cold.last_done.saturating_duration_since(cold.delivered)),
        cold_billed_ms: ms(init + (cold.result.finished_at - cold.delivered)),
        ..Sample::default()
    };
    let ids = g.start(&names(batch)).await.map_err(e)?;
    // CPU the batch costs the worker and the server: read before the hand-out and when the
    // pass-through has seen every workflow's second (last) workflow task completed.
    let cpu = || Some((function.proc_status()?.cpu_ms, server.proc_status()?.cpu_ms));
    let cpu_before = cpu();
    let asked = Instant::now();
    let pending = function.invoke_async(json!({})).map_err(e)?;
    let until = asked + args.timeout;
    let completions = || {
        recorder
            .call_times()
            .iter()
            .filter(|(path, t)| path.ends_with("/RespondWorkflowTaskCompleted") && *t >= asked)
            .count()
    };
    while completions() < 2 * batch && Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let cpu_after = cpu();
    if completions() < 2 * batch {
        eprintln!(
            "xtask: {}: fewer than two workflow-task completions per workflow seen; the CPU \
             figures of this sample include idle polling",
            peer.name
        );
    }
    let warm = pending
        .await
        .map_err(|_| format!("{}: the warm invocation was dropped", peer.name))?;
    responded(&warm, peer.name)?;
    if let (Some((fb, sb)), Some((fa, sa))) = (cpu_before, cpu_after) {
        s.worker_cpu_ms_per_wf = fa.saturating_sub(fb) as f64 / batch as f64;
        s.server_cpu_ms_per_wf = sa.saturating_sub(sb) as f64 / batch as f64;
    }
    if warm.cold {
        return Err(format!(
            "{}: the second invocation was a cold start",
            peer.name
        ));
    }
    let delivered = warm.delivered_at.ok_or("warm: never delivered")?;
    let closed = closed_at(&g.outcomes(&ids).await.map_err(e)?, &clock)
        .map_err(|m| format!("{}: {m} in one warm invocation; raise --timeout", peer.name))?;
    let last_done = closed.iter().max().copied().unwrap_or(delivered);
    let busy = last_done.saturating_duration_since(delivered);
    s.batch_per_s = batch as f64 / busy.as_secs_f64().max(1e-3);
    s.warm_busy_ms = ms(busy);
    s.warm_billed_ms = ms(warm.finished_at - delivered);
    let first_poll = recorder
        .call_times()
        .into_iter()
        .filter(|(path, t)| path.contains("PollWorkflowTaskQueue") && *t >= delivered)
        .map(|(_, t)| t)
        .min()
        .ok_or(format!("{}: no workflow-task poll seen", peer.name))?;
    s.to_polling_ms = ms(first_poll - delivered);
    let deadline = warm.deadline.ok_or("warm: no deadline")?;
    let stop = deadline - BUFFER;
    if warm.finished_at + Duration::from_millis(5) < stop {
        return Err(format!(
            "{}: the warm invocation answered {:?} before its stop time: not a deadline stop",
            peer.name,
            stop - warm.finished_at
        ));
    }
    s.stop_to_response_ms = ms(warm.finished_at.saturating_duration_since(stop));
    // What the worker sent in the first moments of the warm invocation, for the record.
    eprintln!(
        "xtask: {} warm invocation, first RPCs: {:?}",
        peer.name,
        first_calls(&recorder, delivered)
    );
    let st = function
        .proc_status()
        .ok_or(format!("{}: the process is gone", peer.name))?;
    s.peak_rss_mib = st.peak_rss_kib as f64 / 1024.0;
    function.kill();
    Ok(s)
}

/// The real loop: the dev server's Worker Controller invokes the function through our local
/// Lambda; billed GB-seconds per 1000 workflows.
async fn loop_run(
    peer: &Peer,
    aws: &LocalLambda,
    server: &DevServer,
    args: &Args,
) -> Result<LoopRun, String> {
    let e = |e: lw_testkit::TestkitError| format!("{}: {e}", peer.name);
    let (deployment, task_queue) = (unique("loop-dep"), unique("loop"));
    let name = format!("loop-{}", peer.name);
    // A role per run: lw-local matches the first role registered under an ARN.
    let role = format!(
        "arn:aws:iam::000000000000:role/bench-invoker-{}",
        unique(peer.name)
    );
    let role = role.as_str();
    let external_id = unique("ext");
    aws.add_role(RoleConfig {
        arn: role.into(),
        external_id: Some(external_id.clone()),
    });
    let mut config = FunctionConfig::new(&name, &peer.program)
        .timeout(Duration::from_secs(60))
        .env("TEMPORAL_ADDRESS", server.address.clone())
        .env("TEMPORAL_NAMESPACE", "default")
        .env("TEMPORAL_TASK_QUEUE", task_queue.clone())
        .env("LW_DEPLOYMENT_NAME", deployment.clone())
        .env("LW_BUILD_ID", BUILD_ID)
        .env("TEMPORAL_CONFIG_FILE", "");
    config.task_root = peer.task_root.clone();
    for (k, v) in &peer.env {
        config = config.env(*k, *v);
    }
    let arn = aws.add_function(config);
    server
        .create_lambda_version(&deployment, BUILD_ID, &arn, role, &external_id)
        .map_err(e)?;
    server
        .set_current_version(&deployment, BUILD_ID)
        .map_err(e)?;
    let g = Greetings::connect(server, &task_queue).await.map_err(e)?;
    let started = Instant::now();
    let ids = g.start(&names(args.loop_workflows)).await.map_err(e)?;
    g.wait_all(&ids, Duration::from_secs(300))
        .await
        .map_err(e)?;
    let seconds = started.elapsed().as_secs_f64();
    let latency = g
        .outcomes(&ids)
        .await
        .map_err(e)?
        .iter()
        .filter_map(|o| o.closed_at?.duration_since(o.started_at?).ok())
        .map(ms)
        .collect();
    // Let the running invocations end (they are billed to their end).
    let until = Instant::now() + Duration::from_secs(70);
    while aws.accounting(&name).is_some_and(|a| a.in_flight > 0) && Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let a = aws.accounting(&name).unwrap_or_default();
    Ok(LoopRun {
        workflows: ids.len(),
        invocations: a.invocations,
        cold_starts: a.cold_starts,
        billed_ms: a.billed_ms,
        gb_seconds: a.gb_seconds,
        gb_s_per_1000: a.gb_seconds / ids.len() as f64 * 1000.0,
        seconds_to_complete: seconds,
        median_latency_ms: median(latency),
        runs: Vec::new(),
    })
}

fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// The median of every field, per peer.
pub(crate) fn medians(samples: &Samples) -> Vec<(&'static str, Sample)> {
    samples
        .iter()
        .map(|(p, ss)| {
            let m = |f: fn(&Sample) -> f64| median(ss.iter().map(f).collect());
            (
                *p,
                Sample {
                    init_ms: m(|s| s.init_ms),
                    first_workflow_ms: m(|s| s.first_workflow_ms),
                    new_version_first_ms: m(|s| s.new_version_first_ms),
                    cold_busy_ms: m(|s| s.cold_busy_ms),
                    cold_billed_ms: m(|s| s.cold_billed_ms),
                    batch_per_s: m(|s| s.batch_per_s),
                    warm_busy_ms: m(|s| s.warm_busy_ms),
                    warm_billed_ms: m(|s| s.warm_billed_ms),
                    to_polling_ms: m(|s| s.to_polling_ms),
                    stop_to_response_ms: m(|s| s.stop_to_response_ms),
                    peak_rss_mib: m(|s| s.peak_rss_mib),
                    worker_cpu_ms_per_wf: m(|s| s.worker_cpu_ms_per_wf),
                    server_cpu_ms_per_wf: m(|s| s.server_cpu_ms_per_wf),
                },
            )
        })
        .collect()
}

fn table(args: &Args, samples: &Samples, loops: &Loops) -> String {
    let med = medians(samples);
    let get = |peer: &str| med.iter().find(|(p, _)| *p == peer).map(|(_, s)| s.clone());
    let (Some(r), Some(p)) = (get("rust"), get("python")) else {
        return String::new();
    };
    let ratio = |a: f64, b: f64| {
        if b > 0.0 {
            format!("{:.2}×", a / b)
        } else {
            "–".into()
        }
    };
    let mut t = String::new();
    t.push_str(&format!(
        "Medians of {} cold starts each (after one unmeasured warm-up each), interleaved \
         rust, python, rust, python…; function timeout {} s, buffer 7 s on both; machine: {}.\n\
         Command: `cargo xtask bench --samples {} --batch {} --loop-workflows {} --loop-runs {}`.\n\n",
        args.samples,
        args.timeout.as_secs(),
        machine(),
        args.samples,
        args.batch,
        args.loop_workflows,
        args.loop_runs
    ));
    t.push_str("| figure | target | Rust | Python peer | Rust / Python |\n|---|---|---|---|---|\n");
    let mut row = |name: &str, target: &str, a: f64, b: f64, unit: &str, digits: usize| {
        t.push_str(&format!(
            "| {name} | {target} | {a:.digits$} {unit} | {b:.digits$} {unit} | {} |\n",
            ratio(a, b)
        ));
    };
    row(
        "init: exec → first `/next`",
        "≤ 20 ms",
        r.init_ms,
        p.init_ms,
        "ms",
        1,
    );
    row(
        "cold: handed out → first pre-started workflow completed",
        "≤ 100 ms",
        r.first_workflow_ms,
        p.first_workflow_ms,
        "ms",
        1,
    );
    row(
        "the same, a new version's first invocation (the server registers the task queue)",
        "–",
        r.new_version_first_ms,
        p.new_version_first_ms,
        "ms",
        1,
    );
    row(
        &format!("warm: {} pre-started workflows drained", args.batch),
        "ahead of the peer",
        r.batch_per_s,
        p.batch_per_s,
        "workflows/s",
        1,
    );
    row(
        "warm batch: worker CPU per workflow (user + system)",
        "lower",
        r.worker_cpu_ms_per_wf,
        p.worker_cpu_ms_per_wf,
        "ms",
        1,
    );
    row(
        "warm batch: the dev server's CPU per workflow (the same server)",
        "–",
        r.server_cpu_ms_per_wf,
        p.server_cpu_ms_per_wf,
        "ms",
        1,
    );
    row(
        "peak RSS",
        "≤ 16 MiB",
        r.peak_rss_mib,
        p.peak_rss_mib,
        "MiB",
        1,
    );
    row(
        "warm: handed out → polling",
        "≤ 10 ms",
        r.to_polling_ms,
        p.to_polling_ms,
        "ms",
        1,
    );
    row(
        "warm: stop requested → response posted (nothing in flight)",
        "≤ 10 ms",
        r.stop_to_response_ms,
        p.stop_to_response_ms,
        "ms",
        1,
    );
    let li = loops
        .iter()
        .find(|(n, _)| *n == "rust-idle")
        .map(|(_, l)| l);
    let lr = loops.iter().find(|(n, _)| *n == "rust").map(|(_, l)| l);
    let lp = loops.iter().find(|(n, _)| *n == "python").map(|(_, l)| l);
    if let (Some(lr), Some(lp)) = (lr, lp) {
        row(
            &format!(
                "local serverless loop, {} workflows, 60 s timeout, 256 MB: billed GB-s per 1000 workflows (median of {} runs)",
                lr.workflows, args.loop_runs
            ),
            "lower",
            lr.gb_s_per_1000,
            lp.gb_s_per_1000,
            "GB-s",
            1,
        );
        if let Some(li) = li {
            row(
                "the same loop, Rust with `LAMBDAWORKER_IDLE_EXIT=500ms`: GB-s per 1000 workflows",
                "≥ 10× lower than without",
                li.gb_s_per_1000,
                lp.gb_s_per_1000,
                "GB-s",
                1,
            );
        }
        t.push_str(&format!("\nLoop detail ({} workflows started at once; start → completion from the server's history). The Worker Controller decides how many invocations to make; without idle exit each is billed to deadline − buffer whatever the work:\n\n| run (the median one) | invocations (cold) | billed | billed per invocation | median workflow start → completion | every run: invocations, GB-s per 1000 workflows |\n|---|---|---|---|---|---|\n", lr.workflows));
        for (name, l) in loops {
            t.push_str(&format!(
                "| {name} | {} ({}) | {:.1} s | {:.1} s | {:.0} ms | {} |\n",
                l.invocations,
                l.cold_starts,
                l.billed_ms as f64 / 1000.0,
                l.billed_ms as f64 / 1000.0 / l.invocations.max(1) as f64,
                l.median_latency_ms,
                l.runs
                    .iter()
                    .map(|(n, g)| format!("{n}, {g:.0}"))
                    .collect::<Vec<_>>()
                    .join("; ")
            ));
        }
    }
    t
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|l| l.trim_start_matches([' ', '\t', ':']).to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!("{cores} × {cpu}, {}", std::env::consts::ARCH)
}

/// Replaces the text between the bench markers.
fn update_performance_md(path: &Path, table: &str) -> Result<(), String> {
    const BEGIN: &str = "<!-- bench:begin -->";
    const END: &str = "<!-- bench:end -->";
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let (Some(a), Some(b)) = (text.find(BEGIN), text.find(END)) else {
        return Err(format!(
            "{}: add the lines {BEGIN} and {END} where the bench table goes",
            path.display()
        ));
    };
    let new = format!(
        "{}{BEGIN}\n{table}\n![Rust vs Python peer](bench.svg)\n{}",
        &text[..a],
        &text[b..]
    );
    std::fs::write(path, new).map_err(|e| e.to_string())
}

/// For the chart: `(peer, GB-s per 1000 workflows)`.
pub(crate) type LoopRows = Vec<(&'static str, f64)>;

fn loop_rows(loops: &Loops) -> LoopRows {
    loops.iter().map(|(p, l)| (*p, l.gb_s_per_1000)).collect()
}
