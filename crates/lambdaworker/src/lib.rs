#![warn(missing_docs)]
//! Run Temporal Workers on AWS Lambda: serverless workers in Rust.
//!
//! Temporal invokes your Lambda function when tasks arrive; each invocation connects a
//! client, runs a Worker (Worker Deployment Versioning always on) until the deadline minus a
//! shutdown buffer, drains, runs your shutdown hooks and closes.
//!
//! ```no_run
//! use lambdaworker::{RegisterOptions, VersioningBehavior, WorkerDeploymentVersion};
//! # #[temporalio_macros::workflow] #[derive(Default)] struct MyWorkflow;
//! # #[temporalio_macros::workflow_methods] impl MyWorkflow { #[run] async fn run(_c: &mut temporalio_sdk::WorkflowContext<Self>) -> temporalio_sdk::WorkflowResult<()> { Ok(()) } }
//! # struct MyActivities;
//! # #[temporalio_macros::activities] impl MyActivities { #[activity] async fn a(_c: temporalio_sdk::activities::ActivityContext) -> Result<(), temporalio_sdk::activities::ActivityError> { Ok(()) } }
//!
//! fn main() {
//!     let version = WorkerDeploymentVersion::builder()
//!         .deployment_name("my-app")
//!         .build_id("build-1")
//!         .build();
//!     lambdaworker::run_worker(version, |opts| {
//!         opts.task_queue = "my-task-queue".into();
//!         opts.register_workflow_with_options::<MyWorkflow>(
//!             RegisterOptions::versioning_behavior(VersioningBehavior::AutoUpgrade),
//!         )?;
//!         opts.register_activities(MyActivities);
//!         Ok(())
//!     });
//! }
//! ```
//!
//! The pieces, for custom runtimes and deeper changes: [`config`] (client configuration),
//! [`options`] (the callback's options and Lambda defaults), [`runtime`] (the lifecycle
//! engine and the `lambda_runtime` adapter), [`otel`] (OpenTelemetry metrics and traces
//! flushed every invocation; feature `otel`, on by default).

pub use lw_config as config;
pub use lw_options as options;
#[cfg(feature = "otel")]
pub use lw_otel as otel;
pub use lw_runtime as runtime;

pub use lw_options::{
    BoxError, Ended, InvocationReport, InvocationStart, Options, RegisterOptions, ShutdownContext,
    VersioningBehavior, WorkerDeploymentVersion, WorkerSettings,
};
pub use lw_runtime::{Error, run_worker, try_run_worker};
