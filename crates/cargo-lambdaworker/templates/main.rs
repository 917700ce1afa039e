//! {{name}} as an AWS Lambda function: each invocation connects, polls its task queue until
//! the deadline (minus a shutdown buffer), drains and returns.

use lambdaworker::{RegisterOptions, VersioningBehavior, WorkerDeploymentVersion};
use {{crate_name}}::{Activities, Greeting, TASK_QUEUE};

/// The Worker Deployment Version this build serves: `LW_DEPLOYMENT_NAME` and `LW_BUILD_ID`
/// (set by `cargo lambdaworker dev`, and by your deployment), else defaults.
fn version() -> WorkerDeploymentVersion {
    let var = |name: &str, default: &str| {
        std::env::var(name)
            .ok()
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| default.to_owned())
    };
    WorkerDeploymentVersion::builder()
        .deployment_name(var("LW_DEPLOYMENT_NAME", "{{name}}"))
        .build_id(var("LW_BUILD_ID", env!("CARGO_PKG_VERSION")))
        .build()
}

#[tokio::main]
async fn main() -> Result<(), lambdaworker::Error> {
    lambdaworker::init_logging();
    lambdaworker::run_worker(version(), |opts| {
        if opts.task_queue.is_empty() {
            opts.task_queue = TASK_QUEUE.into();
        }
        opts.register_workflow_with_options::<Greeting>(RegisterOptions::versioning_behavior(
            VersioningBehavior::AutoUpgrade,
        ))?;
        opts.register_activities(Activities);
        Ok(())
    })
    .await
}
