#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]
//! The invocation lifecycle engine of a Temporal Lambda worker.
//!
//! [`Engine::invoke`] runs one invocation, every step bounded by its deadline:
//!
//! 1. **deadline check**: work time = remaining − shutdown buffer; ≤ 1 s is an error and no
//!    worker is created, < 5 s logs one warning;
//! 2. **per-invocation callbacks** (`Options::on_invocation`, when registered): they see the
//!    invocation and its event and may change its connection, identity and worker options,
//!    bounded by the work window less 1 s;
//! 3. **connect** a fresh client, identity `<requestId>@<functionArn>`, bounded by the work
//!    window;
//! 4. **start** a fresh worker with the registrations replayed, versioning on (before the
//!    process's first poll, the task queue is checked with the server once);
//! 5. **poll** until deadline − buffer (or idle exit, or SIGTERM);
//! 6. **drain**, bounded by the stop timeout, then forced (the run future is dropped) so the
//!    invocation never outlives its deadline;
//! 7. **teardowns** (this invocation's, last registered first), then **shutdown hooks** in
//!    registration order, each told its budget and given the still connected client, also
//!    after a failed callback, connect, start or run;
//! 8. **close**: the worker is unregistered from the client (which frees its socket) and both
//!    are dropped.
//!
//! The engine takes an [`Invocation`] from any source; only [`lambda`] depends on
//! `lambda_runtime`, so custom runtimes can drive [`Engine`] themselves. The SDK calls sit
//! behind [`Backend`], so the lifecycle can be tested with fakes under a paused clock.
//!
//! Most users call [`run_worker`] (re-exported by the `lambdaworker` crate). Tools acting on
//! the same server and process share its pieces: [`connect_client`] (connect as the worker
//! does, failures explained), [`error_chain`] (an error and its causes as one line) and
//! [`stop_signal`] (SIGTERM or SIGINT). The environment is read once, with
//! [`lw_config::env_snapshot`].

mod backend;
mod connect;
mod connect_error;
mod engine;
mod entry;
mod error;
mod invocation;
pub mod lambda;
mod logging;
mod runtime_api;
mod signals;
pub mod timing;
mod tracker;
mod version;

pub use backend::{Backend, TaskQueueRejected, TemporalBackend, WorkerRunner};
pub use connect::connect_client;
pub use connect_error::{ConnectDetail, ConnectProblem};
pub use engine::Engine;
pub use entry::{
    IDLE_EXIT_VAR, prepare, prepare_async, run_local, run_worker, run_worker_async,
    run_worker_blocking,
};
pub use error::{Error, error_chain};
pub use invocation::Invocation;
pub use logging::init_logging;
pub use lw_options::{
    BoxError, Ended, InvocationConfig, InvocationReport, Options, RunEnd, ValidatedOptions,
};
pub use signals::stop_signal;
pub use version::{BUILD_ID_VAR, DEPLOYMENT_NAME_VAR, TASK_QUEUE_VAR, version_from_env_or};
