//! The Worker Deployment Version and task queue from the function's environment
//! (`LW_DEPLOYMENT_NAME`, `LW_BUILD_ID`, `TEMPORAL_TASK_QUEUE`, as `cargo lambdaworker dev`
//! and `deploy` set them): the example serves them; code that hard-codes others fails init
//! naming both; outside Lambda the worker logs the command that makes its version current.

use std::{
    io::{BufRead, BufReader},
    process::{Command, Stdio},
    time::Duration,
};

use lw_testkit::{DevServer, Outcome, unique};
use serde_json::json;

use crate::common::*;

/// The by-hand worker with its version and task queue hard-coded (`my-app` / `build-1`,
/// `my-task-queue`).
const BY_HAND: &str = env!("CARGO_BIN_EXE_greeting-by-hand");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_example_serves_the_version_its_environment_names() {
    // The fixture registers a fresh deployment, makes `<deployment>:b1` current and sets
    // LW_DEPLOYMENT_NAME / LW_BUILD_ID to it: what `cargo lambdaworker dev` does.
    let f = fixture(Duration::from_secs(10), &[]).await;
    let id = f.start("Versions");
    let r = f.invoke().await;
    report(&r);
    assert_eq!(
        f.server.result(&id).unwrap(),
        Some(json!("Hello, Versions!")),
        "{}",
        f.logs()
    );
    let done = f.events(&id, "EVENT_TYPE_WORKFLOW_TASK_COMPLETED");
    let version = &done.last().expect("a completed workflow task")["workflowTaskCompletedEventAttributes"]
        ["deploymentVersion"];
    assert_eq!(version["deploymentName"], json!(f.deployment));
    assert_eq!(version["buildId"], json!(BUILD));
}

/// The init error of a function that crashed at init: `(errorType, errorMessage)`.
fn init_error(r: &lw_testkit::InvocationResult) -> (String, String) {
    let Outcome::Crashed { status, init_error } = &r.outcome else {
        panic!("expected an init failure, got {:?}", r.outcome)
    };
    assert!(status.contains("exit status: 1"), "{status}");
    let e = init_error.as_ref().expect("init error posted");
    (
        e["errorType"].as_str().unwrap_or_default().to_owned(),
        e["errorMessage"].as_str().unwrap_or_default().to_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hard_coded_version_other_than_the_environments_fails_init_naming_both() {
    let server = DevServer::shared().expect("dev server");
    let f = fixture_of(BY_HAND, server, Duration::from_secs(10), &[]).await;
    let id = f.start("Nobody");
    let r = f.function.invoke(json!({})).await.unwrap();
    let (kind, message) = init_error(&r);
    assert_eq!(kind, "VersionMismatch", "{message}");
    assert!(
        message.starts_with(r#"use lambdaworker::version_from_env_or("my-app", "build-1")"#),
        "{message}"
    );
    for part in [
        format!("LW_DEPLOYMENT_NAME is `{}`", f.deployment),
        format!("LW_BUILD_ID is `{BUILD}`"),
        "deployment name `my-app`, build id `build-1`".to_owned(),
    ] {
        assert!(message.contains(&part), "{part} missing: {message}");
    }
    // `main` returns the error: the log shows the same message once.
    let logs = f.logs();
    let lines: Vec<_> = logs.lines().filter(|l| l.starts_with("Error: ")).collect();
    assert_eq!(lines, [format!("Error: {message}")], "{logs}");
    // Nothing polled: the workflow did not run.
    assert_eq!(f.server.result(&id).unwrap(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hard_coded_task_queue_other_than_the_environments_fails_init_naming_both() {
    // The version matches (an empty LW_BUILD_ID counts as unset), the queue does not.
    let server = DevServer::shared().expect("dev server");
    let f = fixture_of(
        BY_HAND,
        server,
        Duration::from_secs(10),
        &[("LW_DEPLOYMENT_NAME", "my-app"), ("LW_BUILD_ID", "")],
    )
    .await;
    let r = f.function.invoke(json!({})).await.unwrap();
    let (kind, message) = init_error(&r);
    assert_eq!(kind, "TaskQueueMismatch", "{message}");
    assert!(
        message.starts_with("set opts.task_queue only when it is empty"),
        "{message}"
    );
    assert!(
        message.contains(&format!("TEMPORAL_TASK_QUEUE is `{}`", f.task_queue))
            && message.contains("opts.task_queue to `my-task-queue`"),
        "{message}"
    );
}

/// Outside Lambda the example logs the command that makes its version current; running it
/// makes a workflow started on the queue run on that worker.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outside_lambda_the_logged_command_makes_the_version_current() {
    let server = DevServer::shared().expect("dev server");
    let (deployment, task_queue) = (unique("dep"), unique("tq"));
    let mut worker = Command::new(GREETING)
        .env("TEMPORAL_ADDRESS", &server.address)
        .env("TEMPORAL_CONFIG_FILE", "")
        .env("TEMPORAL_TASK_QUEUE", &task_queue)
        .env("LW_DEPLOYMENT_NAME", &deployment)
        .env("LW_BUILD_ID", BUILD)
        .env_remove("AWS_LAMBDA_RUNTIME_API")
        .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the example");
    let stderr = worker.stderr.take().expect("stderr");
    // The log line's message ends with the command.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let message = serde_json::from_str::<serde_json::Value>(&line)
                .ok()
                .and_then(|v| v["fields"]["message"].as_str().map(str::to_owned));
            if let Some(command) = message
                .as_deref()
                .and_then(|m| m.split_once("make it current with: "))
                .map(|(_, c)| c.to_owned())
            {
                let _ = tx.send(command);
            }
        }
    });
    let command = rx.recv_timeout(Duration::from_secs(60));
    let stop = |mut w: std::process::Child| {
        let _ = w.kill();
        let _ = w.wait();
    };
    let command = match command {
        Ok(c) => c,
        Err(e) => {
            stop(worker);
            panic!("no set-current-version command logged: {e}");
        }
    };
    assert_eq!(
        command,
        format!(
            "temporal worker deployment set-current-version --deployment-name {deployment} \
             --build-id {BUILD} --allow-no-pollers --yes --address {}",
            server.address
        )
    );
    let id = unique("wf");
    server
        .start_workflow(&task_queue, "Greeting", &id, &json!("Local"))
        .expect("start workflow");
    let words: Vec<&str> = command.split_whitespace().collect();
    let ran = Command::new(words[0]).args(&words[1..]).output();
    let result = server.wait_result(&id, Duration::from_secs(60));
    stop(worker);
    let ran = ran.expect("run the command");
    assert!(
        ran.status.success(),
        "{}",
        String::from_utf8_lossy(&ran.stderr)
    );
    assert_eq!(result.expect("completed"), json!("Hello, Local!"));
}
