//! The worker's run: poll until a stop condition (the work window's end, shutdown, idle),
//! then drain, forced once the stop timeout or the deadline's reserve is reached.

use std::{pin::Pin, sync::Arc, time::Duration};

use lw_options::{Ended, InvocationReport, RunEnd, Warning};
use tokio::time::{Instant, sleep_until, timeout_at};
use tracing::warn;

use super::{Engine, ms};
use crate::{
    BoxError, Error,
    backend::{Backend, WorkerRunner},
    error::error_chain,
    timing,
    tracker::Tracker,
};

/// What stopped the polling: the worker itself (early, an error), or a stop condition.
enum PollEnd {
    /// The run future finished on its own before any stop condition.
    Early(Result<(), BoxError>),
    /// A stop condition came first; the worker must now drain.
    Stop,
}

/// The worker's run future, pinned for polling and then draining.
type Run<'a> = Pin<&'a mut (dyn Future<Output = Result<(), BoxError>> + 'a)>;

impl<B: Backend> Engine<B> {
    /// Polls until a stop condition, then drains.
    pub(super) async fn run_worker(
        &self,
        worker: &mut B::Worker,
        stop_at: Instant,
        deadline: Instant,
        idle: Option<Duration>,
        tracker: &Arc<Tracker>,
        report: &mut InvocationReport,
    ) -> Result<RunEnd, Error> {
        let stop = worker.shutdown_handle();
        let poll_started = Instant::now();
        let run = worker.run();
        tokio::pin!(run);
        let end = self
            .poll(run.as_mut(), stop_at, idle, tracker, report)
            .await;
        let drain_started = Instant::now();
        report.poll_ms = ms(drain_started - poll_started);
        match end {
            PollEnd::Early(Err(e)) => Err(Error::WorkerRun(e)),
            PollEnd::Early(Ok(())) => Err(Error::WorkerStopped),
            PollEnd::Stop => {
                stop();
                let end = self.drain(run.as_mut(), deadline, report).await;
                report.drain_ms = ms(drain_started.elapsed());
                Ok(end)
            }
        }
    }

    /// Runs the worker until the work window ends, shutdown is requested, it has been idle
    /// for `idle`, or it stops on its own. Records why in `report.ended`.
    async fn poll(
        &self,
        run: Run<'_>,
        stop_at: Instant,
        idle: Option<Duration>,
        tracker: &Tracker,
        report: &mut InvocationReport,
    ) -> PollEnd {
        let mut shutdown = self.shutdown.subscribe();
        tokio::select! {
            r = run => PollEnd::Early(r),
            () = sleep_until(stop_at) => PollEnd::Stop,
            Ok(_) = shutdown.wait_for(|stop| *stop) => {
                report.ended = Ended::Shutdown;
                report.warnings.push(Warning::ShutdownRequested);
                PollEnd::Stop
            }
            () = async {
                match idle {
                    Some(idle) => tracker.wait_idle(idle).await,
                    None => std::future::pending().await,
                }
            } => {
                report.ended = Ended::Idle;
                PollEnd::Stop
            }
        }
    }

    /// Waits for the stopped worker to finish in-flight work: the stop timeout, then the
    /// cancel grace, and never closer to the deadline than the drain reserve; then the run
    /// is dropped (forced).
    async fn drain(
        &self,
        run: Run<'_>,
        deadline: Instant,
        report: &mut InvocationReport,
    ) -> RunEnd {
        let stop_timeout = self.options.stop_timeout();
        let forced_at = (Instant::now() + stop_timeout + timing::CANCEL_GRACE).min(
            deadline
                .checked_sub(timing::DRAIN_RESERVE)
                .unwrap_or(deadline),
        );
        match timeout_at(forced_at, run).await {
            Ok(Ok(())) => RunEnd::Drained,
            Ok(Err(e)) => {
                // The worker stopped all the same; keep the error in the log.
                report.warnings.push(Warning::DrainError);
                warn!(error = %error_chain(&*e), "the worker reported an error while draining");
                RunEnd::Drained
            }
            Err(_) => {
                report.warnings.push(Warning::ForcedStop);
                warn!(
                    stop_timeout_ms = ms(stop_timeout),
                    "in-flight work did not finish within the stop timeout; the worker was \
                     stopped by force (unfinished activities will time out and be retried)"
                );
                RunEnd::Forced
            }
        }
    }
}
