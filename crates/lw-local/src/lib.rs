#![warn(missing_docs)]
//! AWS on this machine for serverless Temporal workers: a local STS and Lambda endpoint
//! that runs real Lambda function binaries, and a wrapper for the `temporal` CLI's dev
//! server, so that a Temporal server's Worker Controller can start workers the way it does
//! on AWS, and `cargo lambdaworker deploy`/`dev` can be tried without an AWS account.
//!
//! # What it serves
//!
//! [`LocalLambda`] answers, on one loopback port (point `AWS_ENDPOINT_URL` at
//! [`LocalLambda::endpoint`]):
//!
//! | API | operation | HTTP | also callable as |
//! |---|---|---|---|
//! | STS | `AssumeRole` (the role's `ExternalId` enforced) | `POST /` | [`LocalLambda::add_role`] registers a role |
//! | Lambda | `CreateFunction` (custom runtime, `Code.ZipFile`; Managed Instances' `CapacityProviderConfig`) | `POST /2015-03-31/functions` | [`LocalLambda::create_function`] |
//! | Lambda | `GetFunction` | `GET …/functions/{name}` | |
//! | Lambda | `GetFunctionConfiguration` | `GET …/functions/{name}/configuration` | [`LocalLambda::function_info`] |
//! | Lambda | `UpdateFunctionConfiguration` | `PUT …/functions/{name}/configuration` | [`LocalLambda::update_function_environment`] (environment only) |
//! | Lambda | `UpdateFunctionCode` | `PUT …/functions/{name}/code` | [`LocalLambda::update_function_code`] |
//! | Lambda | `PublishVersion` | `POST …/functions/{name}/versions` | [`LocalLambda::publish_version`] |
//! | Lambda | `ListVersionsByFunction` | `GET …/functions/{name}/versions` | [`LocalLambda::versions`] |
//! | Lambda | `Invoke` (`RequestResponse`, `Event`, `DryRun`; `Qualifier`) | `POST …/functions/{name}/invocations` | |
//!
//! Only a request sent to the loopback address it bound (the `Host` header) and signed (AWS
//! SigV4) with this run's [`Credentials`] ([`LocalLambda::credentials`], new each run; or
//! with session credentials its `AssumeRole` handed out) is answered; anything else is 403
//! saying how to get them. [`LocalLambda::server_env`] is what an AWS SDK client needs.
//!
//! A function is a name, an ARN or a qualified ARN (`…:function:NAME:3`) wherever Lambda
//! takes one; `RevisionId` and `CodeSha256` preconditions are checked. Any other request
//! gets an error and is listed by [`LocalLambda::unknown_requests`].
//!
//! Functions are real `bootstrap` programs, each instance behind its own emulator of the
//! Lambda Runtime API ([`LocalFunction`]): warm instances are reused, a new instance (a
//! cold start) starts when all are busy, up to the function's reserved concurrency, and an
//! instance that passes its deadline is killed, as Lambda does. Every invocation is booked
//! ([`Accounting`]): count, cold starts, errors, timeouts, billed ms (rounded up, init
//! included on a cold start) and GB-seconds.
//!
//! [`DevServer`] runs (or attaches to) `temporal server start-dev` on free ports and drives
//! it through the CLI; [`worker_controller_config`] turns its Worker Controller on.
//!
//! # What it is not
//!
//! Not an AWS emulator beyond the table above: one account (`000000000000`) and region
//! (`us-east-1`), one key (the run's) and the sessions it assumes, no IAM policies, aliases,
//! layers, S3 or image code, or deletion. Not a sandbox: a function runs as a plain process
//! of the calling user (with Lambda's environment, not the caller's: see [`INHERITED_ENV`]),
//! with no memory limit. Not for production traffic.
//!
//! # Where to look next
//!
//! - The `lw-local` program (`src/main.rs`): this service on 127.0.0.1 (a free port unless
//!   `--port`), printing the credentials to export, for a dev server you start yourself;
//!   the repository's `docs/local-serverless.md` walks through it.
//! - `cargo lambdaworker dev` (crate `cargo-lambdaworker`) builds on this crate.
//! - The source, by job: `service.rs` ([`LocalLambda`]), `server.rs` and `sts.rs` (HTTP),
//!   `auth/` (who may call: credentials, SigV4, the `Host` check),
//!   `lambda_api/` (Lambda's REST-JSON), `functions/` (functions and versions), `code.rs`
//!   (stored code), `config.rs` ([`FunctionConfig`]), `pool.rs` (which instance runs an
//!   invocation), `accounting.rs` (what is booked), `emulator/` (the Runtime API),
//!   `devserver/` ([`DevServer`]), `process.rs` (child processes and ports).
//!
//! # Feature `testing`
//!
//! Off by default. Adds what only this repository's tests use: `DevServer::shared` (one
//! dev server per test process), `NextFault` and `FunctionSpec::next_fault` (malformed
//! Runtime API answers), and makes the `process` module (child processes tied to this one,
//! free ports) public. The repository's unpublished `lw-testkit` turns it on.
//!
//! ```no_run
//! # async fn f() -> Result<(), lw_local::LocalError> {
//! use lw_local::{FunctionConfig, LocalLambda, RoleConfig};
//! let aws = LocalLambda::start().await?;
//! aws.add_role(RoleConfig { arn: "arn:aws:iam::000000000000:role/temporal".into(), external_id: Some("ext-1".into()) });
//! let arn = aws.add_function(FunctionConfig::new("greeting", "target/debug/greeting"));
//! println!("AWS_ENDPOINT_URL={}  function {arn}", aws.endpoint());
//! # Ok(()) }
//! ```

mod accounting;
mod auth;
mod code;
mod config;
mod devserver;
mod emulator;
mod error;
mod functions;
mod lambda_api;
mod pool;
#[cfg(feature = "testing")]
pub mod process;
#[cfg(not(feature = "testing"))]
mod process;
mod random;
mod server;
mod service;
mod sts;

pub use accounting::{Accounting, InstanceStats, InvocationRecord, MAX_RECORDS, TimelinePoint};
pub use auth::{CREDENTIAL_SOURCES, Credentials};
pub use code::{Code, ENTRY_COST, UNZIPPED_LIMIT, check_name as check_function_name};
pub use config::FunctionConfig;
pub use devserver::{DevServer, unique, worker_controller_config};
#[cfg(feature = "testing")]
pub use emulator::NextFault;
pub use emulator::{
    FunctionSpec, INHERITED_ENV, InvocationResult, LocalFunction, MAX_KEPT, Outcome, ProcStatus,
};
pub use error::LocalError;
pub use functions::FunctionInfo;
pub use random::{RANDOM_SOURCE, random_symbols};
pub use server::MAX_REMEMBERED;
pub use service::LocalLambda;
pub use sts::{AssumeRoleCall, RoleConfig};
