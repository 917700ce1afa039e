//! The end-to-end suite's functions (not published): what the test binaries `greeting-faults`
//! and `greeting-scaled` share. The suite itself is `tests/e2e/`; the example's own program is
//! built here as `e2e-greeting` so the suite runs exactly what a user copies.

use lambdaworker::WorkerDeploymentVersion;

/// A variable's value, `None` when unset, empty or not UTF-8.
pub fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// The version the tests and benchmarks register: `LW_DEPLOYMENT_NAME` / `LW_BUILD_ID`, as
/// the example reads them (`my-app` / `build-1` when unset).
pub fn version() -> WorkerDeploymentVersion {
    WorkerDeploymentVersion::builder()
        .deployment_name(var("LW_DEPLOYMENT_NAME").unwrap_or_else(|| "my-app".into()))
        .build_id(var("LW_BUILD_ID").unwrap_or_else(|| "build-1".into()))
        .build()
}

/// Exports Temporal's metrics and traces when a collector is configured, as the example does.
pub fn telemetry(opts: &mut lambdaworker::Options) -> Result<(), lambdaworker::BoxError> {
    #[cfg(feature = "otel")]
    if var("OTEL_EXPORTER_OTLP_ENDPOINT").is_some() {
        lambdaworker::otel::apply_defaults(opts, lambdaworker::otel::OtelOptions::default())?;
    }
    #[cfg(not(feature = "otel"))]
    let _ = opts;
    Ok(())
}

/// Gives the worker `n` times the Lambda-tuned slots and pollers: the capacity one worker
/// shared by `n` concurrent invocations would need (`cargo xtask bench --managed` compares it
/// with a worker per invocation).
pub fn scale_slots(opts: &mut lambdaworker::Options, n: usize) {
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
