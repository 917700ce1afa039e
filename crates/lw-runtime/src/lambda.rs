//! The thin adapter between [`Engine`] and `lambda_runtime`: each event becomes an
//! [`Invocation`], and SIGTERM becomes a graceful stop.

use lambda_runtime::{LambdaEvent, service_fn};

use crate::{Engine, Error, Invocation, backend::Backend};

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
        r = &mut run => return r.map_err(Error::Lambda),
        () = stop_signal() => {}
    }
    tracing::info!("shutdown requested (SIGTERM); finishing the invocation in progress");
    engine.request_shutdown();
    // Keep the runtime going until the invocation in progress has posted its response, and
    // a little longer, so that an event handed out just before the signal (not yet counted)
    // is served too rather than dropped.
    loop {
        tokio::select! {
            r = &mut run => return r.map_err(Error::Lambda),
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
pub async fn serve_guarded<B: Backend>(
    engine: &Engine<B>,
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
            let reason = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "lambda_runtime panicked".to_owned());
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
