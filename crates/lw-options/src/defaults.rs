//! The Lambda-tuned defaults applied before the configure callback runs (those of the Go
//! SDK's `lambdaworker`, except the shorter sticky schedule-to-start timeout), and
//! [`SlotLimits`], the fixed slot counts they are made of.

use std::time::Duration;

use temporalio_sdk::{
    WorkerOptions,
    runtime::{
        PollerBehavior,
        worker_tuner::{FixedSizeSlotSupplier, TunerHolder, WorkerTuner},
    },
};

/// Activities running at once.
pub const MAX_CONCURRENT_ACTIVITIES: usize = 2;
/// Workflow tasks processed at once.
pub const MAX_CONCURRENT_WORKFLOW_TASKS: usize = 10;
/// Local activities running at once.
pub const MAX_CONCURRENT_LOCAL_ACTIVITIES: usize = 2;
/// Nexus tasks processed at once.
pub const MAX_CONCURRENT_NEXUS_TASKS: usize = 5;
/// Concurrent workflow task polls (the SDK needs at least 2 with a sticky cache).
pub const WORKFLOW_TASK_POLLERS: usize = 2;
/// Concurrent activity task polls.
pub const ACTIVITY_TASK_POLLERS: usize = 1;
/// Concurrent Nexus task polls.
pub const NEXUS_TASK_POLLERS: usize = 1;
/// How long the drain waits for in-flight work (`graceful_shutdown_period`).
pub const STOP_TIMEOUT: Duration = Duration::from_secs(5);
/// Workflows kept in the sticky cache.
pub const STICKY_CACHE_SIZE: usize = 100;
/// How long a workflow task waits on an invocation's sticky queue before the server moves it
/// to the task queue (the SDK's default is 10 s). A Lambda worker's invocations end all the
/// time, and a task sent to the sticky queue of one that has ended waits this long: in a
/// 1000-workflow burst the last workflows each lost exactly 10 s this way.
pub const STICKY_SCHEDULE_TO_START: Duration = Duration::from_secs(2);
/// Added to the stop timeout to give the default shutdown deadline buffer.
pub const BUFFER_MARGIN: Duration = Duration::from_secs(2);

/// Fixed slot counts for the four kinds of task: a shorthand for the SDK's
/// [`TunerHolder`] of [`FixedSizeSlotSupplier`]s. [`Default`] gives the Lambda defaults.
///
/// ```
/// use lw_options::defaults::SlotLimits;
/// # let mut opts = lw_options::Options::with_client(
/// #     lw_options::WorkerDeploymentVersion::builder().deployment_name("a").build_id("b").build(),
/// #     temporalio_client::ConnectionOptions::new(temporalio_client::Url::parse("http://localhost:7233").unwrap()).build(),
/// #     temporalio_client::ClientOptions::new("default").build());
/// opts.worker_options.tuner = SlotLimits { activities: 8, ..SlotLimits::default() }.into();
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlotLimits {
    /// Workflow tasks processed at once. Default 10.
    pub workflow_tasks: usize,
    /// Activities running at once. Default 2.
    pub activities: usize,
    /// Local activities running at once. Default 2.
    pub local_activities: usize,
    /// Nexus tasks processed at once. Default 5.
    pub nexus_tasks: usize,
}

impl Default for SlotLimits {
    fn default() -> Self {
        Self {
            workflow_tasks: MAX_CONCURRENT_WORKFLOW_TASKS,
            activities: MAX_CONCURRENT_ACTIVITIES,
            local_activities: MAX_CONCURRENT_LOCAL_ACTIVITIES,
            nexus_tasks: MAX_CONCURRENT_NEXUS_TASKS,
        }
    }
}

impl From<SlotLimits> for WorkerTuner {
    fn from(l: SlotLimits) -> Self {
        TunerHolder::builder()
            .workflow_task_slot_supplier(FixedSizeSlotSupplier::new(l.workflow_tasks))
            .activity_task_slot_supplier(FixedSizeSlotSupplier::new(l.activities))
            .local_activity_task_slot_supplier(FixedSizeSlotSupplier::new(l.local_activities))
            .nexus_task_slot_supplier(FixedSizeSlotSupplier::new(l.nexus_tasks))
            .build()
            .into()
    }
}

/// The SDK's `WorkerOptions` with the Lambda defaults: the fixed [`SlotLimits`], 2 / 1 / 1
/// pollers, a sticky cache of 100 with a 2 s sticky schedule-to-start timeout, a 5 s stop
/// timeout and eager activities off. The task
/// queue, deployment options and identity are filled in for each invocation.
pub fn worker_options() -> WorkerOptions {
    WorkerOptions::new("")
        .tuner(SlotLimits::default())
        .workflow_task_poller_behavior(PollerBehavior::SimpleMaximum(WORKFLOW_TASK_POLLERS))
        .activity_task_poller_behavior(PollerBehavior::SimpleMaximum(ACTIVITY_TASK_POLLERS))
        .nexus_task_poller_behavior(PollerBehavior::SimpleMaximum(NEXUS_TASK_POLLERS))
        .max_cached_workflows(STICKY_CACHE_SIZE)
        .sticky_queue_schedule_to_start_timeout(STICKY_SCHEDULE_TO_START)
        .graceful_shutdown_period(STOP_TIMEOUT)
        .max_eager_activity_reservations_per_workflow_task(0)
        .build()
}

/// The default shutdown deadline buffer for a stop timeout: stop timeout + 2 s.
pub fn shutdown_deadline_buffer(stop_timeout: Duration) -> Duration {
    stop_timeout + BUFFER_MARGIN
}
