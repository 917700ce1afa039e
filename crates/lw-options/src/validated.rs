//! [`Options::validate`] and what it produces: [`ValidatedOptions`], from which each
//! invocation's SDK options are built.

use std::{sync::Arc, time::Duration};

use temporalio_client::{ClientOptions, ConnectionOptions};
use temporalio_common::{
    telemetry::metrics::CoreMeter,
    worker::{VersioningBehavior, WorkerDeploymentOptions},
};
use temporalio_sdk::{
    WorkerOptions,
    runtime::{
        PollerBehavior,
        worker_tuner::{SlotSupplier, WorkerTuner},
    },
};

use crate::{
    InvocationConfig, Options, OptionsError, defaults,
    hooks::{ShutdownHook, StartHook},
    idle::{IDLE_EXIT_MAX, IDLE_EXIT_MIN},
    invocation::InvocationHook,
    report::EndHook,
};

impl Options {
    /// Checks the options once, at init, and fixes what is derived (the shutdown buffer).
    pub fn validate(self) -> Result<ValidatedOptions, OptionsError> {
        let v = &self.deployment_version;
        if v.deployment_name.trim().is_empty() || v.build_id.trim().is_empty() {
            return Err(OptionsError::BlankVersion {
                deployment_name: v.deployment_name.clone(),
                build_id: v.build_id.clone(),
            });
        }
        if self.task_queue.trim().is_empty() {
            return Err(OptionsError::MissingTaskQueue);
        }
        let behavior = self.shared_behavior()?;
        check_worker_options(&self.worker_options)?;
        check_headers(&self.connection_options)?;
        let stop_timeout =
            self.worker_options
                .graceful_shutdown_period
                .ok_or(OptionsError::InvalidLimit {
                    field: "graceful_shutdown_period",
                    message: "must be set: it bounds the drain, which must end before the \
                          invocation's deadline (the Lambda default is 5s)",
                })?;
        let buffer = match self.shutdown_deadline_buffer {
            None => defaults::shutdown_deadline_buffer(stop_timeout),
            Some(buffer) if buffer < stop_timeout => {
                return Err(OptionsError::BufferShorterThanStopTimeout {
                    buffer,
                    stop_timeout,
                });
            }
            Some(buffer) => buffer,
        };
        if let Some(idle) = self.idle_exit
            && !(IDLE_EXIT_MIN..=IDLE_EXIT_MAX).contains(&idle)
        {
            return Err(OptionsError::InvalidIdleExit {
                origin: "opts.idle_exit".into(),
                value: format!("{idle:?}"),
            });
        }
        let validated = ValidatedOptions {
            behavior,
            buffer,
            stop_timeout,
            options: self,
        };
        // Build once so that what the SDK rejects (a bad tuner, nothing registered) fails at
        // init, not per invocation.
        if let Err(e) = validated
            .worker_options(None)
            .to_core_options("probe".into(), "probe".into())
        {
            let o = &validated.options;
            return Err(if o.workflows.is_empty() && !o.activities_registered {
                OptionsError::NothingRegistered
            } else {
                OptionsError::Worker(e)
            });
        }
        Ok(validated)
    }

    /// The one versioning behaviour every registered workflow shares.
    fn shared_behavior(&self) -> Result<Option<VersioningBehavior>, OptionsError> {
        if self.default_versioning_behavior == Some(VersioningBehavior::Unspecified) {
            return Err(OptionsError::UnspecifiedBehavior {
                workflow: "default_versioning_behavior".into(),
            });
        }
        let mut shared: Option<(&str, VersioningBehavior)> = None;
        for (name, declared) in &self.workflows {
            let b = match declared.or(self.default_versioning_behavior) {
                None | Some(VersioningBehavior::Unspecified) => {
                    return Err(OptionsError::UnspecifiedBehavior {
                        workflow: (*name).to_owned(),
                    });
                }
                Some(b) => b,
            };
            match shared {
                None => shared = Some((name, b)),
                Some((first, fb)) if fb != b => {
                    return Err(OptionsError::MixedBehaviors {
                        first: first.to_owned(),
                        first_behavior: fb,
                        second: (*name).to_owned(),
                        second_behavior: b,
                    });
                }
                Some(_) => {}
            }
        }
        Ok(shared.map(|(_, b)| b))
    }
}

/// What the SDK accepts but a worker could not run with: zero slots or pollers, or a sticky
/// cache with a single workflow poller.
/// The API key and headers go out as gRPC metadata: a value the SDK cannot encode is dropped
/// silently there, and calls go out without it. `lw-config` checks what it resolves; this
/// catches what the configure callback set.
fn check_headers(c: &temporalio_client::ConnectionOptions) -> Result<(), OptionsError> {
    let sendable = |v: &str| v.bytes().all(|b| (0x20..0x7f).contains(&b) || b == b'\t');
    if let Some(key) = &c.api_key
        && (!sendable(key) || key.trim() != key)
    {
        return Err(OptionsError::UnsendableHeader {
            field: "api_key".into(),
        });
    }
    for (name, value) in c.headers.iter().flatten() {
        if !sendable(value) {
            return Err(OptionsError::UnsendableHeader {
                field: format!("headers[{name:?}]"),
            });
        }
    }
    Ok(())
}

fn check_worker_options(wo: &WorkerOptions) -> Result<(), OptionsError> {
    if let WorkerTuner::TunerHolder(t) = &wo.tuner {
        for (field, supplier) in [
            (
                "tuner (workflow_task_slot_supplier)",
                &t.workflow_task_slot_supplier,
            ),
            (
                "tuner (activity_task_slot_supplier)",
                &t.activity_task_slot_supplier,
            ),
            (
                "tuner (local_activity_task_slot_supplier)",
                &t.local_activity_task_slot_supplier,
            ),
            (
                "tuner (nexus_task_slot_supplier)",
                &t.nexus_task_slot_supplier,
            ),
        ] {
            if let SlotSupplier::FixedSize(f) = supplier
                && f.num_slots == 0
            {
                return Err(OptionsError::InvalidLimit {
                    field,
                    message: "must give at least 1 slot",
                });
            }
        }
    }
    for (field, poller) in [
        (
            "workflow_task_poller_behavior",
            wo.workflow_task_poller_behavior,
        ),
        (
            "activity_task_poller_behavior",
            wo.activity_task_poller_behavior,
        ),
        ("nexus_task_poller_behavior", wo.nexus_task_poller_behavior),
    ] {
        if poller == Some(PollerBehavior::SimpleMaximum(0)) {
            return Err(OptionsError::InvalidLimit {
                field,
                message: "must allow at least 1 poller",
            });
        }
    }
    if wo.max_cached_workflows > 0
        && matches!(
            wo.workflow_task_poller_behavior,
            Some(PollerBehavior::SimpleMaximum(n)) if n < 2
        )
    {
        return Err(OptionsError::InvalidLimit {
            field: "workflow_task_poller_behavior",
            message: "must allow at least 2 pollers while the sticky cache is on \
                      (max_cached_workflows > 0)",
        });
    }
    Ok(())
}

/// Options that passed [`Options::validate`]: what the lifecycle engine runs with.
#[derive(Debug)]
pub struct ValidatedOptions {
    options: Options,
    behavior: Option<VersioningBehavior>,
    buffer: Duration,
    stop_timeout: Duration,
}

impl ValidatedOptions {
    /// The validated options.
    pub fn options(&self) -> &Options {
        &self.options
    }

    /// Time before the deadline at which draining starts: `opts.shutdown_deadline_buffer`,
    /// or the stop timeout + 2 s when that was left unset.
    pub fn shutdown_deadline_buffer(&self) -> Duration {
        self.buffer
    }

    /// How long the drain may wait for in-flight work
    /// (`worker_options.graceful_shutdown_period`).
    pub fn stop_timeout(&self) -> Duration {
        self.stop_timeout
    }

    /// The versioning behaviour every registered workflow shares (`None` for an
    /// activity-only worker).
    pub fn versioning_behavior(&self) -> Option<VersioningBehavior> {
        self.behavior
    }

    /// The invocation-start hooks, in registration order.
    pub fn invocation_start_hooks(&self) -> &[StartHook] {
        &self.options.start_hooks
    }

    /// The per-invocation callbacks ([`Options::on_invocation`]), in registration order.
    pub fn invocation_hooks(&self) -> &[InvocationHook] {
        &self.options.invocation_hooks
    }

    /// The invocation-end hooks, in registration order.
    pub fn invocation_end_hooks(&self) -> &[EndHook] {
        &self.options.end_hooks
    }

    /// The idle early exit period, if enabled.
    pub fn idle_exit(&self) -> Option<Duration> {
        self.options.idle_exit
    }

    /// The metrics backend for the SDK runtime's worker metrics, if one was set.
    pub fn metrics_meter(&self) -> Option<Arc<dyn CoreMeter>> {
        self.options.metrics_meter.clone()
    }

    /// Shutdown hooks, in registration order.
    pub fn shutdown_hooks(&self) -> &[ShutdownHook] {
        &self.options.hooks
    }

    /// The identity to use: `worker_options.client_identity_override` if set, else
    /// `<requestId>@<functionArn>` when an invocation gives those (an empty part becomes
    /// `unknown`), else none.
    pub fn identity(&self, invocation: Option<(&str, &str)>) -> Option<String> {
        if let Some(id) = &self.options.worker_options.client_identity_override {
            return Some(id.clone());
        }
        invocation.map(|(request_id, arn)| {
            let part = |s: &str| {
                if s.is_empty() {
                    "unknown".to_owned()
                } else {
                    s.to_owned()
                }
            };
            format!("{}@{}", part(request_id), part(arn))
        })
    }

    /// Connection options for one invocation, carrying `identity`.
    pub fn connection_options(&self, identity: Option<&str>) -> ConnectionOptions {
        let mut c = self.options.connection_options.clone();
        if let Some(id) = identity {
            c.identity = id.to_owned();
        }
        c
    }

    /// Client options for one invocation.
    pub fn client_options(&self) -> ClientOptions {
        self.options.client_options.clone()
    }

    /// A fresh SDK `WorkerOptions` for one invocation: the user's `worker_options` with the
    /// task queue, versioning (on, with this version and behaviour), the identity and eager
    /// activities (off) enforced.
    pub fn worker_options(&self, identity: Option<&str>) -> WorkerOptions {
        let mut wo = self.options.worker_options.clone();
        self.enforce(&mut wo, identity);
        wo
    }

    /// What one invocation runs with after its [`Options::on_invocation`] callbacks: the
    /// identity, connection and worker options `config` holds, checked as at init (headers
    /// sendable, slots and pollers in range) and with the task queue, versioning, identity
    /// and eager activities enforced as in [`ValidatedOptions::worker_options`].
    pub fn finish_invocation(
        &self,
        config: InvocationConfig,
    ) -> Result<(Option<String>, ConnectionOptions, WorkerOptions), OptionsError> {
        let InvocationConfig {
            identity,
            mut connection_options,
            mut worker_options,
            ..
        } = config;
        check_headers(&connection_options)?;
        check_worker_options(&worker_options)?;
        if let Some(id) = &identity {
            connection_options.identity = id.clone();
        }
        self.enforce(&mut worker_options, identity.as_deref());
        Ok((identity, connection_options, worker_options))
    }

    /// Sets what the lifecycle owns on `wo`, whatever it holds.
    fn enforce(&self, wo: &mut WorkerOptions, identity: Option<&str>) {
        let o = &self.options;
        wo.task_queue = o.task_queue.clone();
        wo.deployment_options = WorkerDeploymentOptions::new(o.deployment_version.clone())
            .use_worker_versioning(true)
            .maybe_default_versioning_behavior(self.behavior)
            .build();
        wo.client_identity_override = identity.map(str::to_owned);
        wo.max_eager_activity_reservations_per_workflow_task = 0;
    }
}
