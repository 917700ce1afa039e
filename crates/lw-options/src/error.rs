use temporalio_common::worker::VersioningBehavior;

/// Why the configured options cannot run a worker. Fatal at init.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OptionsError {
    /// A part of the Worker Deployment Version is blank.
    #[error(
        "the worker deployment version needs both parts non-blank (got deployment name \
         {deployment_name:?}, build id {build_id:?}); pass both to run_worker"
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
        "workflows {first} ({first_behavior:?}) and {second} ({second_behavior:?}) declare \
         different versioning behaviours, but the Temporal Rust SDK 1.1.1 applies one behaviour \
         per worker: give them the same behaviour, or split them into two functions (two \
         deployments) with one behaviour each"
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
    /// A limit is out of range.
    #[error("opts.worker.{field} {message}")]
    InvalidLimit {
        /// The field.
        field: &'static str,
        /// What is wrong.
        message: String,
    },
    /// The idle early exit setting is not usable.
    #[error("{0}")]
    InvalidIdleExit(String),
    /// Registering with the SDK failed (e.g. the same workflow twice).
    #[error("registration failed: {0}")]
    Registration(String),
    /// The SDK rejected the worker options.
    #[error("the Temporal SDK rejects these worker options: {0}")]
    Worker(String),
    /// The client configuration could not be turned into options.
    #[error(transparent)]
    Config(#[from] lw_config::ConfigError),
}
