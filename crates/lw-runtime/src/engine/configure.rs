//! The per-invocation settings: the identity, connection and worker options one invocation
//! runs with, after the user's `Options::on_invocation` callbacks (bounded by the work
//! window, cut short by a shutdown request).

use std::panic::AssertUnwindSafe;

use futures::FutureExt;
use lw_options::{InvocationConfig, InvocationReport, InvocationStart, Teardown};
use temporalio_client::ConnectionOptions;
use temporalio_sdk::WorkerOptions;
use tokio::time::{Instant, timeout_at};

use super::{Engine, ms};
use crate::{Error, Invocation, backend::Backend, lambda::panic_text, timing};

/// What one invocation connects and starts its worker with (the identity in both, and in
/// the report).
pub(super) struct Settings {
    /// The connection options.
    pub connection: ConnectionOptions,
    /// The worker options, the lifecycle's settings enforced.
    pub worker_options: WorkerOptions,
}

impl<B: Backend> Engine<B> {
    /// The invocation's settings: the validated options with its identity (from
    /// `report.identity`), changed by the
    /// per-invocation callbacks when there are any. Their teardowns go to `teardowns`, also
    /// when a callback fails.
    pub(super) async fn settings(
        &self,
        invocation: &mut Invocation,
        cold: bool,
        stop_at: Instant,
        report: &mut InvocationReport,
        teardowns: &mut Vec<Teardown>,
    ) -> Result<Settings, Error> {
        let identity = report.identity.clone();
        let connection = self.options.connection_options(identity.as_deref());
        let worker_options = self.options.worker_options(identity.as_deref());
        if self.options.invocation_hooks().is_empty() {
            return Ok(Settings {
                connection,
                worker_options,
            });
        }
        let start = InvocationStart::new(
            invocation.request_id.clone(),
            invocation.function_arn.clone(),
            invocation.xray_trace_id.clone(),
            invocation.deadline,
            cold,
        );
        let event = std::mem::take(&mut invocation.payload);
        let mut config = InvocationConfig::new(start, event, identity, connection, worker_options);
        let started = Instant::now();
        let outcome = self.run_callbacks(&mut config, stop_at, started).await;
        report.configure_ms = ms(started.elapsed());
        teardowns.extend(config.take_teardowns());
        outcome?;
        let (identity, connection, worker_options) = self
            .options
            .finish_invocation(config)
            .map_err(Error::InvocationOptions)?;
        report.identity = identity;
        Ok(Settings {
            connection,
            worker_options,
        })
    }

    /// Runs the per-invocation callbacks in order until one fails, cut off when only
    /// [`timing::MIN_WORK_TIME`] of the work window is left or on a shutdown request.
    async fn run_callbacks(
        &self,
        config: &mut InvocationConfig,
        stop_at: Instant,
        started: Instant,
    ) -> Result<(), Error> {
        let cutoff = stop_at
            .checked_sub(timing::MIN_WORK_TIME)
            .unwrap_or(stop_at);
        let mut shutdown = self.shutdown.subscribe();
        let all = async {
            for hook in self.options.invocation_hooks() {
                match AssertUnwindSafe(hook.call(config)).catch_unwind().await {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => return Err(Error::InvocationConfigure(e)),
                    Err(payload) => {
                        let reason = panic_text(payload.as_ref());
                        return Err(Error::InvocationConfigure(
                            format!("it panicked: {reason}").into(),
                        ));
                    }
                }
            }
            Ok(())
        };
        tokio::select! {
            r = timeout_at(cutoff, all) => r.unwrap_or_else(|_| {
                Err(Error::InvocationConfigureTimeout { took: started.elapsed() })
            }),
            Ok(_) = shutdown.wait_for(|stop| *stop) => Err(Error::ShuttingDown),
        }
    }
}
