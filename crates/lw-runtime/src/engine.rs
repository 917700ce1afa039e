use std::{panic::AssertUnwindSafe, time::Duration};

use futures::FutureExt;
use lw_options::{ShutdownContext, ValidatedOptions};
use serde::Serialize;
use tokio::time::{Instant, sleep_until, timeout_at};
use tracing::{error, info, warn};

use crate::{
    Error,
    backend::{Backend, TemporalBackend, WorkerRunner},
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
}

impl Invocation {
    /// An invocation whose deadline is `deadline_ms` milliseconds since the Unix epoch (the
    /// Runtime API's `Lambda-Runtime-Deadline-Ms`).
    ///
    /// A deadline already past (or 0, or in 1970, as `cargo lambda watch` sends) leaves no
    /// time: [`Engine::invoke`] then answers `NotEnoughTime` at once, naming the numbers. A
    /// deadline further away than [`timing::MAX_INVOCATION`] (Lambda's 15-minute maximum) or
    /// beyond what the clock can represent is cut to it, with a warning: never a panic, a
    /// negative wait or a worker that outlives any real invocation.
    pub fn from_epoch_deadline(request_id: &str, function_arn: &str, deadline_ms: u64) -> Self {
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
        Self {
            request_id: request_id.to_owned(),
            function_arn: function_arn.to_owned(),
            deadline: Instant::now() + remaining,
            xray_trace_id: None,
        }
    }

    /// The same invocation carrying Lambda's X-Ray trace header.
    pub fn with_xray_trace_id(mut self, header: Option<String>) -> Self {
        self.xray_trace_id = header.filter(|h| !h.is_empty());
        self
    }
}

/// How the worker's run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RunEnd {
    /// Drained within the stop timeout.
    Drained,
    /// The drain overran and the run was dropped.
    Forced,
}

/// What an invocation did; the Lambda response body.
#[derive(Debug, Clone, Serialize)]
pub struct InvocationReport {
    /// The request id.
    pub request_id: String,
    /// The worker identity used.
    pub identity: Option<String>,
    /// How the run ended.
    pub run_end: RunEnd,
    /// Connect time, ms.
    pub connect_ms: u64,
    /// From worker start to the stop request, ms.
    pub poll_ms: u64,
    /// From the stop request to the run's end, ms.
    pub drain_ms: u64,
    /// Shutdown hooks, ms.
    pub hooks_ms: u64,
    /// What went less than well without failing the invocation, each also logged as a
    /// warning: `little_work_time` (raise the function timeout), `start_hook_panicked`,
    /// `drain_error`, `forced_stop` (in-flight work outlived the stop timeout),
    /// `shutdown_requested` (stopped early by [`Engine::request_shutdown`], e.g. on SIGTERM).
    pub warnings: Vec<&'static str>,
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
        }
    }

    /// The options this engine runs with.
    pub fn options(&self) -> &ValidatedOptions {
        &self.options
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
    pub async fn invoke(&self, invocation: Invocation) -> Result<InvocationReport, Error> {
        let start = Instant::now();
        let deadline = invocation.deadline;
        let cold = self
            .invocations
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            == 0;
        if self.shutdown_requested() {
            return Err(Error::ShuttingDown);
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
        let mut warnings = Vec::new();
        if work < timing::WARN_WORK_TIME {
            warnings.push("little_work_time");
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
            if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| hook.call(&started)))
                .is_err()
            {
                warnings.push("start_hook_panicked");
                warn!("an invocation-start hook panicked; continuing");
            }
        }
        let identity = self.options.identity(Some((
            invocation.request_id.as_str(),
            invocation.function_arn.as_str(),
        )));
        let outcome = self
            .connect_and_run(stop_at, deadline, identity.as_deref())
            .await;
        let hooks_started = Instant::now();
        self.run_hooks(
            deadline
                .checked_sub(timing::RESPONSE_RESERVE)
                .unwrap_or(deadline),
        )
        .await;
        let hooks_ms = ms(hooks_started.elapsed());
        outcome.map(
            |(connect, poll, drain, run_end, drain_error, stopped_early)| {
                if stopped_early {
                    warnings.push("shutdown_requested");
                }
                if drain_error {
                    warnings.push("drain_error");
                }
                if run_end == RunEnd::Forced {
                    warnings.push("forced_stop");
                }
                let report = InvocationReport {
                    request_id: invocation.request_id,
                    identity,
                    run_end,
                    connect_ms: ms(connect),
                    poll_ms: ms(poll),
                    drain_ms: ms(drain),
                    hooks_ms,
                    warnings,
                };
                info!(
                    identity = report.identity.as_deref().unwrap_or_default(),
                    run_end = ?report.run_end,
                    connect_ms = report.connect_ms,
                    poll_ms = report.poll_ms,
                    drain_ms = report.drain_ms,
                    hooks_ms = report.hooks_ms,
                    "invocation done"
                );
                report
            },
        )
    }

    async fn connect_and_run(
        &self,
        stop_at: Instant,
        deadline: Instant,
        identity: Option<&str>,
    ) -> Result<(Duration, Duration, Duration, RunEnd, bool, bool), Error> {
        let o = &self.options;
        let connection = o.connection_options(identity);
        let address = connection.target.to_string();
        let connect_started = Instant::now();
        let client = match timeout_at(
            stop_at,
            self.backend.connect(connection, o.client_options()),
        )
        .await
        {
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
        let connect = connect_started.elapsed();
        let mut worker = match self
            .backend
            .create_worker(&client, o.worker_options(identity))
        {
            Ok(w) => w,
            Err(e) => {
                self.backend.close(client, None);
                return Err(Error::WorkerStart(error_chain(&*e)));
            }
        };
        let stop = worker.shutdown_handle();
        let poll_started = Instant::now();
        let mut drain_started = None;
        let mut drain_error = false;
        let mut stopped_early = false;
        let mut shutdown = self.shutdown.subscribe();
        let outcome = {
            let run = worker.run();
            tokio::pin!(run);
            let early = tokio::select! {
                r = &mut run => Some(r),
                () = sleep_until(stop_at) => None,
                Ok(_) = shutdown.wait_for(|stop| *stop) => {
                    stopped_early = true;
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
                            drain_error = true;
                            warn!(error = %error_chain(&*e), "the worker reported an error while draining");
                            Ok(RunEnd::Drained)
                        }
                        Err(_) => {
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
        let poll = drain_started.unwrap_or_else(Instant::now) - poll_started;
        let drain = drain_started.map(|d| d.elapsed()).unwrap_or_default();
        self.backend.close(client, Some(worker));
        outcome.map(|end| (connect, poll, drain, end, drain_error, stopped_early))
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
