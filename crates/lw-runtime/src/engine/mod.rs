//! [`Engine`]: runs one invocation through the lifecycle, never past its deadline. The steps
//! live beside it: [`start`] (connect, task queue check, worker), [`run`] (poll, drain),
//! [`hooks`] (start and shutdown hooks).

mod configure;
mod hooks;
mod run;
mod start;

use std::{panic::AssertUnwindSafe, sync::Arc, time::Duration};

use lw_options::{Ended, InvocationReport, ValidatedOptions, Warning};
use tokio::time::Instant;
use tracing::{info, warn};

use crate::{
    Error, Invocation,
    backend::{Backend, TemporalBackend},
    timing,
    tracker::Tracker,
};

/// Milliseconds, for the report and the logs.
fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// Runs invocations for one set of validated options.
pub struct Engine<B: Backend = TemporalBackend> {
    options: ValidatedOptions,
    backend: B,
    invocations: std::sync::atomic::AtomicU64,
    task_queue_checked: std::sync::atomic::AtomicBool,
    shutdown: tokio::sync::watch::Sender<bool>,
    init: Option<Duration>,
}

impl Engine<TemporalBackend> {
    /// An engine over the Temporal SDK; needs a current tokio runtime.
    pub fn new(options: ValidatedOptions) -> Result<Self, Error> {
        let backend = TemporalBackend::new(options.metrics_meter())?;
        Ok(Self::with_backend(options, backend))
    }
}

impl<B: Backend> Engine<B> {
    /// An engine over any [`Backend`] (tests use fakes).
    pub fn with_backend(options: ValidatedOptions, backend: B) -> Self {
        Self {
            options,
            backend,
            invocations: std::sync::atomic::AtomicU64::new(0),
            task_queue_checked: std::sync::atomic::AtomicBool::new(false),
            shutdown: tokio::sync::watch::Sender::new(false),
            init: None,
        }
    }

    /// The options this engine runs with.
    pub fn options(&self) -> &ValidatedOptions {
        &self.options
    }

    /// Records how long the process's init took, reported with the first invocation.
    pub fn set_init_duration(&mut self, init: Duration) {
        self.init = Some(init);
    }

    /// The backend.
    pub fn backend(&self) -> &B {
        &self.backend
    }

    /// Asks the engine to stop: an invocation in progress stops polling now and drains
    /// (bounded as at its deadline), then runs the shutdown hooks and returns its report;
    /// later invocations fail at once with [`Error::ShuttingDown`]. This is what SIGTERM
    /// (Lambda's shutdown phase) triggers in [`crate::lambda::serve`].
    pub fn request_shutdown(&self) {
        self.shutdown.send_replace(true);
    }

    /// Whether [`Engine::request_shutdown`] was called.
    pub fn shutdown_requested(&self) -> bool {
        *self.shutdown.borrow()
    }

    /// Runs one invocation to completion, never past `invocation.deadline`.
    ///
    /// Whatever the outcome, the [`InvocationReport`] is printed as one JSON line and given to
    /// the invocation-end hooks; on success it is also returned (the response body).
    pub async fn invoke(&self, invocation: Invocation) -> Result<InvocationReport, Error> {
        let start = Instant::now();
        let cold = self
            .invocations
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            == 0;
        let mut report = InvocationReport::new(invocation.request_id.clone(), cold);
        if cold {
            report.init_ms = self.init.map(ms);
        }
        let outcome = self
            .invoke_inner(invocation, start, cold, &mut report)
            .await;
        if let Err(e) = &outcome {
            report.ended = Ended::Error;
            report.error = Some(e.kind().to_owned());
        }
        report.billed_ms = ms(start.elapsed());
        if self.options.options().print_report {
            use std::io::Write;
            // A closed stdout must not take the invocation down.
            let _ = writeln!(std::io::stdout().lock(), "{}", report.to_json_line());
        }
        for hook in self.options.invocation_end_hooks() {
            if std::panic::catch_unwind(AssertUnwindSafe(|| hook.call(&report))).is_err() {
                warn!("an invocation-end hook panicked; continuing");
            }
        }
        outcome.map(|()| report)
    }

    /// The lifecycle: checks, start hooks, per-invocation callbacks, connect, poll, drain,
    /// teardowns, shutdown hooks, close.
    async fn invoke_inner(
        &self,
        mut invocation: Invocation,
        start: Instant,
        cold: bool,
        report: &mut InvocationReport,
    ) -> Result<(), Error> {
        let deadline = invocation.deadline;
        let stop_at = self.work_window(&invocation, start, report)?;
        self.run_start_hooks(&invocation, cold, report);
        report.identity = self.options.identity((!invocation.local).then_some((
            invocation.request_id.as_str(),
            invocation.function_arn.as_str(),
        )));
        let idle = if invocation.local {
            None
        } else {
            self.options.idle_exit()
        };
        let tracker = Arc::new(Tracker::default());
        let mut teardowns = Vec::new();
        let settings = self
            .settings(&mut invocation, cold, stop_at, report, &mut teardowns)
            .await;
        let started = match settings {
            Err(e) => (None, Err(e)),
            Ok(settings) => self.start(settings, stop_at, &tracker, report).await,
        };
        let (client, worker, outcome) = match started {
            (client, Err(e)) => (client, None, Err(e)),
            (client, Ok(mut worker)) => {
                let outcome = self
                    .run_worker(&mut worker, stop_at, deadline, idle, &tracker, report)
                    .await;
                (client, Some(worker), outcome)
            }
        };
        let (activations, activities, local) = tracker.done();
        report.workflow_activations = activations;
        report.activities = activities;
        report.local_activities = local;
        // Drained: this invocation's teardowns, then the process's shutdown hooks, run while
        // the client is still connected; then it closes.
        let hooks_started = Instant::now();
        let hook_client = client.as_ref().and_then(B::sdk_client);
        let until = deadline
            .checked_sub(timing::RESPONSE_RESERVE)
            .unwrap_or(deadline);
        self.run_teardowns(until, hook_client.clone(), teardowns)
            .await;
        self.run_hooks(until, hook_client).await;
        report.hooks_ms = ms(hooks_started.elapsed());
        if let Some(client) = client {
            self.backend.close(client, worker);
        }
        let end = outcome?;
        report.run_end = Some(end);
        info!(
            identity = report.identity.as_deref().unwrap_or_default(),
            ended = ?report.ended,
            run_end = ?report.run_end,
            connect_ms = report.connect_ms,
            poll_ms = report.poll_ms,
            drain_ms = report.drain_ms,
            hooks_ms = report.hooks_ms,
            "invocation done"
        );
        Ok(())
    }

    /// When polling must stop: the deadline minus the buffer, if that leaves enough time.
    fn work_window(
        &self,
        invocation: &Invocation,
        start: Instant,
        report: &mut InvocationReport,
    ) -> Result<Instant, Error> {
        if self.shutdown_requested() {
            return Err(Error::ShuttingDown);
        }
        if invocation.no_deadline {
            report.warnings.push(Warning::NoDeadline);
        }
        let remaining = invocation.deadline.saturating_duration_since(start);
        let buffer = self.options.shutdown_deadline_buffer();
        let work = remaining.saturating_sub(buffer);
        if work <= timing::MIN_WORK_TIME {
            return Err(Error::NotEnoughTime {
                remaining,
                buffer,
                work,
            });
        }
        if work < timing::WARN_WORK_TIME {
            report.warnings.push(Warning::LittleWorkTime);
            warn!(
                remaining_ms = ms(remaining),
                buffer_ms = ms(buffer),
                work_ms = ms(work),
                "little time to work in this invocation; raise the function timeout"
            );
        }
        Ok(start + work)
    }
}

#[cfg(test)]
mod tests;
