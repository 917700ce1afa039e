//! The entry points a function's `main` calls: [`run_worker`] (async, for `#[tokio::main]`)
//! and [`run_worker_blocking`] (a plain `fn main`), and the init phase they share
//! ([`prepare`]).

use std::collections::HashMap;

use lw_options::{Options, ValidatedOptions, WorkerDeploymentVersion};

use crate::{
    BoxError, Engine, Error,
    backend::Backend,
    runtime_api, stop_signal, timing,
    version::{self, TASK_QUEUE_VAR},
};

/// Operators turn the idle early exit on without a rebuild: `2s`, `500ms`, `off`.
pub const IDLE_EXIT_VAR: &str = "LAMBDAWORKER_IDLE_EXIT";

/// Resolves configuration (decrypting KMS-encrypted values), runs the configure callback and
/// validates the result: the init phase. `env` is the process environment (injectable for
/// tests and custom runtimes).
///
/// When the environment names a Worker Deployment Version (`LW_DEPLOYMENT_NAME`,
/// `LW_BUILD_ID`) or task queue (`TEMPORAL_TASK_QUEUE`) and the options after the callback
/// hold another, init fails ([`Error::VersionMismatch`], [`Error::TaskQueueMismatch`]): the
/// environment's are the ones `cargo lambdaworker dev` and `deploy` registered and route
/// tasks to, so such a worker would poll what nobody routes to and do nothing, silently. An
/// error (not a warning) is what Lambda and the Worker Controller record and show.
pub async fn prepare<F>(
    version: WorkerDeploymentVersion,
    env: &HashMap<String, String>,
    configure: F,
) -> Result<ValidatedOptions, Error>
where
    F: FnOnce(&mut Options) -> Result<(), BoxError>,
{
    prepare_async(version, env, async move |o: &mut Options| configure(o)).await
}

/// [`prepare`] with an async configure callback ([`run_worker_async`]'s): the state it builds
/// (a pool, an HTTP client) is built once, at init. In Lambda (`AWS_LAMBDA_RUNTIME_API` set)
/// it must be ready within [`timing::INIT_BUDGET`] (9 s from the start of this call, leaving
/// Lambda's 10 s init phase a second for the process's start and the error's report), or
/// init fails with [`Error::ConfigureTimeout`]; outside Lambda there is no init phase and no
/// bound. Its error is [`Error::Configure`].
pub async fn prepare_async<F>(
    version: WorkerDeploymentVersion,
    env: &HashMap<String, String>,
    configure: F,
) -> Result<ValidatedOptions, Error>
where
    F: AsyncFnOnce(&mut Options) -> Result<(), BoxError>,
{
    let started = tokio::time::Instant::now();
    let config = lw_config::ClientConfig::load_from_async(env).await?;
    let task_queue = env.get(TASK_QUEUE_VAR).filter(|q| !q.is_empty()).cloned();
    let mut options = Options::from_config(version, &config, task_queue)?;
    if let Some(text) = env.get(IDLE_EXIT_VAR) {
        options.idle_exit = lw_options::parse_idle_exit(text, IDLE_EXIT_VAR)?;
    }
    let budget = timing::INIT_BUDGET;
    let configured = if runtime_api::in_lambda(env) {
        tokio::time::timeout_at(started + budget, configure(&mut options))
            .await
            .map_err(|_| Error::ConfigureTimeout { budget })?
    } else {
        configure(&mut options).await
    };
    configured.map_err(Error::Configure)?;
    version::check_environment(&options, env)?;
    Ok(options.validate()?)
}

/// Local mode: one long-lived worker until SIGTERM or Ctrl-C, then drain and hooks.
///
/// It logs, at start, the `temporal` command that makes its version the deployment's current
/// version (with the address and namespace filled in when they are not the defaults): only a
/// current (or ramping) version gets new workflows, and nothing else would say why none runs.
/// It does not make the version current itself: that reroutes the deployment's new and
/// AutoUpgrade workflows, which in a shared namespace is the operator's decision.
pub async fn run_local<B: Backend>(engine: &Engine<B>) -> Result<(), Error> {
    let options = engine.options().options();
    tracing::info!(
        task_queue = %options.task_queue,
        deployment_name = %options.deployment_version.deployment_name,
        build_id = %options.deployment_version.build_id,
        "AWS_LAMBDA_RUNTIME_API is not set: running as an ordinary long-lived worker until \
         SIGTERM or Ctrl-C"
    );
    tracing::info!(
        "only the deployment's current version gets new workflows; unless this one is, make it \
         current with: {}",
        version::set_current_command(options)
    );
    let run = engine.invoke(crate::Invocation::local());
    tokio::pin!(run);
    tokio::select! {
        r = &mut run => return r.map(|_| ()),
        () = stop_signal() => {}
    }
    tracing::info!("stopping: draining in-flight work");
    engine.request_shutdown();
    run.await.map(|_| ())
}

/// Runs a Lambda worker: the Rust counterpart of Go's `lambdaworker.RunWorker`, and the
/// `lambda_runtime::run` of Temporal workers. Call it from `#[tokio::main]`.
///
/// Init (configuration, the `configure` callback, validation) runs once; then each
/// invocation gets a fresh client and worker ([`crate::Engine`]). Returns `Ok(())` after a
/// graceful shutdown (SIGTERM, see [`crate::lambda::serve`]); otherwise only on an error:
/// an init error (also reported to the Runtime API's init error endpoint, so Lambda shows
/// it), or the runtime loop's failure. It never exits the process.
///
/// Outside Lambda (no `AWS_LAMBDA_RUNTIME_API`), the same registrations run as an ordinary
/// long-lived worker, with the same configuration resolution, until SIGTERM or Ctrl-C, then
/// drain and run the shutdown hooks: `cargo run` against a local server works.
///
/// It installs no logging: call [`crate::init_logging`] first for Lambda's JSON logs, or
/// install your own `tracing` subscriber.
///
/// The version comes from `LW_DEPLOYMENT_NAME` / `LW_BUILD_ID` when they are set
/// ([`crate::version_from_env_or`]), as `cargo lambdaworker dev` and `deploy` set them; a
/// version or task queue other than the environment's is an init error (see [`prepare`]).
/// Outside Lambda it logs the `temporal` command that makes its version current.
///
/// ```no_run
/// # struct MyActivities;
/// # #[temporalio_macros::activities] impl MyActivities { #[activity] async fn a(_c: temporalio_sdk::activities::ActivityContext) -> Result<(), temporalio_sdk::activities::ActivityError> { Ok(()) } }
/// #[tokio::main]
/// async fn main() -> Result<(), lw_runtime::Error> {
///     lw_runtime::init_logging();
///     let version = lw_runtime::version_from_env_or("my-app", "build-1");
///     lw_runtime::run_worker(version, |opts| {
///         if opts.task_queue.is_empty() {
///             opts.task_queue = "my-task-queue".into();
///         }
///         opts.register_activities(MyActivities);
///         Ok(())
///     })
///     .await
/// }
/// ```
pub async fn run_worker<F>(version: WorkerDeploymentVersion, configure: F) -> Result<(), Error>
where
    F: FnOnce(&mut Options) -> Result<(), BoxError>,
{
    run_worker_async(version, async move |o: &mut Options| configure(o)).await
}

/// [`run_worker`] with an async configure callback (an `async` closure): for state built
/// once per process, asynchronously, at init (a database pool, an HTTP client, secrets), and
/// handed to activities through their instance (`opts.register_activities(MyActivities {
/// pool })`, methods taking `self: Arc<Self>`). Every warm invocation, and every concurrent
/// one on Lambda Managed Instances, uses that same instance.
///
/// It runs once, within Lambda's init phase: cut off after [`timing::INIT_BUDGET`] (9 s)
/// ([`Error::ConfigureTimeout`]); its error is an init error ([`Error::Configure`]) carrying
/// its cause, posted to the Runtime API like every init error. What changes per invocation
/// (credentials, tags) belongs in [`Options::on_invocation`].
///
/// ```no_run
/// use std::sync::Arc;
/// # struct Pool; impl Pool { async fn connect(_url: &str) -> Result<Self, std::io::Error> { Ok(Pool) } }
/// struct MyActivities {
///     pool: Arc<Pool>,
/// }
/// # #[temporalio_macros::activities] impl MyActivities { #[activity] async fn a(self: Arc<Self>, _c: temporalio_sdk::activities::ActivityContext) -> Result<(), temporalio_sdk::activities::ActivityError> { let _pool = &self.pool; Ok(()) } }
///
/// #[tokio::main]
/// async fn main() -> Result<(), lw_runtime::Error> {
///     lw_runtime::init_logging();
///     let version = lw_runtime::version_from_env_or("my-app", "build-1");
///     lw_runtime::run_worker_async(version, async |opts| {
///         let pool = Arc::new(Pool::connect("postgres://db/app").await?);
///         if opts.task_queue.is_empty() {
///             opts.task_queue = "my-task-queue".into();
///         }
///         opts.register_activities(MyActivities { pool });
///         Ok(())
///     })
///     .await
/// }
/// ```
pub async fn run_worker_async<F>(
    version: WorkerDeploymentVersion,
    configure: F,
) -> Result<(), Error>
where
    F: AsyncFnOnce(&mut Options) -> Result<(), BoxError>,
{
    let env = lw_config::env_snapshot();
    let result = init_and_serve(version, &env, configure).await;
    if let Err(e) = &result {
        runtime_api::report_init_error(&env, e).await;
    }
    result
}

/// The init phase, then serving: Lambda's invocations, or outside Lambda the local worker.
async fn init_and_serve<F>(
    version: WorkerDeploymentVersion,
    env: &HashMap<String, String>,
    configure: F,
) -> Result<(), Error>
where
    F: AsyncFnOnce(&mut Options) -> Result<(), BoxError>,
{
    let init_started = tokio::time::Instant::now();
    if !runtime_api::in_lambda(env) {
        let options = prepare_async(version, env, configure).await?;
        let engine = Engine::new(options)?;
        return run_local(&engine).await;
    }
    runtime_api::check_lambda_environment(env)?;
    let concurrency = crate::lambda::max_concurrency(env)?;
    let options = prepare_async(version, env, configure).await?;
    let mut engine = Engine::new(options)?;
    engine.set_init_duration(init_started.elapsed());
    let options = engine.options().options();
    tracing::info!(
        task_queue = %options.task_queue,
        workflow_types = %options.workflow_types().join(","),
        concurrency,
        "lambda worker initialised"
    );
    crate::lambda::serve_guarded(std::sync::Arc::new(engine), env).await
}

/// [`run_worker`] for a plain `fn main`: installs Lambda's JSON logs ([`crate::init_logging`])
/// and a two-thread tokio runtime, runs the worker, and on an error prints one line to stderr
/// and exits with status 1. The only function here that may exit the process.
///
/// ```no_run
/// # struct MyActivities;
/// # #[temporalio_macros::activities] impl MyActivities { #[activity] async fn a(_c: temporalio_sdk::activities::ActivityContext) -> Result<(), temporalio_sdk::activities::ActivityError> { Ok(()) } }
/// fn main() {
///     let version = lw_runtime::version_from_env_or("my-app", "build-1");
///     lw_runtime::run_worker_blocking(version, |opts| {
///         if opts.task_queue.is_empty() {
///             opts.task_queue = "my-task-queue".into();
///         }
///         opts.register_activities(MyActivities);
///         Ok(())
///     });
/// }
/// ```
pub fn run_worker_blocking<F>(version: WorkerDeploymentVersion, configure: F)
where
    F: FnOnce(&mut Options) -> Result<(), BoxError>,
{
    crate::init_logging();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => fatal(&Error::Runtime(e.into())),
    };
    if let Err(e) = runtime.block_on(run_worker(version, configure)) {
        fatal(&e);
    }
    // A graceful shutdown: everything was drained and flushed; don't wait on idle tasks.
    runtime.shutdown_timeout(std::time::Duration::from_millis(100));
    eprintln!("lambdaworker: shut down gracefully");
}

/// Prints `e` as one line on stderr and exits with status 1.
fn fatal(e: &Error) -> ! {
    eprintln!("lambdaworker: fatal: {}", e.message());
    std::process::exit(1)
}

#[cfg(test)]
#[path = "entry_tests.rs"]
mod tests;
