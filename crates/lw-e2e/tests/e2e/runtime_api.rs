//! A broken Runtime API or Lambda environment ends the process with one clear error naming
//! what to fix, never a panic inside `lambda_runtime`: the real function binary, driven by the
//! emulator answering `/next` the wrong way, or started with malformed Lambda variables.

use std::time::Duration;

use crate::common::{BUILD, GREETING};
use lw_testkit::{DevServer, FunctionSpec, LocalFunction, NextFault, Outcome, unique};
use serde_json::json;

/// How long a process may take to give up.
const LIMIT: Duration = Duration::from_secs(20);

fn spec(server: &DevServer) -> FunctionSpec {
    let deployment = unique("dep");
    server
        .set_current_version(&deployment, BUILD)
        .expect("set current version");
    FunctionSpec::new(GREETING, "greeting")
        .timeout(Duration::from_secs(30))
        .env("TEMPORAL_ADDRESS", server.address.clone())
        .env("TEMPORAL_TASK_QUEUE", unique("tq"))
        .env("LW_DEPLOYMENT_NAME", deployment)
        .env("LW_BUILD_ID", BUILD)
        .env("TEMPORAL_CONFIG_FILE", "")
}

/// Polls until the process has exited; its exit statuses so far.
async fn wait_exit(function: &LocalFunction) -> String {
    let until = tokio::time::Instant::now() + LIMIT;
    loop {
        if let Some(status) = function.exits().last() {
            return status.clone();
        }
        assert!(
            tokio::time::Instant::now() < until,
            "the process did not exit: {}",
            function.logs()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn assert_no_panic(logs: &str) {
    assert!(
        !logs.contains("panicked"),
        "a panic reached the output: {logs}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_next_answers_end_the_process_with_a_clear_error() {
    let server = DevServer::shared().expect("dev server");
    for (fault, says) in [
        (NextFault::Status(500), "AWS_LAMBDA_RUNTIME_API"),
        (NextFault::MissingRequestId, "lambda-runtime-aws-request-id"),
        (NextFault::MissingDeadline, "lambda-runtime-deadline-ms"),
        (NextFault::DeadlineNotANumber, "Lambda-Runtime-Deadline-Ms"),
    ] {
        let function = LocalFunction::new(spec(server).next_fault(fault))
            .await
            .expect("emulator");
        let r = tokio::time::timeout(LIMIT, function.invoke(json!({})))
            .await
            .unwrap_or_else(|_| panic!("{fault:?}: no outcome: {}", function.logs()))
            .expect("invoke");
        let Outcome::Crashed { status, .. } = &r.outcome else {
            panic!(
                "{fault:?}: expected the process to end, got {:?}",
                r.outcome
            )
        };
        assert!(status.contains("exit status: 1"), "{fault:?}: {status}");
        let logs = function.logs();
        let error = logs
            .lines()
            .find(|l| l.starts_with("Error: "))
            .unwrap_or_else(|| panic!("{fault:?}: no error line: {logs}"));
        assert!(
            error.contains("check that AWS_LAMBDA_RUNTIME_API") && error.contains(says),
            "{fault:?}: {error}"
        );
        assert_no_panic(&logs);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_memory_size_is_an_init_error_naming_the_variable() {
    let server = DevServer::shared().expect("dev server");
    let function = LocalFunction::new(spec(server).env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "lots"))
        .await
        .expect("emulator");
    let r = tokio::time::timeout(LIMIT, function.invoke(json!({})))
        .await
        .expect("an outcome")
        .expect("invoke");
    let Outcome::Crashed { status, init_error } = &r.outcome else {
        panic!("expected an init failure, got {:?}", r.outcome)
    };
    assert!(status.contains("exit status: 1"), "{status}");
    let init_error = init_error.as_ref().expect("init error posted");
    assert_eq!(init_error["errorType"], json!("BadLambdaVariable"));
    let message = init_error["errorMessage"].as_str().unwrap_or_default();
    assert!(
        message.starts_with("set AWS_LAMBDA_FUNCTION_MEMORY_SIZE to the function's memory in MB")
            && message.contains("`lots`"),
        "{message}"
    );
    assert_no_panic(&function.logs());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_runtime_api_address_is_a_clear_error() {
    let server = DevServer::shared().expect("dev server");
    for bad in ["/runtime", "host:9001/path", "two words:1"] {
        let function = LocalFunction::new(spec(server).env("AWS_LAMBDA_RUNTIME_API", bad))
            .await
            .expect("emulator");
        function.start_process().expect("start");
        let status = wait_exit(&function).await;
        assert!(status.contains("exit status: 1"), "{bad}: {status}");
        let logs = function.logs();
        let error = logs
            .lines()
            .find(|l| l.starts_with("Error: "))
            .unwrap_or_else(|| panic!("{bad}: no error line: {logs}"));
        assert!(
            error.contains("set AWS_LAMBDA_RUNTIME_API to the Runtime API's host:port")
                && error.contains(&format!("`{bad}`")),
            "{bad}: {error}"
        );
        assert_no_panic(&logs);
    }
}
