#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]
//! The [`Options`] a Lambda worker's configure callback receives.
//!
//! [`Options`] arrives pre-filled: client settings resolved by `lw-config` (the SDK's own
//! `ConnectionOptions` and `ClientOptions`), the task queue from `TEMPORAL_TASK_QUEUE`, and
//! the SDK's own `WorkerOptions` with the Lambda-tuned [`defaults`] below. The callback
//! changes any public field and registers workflows, activities and hooks; what it sets
//! always wins, except the few settings the lifecycle enforces (see [`Options`]). After the
//! callback, [`Options::validate`] checks the result once, at init, and
//! [`ValidatedOptions::worker_options`] builds a fresh SDK `WorkerOptions` for each
//! invocation.
//!
//! | setting (`opts.worker_options.…` unless noted) | Lambda default |
//! |---|---|
//! | `tuner`: max concurrent workflow tasks / activities / local activities / Nexus tasks | 10 / 2 / 2 / 5 ([`defaults::SlotLimits`]) |
//! | `workflow_task_poller_behavior` / `activity_…` / `nexus_…` | `SimpleMaximum` 2 / 1 / 1 |
//! | `graceful_shutdown_period` (the stop timeout) | 5 s |
//! | `max_cached_workflows` (sticky cache) | 100 |
//! | `sticky_queue_schedule_to_start_timeout` | 2 s (the SDK's: 10 s) |
//! | `max_eager_activity_reservations_per_workflow_task` | 0, enforced |
//! | `opts.shutdown_deadline_buffer` | `None`: stop timeout + 2 s |
//!
//! This crate knows nothing of Lambda's runtime: the lifecycle lives in `lw-runtime`.
//!
//! ```
//! use lw_options::{Options, VersioningBehavior, WorkerDeploymentVersion, defaults::SlotLimits};
//! use std::time::Duration;
//!
//! let version = WorkerDeploymentVersion::builder()
//!     .deployment_name("my-app")
//!     .build_id("build-1")
//!     .build();
//! let config = lw_config::ClientConfig::load_from(&Default::default())?;
//! let mut opts = Options::from_config(version, &config, None)?;
//! opts.task_queue = "my-task-queue".into();
//! opts.worker_options.tuner = SlotLimits { activities: 5, ..SlotLimits::default() }.into();
//! opts.worker_options.graceful_shutdown_period = Some(Duration::from_secs(8));
//! opts.default_versioning_behavior = Some(VersioningBehavior::AutoUpgrade);
//! opts.on_shutdown(|ctx| async move {
//!     println!("{:?} left to flush", ctx.remaining());
//!     Ok(())
//! });
//! # struct Acts;
//! # #[temporalio_macros::activities] impl Acts { #[activity] async fn a(_c: temporalio_sdk::activities::ActivityContext) -> Result<(), temporalio_sdk::activities::ActivityError> { Ok(()) } }
//! # opts.register_activities(Acts);
//! let validated = opts.validate()?;
//! // Left unset, the buffer is derived from the stop timeout.
//! assert_eq!(validated.shutdown_deadline_buffer(), Duration::from_secs(10));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod defaults;
mod error;
mod hooks;
mod idle;
mod invocation;
mod options;
mod report;
mod validated;

pub use error::OptionsError;
pub use hooks::{BoxError, InvocationStart, ShutdownContext, ShutdownHook, StartHook};
pub use idle::parse_idle_exit;
pub use invocation::{InvocationConfig, InvocationHook, Teardown};
pub use options::{Options, RegisterOptions};
pub use report::{EndHook, Ended, InvocationReport, RunEnd, Warning};
/// The Temporal SDK's metrics backend trait, for [`Options::set_metrics_meter`].
pub use temporalio_common::telemetry::metrics::CoreMeter;
pub use temporalio_common::worker::{VersioningBehavior, WorkerDeploymentVersion};
pub use temporalio_sdk::WorkerOptions;
pub use temporalio_sdk::workflows::WorkflowImplementation;
pub use validated::ValidatedOptions;

#[cfg(test)]
mod tests;
