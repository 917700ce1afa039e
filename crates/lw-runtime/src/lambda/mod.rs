//! The thin adapter between [`Engine`] and `lambda_runtime`: each event becomes an
//! [`Invocation`](crate::Invocation), and SIGTERM becomes a graceful stop.
//!
//! Concurrency is a property of this adapter, not of the engine: with
//! `AWS_LAMBDA_MAX_CONCURRENCY` above 1 (Lambda Managed Instances), `lambda_runtime`'s
//! `run_concurrent` keeps that many `/next` calls in flight, and each event runs
//! [`Engine::invoke`] as a local task of [`serve`]'s thread; unset or 1, one invocation at a
//! time.
//!
//! This file is the serve loop. Beside it: `concurrency` ([`MAX_CONCURRENCY_VAR`]), `handoff`
//! (events to the local thread and back), `layer` (the counting tower layer), `extension`
//! (the shutdown extension), `probe` (noticing the Runtime API is gone) and `panic_guard`
//! (`lambda_runtime`'s panics as errors).

mod concurrency;
mod extension;
mod handoff;
mod layer;
mod panic_guard;
mod probe;

use std::{collections::HashMap, pin::Pin, sync::Arc, time::Duration};

use futures::FutureExt;
use lambda_runtime::service_fn;
use tokio::sync::watch;

pub use concurrency::{MAX_CONCURRENCY_VAR, max_concurrency};
use layer::{CountLayer, Counts};
pub(crate) use panic_guard::panic_text;

use crate::{BoxError, Engine, Error, backend::Backend, runtime_api::RUNTIME_API_VAR};

/// After SIGTERM, how long no new invocation may start before the process exits.
const SETTLE: Duration = Duration::from_millis(50);

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
    let env = lw_config::env_snapshot();
    let extension = extension::register_shutdown_extension().await;
    let gone = probe::runtime_api_gone(&env, extension);
    let local = tokio::task::LocalSet::new();
    local.run_until(serve_local(engine, gone)).await
}

/// [`serve`], with `lambda_runtime`'s panics on a malformed Runtime API answer (a `/next`
/// without its request-id or deadline header, an error status) caught and returned as
/// [`Error::RuntimeApi`], and their default panic message kept off stderr. `env` is the
/// process environment [`serve`] runs in. (The panics are `lambda_runtime`'s: it `expect`s
/// these headers; this guard stands until it returns errors instead.)
pub async fn serve_guarded<B: Backend + 'static>(
    engine: Arc<Engine<B>>,
    env: &HashMap<String, String>,
) -> Result<(), Error> {
    panic_guard::quiet_runtime_panics();
    match std::panic::AssertUnwindSafe(serve(engine))
        .catch_unwind()
        .await
    {
        Ok(result) => result,
        Err(payload) => Err(Error::RuntimeApi {
            api: env.get(RUNTIME_API_VAR).cloned().unwrap_or_default(),
            reason: panic_guard::panic_text(payload.as_ref()),
        }),
    }
}

/// The serve loop on the `LocalSet`: the runtime until it fails, the Runtime API is `gone`,
/// or a stop signal; then the invocations in progress are finished.
async fn serve_local<B: Backend + 'static>(
    engine: Arc<Engine<B>>,
    gone: impl Future<Output = Error>,
) -> Result<(), Error> {
    tokio::pin!(gone);
    let jobs = handoff::spawn_runner(engine.clone());
    let (counts, watch) = watch::channel(Counts::default());
    let handler = service_fn(move |event| handoff::hand_over(jobs.clone(), event));
    let runtime = lambda_runtime::Runtime::new(handler)
        .layer(lambda_runtime::layers::TracingLayer::new())
        .layer(CountLayer::new(counts));
    let run = runtime.run_concurrent();
    tokio::pin!(run);
    tokio::select! {
        r = &mut run => return r.map_err(Error::Lambda),
        e = &mut gone => return Err(e),
        () = crate::stop_signal() => {}
    }
    tracing::info!("shutdown requested (SIGTERM); finishing the invocations in progress");
    engine.request_shutdown();
    finish_in_progress(run, gone, watch).await
}

/// After a stop signal: keeps the runtime going until every invocation in progress has posted
/// its response, and [`SETTLE`] longer, so that an event handed out just before the signal
/// (not yet counted) is answered too rather than dropped.
async fn finish_in_progress(
    mut run: Pin<&mut impl Future<Output = Result<(), BoxError>>>,
    mut gone: Pin<&mut impl Future<Output = Error>>,
    mut watch: watch::Receiver<Counts>,
) -> Result<(), Error> {
    loop {
        tokio::select! {
            r = &mut run => return r.map_err(Error::Lambda),
            e = &mut gone => return Err(e),
            _ = watch.wait_for(Counts::settled) => {}
        }
        let settled = *watch.borrow_and_update();
        tokio::select! {
            r = &mut run => return r.map_err(Error::Lambda),
            () = tokio::time::sleep(SETTLE) => {}
        }
        let now = *watch.borrow();
        if now.settled() && now.begun == settled.begun {
            return Ok(());
        }
    }
}
