#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]
//! Run Temporal Workers on AWS Lambda: serverless workers in Rust.
//!
//! Temporal invokes your Lambda function when tasks arrive; each invocation connects a
//! client, runs a Worker (Worker Deployment Versioning always on) until the deadline minus a
//! shutdown buffer, drains, runs your shutdown hooks and closes.
//!
//! ```no_run
//! use lambdaworker::{RegisterOptions, VersioningBehavior};
//! # #[temporalio_macros::workflow] #[derive(Default)] struct MyWorkflow;
//! # #[temporalio_macros::workflow_methods] impl MyWorkflow { #[run] async fn run(_c: &mut temporalio_sdk::WorkflowContext<Self>) -> temporalio_sdk::WorkflowResult<()> { Ok(()) } }
//! # struct MyActivities;
//! # #[temporalio_macros::activities] impl MyActivities { #[activity] async fn a(_c: temporalio_sdk::activities::ActivityContext) -> Result<(), temporalio_sdk::activities::ActivityError> { Ok(()) } }
//!
//! #[tokio::main]
//! async fn main() -> Result<(), lambdaworker::Error> {
//!     lambdaworker::init_logging();
//!     // LW_DEPLOYMENT_NAME / LW_BUILD_ID when set (`cargo lambdaworker dev` and `deploy`
//!     // set them), else these.
//!     let version = lambdaworker::version_from_env_or("my-app", "build-1");
//!     lambdaworker::run_worker(version, |opts| {
//!         // TEMPORAL_TASK_QUEUE when set, else this.
//!         if opts.task_queue.is_empty() {
//!             opts.task_queue = "my-task-queue".into();
//!         }
//!         opts.register_workflow_with_options::<MyWorkflow>(
//!             RegisterOptions::versioning_behavior(VersioningBehavior::AutoUpgrade),
//!         )?;
//!         opts.register_activities(MyActivities);
//!         Ok(())
//!     })
//!     .await
//! }
//! ```
//!
//! The function serves the Worker Deployment Version and task queue its environment names
//! (`LW_DEPLOYMENT_NAME`, `LW_BUILD_ID`, `TEMPORAL_TASK_QUEUE`: what `cargo lambdaworker dev`
//! and `deploy` register and route tasks to), so build the version with
//! [`version_from_env_or`] and set the task queue only when it is empty: code that serves
//! another one fails init with an error naming both ([`Error::VersionMismatch`],
//! [`Error::TaskQueueMismatch`]) instead of polling what nobody routes to.
//!
//! [`run_worker`] is async and returns its error, as `lambda_runtime::run` does; a plain
//! `fn main` can call [`run_worker_blocking`] instead, which starts a tokio runtime and JSON
//! logs itself and exits with status 1 on an error. [`init_logging`] installs the JSON logs
//! Lambda expects; skip it to keep a `tracing` subscriber of your own.
//!
//! The configure callback gets [`Options`]: the Temporal SDK's own connection, client and
//! worker options, pre-filled from `temporal.toml` / `TEMPORAL_*` and with Lambda-tuned
//! defaults (see [`options`]).
//!
//! # State per process, configuration per invocation
//!
//! The configure callback runs once per process, at init. [`run_worker_async`] takes an
//! `async` one: what it builds (a database pool, an HTTP client) is built once per execution
//! environment and handed to activities through their instance, so every warm invocation,
//! and every concurrent one on Lambda Managed Instances, shares it. It must finish within
//! 9 s, within Lambda's 10 s init phase ([`Error::ConfigureTimeout`]); its error is an init error
//! ([`Error::Configure`]) carrying the cause.
//!
//! [`Options::on_invocation`] adds an `async` callback run on every invocation before its
//! client connects: it sees the invocation ([`InvocationConfig::invocation`]: request id,
//! deadline, invoked ARN, cold or warm; [`InvocationConfig::event`]) and may change what a
//! worker may change per invocation (the API key and headers, the identity, slots and
//! pollers, activity instances). Its time counts against the invocation's work window, and
//! it is cut off with 1 s of work left ([`Error::InvocationConfigureTimeout`]); an error
//! fails that invocation only ([`Error::InvocationConfigure`], [`Error::InvocationOptions`]).
//! [`InvocationConfig::on_teardown`] registers what runs when the invocation ends: after the
//! drain, before the process's shutdown hooks and the response.
//!
//! ```no_run
//! use std::sync::Arc;
//!
//! use lambdaworker::{RegisterOptions, VersioningBehavior};
//! use temporalio_sdk::activities::{ActivityContext, ActivityError};
//! # #[temporalio_macros::workflow] #[derive(Default)] struct MyWorkflow;
//! # #[temporalio_macros::workflow_methods] impl MyWorkflow { #[run] async fn run(_c: &mut temporalio_sdk::WorkflowContext<Self>) -> temporalio_sdk::WorkflowResult<()> { Ok(()) } }
//! # struct Pool; impl Pool { async fn connect(_url: &str) -> Result<Self, std::io::Error> { Ok(Pool) } async fn query(&self, _tenant: &str) -> Result<u64, std::io::Error> { Ok(1) } }
//! # async fn fetch_api_key(_request_id: &str) -> Result<String, lambdaworker::BoxError> { Ok("key".into()) }
//!
//! /// Activities with a pool made once per process, and this invocation's tenant.
//! struct MyActivities {
//!     pool: Arc<Pool>,
//!     tenant: String,
//! }
//!
//! #[temporalio_macros::activities]
//! impl MyActivities {
//!     #[activity]
//!     async fn count(self: Arc<Self>, _ctx: ActivityContext) -> Result<u64, ActivityError> {
//!         Ok(self.pool.query(&self.tenant).await?)
//!     }
//! }
//!
//! #[tokio::main]
//! async fn main() -> Result<(), lambdaworker::Error> {
//!     lambdaworker::init_logging();
//!     let version = lambdaworker::version_from_env_or("my-app", "build-1");
//!     lambdaworker::run_worker_async(version, async |opts| {
//!         // Once per process, at init.
//!         let pool = Arc::new(Pool::connect("postgres://db/app").await?);
//!         if opts.task_queue.is_empty() {
//!             opts.task_queue = "my-task-queue".into();
//!         }
//!         opts.register_workflow_with_options::<MyWorkflow>(
//!             RegisterOptions::versioning_behavior(VersioningBehavior::AutoUpgrade),
//!         )?;
//!         let tenant = String::new();
//!         opts.register_activities(MyActivities { pool: pool.clone(), tenant });
//!         // On every invocation, before connecting.
//!         opts.on_invocation(async move |inv| {
//!             let request_id = inv.invocation.request_id.clone();
//!             inv.connection_options.api_key = Some(fetch_api_key(&request_id).await?);
//!             let tenant = inv.event["tenant"].as_str().unwrap_or("default").to_owned();
//!             inv.register_activities(MyActivities { pool: pool.clone(), tenant });
//!             inv.on_teardown(move |_ctx| async move {
//!                 eprintln!("{request_id}: done");
//!                 Ok(())
//!             });
//!             Ok(())
//!         });
//!         Ok(())
//!     })
//!     .await
//! }
//! ```
//!
//! # Dependencies
//!
//! The Temporal SDK's macros expand to paths in its own crates, so a worker lists them
//! beside this one (the versions this release is built with):
//!
//! ```toml
//! [dependencies]
//! lambdaworker = "0.1"
//! temporalio-sdk = { version = "1.1", default-features = false }
//! temporalio-macros = "1.1"
//! temporalio-common = "1.1"
//! temporalio-workflow = "1.1"
//! futures = "0.3"
//! tokio = { version = "1", features = ["macros", "rt-multi-thread"] }
//! ```
//!
//! # Features
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `kms` | on | decrypting KMS-encrypted secrets at init (`LAMBDAWORKER_KMS_DECRYPT`, `kms:` values) with aws-sdk-kms; off, such a value is an init error naming it |
//! | `otel` | on | [`otel`]: Temporal's metrics and traces over OTLP/gRPC (ADOT defaults), X-Ray ids, flushed every invocation; off, no OpenTelemetry crate is compiled |
//!
//! The pieces, for custom runtimes and deeper changes: [`config`] (client configuration),
//! [`options`] (the callback's options and Lambda defaults), [`runtime`] (the lifecycle
//! engine and the `lambda_runtime` adapter), [`otel`].

pub use lw_config as config;
pub use lw_options as options;
#[cfg(feature = "otel")]
#[cfg_attr(docsrs, doc(cfg(feature = "otel")))]
pub use lw_otel as otel;
pub use lw_runtime as runtime;

pub use lw_options::{
    BoxError, Ended, InvocationConfig, InvocationReport, InvocationStart, Options, RegisterOptions,
    ShutdownContext, VersioningBehavior, Warning, WorkerDeploymentVersion, WorkerOptions,
    defaults::SlotLimits,
};
pub use lw_runtime::{
    BUILD_ID_VAR, DEPLOYMENT_NAME_VAR, Error, TASK_QUEUE_VAR, init_logging, run_worker,
    run_worker_async, run_worker_blocking, version_from_env_or,
};

/// The repository README's example, compiled as a doctest so it cannot go stale.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeDoctests;
