//! The hand-off between `lambda_runtime`'s `/next` loops, which need a `Send` handler, and
//! the engine, whose SDK worker is not `Send`: each event goes through a channel to a local
//! task on [`super::serve`]'s thread, and its report comes back the same way.

use std::sync::Arc;

use futures::FutureExt;
use lambda_runtime::LambdaEvent;
use lw_options::InvocationReport;
use tokio::sync::{mpsc, oneshot};

use super::panic_guard::panic_text;
use crate::{Engine, Error, Invocation, backend::Backend};

/// One event handed from a `/next` loop to the local task that runs it, with the span
/// `lambda_runtime` opened for it (its request id and X-Ray trace id on every log line).
pub(super) struct Job {
    invocation: Invocation,
    span: tracing::Span,
    done: oneshot::Sender<Result<InvocationReport, Error>>,
}

/// Spawns, on the current `LocalSet`, the task that runs each [`Job`] sent to the returned
/// sender as a local task of its own; a panicking invocation is [`Error::Panicked`].
pub(super) fn spawn_runner<B: Backend + 'static>(
    engine: Arc<Engine<B>>,
) -> mpsc::UnboundedSender<Job> {
    let (jobs, mut queue) = mpsc::unbounded_channel::<Job>();
    tokio::task::spawn_local(async move {
        while let Some(job) = queue.recv().await {
            let span = job.span.clone();
            let run = run_job(engine.clone(), job);
            tokio::task::spawn_local(tracing::Instrument::instrument(run, span));
        }
    });
    jobs
}

/// Runs one job's invocation and sends its result back.
async fn run_job<B: Backend>(engine: Arc<Engine<B>>, job: Job) {
    let run = std::panic::AssertUnwindSafe(engine.invoke(job.invocation));
    let result = run.catch_unwind().await.unwrap_or_else(|payload| {
        Err(Error::Panicked {
            reason: panic_text(payload.as_ref()),
        })
    });
    let _ = job.done.send(result);
}

/// The `Send` handler of each event: hands it to the runner with the current span and awaits
/// its report. A runner that is gone means the process is stopping: [`Error::ShuttingDown`].
pub(super) async fn hand_over(
    jobs: mpsc::UnboundedSender<Job>,
    event: LambdaEvent<serde_json::Value>,
) -> Result<InvocationReport, Error> {
    let LambdaEvent {
        payload,
        context: ctx,
    } = event;
    let invocation =
        Invocation::from_epoch_deadline(&ctx.request_id, &ctx.invoked_function_arn, ctx.deadline)
            .with_xray_trace_id(ctx.xray_trace_id)
            .with_payload(payload);
    let (done, report) = oneshot::channel();
    let span = tracing::Span::current();
    jobs.send(Job {
        invocation,
        span,
        done,
    })
    .map_err(|_| Error::ShuttingDown)?;
    report.await.map_err(|_| Error::ShuttingDown)?
}
