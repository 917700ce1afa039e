//! The thin adapter between [`Engine`] and `lambda_runtime`, and the `run_worker` entry.

use std::collections::HashMap;

use lambda_runtime::{LambdaEvent, service_fn};
use lw_options::{Options, ValidatedOptions, WorkerDeploymentVersion};

use crate::{BoxError, Engine, Error, Invocation, backend::Backend};

/// Variables `lambda_runtime` requires; checked up front so their absence is a clear error
/// rather than a panic inside the runtime.
const REQUIRED_VARS: &[&str] = &[
    "AWS_LAMBDA_RUNTIME_API",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_VERSION",
];

/// Operators turn the idle early exit on without a rebuild: `2s`, `500ms`, `off`.
pub const IDLE_EXIT_VAR: &str = "LAMBDAWORKER_IDLE_EXIT";

/// Resolves configuration (decrypting KMS-encrypted values), runs the configure callback and
/// validates the result: the init phase. `env` is the process environment (injectable for
/// tests and custom runtimes).
pub async fn prepare<F>(
    version: WorkerDeploymentVersion,
    env: &HashMap<String, String>,
    configure: F,
) -> Result<ValidatedOptions, Error>
where
    F: FnOnce(&mut Options) -> Result<(), BoxError>,
{
    let config = lw_config::ClientConfig::load_from_async(env).await?;
    let task_queue = env
        .get("TEMPORAL_TASK_QUEUE")
        .filter(|q| !q.is_empty())
        .cloned();
    let mut options = Options::from_config(version, &config, task_queue)?;
    if let Some(text) = env.get(IDLE_EXIT_VAR) {
        options.idle_exit = lw_options::parse_idle_exit(text, IDLE_EXIT_VAR)?;
    }
    configure(&mut options).map_err(|e| Error::Configure(e.to_string()))?;
    Ok(options.validate()?)
}

/// Serves invocations from the Lambda Runtime API with `engine` until the runtime stops or
/// the process is asked to stop.
///
/// Lambda's shutdown phase sends SIGTERM, but only to functions with an extension registered;
/// so `serve` first registers a no-op internal extension (`lambdaworker-shutdown`, subscribed
/// to no events) through the Extensions API. On SIGTERM (or SIGINT) an invocation in progress
/// stops polling, drains (bounded as at its deadline), runs its shutdown hooks and posts its
/// response; then `serve` returns `Ok(())`. Between invocations it returns at once.
pub async fn serve<B: Backend>(engine: &Engine<B>) -> Result<(), Error> {
    register_shutdown_extension().await;
    let (counts, mut watch) = tokio::sync::watch::channel(Counts::default());
    let counts = std::sync::Arc::new(counts);
    let runtime = lambda_runtime::Runtime::new(service_fn(
        |event: LambdaEvent<serde_json::Value>| async move {
            let ctx = &event.context;
            let invocation = Invocation::from_epoch_deadline(
                &ctx.request_id,
                &ctx.invoked_function_arn,
                ctx.deadline,
            )
            .with_xray_trace_id(ctx.xray_trace_id.clone());
            engine.invoke(invocation).await
        },
    ))
    .layer(lambda_runtime::layers::TracingLayer::new())
    .layer(CountLayer(counts));
    let run = runtime.run();
    tokio::pin!(run);
    tokio::select! {
        r = &mut run => return r.map_err(|e| Error::Lambda(e.to_string())),
        () = stop_signal() => {}
    }
    tracing::info!("shutdown requested (SIGTERM); finishing the invocation in progress");
    engine.request_shutdown();
    // Keep the runtime going until the invocation in progress has posted its response, and
    // a little longer, so that an event handed out just before the signal (not yet counted)
    // is served too rather than dropped.
    loop {
        tokio::select! {
            r = &mut run => return r.map_err(|e| Error::Lambda(e.to_string())),
            _ = watch.wait_for(|c| c.begun == c.ended) => {}
        }
        let settled = *watch.borrow_and_update();
        tokio::select! {
            r = &mut run => return r.map_err(|e| Error::Lambda(e.to_string())),
            () = tokio::time::sleep(SETTLE) => {}
        }
        let now = *watch.borrow();
        if now.begun == now.ended && now.begun == settled.begun {
            return Ok(());
        }
    }
}

/// Local mode: one long-lived worker until SIGTERM or Ctrl-C, then drain and hooks.
pub async fn run_local<B: Backend>(engine: &Engine<B>) -> Result<(), Error> {
    tracing::info!(
        task_queue = %engine.options().options().task_queue,
        "AWS_LAMBDA_RUNTIME_API is not set: running as an ordinary long-lived worker until \
         SIGTERM or Ctrl-C"
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

/// Registers the no-op internal extension that makes Lambda send SIGTERM at shutdown. A
/// failure only means no graceful shutdown: logged, never fatal.
async fn register_shutdown_extension() {
    let registered = lambda_extension::Extension::new()
        .with_events(&[])
        .with_extension_name("lambdaworker-shutdown")
        .register()
        .await;
    match registered {
        Ok(extension) => {
            // Waits on the Extensions API for events that never come; costs nothing.
            tokio::spawn(async move {
                let _ = extension.run().await;
            });
        }
        Err(e) => tracing::warn!(
            error = %e,
            "could not register the shutdown extension; SIGTERM will not be delivered by Lambda"
        ),
    }
}

/// Resolves on SIGTERM or SIGINT; never if the handlers cannot be installed.
async fn stop_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) {
        (Ok(mut term), Ok(mut int)) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
        }
        (Err(e), _) | (_, Err(e)) => {
            tracing::warn!(error = %e, "cannot listen for SIGTERM; no graceful shutdown");
            std::future::pending::<()>().await;
        }
    }
}

/// After SIGTERM, how long no new invocation may start before the process exits.
const SETTLE: std::time::Duration = std::time::Duration::from_millis(50);

/// Invocations handed to the service and those whose response was posted.
#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    begun: u64,
    ended: u64,
}

/// The outermost layer: counts invocations in and out, after the response is posted.
struct CountLayer(std::sync::Arc<tokio::sync::watch::Sender<Counts>>);

impl<S> lambda_runtime::tower::Layer<S> for CountLayer {
    type Service = Counted<S>;
    fn layer(&self, inner: S) -> Counted<S> {
        Counted {
            inner,
            counts: self.0.clone(),
        }
    }
}

struct Counted<S> {
    inner: S,
    counts: std::sync::Arc<tokio::sync::watch::Sender<Counts>>,
}

impl<S> lambda_runtime::Service<lambda_runtime::LambdaInvocation> for Counted<S>
where
    S: lambda_runtime::Service<lambda_runtime::LambdaInvocation, Response = ()>,
{
    type Response = ();
    type Error = S::Error;
    type Future = CountEnd<S::Future>;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: lambda_runtime::LambdaInvocation) -> Self::Future {
        self.counts.send_modify(|c| c.begun += 1);
        CountEnd {
            inner: Box::pin(self.inner.call(req)),
            counts: self.counts.clone(),
        }
    }
}

/// The inner future, counting its end.
struct CountEnd<F> {
    inner: std::pin::Pin<Box<F>>,
    counts: std::sync::Arc<tokio::sync::watch::Sender<Counts>>,
}

impl<F: std::future::Future> std::future::Future for CountEnd<F> {
    type Output = F::Output;
    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<F::Output> {
        let out = std::task::ready!(self.inner.as_mut().poll(cx));
        self.counts.send_modify(|c| c.ended += 1);
        std::task::Poll::Ready(out)
    }
}

/// Runs a Lambda worker: init (config, callback, validation) then one worker per invocation.
/// Returns `Ok(())` after a graceful shutdown (SIGTERM, see [`serve`]); otherwise only on an
/// error: init errors before the first invocation, or the runtime loop's failure. Must be
/// called inside a tokio runtime.
///
/// Outside Lambda (no `AWS_LAMBDA_RUNTIME_API`), the same registrations run as an ordinary
/// long-lived worker, with the same configuration resolution, until SIGTERM or Ctrl-C, then
/// drain and run the shutdown hooks: `cargo run` against a local server works.
pub async fn try_run_worker<F>(version: WorkerDeploymentVersion, configure: F) -> Result<(), Error>
where
    F: FnOnce(&mut Options) -> Result<(), BoxError>,
{
    let init_started = tokio::time::Instant::now();
    let env: HashMap<String, String> = std::env::vars().collect();
    if env
        .get("AWS_LAMBDA_RUNTIME_API")
        .is_none_or(|v| v.is_empty())
    {
        let options = prepare(version, &env, configure).await?;
        let engine = Engine::new(options)?;
        return run_local(&engine).await;
    }
    let missing: Vec<&str> = REQUIRED_VARS
        .iter()
        .copied()
        .filter(|v| env.get(*v).is_none_or(|s| s.is_empty()))
        .collect();
    if !missing.is_empty() {
        return Err(Error::NotInLambda(format!(
            "not running under AWS Lambda: {} not set (Lambda sets these for every function; \
             a custom runtime or emulator must too)",
            missing.join(", ")
        )));
    }
    let options = prepare(version, &env, configure).await?;
    let mut engine = Engine::new(options)?;
    engine.set_init_duration(init_started.elapsed());
    tracing::info!(
        task_queue = %engine.options().options().task_queue,
        "lambda worker initialised"
    );
    serve(&engine).await
}

/// The entry point a Lambda function's `main` calls: the Rust counterpart of Go's
/// `lambdaworker.RunWorker`.
///
/// Sets up JSON logs and a tokio runtime, runs [`try_run_worker`], and on a fatal error
/// prints one line to stderr, reports it to the Runtime API's init error endpoint when
/// possible, and exits with status 1.
///
/// ```no_run
/// use lw_options::{RegisterOptions, VersioningBehavior, WorkerDeploymentVersion};
/// # struct MyActivities;
/// # #[temporalio_macros::activities] impl MyActivities { #[activity] async fn a(_c: temporalio_sdk::activities::ActivityContext) -> Result<(), temporalio_sdk::activities::ActivityError> { Ok(()) } }
/// fn main() {
///     let version = WorkerDeploymentVersion::builder()
///         .deployment_name("my-app")
///         .build_id("build-1")
///         .build();
///     lw_runtime::run_worker(version, |opts| {
///         opts.task_queue = "my-task-queue".into();
///         opts.register_activities(MyActivities);
///         Ok(())
///     });
/// }
/// ```
pub fn run_worker<F>(version: WorkerDeploymentVersion, configure: F)
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
        Err(e) => fatal(&Error::Runtime(format!("cannot start tokio: {e}"))),
    };
    if let Err(e) = runtime.block_on(try_run_worker(version, configure)) {
        runtime.block_on(report_init_error(&e));
        fatal(&e);
    }
    // A graceful shutdown: everything was drained and flushed; don't wait on idle tasks.
    runtime.shutdown_timeout(std::time::Duration::from_millis(100));
    eprintln!("lambdaworker: shut down gracefully");
}

fn fatal(e: &Error) -> ! {
    eprintln!("lambdaworker: fatal: {e}");
    std::process::exit(1)
}

/// Posts an init error to `/runtime/init/error` so Lambda shows the reason.
async fn report_init_error(e: &Error) {
    if matches!(e, Error::NotInLambda(_) | Error::Lambda(_)) {
        return;
    }
    let Ok(api) = std::env::var("AWS_LAMBDA_RUNTIME_API") else {
        return;
    };
    let body = serde_json::json!({ "errorType": e.kind(), "errorMessage": e.to_string() });
    let request = http::Request::post("/2018-06-01/runtime/init/error")
        .header(
            "lambda-runtime-function-error-type",
            format!("Runtime.{}", e.kind()),
        )
        .body(lambda_runtime_api_client::body::Body::from(
            body.to_string(),
        ));
    let Ok(request) = request else { return };
    let client = lambda_runtime_api_client::Client::builder()
        .with_endpoint(format!("http://{api}").parse().unwrap_or_default())
        .build();
    if let Ok(client) = client {
        let _ = tokio::time::timeout(std::time::Duration::from_secs(2), client.call(request)).await;
    }
}

#[cfg(test)]
mod tests {
    #![allow(dead_code)] // the #[activities] macro generates constants only tests read

    use super::*;
    use temporalio_macros::activities;
    use temporalio_sdk::activities::{ActivityContext, ActivityError};

    struct Acts;
    #[activities]
    impl Acts {
        #[activity]
        async fn noop(_ctx: ActivityContext) -> Result<(), ActivityError> {
            Ok(())
        }
    }

    fn version(d: &str, b: &str) -> WorkerDeploymentVersion {
        WorkerDeploymentVersion::builder()
            .deployment_name(d)
            .build_id(b)
            .build()
    }

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[tokio::test]
    async fn init_reads_the_task_queue_from_the_environment() {
        let o = prepare(
            version("d", "b"),
            &env(&[("TEMPORAL_TASK_QUEUE", "from-env")]),
            |o| {
                o.register_activities(Acts);
                Ok(())
            },
        )
        .await
        .unwrap();
        assert_eq!(o.options().task_queue, "from-env");
    }

    #[tokio::test]
    async fn fatal_init_errors_name_their_cause() {
        let e = prepare(version("d", "b"), &env(&[]), |o| {
            o.register_activities(Acts);
            Ok(())
        })
        .await
        .unwrap_err();
        assert_eq!(e.kind(), "Options");
        assert!(e.to_string().contains("TEMPORAL_TASK_QUEUE"), "{e}");

        let e = prepare(
            version("d", "b"),
            &env(&[("TEMPORAL_TASK_QUEUE", "q")]),
            |_| Err("no database url".into()),
        )
        .await
        .unwrap_err();
        assert_eq!(e.kind(), "Configure");
        assert!(e.to_string().contains("no database url"), "{e}");

        let e = prepare(
            version("d", "b"),
            &env(&[("TEMPORAL_CONFIG_FILE", "/missing.toml")]),
            |_| Ok(()),
        )
        .await
        .unwrap_err();
        assert_eq!(e.kind(), "Config");
        assert!(e.to_string().contains("/missing.toml"), "{e}");

        let e = prepare(
            version("d", " "),
            &env(&[("TEMPORAL_TASK_QUEUE", "q")]),
            |o| {
                o.register_activities(Acts);
                Ok(())
            },
        )
        .await
        .unwrap_err();
        assert!(e.to_string().contains("non-blank"), "{e}");
    }

    #[test]
    fn errors_become_diagnostics_named_after_the_variant() {
        let d: lambda_runtime::Diagnostic = Error::WorkerStart("x".into()).into();
        assert_eq!(d.error_type, "WorkerStart");
        assert!(d.error_message.contains('x'));
    }
}
