//! `cargo lambdaworker deploy` as a user runs it, against the real Worker Controller (a dev
//! server) and lw-local's Lambda: each build on its own published Lambda version, a Pinned
//! workflow finishing on the version it started on after another build became current, a
//! ramp splitting new workflows between two versions, and a re-deploy that publishes
//! nothing.
//!
//! The worker's workflow waits for a `go` signal when asked, then returns `ran <build>`,
//! where the build is compiled in (`ROLLOUT_BUILD`), so each build is different code.

use std::{
    path::{Path, PathBuf},
    process::Command,
    time::{Duration, Instant},
};

use lw_local::{DevServer, LocalLambda, RoleConfig, unique};
use serde_json::json;

mod common;
use common::{target_dir, workspace};

const BIN: &str = env!("CARGO_BIN_EXE_cargo-lambdaworker");
const NAME: &str = "rollout-worker";
const INVOKER: &str = "arn:aws:iam::000000000000:role/temporal-invoker";
const EXECUTION: &str = "arn:aws:iam::000000000000:role/rollout-execution";

const MAIN_RS: &str = r#"
use lambdaworker::{RegisterOptions, VersioningBehavior, WorkerDeploymentVersion};
use temporalio_macros::{workflow, workflow_methods};
use temporalio_sdk::{SyncWorkflowContext, WorkflowContext, WorkflowResult};

const BUILD: &str = env!("ROLLOUT_BUILD");

#[workflow]
#[derive(Default)]
pub struct Rollout {
    go: bool,
}

#[workflow_methods]
impl Rollout {
    #[run(name = "Rollout")]
    pub async fn run(ctx: &mut WorkflowContext<Self>, wait: bool) -> WorkflowResult<String> {
        if wait {
            ctx.wait_condition(|s| s.go).await?;
        }
        Ok(format!("ran {BUILD}"))
    }

    #[signal(name = "go")]
    fn go(&mut self, _ctx: &mut SyncWorkflowContext<Self>) {
        self.go = true;
    }
}

#[tokio::main]
async fn main() -> Result<(), lambdaworker::Error> {
    lambdaworker::init_logging();
    let var = |n: &str| std::env::var(n).unwrap_or_default();
    let version = WorkerDeploymentVersion::builder()
        .deployment_name(var("LW_DEPLOYMENT_NAME"))
        .build_id(var("LW_BUILD_ID"))
        .build();
    lambdaworker::run_worker(version, |opts| {
        opts.register_workflow_with_options::<Rollout>(RegisterOptions::versioning_behavior(
            VersioningBehavior::Pinned,
        ))?;
        Ok(())
    })
    .await
}
"#;

/// The deploy settings the rollout reads from the project's metadata.
fn settings(server: &DevServer, task_queue: &str, external_id: &str) -> String {
    format!(
        r#"execution-role = "{EXECUTION}"
invoke-role = "{INVOKER}"
external-id = "{external_id}"
timeout = 20
memory = 256
env = {{ TEMPORAL_ADDRESS = "{address}", TEMPORAL_TASK_QUEUE = "{task_queue}", LAMBDAWORKER_IDLE_EXIT = "2s" }}"#,
        address = server.address
    )
}

/// The worker project, outside the workspace, with `metadata` as its
/// `[package.metadata.lambdaworker]`.
fn project(parent: &Path, metadata: &str) -> PathBuf {
    let dir = parent.join(NAME);
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::write(dir.join("src/main.rs"), MAIN_RS).unwrap();
    let manifest = format!(
        r#"[package]
name = "{NAME}"
version = "0.3.0"
edition = "2024"

[dependencies]
lambdaworker = "0.1"
temporalio-sdk = {{ version = "1.1", default-features = false }}
temporalio-macros = "1.1"
temporalio-common = "1.1"
temporalio-workflow = "1.1"
futures = "0.3"
tokio = {{ version = "1", features = ["macros", "rt-multi-thread"] }}

[package.metadata.lambdaworker]
{metadata}

[workspace]

[patch.crates-io]
lambdaworker = {{ path = {lambdaworker:?} }}

[profile.dev]
debug = false
"#,
        lambdaworker = workspace().join("crates/lambdaworker"),
    );
    std::fs::write(dir.join("Cargo.toml"), manifest).unwrap();
    std::fs::copy(workspace().join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    dir
}

/// `cargo lambdaworker <args>` on the project, with this build compiled in, Temporal at
/// `address` and AWS pointed at lw-local: whether it succeeded, and its stdout and stderr.
fn run(dir: &Path, aws: &LocalLambda, address: &str, build: &str, args: &[&str]) -> (bool, String) {
    let mut cmd = Command::new(BIN);
    cmd.arg("lambdaworker")
        .args(args)
        .arg("--manifest-path")
        .arg(dir.join("Cargo.toml"))
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target_dir())
        .env("ROLLOUT_BUILD", build)
        .env("TEMPORAL_ADDRESS", address)
        .env("TEMPORAL_NAMESPACE", "default")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_PROFILE");
    for (k, v) in aws.server_env() {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run cargo-lambdaworker");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// [`run`], which must succeed.
fn lambdaworker(
    dir: &Path,
    aws: &LocalLambda,
    server: &DevServer,
    build: &str,
    args: &[&str],
) -> String {
    let (ok, text) = run(dir, aws, &server.address, build, args);
    assert!(ok, "cargo lambdaworker {args:?} failed:\n{text}");
    text
}

/// [`run`], which must fail; returns its `error: ` line.
fn refused(dir: &Path, aws: &LocalLambda, address: &str, args: &[&str]) -> String {
    let (ok, text) = run(dir, aws, address, "refused", args);
    assert!(!ok, "cargo lambdaworker {args:?} succeeded:\n{text}");
    text.lines()
        .find(|l| l.starts_with("error: "))
        .unwrap_or_else(|| panic!("no error line:\n{text}"))
        .to_owned()
}

/// The build id in deploy's closing line: `deployed rollout-worker/<build id>: ...`.
fn build_id(deploy_output: &str) -> String {
    let line = deploy_output
        .lines()
        .find(|l| l.starts_with("deployed "))
        .unwrap_or_else(|| panic!("no `deployed` line:\n{deploy_output}"));
    let (_, rest) = line.split_once('/').expect("deployment/build");
    rest.split(':').next().expect("build id").to_owned()
}

fn start(server: &DevServer, task_queue: &str, id: &str, wait: bool) {
    server
        .start_workflow(task_queue, "Rollout", id, &json!(wait))
        .unwrap();
}

fn result(server: &DevServer, id: &str) -> String {
    let v = server.wait_result(id, Duration::from_secs(120)).unwrap();
    v.as_str().unwrap_or_default().to_owned()
}

/// The build id of the deployment version that completed the workflow's last task.
fn completed_by(server: &DevServer, id: &str, builds: &[&str]) -> String {
    let history = server.history(id).unwrap();
    let last = history
        .iter()
        .rev()
        .find(|e| {
            let t = e["eventType"].as_str().unwrap_or_default();
            t.contains("WORKFLOW_TASK_COMPLETED") || t == "WorkflowTaskCompleted"
        })
        .unwrap_or_else(|| panic!("no completed workflow task in {id}"))
        .to_string();
    builds
        .iter()
        .find(|b| last.contains(*b))
        .unwrap_or_else(|| panic!("{id}'s last task names none of {builds:?}: {last}"))
        .to_string()
}

/// Polls until the workflow's first task has completed (it is then pinned).
fn wait_first_task(server: &DevServer, id: &str) {
    let until = Instant::now() + Duration::from_secs(120);
    loop {
        let done = server.history(id).unwrap().iter().any(|e| {
            let t = e["eventType"].as_str().unwrap_or_default();
            t.contains("WORKFLOW_TASK_COMPLETED") || t == "WorkflowTaskCompleted"
        });
        if done {
            return;
        }
        assert!(Instant::now() < until, "{id}: no workflow task completed");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// lw-local with the invoke role (its ExternalId returned) and a dev server whose Worker
/// Controller uses it as AWS.
async fn local_controller() -> (LocalLambda, String, DevServer) {
    let aws = LocalLambda::start().await.unwrap();
    let external_id = unique("ext");
    aws.add_role(RoleConfig {
        arn: INVOKER.into(),
        external_id: Some(external_id.clone()),
    });
    let server =
        DevServer::start_with(lw_local::worker_controller_config(), aws.server_env()).unwrap();
    (aws, external_id, server)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn each_build_runs_on_its_own_lambda_version_through_the_worker_controller() {
    common::yield_cpu();
    let (aws, external_id, server) = local_controller().await;
    let parent = tempfile::tempdir().unwrap();
    let task_queue = unique("rollout");
    let dir = project(parent.path(), &settings(&server, &task_queue, &external_id));
    let deploy = |build: &str, extra: &[&str]| {
        let mut args = vec!["deploy", "--profile", "dev"];
        args.extend_from_slice(extra);
        lambdaworker(&dir, &aws, &server, build, &args)
    };

    // Build 1: created, published as version 1, registered, current. W1 starts on it.
    let out = deploy("one", &["--current"]);
    assert!(
        out.contains("creating the function rollout-worker"),
        "{out}"
    );
    assert!(out.contains("published now; registered now"), "{out}");
    let b1 = build_id(&out);
    assert!(b1.starts_with("0.3.0-"), "{b1}");
    assert!(out.contains(&format!("function:{NAME}:1 ")), "{out}");
    start(&server, &task_queue, "w1", true);
    wait_first_task(&server, "w1");

    // Build 2: version 2, current. W2 completes on build 2.
    let out = deploy("two", &["--current"]);
    let b2 = build_id(&out);
    assert_ne!(b1, b2);
    assert!(out.contains(&format!("function:{NAME}:2 ")), "{out}");
    let build2_zip = parent.path().join("build2.zip");
    std::fs::copy(
        target_dir().join("lambda").join(NAME).join("bootstrap.zip"),
        &build2_zip,
    )
    .unwrap();
    start(&server, &task_queue, "w2", false);
    assert_eq!(result(&server, "w2"), "ran two");
    assert_eq!(completed_by(&server, "w2", &[&b1, &b2]), b2);

    // W1 is Pinned to build 1: signalled now, it completes on version 1's code.
    let v1_before = aws.accounting(&format!("{NAME}:1")).unwrap().invocations;
    server
        .cli(&["workflow", "signal", "--workflow-id", "w1", "--name", "go"])
        .unwrap();
    assert_eq!(result(&server, "w1"), "ran one");
    assert_eq!(completed_by(&server, "w1", &[&b1, &b2]), b1);
    let v1 = aws.accounting(&format!("{NAME}:1")).unwrap();
    let v1_after = v1.invocations + v1.in_flight;
    assert!(
        v1_after > v1_before,
        "version 1 was not invoked for W1's signal ({v1_before} → {v1_after})"
    );

    // Build 3 ramped to 50 %: new workflows split between builds 2 and 3, each completing
    // with its own build's code.
    let out = deploy("three", &["--ramp", "50"]);
    let b3 = build_id(&out);
    assert!(out.contains(&format!("function:{NAME}:3 ")), "{out}");
    let ids: Vec<String> = (0..12).map(|i| format!("ramp-{i}")).collect();
    for id in &ids {
        start(&server, &task_queue, id, false);
    }
    let mut on = std::collections::BTreeMap::<String, usize>::new();
    for id in &ids {
        let value = result(&server, id);
        let build = completed_by(&server, id, &[&b2, &b3]);
        let expected = if build == b2 { "ran two" } else { "ran three" };
        assert_eq!(value, expected, "{id} completed on {build} with {value}");
        *on.entry(build).or_default() += 1;
    }
    assert_eq!(
        on.len(),
        2,
        "a 50 % ramp sent all 12 workflows one way: {on:?}"
    );

    let status = lambdaworker(&dir, &aws, &server, "three", &["status"]);
    for (build, n) in [(&b1, 1), (&b2, 2), (&b3, 3)] {
        let row = status
            .lines()
            .find(|l| l.contains(build.as_str()) && l.contains("function:"))
            .unwrap_or_else(|| panic!("no row for {build}:\n{status}"));
        assert!(row.ends_with(&format!("function:{NAME}:{n}")), "{row}");
    }
    assert!(status.contains(&format!("current: {b2}")), "{status}");
    assert!(
        status.contains(&format!("ramping: {b3} at 50%")),
        "{status}"
    );

    // Build 2 again (its package as built before): the same code hash, nothing new.
    let versions_before = aws.versions(NAME).unwrap().len();
    let out = deploy("two", &["--zip", build2_zip.to_str().unwrap()]);
    assert_eq!(build_id(&out), b2);
    assert!(
        out.contains("already published; already registered"),
        "{out}"
    );
    assert_eq!(aws.versions(NAME).unwrap().len(), versions_before);

    // The same package on Lambda Managed Instances: a function of its own on a capacity
    // provider, eight invocations per execution environment.
    let provider = "arn:aws:lambda:us-east-1:000000000000:capacity-provider:workers";
    let (mi_deployment, mi_queue) = (unique("rollout-mi"), unique("mi"));
    let out = deploy(
        "two",
        &[
            "--zip",
            build2_zip.to_str().unwrap(),
            "--function-name",
            "rollout-worker-mi",
            "--deployment",
            &mi_deployment,
            "--build-id",
            "mi-1",
            "--capacity-provider",
            provider,
            "--per-instance-concurrency",
            "8",
            "--env",
            &format!("TEMPORAL_TASK_QUEUE={mi_queue}"),
        ],
    );
    assert!(
        out.contains("creating the function rollout-worker-mi"),
        "{out}"
    );
    let info = aws.function_info("rollout-worker-mi").unwrap();
    assert_eq!(info.per_instance_concurrency, 8);
    assert_eq!(info.capacity_provider.as_deref(), Some(provider));
    assert!(
        out.contains("function:rollout-worker-mi:1 "),
        "registered with its version's ARN: {out}"
    );

    aws.stop().await;
    server.stop();
}

/// Each refused step says what to fix, naming the setting, and leaves nothing half done.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_refused_step_says_what_to_fix() {
    common::yield_cpu();
    let (aws, external_id, server) = local_controller().await;
    let parent = tempfile::tempdir().unwrap();
    let dir = project(parent.path(), "timeout = 20");
    let manifest = dir.join("Cargo.toml");
    let address = server.address.clone();
    let deploy = |extra: &[&str]| {
        let mut args = vec!["deploy", "--profile", "dev"];
        args.extend_from_slice(extra);
        refused(&dir, &aws, &address, &args)
    };

    // No invoke role anywhere: named, with the metadata key and the manifest, before any build.
    let e = deploy(&[]);
    assert!(
        e.starts_with(&format!(
            "error: set --invoke-role ARN or `invoke-role` in [package.metadata.lambdaworker] \
             of {}",
            manifest.display()
        )),
        "{e}"
    );
    let e = deploy(&["--invoke-role", INVOKER, "--external-id", "has space"]);
    assert!(e.starts_with("error: give --external-id"), "{e}");
    // A guessable ExternalId: the fix first, the flag named, and why.
    let e = deploy(&["--invoke-role", INVOKER, "--external-id", "x1"]);
    assert!(
        e.starts_with("error: run `cargo lambdaworker policies` to generate a new ExternalId")
            && e.contains("set it as --external-id: the ExternalId set there now has 2 characters, fewer than 16")
            && e.contains("other Temporal Cloud tenants"),
        "{e}"
    );
    let e = deploy(&[
        "--invoke-role",
        INVOKER,
        "--external-id",
        &external_id,
        "--ramp",
        "150",
    ]);
    assert!(e.starts_with("error: give --ramp a percentage"), "{e}");

    // With no settings at all, policies generates the ExternalId and says what to paste.
    let (ok, fresh) = run(&dir, &aws, &address, "", &["policies"]);
    assert!(ok, "{fresh}");
    assert!(
        fresh.contains(&format!(
            "then set these in [package.metadata.lambdaworker] of {}:",
            manifest.display()
        )) && fresh.contains("invoke-role = \"arn:aws:iam::ACCOUNT_ID:role/")
            && fresh.contains("\nexternal-id = \""),
        "{fresh}"
    );

    // The IAM documents, filled in: the region from the AWS chain, the account from the role.
    let (ok, policies) = run(
        &dir,
        &aws,
        &address,
        "",
        &[
            "policies",
            "--invoke-role",
            INVOKER,
            "--external-id",
            "ext-9-0123456789abcdef",
            "--function-name",
            "orders",
        ],
    );
    assert!(ok, "{policies}");
    for expected in [
        "\"sts:ExternalId\": \"ext-9-0123456789abcdef\"",
        "\"Service\": \"lambda.amazonaws.com\"",
        "arn:aws:lambda:us-east-1:000000000000:function:orders:*",
        "arn:aws:iam::000000000000:role/orders-execution",
        "wci-lambda-invoke",
    ] {
        assert!(
            policies.contains(expected),
            "{expected} not in:\n{policies}"
        );
    }

    // The function does not exist and there is no execution role to create it with.
    let e = deploy(&["--invoke-role", INVOKER, "--external-id", &external_id]);
    assert!(
        e.starts_with(&format!(
            "error: to create the function {NAME}, set --execution-role"
        )),
        "{e}"
    );
    assert!(aws.versions(NAME).is_err(), "nothing was created");

    // The server refuses the compute config: the role cannot be assumed with this ExternalId.
    let e = deploy(&[
        "--invoke-role",
        INVOKER,
        "--external-id",
        "not-the-right-one",
        "--execution-role",
        EXECUTION,
        "--current",
    ]);
    assert!(
        e.starts_with("error: fix what the server names below")
            && e.contains("creating the Worker Deployment Version failed: InvalidArgument"),
        "{e}"
    );
    assert!(
        aws.assume_role_calls()
            .iter()
            .any(|c| c.external_id.as_deref() == Some("not-the-right-one") && !c.granted),
        "the server tried the role: {:?}",
        aws.assume_role_calls()
    );

    // No Temporal server at the address: the worker's own connection message.
    let port = lw_local::process::free_port().unwrap();
    let e = refused(
        &dir,
        &aws,
        &format!("127.0.0.1:{port}"),
        &["status", "--deployment", "nothing"],
    );
    assert!(
        e.contains(&format!("127.0.0.1:{port}")) && e.contains("TEMPORAL_ADDRESS"),
        "{e}"
    );

    aws.stop().await;
    server.stop();
}
