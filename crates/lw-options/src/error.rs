use std::time::Duration;

use temporalio_common::worker::VersioningBehavior;

/// Why the configured options cannot run a worker. Fatal at init.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OptionsError {
    /// A part of the Worker Deployment Version is blank.
    #[error(
        "give the worker deployment version both parts, non-blank (got deployment name \
         {deployment_name:?}, build id {build_id:?}): pass both to run_worker"
    )]
    BlankVersion {
        /// The deployment name given.
        deployment_name: String,
        /// The build id given.
        build_id: String,
    },
    /// No task queue from `TEMPORAL_TASK_QUEUE` or the configure callback.
    #[error(
        "no task queue: set the TEMPORAL_TASK_QUEUE environment variable or opts.task_queue in \
         the configure callback"
    )]
    MissingTaskQueue,
    /// Nothing was registered.
    #[error(
        "nothing registered: register at least one workflow or activity in the configure callback"
    )]
    NothingRegistered,
    /// A workflow has no versioning behaviour.
    #[error(
        "{workflow} has no versioning behaviour: register it with \
         RegisterOptions::versioning_behavior(VersioningBehavior::AutoUpgrade or ::Pinned), or \
         set opts.default_versioning_behavior"
    )]
    UnspecifiedBehavior {
        /// The workflow type (or the default field).
        workflow: String,
    },
    /// Registered workflows declare different behaviours.
    #[error(
        "give workflows {first} ({first_behavior:?}) and {second} ({second_behavior:?}) the same \
         versioning behaviour, or split them into two functions (two deployments) with one \
         behaviour each: the Temporal Rust SDK 1.1.1 applies one behaviour per worker"
    )]
    MixedBehaviors {
        /// First workflow type.
        first: String,
        /// Its behaviour.
        first_behavior: VersioningBehavior,
        /// A workflow type with another behaviour.
        second: String,
        /// Its behaviour.
        second_behavior: VersioningBehavior,
    },
    /// A worker option is out of range.
    #[error("opts.worker_options.{field} {message}")]
    InvalidLimit {
        /// The field of the SDK's `WorkerOptions`.
        field: &'static str,
        /// What is wrong, and what to set instead.
        message: &'static str,
    },
    /// The shutdown deadline buffer leaves the drain less time than the stop timeout.
    #[error(
        "raise opts.shutdown_deadline_buffer to at least the stop timeout, or lower \
         opts.worker_options.graceful_shutdown_period: the buffer ({buffer:?}) is shorter than \
         the stop timeout ({stop_timeout:?}), so the drain could not finish before the deadline \
         (leave the buffer unset for stop timeout + 2s)"
    )]
    BufferShorterThanStopTimeout {
        /// `opts.shutdown_deadline_buffer`.
        buffer: Duration,
        /// `opts.worker_options.graceful_shutdown_period`.
        stop_timeout: Duration,
    },
    /// A connection setting set in code cannot be sent as a gRPC header.
    #[error(
        "opts.connection_options.{field}: holds characters a gRPC header cannot carry (control \
         characters, newlines or non-ASCII); set it exactly as issued, in printable ASCII"
    )]
    UnsendableHeader {
        /// `api_key`, or `headers["name"]`.
        field: String,
    },
    /// The idle early exit setting is not usable.
    #[error(
        "{origin} is {value:?}: write a duration such as 2s, 1.5s, 500ms or 1min, or off; it \
         must be between 100ms and 15min"
    )]
    InvalidIdleExit {
        /// Where the value came from (an environment variable or `opts.idle_exit`).
        origin: String,
        /// The value given.
        value: String,
    },
    /// Registering with the SDK failed (e.g. the same workflow twice).
    #[error("fix the registrations in the configure callback")]
    Registration(#[source] temporalio_sdk::workflows::WorkflowRegistrationError),
    /// The SDK rejected the worker options.
    #[error("fix the worker options: the Temporal SDK rejects them: {0}")]
    Worker(String),
    /// The client configuration could not be turned into options.
    #[error(transparent)]
    Config(#[from] lw_config::ConfigError),
}
