//! The start of an invocation: connect a client within the work window, check the task queue
//! (once per process), create the worker.

use std::{sync::Arc, time::Duration};

use lw_options::InvocationReport;
use tokio::time::{Instant, timeout_at};
use tracing::warn;

use super::{Engine, configure::Settings, ms};
use crate::{Error, backend::Backend, connect, connect_error::Attempt, timing, tracker::Tracker};

impl<B: Backend> Engine<B> {
    /// Connects, checks the task queue (once per process), and creates the worker.
    pub(super) async fn start(
        &self,
        settings: Settings,
        stop_at: Instant,
        tracker: &Arc<Tracker>,
        report: &mut InvocationReport,
    ) -> (Option<B::Client>, Result<B::Worker, Error>) {
        let Settings {
            connection,
            worker_options,
        } = settings;
        let (client, connect_time) = match self.connect(connection, stop_at, report).await {
            Err(e) => return (None, Err(e)),
            Ok(c) => c,
        };
        if let Err(e) = self.check_task_queue(&client, stop_at).await {
            return (Some(client), Err(e));
        }
        let worker = self.start_worker(&client, worker_options, connect_time, tracker, report);
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
        connection: temporalio_client::ConnectionOptions,
        stop_at: Instant,
        report: &mut InvocationReport,
    ) -> Result<(B::Client, Duration), Error> {
        let o = self.options.options();
        let attempt = Attempt::new(
            &connection,
            &o.client_options.namespace,
            &o.connection_sources,
        );
        let started = Instant::now();
        let window = stop_at.saturating_duration_since(started);
        let connect = self
            .backend
            .connect(connection, self.options.client_options());
        let mut shutdown = self.shutdown.subscribe();
        let client = tokio::select! {
            c = connect::bounded(&attempt, window, connect) => c?,
            Ok(_) = shutdown.wait_for(|stop| *stop) => return Err(Error::ShuttingDown),
        };
        let took = started.elapsed();
        report.connect_ms = ms(took);
        Ok((client, took))
    }

    /// Creates the invocation's worker on `client`, tracked for the report and idle exit.
    fn start_worker(
        &self,
        client: &B::Client,
        mut worker_options: temporalio_sdk::WorkerOptions,
        connect_time: Duration,
        tracker: &Arc<Tracker>,
        report: &mut InvocationReport,
    ) -> Result<B::Worker, Error> {
        let started = Instant::now();
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
}
