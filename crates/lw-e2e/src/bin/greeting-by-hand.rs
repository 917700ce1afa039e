//! Test function, not part of the example: the greeting function as a by-hand worker used to
//! be written, its version (`my-app` / `build-1`) and task queue (`my-task-queue`) hard-coded
//! instead of read from `LW_DEPLOYMENT_NAME` / `LW_BUILD_ID` / `TEMPORAL_TASK_QUEUE`. Under
//! an environment naming another version or queue it must fail init, naming both.

use greeting::{Greeting, GreetingActivities};
use lambdaworker::{RegisterOptions, VersioningBehavior, WorkerDeploymentVersion};

#[tokio::main]
async fn main() -> Result<(), lambdaworker::Error> {
    lambdaworker::init_logging();
    let version = WorkerDeploymentVersion::builder()
        .deployment_name("my-app")
        .build_id("build-1")
        .build();
    lambdaworker::run_worker(version, |opts| {
        opts.task_queue = "my-task-queue".into();
        opts.register_workflow_with_options::<Greeting>(RegisterOptions::versioning_behavior(
            VersioningBehavior::AutoUpgrade,
        ))?;
        opts.register_activities(GreetingActivities);
        Ok(())
    })
    .await
}
