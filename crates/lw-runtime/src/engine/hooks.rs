//! The user's hooks around an invocation: the start hooks before connecting, the teardowns
//! and shutdown hooks after the drain, each bounded and a panic or error logged, never fatal.

use std::panic::AssertUnwindSafe;

use futures::FutureExt;
use lw_options::{InvocationReport, InvocationStart, ShutdownContext, Teardown, Warning};
use tokio::time::{Instant, timeout_at};
use tracing::{error, warn};

use super::Engine;
use crate::{Invocation, backend::Backend, error::error_chain};

impl<B: Backend> Engine<B> {
    /// Runs the invocation-start hooks; a panicking one is logged and flagged in the report.
    pub(super) fn run_start_hooks(
        &self,
        invocation: &Invocation,
        cold: bool,
        report: &mut InvocationReport,
    ) {
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

    /// Runs this invocation's teardowns, last registered first, each given the client and
    /// cut off at `until` ([`crate::timing::HOOKS_RESERVE`] earlier when shutdown hooks
    /// follow); a failure, panic or overrun is logged and the next one runs.
    pub(super) async fn run_teardowns(
        &self,
        until: Instant,
        client: Option<temporalio_client::Client>,
        teardowns: Vec<Teardown>,
    ) {
        // With shutdown hooks to run after them, teardowns leave the hooks a reserve.
        let until = if self.options.shutdown_hooks().is_empty() {
            until
        } else {
            until
                .checked_sub(crate::timing::HOOKS_RESERVE)
                .unwrap_or(until)
        };
        for (i, teardown) in teardowns.into_iter().enumerate().rev() {
            let ctx = ShutdownContext::new(until).with_client(client.clone());
            let fut = AssertUnwindSafe(teardown.call(ctx)).catch_unwind();
            match timeout_at(until, fut).await {
                Ok(Ok(Ok(()))) => {}
                Ok(Ok(Err(e))) => {
                    error!(teardown = i, error = %error_chain(&*e), "teardown failed")
                }
                Ok(Err(_)) => error!(teardown = i, "teardown panicked"),
                Err(_) => error!(teardown = i, "teardown ran out of time and was cut off"),
            }
        }
    }

    /// Runs the shutdown hooks in registration order, each given the client and cut off at
    /// `until`; a failure, panic or overrun is logged and the next hook runs.
    pub(super) async fn run_hooks(
        &self,
        until: Instant,
        client: Option<temporalio_client::Client>,
    ) {
        for (i, hook) in self.options.shutdown_hooks().iter().enumerate() {
            let ctx = ShutdownContext::new(until).with_client(client.clone());
            let fut = AssertUnwindSafe(hook.call(ctx)).catch_unwind();
            match timeout_at(until, fut).await {
                Ok(Ok(Ok(()))) => {}
                Ok(Ok(Err(e))) => {
                    error!(hook = i, error = %error_chain(&*e), "shutdown hook failed")
                }
                Ok(Err(_)) => error!(hook = i, "shutdown hook panicked"),
                Err(_) => error!(hook = i, "shutdown hook ran out of time and was cut off"),
            }
        }
    }
}
