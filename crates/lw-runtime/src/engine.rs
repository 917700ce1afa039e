use std::{panic::AssertUnwindSafe, sync::Arc, time::Duration};

use futures::FutureExt;
use lw_options::{Ended, InvocationReport, RunEnd, ShutdownContext, ValidatedOptions};
use tokio::time::{Instant, sleep_until, timeout_at};
use tracing::{error, info, warn};

use crate::{
    Error,
    backend::{Backend, TemporalBackend, WorkerRunner},
    tracker::Tracker,
};

/// The lifecycle's fixed time limits.
pub mod timing {
    use std::time::Duration;
    /// Work time (remaining − buffer) at or below which an invocation is refused.
    pub const MIN_WORK_TIME: Duration = Duration::from_secs(1);
    /// Work time below which one warning is logged.
    pub const WARN_WORK_TIME: Duration = Duration::from_secs(5);
    /// After the stop timeout, how long cancelled activities get before the run is dropped.
    pub const CANCEL_GRACE: Duration = Duration::from_secs(1);
    /// Kept free before the deadline for the drain's end: hooks and close fit in the rest.
    pub const DRAIN_RESERVE: Duration = Duration::from_millis(500);
    /// Kept free before the deadline for posting the response after the hooks.
    pub const RESPONSE_RESERVE: Duration = Duration::from_millis(200);
    /// Lambda's longest function timeout: a deadline further away than this is not one
    /// Lambda sent, and is cut to it.
    pub const MAX_INVOCATION: Duration = Duration::from_secs(15 * 60);
    /// Deadlines before this (2001-01-01, in ms since the epoch) are not deadlines: `0`, or
    /// the 1970 value `cargo lambda watch` sends.
    pub const NO_DEADLINE_BEFORE_MS: u64 = 978_307_200_000;
    /// The window an invocation without a usable deadline gets, as if it were the function
    /// timeout (the buffer still applies).
    pub const NO_DEADLINE_WINDOW: Duration = Duration::from_secs(60);
    /// The least time after a worker's start before its idle clock starts (idle exit): the
    /// larger of this and twice the connect time.
    pub const POLL_ALLOWANCE_MIN: Duration = Duration::from_millis(100);
}

/// One invocation, from Lambda or any other source.
#[derive(Debug, Clone)]
pub struct Invocation {
    /// The request id (`Lambda-Runtime-Aws-Request-Id`).
    pub request_id: String,
    /// The invoked function's ARN.
    pub function_arn: String,
    /// When the invocation must have answered.
    pub deadline: Instant,
    /// Lambda's X-Ray trace header (`Lambda-Runtime-Trace-Id`), if any.
    pub xray_trace_id: Option<String>,
    /// The runtime sent no usable deadline; `deadline` is a default window
    /// ([`timing::NO_DEADLINE_WINDOW`]). Reported as the `no_deadline` warning.
    pub no_deadline: bool,
    /// Not a Lambda invocation but the long-lived local mode ([`Invocation::local`]): the
    /// worker keeps the SDK's default identity and never leaves early when idle.
    pub local: bool,
}

impl Invocation {
    /// An invocation that must have answered by `deadline`.
    pub fn new(
        request_id: impl Into<String>,
        function_arn: impl Into<String>,
        deadline: Instant,
    ) -> Self {
        Self {
            request_id: request_id.into(),
            function_arn: function_arn.into(),
            deadline,
            xray_trace_id: None,
            no_deadline: false,
            local: false,
        }
    }

    /// The long-lived worker of local mode (outside Lambda): runs until
    /// [`Engine::request_shutdown`] (a year at most), then drains.
    pub fn local() -> Self {
        let mut me = Self::new(
            "local",
            "",
            Instant::now() + Duration::from_secs(365 * 24 * 3600),
        );
        me.local = true;
        me
    }

    /// An invocation whose deadline is `deadline_ms` milliseconds since the Unix epoch (the
    /// Runtime API's `Lambda-Runtime-Deadline-Ms`).
    ///
    /// A deadline before 2001 (0, or the 1970 one `cargo lambda watch` sends) is no deadline:
    /// the invocation gets [`timing::NO_DEADLINE_WINDOW`] (60 s) as if that were the function
    /// timeout, with a warning, so local development works. A deadline already past leaves
    /// no time: [`Engine::invoke`] then answers `NotEnoughTime` at once, naming the numbers.
    /// A deadline further away than [`timing::MAX_INVOCATION`] (Lambda's 15-minute maximum)
    /// or beyond what the clock can represent is cut to it, with a warning: never a panic, a
    /// negative wait or a worker that outlives any real invocation.
    pub fn from_epoch_deadline(request_id: &str, function_arn: &str, deadline_ms: u64) -> Self {
        if deadline_ms < timing::NO_DEADLINE_BEFORE_MS {
            warn!(
                deadline_ms,
                window_s = timing::NO_DEADLINE_WINDOW.as_secs(),
                "the runtime sent no usable deadline (as `cargo lambda watch` does); working \
                 for a default window as if it were the function timeout"
            );
            let mut me = Self::new(
                request_id,
                function_arn,
                Instant::now() + timing::NO_DEADLINE_WINDOW,
            );
            me.no_deadline = true;
            return me;
        }
        let remaining = std::time::UNIX_EPOCH
            .checked_add(Duration::from_millis(deadline_ms))
            .map(|deadline| {
                deadline
                    .duration_since(std::time::SystemTime::now())
                    .unwrap_or_default()
            })
            .unwrap_or(Duration::MAX);
        let remaining = if remaining > timing::MAX_INVOCATION {
            warn!(
                deadline_ms,
                max_s = timing::MAX_INVOCATION.as_secs(),
                "the invocation deadline is further away than Lambda allows; using the maximum"
            );
            timing::MAX_INVOCATION
        } else {
            remaining
        };
        Self::new(request_id, function_arn, Instant::now() + remaining)
    }

    /// The same invocation carrying Lambda's X-Ray trace header.
    pub fn with_xray_trace_id(mut self, header: Option<String>) -> Self {
        self.xray_trace_id = header.filter(|h| !h.is_empty());
        self
    }
}

fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// Runs invocations for one set of validated options.
pub struct Engine<B: Backend = TemporalBackend> {
    options: ValidatedOptions,
    backend: B,
    invocations: std::sync::atomic::AtomicU64,
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
    /// (Lambda's shutdown phase) triggers in [`crate::serve`].
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

    async fn invoke_inner(
        &self,
        invocation: Invocation,
        start: Instant,
        cold: bool,
        report: &mut InvocationReport,
    ) -> Result<(), Error> {
        let deadline = invocation.deadline;
        if self.shutdown_requested() {
            return Err(Error::ShuttingDown);
        }
        if invocation.no_deadline {
            report.warnings.push("no_deadline");
        }
        let remaining = deadline.saturating_duration_since(start);
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
            report.warnings.push("little_work_time");
            warn!(
                remaining_ms = ms(remaining),
                buffer_ms = ms(buffer),
                work_ms = ms(work),
                "little time to work in this invocation; raise the function timeout"
            );
        }
        let stop_at = start + work;
        let started = lw_options::InvocationStart::new(
            invocation.request_id.clone(),
            invocation.function_arn.clone(),
            invocation.xray_trace_id.clone(),
            deadline,
            cold,
        );
        for hook in self.options.invocation_start_hooks() {
            // A panicking start hook must not take the invocation down with it.
            if std::panic::catch_unwind(AssertUnwindSafe(|| hook.call(&started))).is_err() {
                report.warnings.push("start_hook_panicked");
                warn!("an invocation-start hook panicked; continuing");
            }
        }
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
        let outcome = self
            .connect_and_run(stop_at, deadline, idle, &tracker, report)
            .await;
        let (activations, activities, local) = tracker.done();
        report.workflow_activations = activations;
        report.activities = activities;
        report.local_activities = local;
        let hooks_started = Instant::now();
        self.run_hooks(
            deadline
                .checked_sub(timing::RESPONSE_RESERVE)
                .unwrap_or(deadline),
        )
        .await;
        report.hooks_ms = ms(hooks_started.elapsed());
        if outcome.is_ok() {
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
        }
        outcome
    }

    async fn connect_and_run(
        &self,
        stop_at: Instant,
        deadline: Instant,
        idle: Option<Duration>,
        tracker: &Arc<Tracker>,
        report: &mut InvocationReport,
    ) -> Result<(), Error> {
        let o = &self.options;
        let identity = report.identity.as_deref();
        let connection = o.connection_options(identity);
        let address = connection.target.to_string();
        let connect_started = Instant::now();
        let mut shutdown = self.shutdown.subscribe();
        let connect = tokio::select! {
            c = timeout_at(stop_at, self.backend.connect(connection, o.client_options())) => c,
            Ok(_) = shutdown.wait_for(|stop| *stop) => return Err(Error::ShuttingDown),
        };
        let client = match connect {
            Err(_) => {
                return Err(Error::ConnectTimeout {
                    address,
                    window: stop_at.saturating_duration_since(connect_started),
                });
            }
            Ok(Err(e)) => {
                return Err(Error::Connect {
                    address,
                    message: error_chain(&*e),
                });
            }
            Ok(Ok(c)) => c,
        };
        let connect_time = connect_started.elapsed();
        report.connect_ms = ms(connect_time);
        let create_started = Instant::now();
        let mut worker_options = o.worker_options(identity);
        // The namespace check and the first polls each take about one round trip, as the
        // connect did: the idle clock starts after them.
        tracker.set_poll_allowance((connect_time * 2).max(timing::POLL_ALLOWANCE_MIN));
        tracker.attach(&mut worker_options);
        let mut worker = match self.backend.create_worker(&client, worker_options) {
            Ok(w) => w,
            Err(e) => {
                self.backend.close(client, None);
                return Err(Error::WorkerStart(error_chain(&*e)));
            }
        };
        report.worker_start_ms = ms(create_started.elapsed());
        let stop = worker.shutdown_handle();
        let poll_started = Instant::now();
        let mut drain_started = None;
        let outcome = {
            let run = worker.run();
            tokio::pin!(run);
            let early = tokio::select! {
                r = &mut run => Some(r),
                () = sleep_until(stop_at) => None,
                Ok(_) = shutdown.wait_for(|stop| *stop) => {
                    report.ended = Ended::Shutdown;
                    report.warnings.push("shutdown_requested");
                    None
                }
                () = async {
                    match idle {
                        Some(idle) => tracker.wait_idle(idle).await,
                        None => std::future::pending().await,
                    }
                } => {
                    report.ended = Ended::Idle;
                    None
                }
            };
            match early {
                Some(Err(e)) => Err(Error::WorkerRun(error_chain(&*e))),
                Some(Ok(())) => Err(Error::WorkerRun(
                    "the worker stopped before the deadline without an error".into(),
                )),
                None => {
                    stop();
                    let now = Instant::now();
                    drain_started = Some(now);
                    let forced_at = (now + o.stop_timeout() + timing::CANCEL_GRACE).min(
                        deadline
                            .checked_sub(timing::DRAIN_RESERVE)
                            .unwrap_or(deadline),
                    );
                    match timeout_at(forced_at, &mut run).await {
                        Ok(Ok(())) => Ok(RunEnd::Drained),
                        Ok(Err(e)) => {
                            // The worker stopped all the same; keep the error in the log.
                            report.warnings.push("drain_error");
                            warn!(error = %error_chain(&*e), "the worker reported an error while draining");
                            Ok(RunEnd::Drained)
                        }
                        Err(_) => {
                            report.warnings.push("forced_stop");
                            warn!(
                                stop_timeout_ms = ms(o.stop_timeout()),
                                "in-flight work did not finish within the stop timeout; the \
                                 worker was stopped by force (unfinished activities will time \
                                 out and be retried)"
                            );
                            Ok(RunEnd::Forced)
                        }
                    }
                }
            }
        };
        report.poll_ms = ms(drain_started.unwrap_or_else(Instant::now) - poll_started);
        report.drain_ms = drain_started.map(|d| ms(d.elapsed())).unwrap_or_default();
        self.backend.close(client, Some(worker));
        let end = outcome?;
        report.run_end = Some(end);
        Ok(())
    }

    async fn run_hooks(&self, until: Instant) {
        for (i, hook) in self.options.shutdown_hooks().iter().enumerate() {
            let ctx = ShutdownContext::new(until);
            let fut = AssertUnwindSafe(hook.call(ctx)).catch_unwind();
            match timeout_at(until, fut).await {
                Ok(Ok(Ok(()))) => {}
                Ok(Ok(Err(e))) => error!(hook = i, error = %e, "shutdown hook failed"),
                Ok(Err(_)) => error!(hook = i, "shutdown hook panicked"),
                Err(_) => error!(hook = i, "shutdown hook ran out of time and was cut off"),
            }
        }
    }
}

fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(inner) = src {
        let m = inner.to_string();
        if !s.contains(&m) {
            s.push_str(": ");
            s.push_str(&m);
        }
        src = inner.source();
    }
    s
}

#[cfg(test)]
mod tests;
