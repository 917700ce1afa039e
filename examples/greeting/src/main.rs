//! The seed's example in Rust: a `Greeting` workflow calling a `greet` activity, served as a
//! Lambda function.
//!
//! Task queue from `TEMPORAL_TASK_QUEUE` (default `my-task-queue`); version `my-app` /
//! `build-1` unless `LW_DEPLOYMENT_NAME` / `LW_BUILD_ID` are set. `LW_GREETING_BEHAVIOR=pinned`
//! registers the workflow as Pinned instead of AutoUpgrade.

use std::time::Duration;

use lambdaworker::{RegisterOptions, VersioningBehavior, WorkerDeploymentVersion};
use temporalio_macros::{activities, workflow, workflow_methods};
use temporalio_sdk::{
    ActivityOptions, WorkflowContext, WorkflowResult,
    activities::{ActivityContext, ActivityError},
};

/// Greets a name through the `greet` activity.
#[workflow]
#[derive(Default)]
pub struct Greeting;

#[workflow_methods]
impl Greeting {
    /// Returns `Hello, <name>!`.
    #[run(name = "Greeting")]
    pub async fn run(ctx: &mut WorkflowContext<Self>, name: String) -> WorkflowResult<String> {
        let greeting = ctx
            .execute_activity(
                GreetingActivities::greet,
                name,
                ActivityOptions::start_to_close_timeout(Duration::from_secs(10)),
            )
            .await?;
        Ok(greeting)
    }
}

/// The activities.
pub struct GreetingActivities;

#[activities]
impl GreetingActivities {
    /// `Hello, <name>!`. On its first attempt, a name written `slow:<ms>:<name>` sleeps that
    /// long first, ignoring cancellation (the tests of forced drains use it), and one written
    /// `panic:<name>` panics (the fault tests use it: the SDK turns the panic into an activity
    /// failure, which is retried).
    #[activity(name = "greet")]
    pub async fn greet(ctx: ActivityContext, name: String) -> Result<String, ActivityError> {
        let mut shown = name.as_str();
        if let Some(rest) = name.strip_prefix("slow:")
            && let Some((ms, n)) = rest.split_once(':')
            && let Ok(ms) = ms.parse::<u64>()
        {
            if ctx.info().attempt <= 1 {
                tokio::time::sleep(Duration::from_millis(ms)).await;
            }
            shown = n;
        }
        if let Some(n) = name.strip_prefix("panic:") {
            if ctx.info().attempt <= 1 {
                panic!("greet: asked to panic on the first attempt");
            }
            shown = n;
        }
        Ok(format!("Hello, {shown}!"))
    }
}

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| default.to_owned())
}

fn main() {
    let version = WorkerDeploymentVersion::builder()
        .deployment_name(env_or("LW_DEPLOYMENT_NAME", "my-app"))
        .build_id(env_or("LW_BUILD_ID", "build-1"))
        .build();
    let behavior = match env_or("LW_GREETING_BEHAVIOR", "auto-upgrade").as_str() {
        "pinned" => VersioningBehavior::Pinned,
        _ => VersioningBehavior::AutoUpgrade,
    };
    lambdaworker::run_worker(version, |opts| {
        if opts.task_queue.is_empty() {
            opts.task_queue = "my-task-queue".into();
        }
        // With a collector configured (the ADOT layer sets this), export Temporal's metrics
        // and traces, flushed at the end of every invocation.
        if std::env::var_os("OTEL_EXPORTER_OTLP_ENDPOINT").is_some() {
            lambdaworker::otel::apply_defaults(opts, lambdaworker::otel::OtelOptions::default())?;
        }
        opts.register_workflow_with_options::<Greeting>(RegisterOptions::versioning_behavior(
            behavior,
        ))?;
        opts.register_activities(GreetingActivities);
        Ok(())
    });
}
