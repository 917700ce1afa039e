//! [`Engine`]: runs one invocation through the lifecycle, never past its deadline.

use std::{panic::AssertUnwindSafe, pin::Pin, sync::Arc, time::Duration};

use futures::FutureExt;
use lw_options::{
    Ended, InvocationReport, InvocationStart, RunEnd, ShutdownContext, ValidatedOptions, Warning,
};
use tokio::time::{Instant, sleep_until, timeout_at};
use tracing::{error, info, warn};

use crate::{
    BoxError, Error, Invocation,
    backend::{Backend, TemporalBackend, WorkerRunner},
    connect_error,
    error::chain,
    timing,
    tracker::Tracker,
};

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

/// What stopped the polling: the worker itself (early, an error), or a stop condition.
enum PollEnd {
    /// The run future finished on its own before any stop condition.
    Early(Result<(), BoxError>),
    /// A stop condition came first; the worker must now drain.
    Stop,
}

/// The worker's run future, pinned for polling and then draining.
type Run<'a> = Pin<&'a mut (dyn Future<Output = Result<(), BoxError>> + 'a)>;

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

    /// The lifecycle: checks, start hooks, connect, poll, drain, shutdown hooks, close.
    async fn invoke_inner(
        &self,
        invocation: Invocation,
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
        let (client, worker, outcome) = match self.start(stop_at, &tracker, report).await {
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
        // Drained: the hooks run while the client is still connected, then it closes.
        let hooks_started = Instant::now();
        let hook_client = client.as_ref().and_then(B::sdk_client);
        self.run_hooks(
            deadline
                .checked_sub(timing::RESPONSE_RESERVE)
                .unwrap_or(deadline),
            hook_client,
        )
        .await;
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

    fn run_start_hooks(&self, invocation: &Invocation, cold: bool, report: &mut InvocationReport) {
        let started = InvocationStart::new(
            invocation.request_id.clone(),
            invocation.function_arn.clone(),
            invocation.xray_trace_id.clone(),
            invocation.deadline,
            cold,
        );
        for hook in self.options.invocation_start_hooks() {
            // A panicking start hook must not take the invocation down with it.
            if std::panic::catch_unwind(AssertUnwindSafe(|| hook.call(&started))).is_err() {
                report.warnings.push(Warning::StartHookPanicked);
                warn!("an invocation-start hook panicked; continuing");
            }
        }
    }

    /// Connects, checks the task queue (once per process), and creates the worker.
    async fn start(
        &self,
        stop_at: Instant,
        tracker: &Arc<Tracker>,
        report: &mut InvocationReport,
    ) -> (Option<B::Client>, Result<B::Worker, Error>) {
        let (client, connect_time) = match self.connect(stop_at, report).await {
            Err(e) => return (None, Err(e)),
            Ok(c) => c,
        };
        if let Err(e) = self.check_task_queue(&client, stop_at).await {
            return (Some(client), Err(e));
        }
        let worker = self.start_worker(&client, connect_time, tracker, report);
        (Some(client), worker)
    }

    /// Before the process's first poll, asks the server about the task queue: a refusal
    /// (bad name, unknown namespace, no access) is an error with the server's reason, where
    /// polls would be retried in silence for a minute. Not repeated once it passed.
    async fn check_task_queue(&self, client: &B::Client, stop_at: Instant) -> Result<(), Error> {
        use std::sync::atomic::Ordering;
        if self.task_queue_checked.load(Ordering::Relaxed) {
            return Ok(());
        }
        let o = self.options.options();
        let namespace = &o.client_options.namespace;
        let check = self
            .backend
            .check_task_queue(client, namespace, &o.task_queue);
        match timeout_at(stop_at, check).await {
            Ok(Ok(())) => {
                self.task_queue_checked.store(true, Ordering::Relaxed);
                Ok(())
            }
            Ok(Err(r)) if r.is_verdict() => Err(Error::TaskQueueRejected {
                task_queue: o.task_queue.clone(),
                namespace: namespace.clone(),
                code: r.code,
                reason: r.reason,
            }),
            // Busy or unreachable: polling retries that; check again next time.
            Ok(Err(r)) => {
                warn!(code = ?r.code, reason = %r.reason, "could not check the task queue; polling anyway");
                Ok(())
            }
            Err(_) => Ok(()),
        }
    }

    /// Connects a client within the work window (or until shutdown is requested).
    async fn connect(
        &self,
        stop_at: Instant,
        report: &mut InvocationReport,
    ) -> Result<(B::Client, Duration), Error> {
        let o = &self.options;
        let connection = o.connection_options(report.identity.as_deref());
        let address = connection.target.to_string();
        let tls_on = connection.tls_options.is_some();
        let started = Instant::now();
        let mut shutdown = self.shutdown.subscribe();
        let connect = tokio::select! {
            c = timeout_at(stop_at, self.backend.connect(connection, o.client_options())) => c,
            Ok(_) = shutdown.wait_for(|stop| *stop) => return Err(Error::ShuttingDown),
        };
        let sources = &o.options().connection_sources;
        match connect {
            Err(_) => Err(Error::ConnectTimeout {
                address,
                address_source: connect_error::address_source(sources).to_owned(),
                window: stop_at.saturating_duration_since(started),
            }),
            Ok(Err(error)) => {
                let attempt = connect_error::Attempt {
                    address: &address,
                    tls_on,
                    namespace: &o.options().client_options.namespace,
                    sources,
                };
                Err(connect_error::failed(&attempt, error))
            }
            Ok(Ok(client)) => {
                let took = started.elapsed();
                report.connect_ms = ms(took);
                Ok((client, took))
            }
        }
    }

    /// Creates the invocation's worker on `client`, tracked for the report and idle exit.
    fn start_worker(
        &self,
        client: &B::Client,
        connect_time: Duration,
        tracker: &Arc<Tracker>,
        report: &mut InvocationReport,
    ) -> Result<B::Worker, Error> {
        let started = Instant::now();
        let mut worker_options = self.options.worker_options(report.identity.as_deref());
        // The namespace check and the first polls each take about one round trip, as the
        // connect did: the idle clock starts after them.
        tracker.set_poll_allowance((connect_time * 2).max(timing::POLL_ALLOWANCE_MIN));
        tracker.attach(&mut worker_options);
        let worker = self
            .backend
            .create_worker(client, worker_options)
            .map_err(Error::WorkerStart)?;
        report.worker_start_ms = ms(started.elapsed());
        Ok(worker)
    }

    /// Polls until a stop condition, then drains.
    async fn run_worker(
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
                warn!(error = %chain(&*e), "the worker reported an error while draining");
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

    async fn run_hooks(&self, until: Instant, client: Option<temporalio_client::Client>) {
        for (i, hook) in self.options.shutdown_hooks().iter().enumerate() {
            let ctx = ShutdownContext::new(until).with_client(client.clone());
            let fut = AssertUnwindSafe(hook.call(ctx)).catch_unwind();
            match timeout_at(until, fut).await {
                Ok(Ok(Ok(()))) => {}
                Ok(Ok(Err(e))) => error!(hook = i, error = %chain(&*e), "shutdown hook failed"),
                Ok(Err(_)) => error!(hook = i, "shutdown hook panicked"),
                Err(_) => error!(hook = i, "shutdown hook ran out of time and was cut off"),
            }
        }
    }
}

#[cfg(test)]
mod tests;
