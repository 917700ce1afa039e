//! Benchmark function, not part of the example: the greeting worker with
//! `LW_GREETING_SLOT_SCALE=N` times the Lambda-tuned slots and pollers (1 when unset), the
//! capacity one worker shared by N concurrent invocations would need. `cargo xtask bench
//! --managed` and `--burst` run it beside the example.

use greeting::{Greeting, GreetingActivities};
use lambdaworker::{RegisterOptions, VersioningBehavior};

/// `LW_GREETING_SLOT_SCALE`, when above 1.
fn slot_scale() -> Option<usize> {
    lw_e2e::var("LW_GREETING_SLOT_SCALE")?
        .parse::<usize>()
        .ok()
        .filter(|n| *n > 1)
}

#[tokio::main]
async fn main() -> Result<(), lambdaworker::Error> {
    lambdaworker::init_logging();
    lambdaworker::run_worker(lw_e2e::version(), |opts| {
        if opts.task_queue.is_empty() {
            opts.task_queue = "my-task-queue".into();
        }
        lw_e2e::telemetry(opts)?;
        if let Some(n) = slot_scale() {
            lw_e2e::scale_slots(opts, n);
        }
        opts.register_workflow_with_options::<Greeting>(RegisterOptions::versioning_behavior(
            VersioningBehavior::AutoUpgrade,
        ))?;
        opts.register_activities(GreetingActivities);
        Ok(())
    })
    .await
}
