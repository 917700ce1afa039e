//! The entry points a function's `main` calls: [`run_worker`] (async, for `#[tokio::main]`)
//! and [`run_worker_blocking`] (a plain `fn main`), and the init phase they share
//! ([`prepare`]).

use std::collections::HashMap;

use lw_options::{Options, ValidatedOptions, WorkerDeploymentVersion};

use crate::{BoxError, Engine, Error, backend::Backend, lambda::stop_signal};

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
    configure(&mut options).map_err(Error::Configure)?;
    Ok(options.validate()?)
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
/// ```no_run
/// use lw_options::{RegisterOptions, VersioningBehavior, WorkerDeploymentVersion};
/// # struct MyActivities;
/// # #[temporalio_macros::activities] impl MyActivities { #[activity] async fn a(_c: temporalio_sdk::activities::ActivityContext) -> Result<(), temporalio_sdk::activities::ActivityError> { Ok(()) } }
/// #[tokio::main]
/// async fn main() -> Result<(), lw_runtime::Error> {
///     lw_runtime::init_logging();
///     let version = WorkerDeploymentVersion::builder()
///         .deployment_name("my-app")
///         .build_id("build-1")
///         .build();
///     lw_runtime::run_worker(version, |opts| {
///         opts.task_queue = "my-task-queue".into();
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
    let result = init_and_serve(version, configure).await;
    if let Err(e) = &result {
        report_init_error(e).await;
    }
    result
}

async fn init_and_serve<F>(version: WorkerDeploymentVersion, configure: F) -> Result<(), Error>
where
    F: FnOnce(&mut Options) -> Result<(), BoxError>,
{
    let init_started = tokio::time::Instant::now();
    let env = environment();
    if env
        .get("AWS_LAMBDA_RUNTIME_API")
        .is_none_or(|v| v.is_empty())
    {
        let options = prepare(version, &env, configure).await?;
        let engine = Engine::new(options)?;
        return run_local(&engine).await;
    }
    check_lambda_environment(&env)?;
    let concurrency = crate::lambda::max_concurrency(&env)?;
    let options = prepare(version, &env, configure).await?;
    let mut engine = Engine::new(options)?;
    engine.set_init_duration(init_started.elapsed());
    tracing::info!(
        task_queue = %engine.options().options().task_queue,
        concurrency,
        "lambda worker initialised"
    );
    crate::lambda::serve_guarded(std::sync::Arc::new(engine), &env).await
}

/// The process environment; a variable whose name or value is not UTF-8 is left out with a
/// warning (`std::env::vars` would panic on it).
fn environment() -> HashMap<String, String> {
    let mut env = HashMap::new();
    for (k, v) in std::env::vars_os() {
        match (k.to_str(), v.to_str()) {
            (Some(k), Some(v)) => {
                env.insert(k.to_owned(), v.to_owned());
            }
            _ => tracing::warn!(
                variable = %k.to_string_lossy(),
                "an environment variable is not UTF-8 text; it is ignored"
            ),
        }
    }
    env
}

/// What `lambda_runtime` needs from the environment, checked before it reads it: it panics
/// on a missing or malformed value.
fn check_lambda_environment(env: &HashMap<String, String>) -> Result<(), Error> {
    let missing: Vec<&'static str> = REQUIRED_VARS
        .iter()
        .copied()
        .filter(|v| env.get(*v).is_none_or(|s| s.is_empty()))
        .collect();
    if !missing.is_empty() {
        return Err(Error::NotInLambda { missing });
    }
    let get = |name: &str| env.get(name).map(String::as_str).unwrap_or_default();
    let api = get("AWS_LAMBDA_RUNTIME_API");
    if runtime_api_base(api).is_none() {
        return Err(Error::BadLambdaVariable {
            name: "AWS_LAMBDA_RUNTIME_API",
            value: api.to_owned(),
            expected: "the Runtime API's host:port (like 127.0.0.1:9001), or its http URL \
                       (like http://127.0.0.1:9000/.rt, as cargo lambda watch gives)",
        });
    }
    let memory = get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE");
    if !memory.parse::<i32>().is_ok_and(|m| m > 0) {
        return Err(Error::BadLambdaVariable {
            name: "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
            value: memory.to_owned(),
            expected: "the function's memory in MB (like 256)",
        });
    }
    Ok(())
}

/// The Runtime API's base URL from `AWS_LAMBDA_RUNTIME_API`: `host:port` as Lambda sets it,
/// or an `http://host[:port][/prefix]` URL as `lambda_runtime` also accepts (cargo lambda's
/// `http://127.0.0.1:9000/.rt`). `None` when it is neither.
pub(crate) fn runtime_api_base(api: &str) -> Option<http::Uri> {
    let with_scheme = if api.contains("://") {
        api.to_owned()
    } else {
        format!("http://{api}")
    };
    let uri = with_scheme.parse::<http::Uri>().ok()?;
    let authority = uri.authority()?;
    let plain = !api.contains("://");
    let path_ok = uri.query().is_none() && (!plain || uri.path() == "/");
    let plain_ok = !plain || (authority.as_str() == api && authority.port().is_some());
    // lambda_runtime speaks plain HTTP to the Runtime API.
    (uri.scheme_str() == Some("http") && path_ok && plain_ok).then_some(uri)
}

/// [`run_worker`] for a plain `fn main`: installs Lambda's JSON logs ([`crate::init_logging`])
/// and a two-thread tokio runtime, runs the worker, and on an error prints one line to stderr
/// and exits with status 1. The only function here that may exit the process.
///
/// ```no_run
/// # struct MyActivities;
/// # #[temporalio_macros::activities] impl MyActivities { #[activity] async fn a(_c: temporalio_sdk::activities::ActivityContext) -> Result<(), temporalio_sdk::activities::ActivityError> { Ok(()) } }
/// fn main() {
///     let version = lw_options::WorkerDeploymentVersion::builder()
///         .deployment_name("my-app")
///         .build_id("build-1")
///         .build();
///     lw_runtime::run_worker_blocking(version, |opts| {
///         opts.task_queue = "my-task-queue".into();
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

fn fatal(e: &Error) -> ! {
    eprintln!("lambdaworker: fatal: {}", e.message());
    std::process::exit(1)
}

/// Posts an init error to `/runtime/init/error` so Lambda shows the reason.
async fn report_init_error(e: &Error) {
    if matches!(e, Error::NotInLambda { .. } | Error::Lambda(_)) {
        return;
    }
    let Ok(api) = std::env::var("AWS_LAMBDA_RUNTIME_API") else {
        return;
    };
    let body = serde_json::json!({ "errorType": e.kind(), "errorMessage": e.message() });
    let Some(base) = runtime_api_base(&api) else {
        return;
    };
    let path = format!(
        "{}/2018-06-01/runtime/init/error",
        base.path().trim_end_matches('/')
    );
    let request = http::Request::post(path)
        .header(
            "lambda-runtime-function-error-type",
            format!("Runtime.{}", e.kind()),
        )
        .body(lambda_runtime_api_client::body::Body::from(
            body.to_string(),
        ));
    let Ok(request) = request else { return };
    let Ok(endpoint) = format!(
        "{}://{}",
        base.scheme_str().unwrap_or("http"),
        base.authority().map(|a| a.as_str()).unwrap_or_default()
    )
    .parse() else {
        return;
    };
    let client = lambda_runtime_api_client::Client::builder()
        .with_endpoint(endpoint)
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
        assert_eq!(
            e.message(),
            "the configure callback failed: no database url"
        );

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
    fn the_runtime_api_is_host_port_or_an_http_url() {
        for ok in [
            "127.0.0.1:9001",
            "localhost:9001",
            "http://127.0.0.1:9000/.rt",
            "http://[::1]:9000",
        ] {
            assert!(runtime_api_base(ok).is_some(), "{ok}");
        }
        for bad in [
            "",
            "9001",
            "127.0.0.1:9001/x",
            "ftp://h:1",
            "h:1?x=1",
            "http://",
        ] {
            assert!(runtime_api_base(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn errors_become_diagnostics_named_after_the_variant() {
        let d: lambda_runtime::Diagnostic = Error::WorkerStart("x".into()).into();
        assert_eq!(d.error_type, "WorkerStart");
        assert!(d.error_message.contains('x'));
    }
}
