//! The thin adapter between [`Engine`] and `lambda_runtime`: each event becomes an
//! [`Invocation`], and SIGTERM becomes a graceful stop.
//!
//! Concurrency is a property of this adapter, not of the engine: with
//! `AWS_LAMBDA_MAX_CONCURRENCY` above 1 (Lambda Managed Instances), `lambda_runtime`'s
//! `run_concurrent` keeps that many `/next` calls in flight, and each event runs
//! [`Engine::invoke`] as a local task of [`serve`]'s thread; unset or 1, one invocation at a
//! time.

use std::sync::Arc;

use lambda_runtime::{LambdaEvent, service_fn};

use crate::{Engine, Error, Invocation, backend::Backend};

/// The variable Lambda Managed Instances set: invocations one execution environment serves
/// at once.
pub const MAX_CONCURRENCY_VAR: &str = "AWS_LAMBDA_MAX_CONCURRENCY";

/// How many invocations this process serves at once: `AWS_LAMBDA_MAX_CONCURRENCY` in `env`,
/// 1 when unset. A value that is not a whole number from 1 to 1600 (Lambda's range) is an
/// [`Error::BadLambdaVariable`] (`lambda_runtime` would quietly run one at a time).
pub fn max_concurrency(env: &std::collections::HashMap<String, String>) -> Result<u32, Error> {
    // Parsed as lambda_runtime parses it (no spaces), so both agree on the number.
    let Some(v) = env.get(MAX_CONCURRENCY_VAR).filter(|v| !v.is_empty()) else {
        return Ok(1);
    };
    v.parse::<u32>()
        .ok()
        .filter(|n| (1..=1600).contains(n))
        .ok_or_else(|| Error::BadLambdaVariable {
            name: MAX_CONCURRENCY_VAR,
            value: v.clone(),
            expected: "a whole number of invocations from 1 to 1600 (Lambda Managed Instances \
                       set it from PerExecutionEnvironmentMaxConcurrency)",
        })
}

/// Serves invocations from the Lambda Runtime API with `engine` until the runtime stops or
/// the process is asked to stop.
///
/// With `AWS_LAMBDA_MAX_CONCURRENCY` above 1 (Lambda Managed Instances), up to that many
/// invocations run at once, each with its own client, worker, deadline, identity, drain,
/// hooks, idle exit and report; they share the process's SDK runtime and its resolved
/// configuration. Unset or 1: one at a time.
///
/// `lambda_runtime`'s `run_concurrent` keeps the `/next` calls in flight on tokio tasks; the
/// SDK's worker is not `Send` (its workflows run in a `LocalSet`), so each event is handed
/// to a local task on the thread that awaits `serve`, and its report handed back.
///
/// Lambda's shutdown phase sends SIGTERM, but only to functions with an extension registered;
/// so `serve` first registers a no-op internal extension (`lambdaworker-shutdown`, subscribed
/// to no events) through the Extensions API. On SIGTERM (or SIGINT) every invocation in
/// progress stops polling, drains (bounded as at its deadline), runs its shutdown hooks and
/// posts its response; then `serve` returns `Ok(())`. Between invocations it returns at once.
pub async fn serve<B: Backend + 'static>(engine: Arc<Engine<B>>) -> Result<(), Error> {
    let extension = register_shutdown_extension().await;
    let local = tokio::task::LocalSet::new();
    local.run_until(serve_local(engine, extension)).await
}

/// Resolves when the Runtime API is gone (the emulator or environment went away), with
/// `AWS_LAMBDA_RUNTIME_API` and whether the shutdown extension was registered.
/// `lambda_runtime`'s concurrent `/next` loops retry a failed call without pause, so with
/// concurrency above 1 the process must notice it itself: when the shutdown extension's
/// Extensions API call ends (on Lambda it lasts as long as the environment), or without the
/// extension, the Runtime API's address is checked every 2 s; two checks in a row finding
/// nothing accepting connections there is the sign. One at a time, the runtime loop itself
/// returns the error: this never resolves.
async fn runtime_api_gone(extension: Option<tokio::task::JoinHandle<()>>) -> (String, bool) {
    let env: std::collections::HashMap<String, String> = std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .collect();
    if max_concurrency(&env).unwrap_or(1) <= 1 {
        return std::future::pending().await;
    }
    let api = env
        .get("AWS_LAMBDA_RUNTIME_API")
        .cloned()
        .unwrap_or_default();
    let Some((host, port)) = crate::entry::runtime_api_base(&api).and_then(|u| {
        let host = u.host()?.trim_matches(['[', ']']).to_owned();
        Some((host, u.port_u16().unwrap_or(80)))
    }) else {
        return std::future::pending().await;
    };
    let registered = extension.is_some();
    if let Some(extension) = extension {
        let _ = extension.await;
    }
    let mut misses = 0;
    loop {
        let probe = tokio::net::TcpStream::connect((host.as_str(), port));
        let reachable = matches!(
            tokio::time::timeout(std::time::Duration::from_secs(1), probe).await,
            Ok(Ok(_))
        );
        misses = if reachable { 0 } else { misses + 1 };
        if misses >= 2 {
            return (api, registered);
        }
        let pause = if reachable { 2 } else { 1 };
        tokio::time::sleep(std::time::Duration::from_secs(pause)).await;
    }
}

/// One event handed from a `/next` loop to the local task that runs it, with the span
/// `lambda_runtime` opened for it (its request id and X-Ray trace id on every log line).
struct Job {
    invocation: Invocation,
    span: tracing::Span,
    done: tokio::sync::oneshot::Sender<Result<lw_options::InvocationReport, Error>>,
}

async fn serve_local<B: Backend + 'static>(
    engine: Arc<Engine<B>>,
    extension: Option<tokio::task::JoinHandle<()>>,
) -> Result<(), Error> {
    let gone = runtime_api_gone(extension);
    tokio::pin!(gone);
    let (jobs, mut queue) = tokio::sync::mpsc::unbounded_channel::<Job>();
    let runner = engine.clone();
    tokio::task::spawn_local(async move {
        while let Some(job) = queue.recv().await {
            let engine = runner.clone();
            let span = job.span.clone();
            let run = async move {
                use futures::FutureExt;
                let run = std::panic::AssertUnwindSafe(engine.invoke(job.invocation));
                let result = run.catch_unwind().await.unwrap_or_else(|payload| {
                    Err(Error::Panicked {
                        reason: panic_text(payload.as_ref()),
                    })
                });
                let _ = job.done.send(result);
            };
            tokio::task::spawn_local(tracing::Instrument::instrument(run, span));
        }
    });
    let (counts, mut watch) = tokio::sync::watch::channel(Counts::default());
    let runtime =
        lambda_runtime::Runtime::new(service_fn(move |event: LambdaEvent<serde_json::Value>| {
            let jobs = jobs.clone();
            async move {
                let ctx = &event.context;
                let invocation = Invocation::from_epoch_deadline(
                    &ctx.request_id,
                    &ctx.invoked_function_arn,
                    ctx.deadline,
                )
                .with_xray_trace_id(ctx.xray_trace_id.clone());
                let (done, report) = tokio::sync::oneshot::channel();
                let span = tracing::Span::current();
                jobs.send(Job {
                    invocation,
                    span,
                    done,
                })
                .map_err(|_| Error::ShuttingDown)?;
                report.await.map_err(|_| Error::ShuttingDown)?
            }
        }))
        .layer(lambda_runtime::layers::TracingLayer::new())
        .layer(CountLayer(Arc::new(counts)));
    let run = runtime.run_concurrent();
    tokio::pin!(run);
    tokio::select! {
        r = &mut run => return r.map_err(Error::Lambda),
        (api, ext) = &mut gone => return Err(gone_error(api, ext)),
        () = stop_signal() => {}
    }
    tracing::info!("shutdown requested (SIGTERM); finishing the invocations in progress");
    engine.request_shutdown();
    // Keep the runtime going until every invocation in progress has posted its response, and
    // a little longer, so that an event handed out just before the signal (not yet counted)
    // is answered too rather than dropped.
    loop {
        tokio::select! {
            r = &mut run => return r.map_err(Error::Lambda),
            (api, ext) = &mut gone => return Err(gone_error(api, ext)),
            _ = watch.wait_for(|c| c.begun == c.ended) => {}
        }
        let settled = *watch.borrow_and_update();
        tokio::select! {
            r = &mut run => return r.map_err(Error::Lambda),
            () = tokio::time::sleep(SETTLE) => {}
        }
        let now = *watch.borrow();
        if now.begun == now.ended && now.begun == settled.begun {
            return Ok(());
        }
    }
}

/// [`serve`], with `lambda_runtime`'s panics on a malformed Runtime API answer (a `/next`
/// without its request-id or deadline header, an error status) caught and returned as
/// [`Error::RuntimeApi`], and their default panic message kept off stderr. `env` is the
/// process environment [`serve`] runs in. (The panics are `lambda_runtime`'s: it `expect`s
/// these headers; this guard stands until it returns errors instead.)
pub async fn serve_guarded<B: Backend + 'static>(
    engine: Arc<Engine<B>>,
    env: &std::collections::HashMap<String, String>,
) -> Result<(), Error> {
    use futures::FutureExt;
    quiet_runtime_panics();
    match std::panic::AssertUnwindSafe(serve(engine))
        .catch_unwind()
        .await
    {
        Ok(result) => result,
        Err(payload) => {
            let reason = panic_text(payload.as_ref());
            Err(Error::RuntimeApi {
                api: env
                    .get("AWS_LAMBDA_RUNTIME_API")
                    .cloned()
                    .unwrap_or_default(),
                reason,
            })
        }
    }
}

/// The Runtime API at `api` went away mid-run (`extension`: the shutdown extension's
/// Extensions API call ended first).
fn gone_error(api: String, extension: bool) -> Error {
    let first = if extension {
        "its Extensions API call ended and "
    } else {
        ""
    };
    Error::RuntimeApi {
        api,
        reason: format!("it went away: {first}nothing accepts connections at its address any more"),
    }
}

/// A panic's message, when it has one.
fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "no message".to_owned())
}

/// Keeps the default panic message off stderr for panics inside the Lambda runtime crates
/// ([`serve_guarded`] reports them as an error); every other panic prints as before.
fn quiet_runtime_panics() {
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    INSTALLED.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let in_runtime = info.location().is_some_and(|l| {
                std::path::Path::new(l.file()).components().any(|c| {
                    let c = c.as_os_str().to_string_lossy();
                    [
                        "lambda_runtime",
                        "lambda-runtime",
                        "lambda-extension",
                        "lambda_extension",
                    ]
                    .iter()
                    .any(|p| c.starts_with(p))
                })
            });
            if !in_runtime {
                previous(info);
            }
        }));
    });
}

/// Registers the no-op internal extension that makes Lambda send SIGTERM at shutdown, and
/// returns the task holding its Extensions API call (it ends when that connection does). A
/// failure only means no graceful shutdown: logged, never fatal.
async fn register_shutdown_extension() -> Option<tokio::task::JoinHandle<()>> {
    let registered = lambda_extension::Extension::new()
        .with_events(&[])
        .with_extension_name("lambdaworker-shutdown")
        .register()
        .await;
    match registered {
        // Waits on the Extensions API for events that never come; costs nothing.
        Ok(extension) => Some(tokio::spawn(async move {
            let _ = extension.run().await;
        })),
        Err(e) => {
            tracing::warn!(
                error = %e,
                "could not register the shutdown extension; SIGTERM will not be delivered by \
                 Lambda"
            );
            None
        }
    }
}

/// Resolves on SIGTERM or SIGINT; never if the handlers cannot be installed.
pub(crate) async fn stop_signal() {
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

#[derive(Clone)]
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

#[cfg(test)]
mod tests {
    use super::*;

    fn env(v: Option<&str>) -> std::collections::HashMap<String, String> {
        v.map(|v| (MAX_CONCURRENCY_VAR.to_owned(), v.to_owned()))
            .into_iter()
            .collect()
    }

    #[test]
    fn max_concurrency_is_read_and_checked() {
        assert_eq!(max_concurrency(&env(None)).unwrap(), 1);
        assert_eq!(max_concurrency(&env(Some(""))).unwrap(), 1);
        assert_eq!(max_concurrency(&env(Some("8"))).unwrap(), 8);
        for bad in ["0", "eight", "-2", "1.5", " 4", "1601"] {
            let e = max_concurrency(&env(Some(bad))).unwrap_err();
            let m = e.message();
            assert!(
                m.contains("AWS_LAMBDA_MAX_CONCURRENCY") && m.contains(&format!("`{bad}`")),
                "{m}"
            );
        }
    }
}
