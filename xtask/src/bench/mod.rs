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

use lw_local::{FunctionConfig, LocalLambda};
use lw_testkit::{
    DevServer, FunctionSpec, Greetings, GrpcRecorder, InvocationResult, LocalFunction, Outcome,
    WorkflowOutcome, unique,
};
use serde_json::json;
use tokio::time::Instant;

mod args;
pub(crate) mod burst;
mod measure;
mod report;
mod serverless;

use args::{Args, parse};
use measure::{loop_run, sample};
pub(crate) use report::{LoopRows, medians};
use report::{loop_rows, machine, median, table, update_performance_md};

/// The peer's versions, pinned so runs compare like with like.
const PY_PACKAGES: &[&str] = &["temporalio==1.35.0", "awslambdaric==4.2.2"];
/// Both workers' default shutdown deadline buffer (stop timeout 5 s + 2 s for hooks).
const BUFFER: Duration = Duration::from_secs(7);
const BUILD_ID: &str = "b1";

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
    let (rust, python) = build_peers(&root, args.no_default_features, args.burst.is_some())?;
    let target = target_dir(&root);
    if let Some(b) = &args.burst {
        return burst::run(b, &rust, &python, &root);
    }
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

fn target_dir(root: &Path) -> PathBuf {
    std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| root.join("target"))
}

/// Builds the greeting worker (release), with its scaled twin when `scaled` (the bursts
/// run it, see [`scaled`]), and readies the Python peer.
fn build_peers(
    root: &Path,
    no_default_features: bool,
    scaled: bool,
) -> Result<(Peer, Peer), String> {
    let mut build = crate::cargo();
    build.args(["build", "--release", "-p", "greeting", "--bin", "greeting"]);
    if scaled {
        build.args([
            "-p",
            "lw-e2e",
            "--bin",
            "greeting-scaled",
            "--features",
            "lw-e2e/bench",
        ]);
    }
    if no_default_features {
        build.arg("--no-default-features");
    }
    crate::run("building the greeting example (release)", build)?;
    let target = target_dir(root);
    let rust = Peer {
        name: "rust",
        program: target.join("release").join("greeting"),
        task_root: None,
        env: Vec::new(),
    };
    let python = python_peer(&target.join("bench"), root)?;
    Ok((rust, python))
}

/// The Rust peer's twin with `LW_GREETING_SLOT_SCALE` times the slots and pollers
/// (`lw-e2e`'s `greeting-scaled`, built beside the example by [`build_peers`]).
fn scaled(rust: &Peer) -> Peer {
    Peer {
        program: rust.program.with_file_name("greeting-scaled"),
        ..rust.clone()
    }
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
