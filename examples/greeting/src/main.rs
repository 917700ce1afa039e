//! A Temporal worker on AWS Lambda: the `Greeting` workflow and its `greet` activity
//! (`lib.rs`), served by `lambdaworker::run_worker`.
//!
//! Task queue from `TEMPORAL_TASK_QUEUE` (default `my-task-queue`); version `my-app` /
//! `build-1` unless `LW_DEPLOYMENT_NAME` / `LW_BUILD_ID` are set (`cargo lambdaworker dev` and
//! `deploy` set them to the version they register). With `OTEL_EXPORTER_OTLP_ENDPOINT` set
//! (the ADOT layer sets it), Temporal's metrics and traces are exported.

use greeting::{Greeting, GreetingActivities};
use lambdaworker::{RegisterOptions, VersioningBehavior};

#[tokio::main]
async fn main() -> Result<(), lambdaworker::Error> {
    lambdaworker::init_logging();
    let version = lambdaworker::version_from_env_or("my-app", "build-1");
    lambdaworker::run_worker(version, |opts| {
        if opts.task_queue.is_empty() {
            opts.task_queue = "my-task-queue".into();
        }
        // With a collector configured, export Temporal's metrics and traces, flushed at the
        // end of every invocation.
        #[cfg(feature = "otel")]
        if std::env::var_os("OTEL_EXPORTER_OTLP_ENDPOINT").is_some() {
            lambdaworker::otel::apply_defaults(opts, lambdaworker::otel::OtelOptions::default())?;
        }
        opts.register_workflow_with_options::<Greeting>(RegisterOptions::versioning_behavior(
            VersioningBehavior::AutoUpgrade,
        ))?;
        opts.register_activities(GreetingActivities);
        Ok(())
    })
    .await
}
