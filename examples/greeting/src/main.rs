//! The seed's example in Rust: a `Greeting` workflow calling a `greet` activity, served as a
//! Lambda function.
//!
//! Task queue from `TEMPORAL_TASK_QUEUE` (default `my-task-queue`); version `my-app` /
//! `build-1` unless `LW_DEPLOYMENT_NAME` / `LW_BUILD_ID` are set. `LW_GREETING_BEHAVIOR=pinned`
//! registers the workflow as Pinned instead of AutoUpgrade. `LW_GREETING_SLOT_SCALE=N` (a
//! benchmark knob) gives the worker N times the Lambda-tuned slots and pollers.

use greeting::{Greeting, GreetingActivities};
use lambdaworker::{RegisterOptions, VersioningBehavior, WorkerDeploymentVersion};

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| default.to_owned())
}

#[tokio::main]
async fn main() -> Result<(), lambdaworker::Error> {
    lambdaworker::init_logging();
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
        #[cfg(feature = "otel")]
        if std::env::var_os("OTEL_EXPORTER_OTLP_ENDPOINT").is_some() {
            lambdaworker::otel::apply_defaults(opts, lambdaworker::otel::OtelOptions::default())?;
        }
        if let Some(n) = slot_scale() {
            scale_slots(opts, n);
        }
        opts.register_workflow_with_options::<Greeting>(RegisterOptions::versioning_behavior(
            behavior,
        ))?;
        opts.register_activities(GreetingActivities);
        Ok(())
    })
    .await
}

/// `LW_GREETING_SLOT_SCALE`, when above 1.
fn slot_scale() -> Option<usize> {
    std::env::var("LW_GREETING_SLOT_SCALE")
        .ok()?
        .parse::<usize>()
        .ok()
        .filter(|n| *n > 1)
}

/// One worker with `n` times the Lambda-tuned slots and pollers: the capacity a worker shared
/// by `n` concurrent invocations would need (`cargo xtask bench --managed` compares it with a
/// worker per invocation).
fn scale_slots(opts: &mut lambdaworker::Options, n: usize) {
    use lambdaworker::options::defaults;
    use temporalio_sdk::runtime::PollerBehavior;
    let d = lambdaworker::SlotLimits::default();
    opts.worker_options.tuner = lambdaworker::SlotLimits {
        workflow_tasks: d.workflow_tasks * n,
        activities: d.activities * n,
        local_activities: d.local_activities * n,
        nexus_tasks: d.nexus_tasks * n,
    }
    .into();
    opts.worker_options.workflow_task_poller_behavior = Some(PollerBehavior::SimpleMaximum(
        defaults::WORKFLOW_TASK_POLLERS * n,
    ));
    opts.worker_options.activity_task_poller_behavior = Some(PollerBehavior::SimpleMaximum(
        defaults::ACTIVITY_TASK_POLLERS * n,
    ));
}
