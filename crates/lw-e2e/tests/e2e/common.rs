//! The greeting function under the Runtime API emulator against the dev server: the fixture
//! the lifecycle and fault tests share.
#![allow(dead_code)] // not every helper is used by every test module

use std::time::Duration;

use lw_testkit::{DevServer, FunctionSpec, InvocationResult, LocalFunction, Outcome, unique};
use serde_json::{Value, json};

pub const BUILD: &str = "b1";
/// The example itself.
pub const GREETING: &str = env!("CARGO_BIN_EXE_e2e-greeting");
/// The same function with fault injection (`slow:<ms>:<name>`, `panic:<name>`).
pub const GREETING_FAULTS: &str = env!("CARGO_BIN_EXE_greeting-faults");

pub struct Fixture {
    pub server: &'static DevServer,
    pub task_queue: String,
    pub deployment: String,
    pub function: LocalFunction,
}

pub async fn fixture(timeout: Duration, env: &[(&str, &str)]) -> Fixture {
    fixture_on(DevServer::shared().expect("dev server"), timeout, env).await
}

/// The fault-injecting function ([`GREETING_FAULTS`]) on the shared server.
pub async fn faults_fixture(timeout: Duration, env: &[(&str, &str)]) -> Fixture {
    let server = DevServer::shared().expect("dev server");
    fixture_of(GREETING_FAULTS, server, timeout, env).await
}

/// A fixture on a server of the test's own.
pub async fn fixture_on(
    server: &'static DevServer,
    timeout: Duration,
    env: &[(&str, &str)],
) -> Fixture {
    fixture_of(GREETING, server, timeout, env).await
}

/// `binary` as the function, on `server`.
pub async fn fixture_of(
    binary: &str,
    server: &'static DevServer,
    timeout: Duration,
    env: &[(&str, &str)],
) -> Fixture {
    managed_fixture(binary, server, timeout, 1, env).await
}

/// `binary` as the function on `server`, its process serving up to `max_concurrency`
/// invocations at once (Lambda Managed Instances; 1 is Lambda's default).
pub async fn managed_fixture(
    binary: &str,
    server: &'static DevServer,
    timeout: Duration,
    max_concurrency: u32,
    env: &[(&str, &str)],
) -> Fixture {
    let task_queue = unique("tq");
    let deployment = unique("dep");
    server
        .set_current_version(&deployment, BUILD)
        .expect("set current version");
    let mut spec = FunctionSpec::new(binary, "greeting")
        .timeout(timeout)
        .env("TEMPORAL_ADDRESS", server.address.clone())
        .env("TEMPORAL_TASK_QUEUE", task_queue.clone())
        .env("LW_DEPLOYMENT_NAME", deployment.clone())
        .env("LW_BUILD_ID", BUILD)
        .env("TEMPORAL_CONFIG_FILE", "")
        .max_concurrency(max_concurrency);
    for (k, v) in env {
        spec = spec.env(k, *v);
    }
    let function = LocalFunction::new(spec).await.expect("emulator");
    Fixture {
        server,
        task_queue,
        deployment,
        function,
    }
}

impl Fixture {
    pub fn start(&self, name: &str) -> String {
        let id = unique("wf");
        self.server
            .start_workflow(&self.task_queue, "Greeting", &id, &json!(name))
            .expect("start workflow");
        id
    }

    pub async fn invoke(&self) -> InvocationResult {
        let r = self.function.invoke(json!({})).await.expect("invoke");
        assert!(
            r.finished_at <= r.deadline.expect("delivered"),
            "answered after the deadline: {r:?}"
        );
        r
    }

    pub fn events(&self, id: &str, kind: &str) -> Vec<Value> {
        self.server
            .history(id)
            .expect("history")
            .into_iter()
            .filter(|e| e["eventType"].as_str() == Some(kind))
            .collect()
    }

    pub fn logs(&self) -> String {
        self.function.logs()
    }
}

/// The `(errorType, errorMessage)` of an invocation that failed.
pub fn error_of(r: &InvocationResult) -> (&str, &str) {
    match &r.outcome {
        Outcome::Error {
            error_type,
            message,
        } => (error_type, message),
        other => panic!("expected an error, got {other:?}"),
    }
}

pub fn report(r: &InvocationResult) -> &Value {
    r.response()
        .unwrap_or_else(|| panic!("expected a response, got {:?}", r.outcome))
}

/// Every workflow completed with `Hello, <name>!`, its activity result recorded once.
pub async fn assert_nothing_lost(
    g: &lw_testkit::Greetings,
    ids: &[String],
    names: &[String],
) -> Vec<lw_testkit::WorkflowOutcome> {
    let outcomes = g.outcomes(ids).await.expect("histories");
    for (o, name) in outcomes.iter().zip(names) {
        let shown = name.rsplit(':').next().unwrap_or(name);
        assert_eq!(
            o.result.as_deref(),
            Some(format!("Hello, {shown}!").as_str()),
            "{o:?}"
        );
        assert_eq!(o.activity_completions, 1, "{o:?}");
    }
    outcomes
}
