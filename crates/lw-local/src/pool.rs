//! The instances of one function version, and which of them runs an invocation: warm
//! instances are reused (packed onto the first with room), a new one starts (a cold start)
//! when all are busy, up to the function's reserved concurrency; beyond it a synchronous
//! call is throttled and an event waits. Each step is booked in the pool's
//! [`Accounting`](crate::Accounting).

use std::sync::{
    Mutex,
    atomic::{AtomicBool, Ordering},
};

use serde_json::Value;
use tokio::{sync::Notify, time::Instant};

use crate::{
    Credentials, FunctionConfig, InvocationResult, LocalError, LocalFunction,
    accounting::{Accounting, EndReading, Epoch, InvocationRecord},
    code::{Folder, Stored},
};

/// One instance (execution environment): a Runtime API emulator and its process.
struct Instance {
    function: LocalFunction,
    /// Invocations it holds now.
    in_flight: u32,
    /// Since when it has held at least one.
    busy_since: Option<Instant>,
    /// Its process's CPU time when last read, ms.
    cpu_seen: u64,
}

/// The instances that run one function version (`$LATEST` or a published one).
pub(crate) struct Pool {
    pub(crate) config: FunctionConfig,
    /// The published version these instances run (`None`: `$LATEST`).
    version: Option<String>,
    instances: tokio::sync::Mutex<Vec<Instance>>,
    /// Signalled whenever an invocation ends, for callers waiting for room.
    freed: Notify,
    accounting: Mutex<Accounting>,
    /// Replaced by a code or configuration update: no new instances; each instance stops
    /// once its invocation ends.
    retired: AtomicBool,
    epoch: Epoch,
    /// Given to every process (`AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY`).
    credentials: Credentials,
    /// The code folder its processes run in, held while the pool lives.
    _code: Option<std::sync::Arc<Folder>>,
}

/// Whether a caller waits for a free instance or is throttled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WhenBusy {
    /// Wait (an `Event` invocation: Lambda queues it).
    Wait,
    /// Refuse at once (a `RequestResponse` invocation: Lambda throttles it).
    Throttle,
}

impl Pool {
    pub(crate) fn new(
        config: FunctionConfig,
        version: Option<String>,
        code: &Stored,
        credentials: Credentials,
    ) -> Self {
        Self {
            credentials,
            _code: code.folder.clone(),
            config,
            version,
            instances: tokio::sync::Mutex::new(Vec::new()),
            freed: Notify::new(),
            accounting: Mutex::new(Accounting::default()),
            retired: AtomicBool::new(false),
            epoch: Epoch::now(),
        }
    }

    /// `$LATEST` or the version's number.
    pub(crate) fn version_label(&self) -> &str {
        self.version.as_deref().unwrap_or("$LATEST")
    }

    /// Stops the idle instances now and each busy one when its invocation ends.
    pub(crate) fn retire(&self) {
        self.retired.store(true, Ordering::SeqCst);
        if let Ok(instances) = self.instances.try_lock() {
            for i in instances.iter().filter(|i| i.in_flight == 0) {
                i.function.kill();
            }
        }
    }

    /// Retired, with no instance holding an invocation (each stopped, or stopping).
    pub(crate) fn is_drained(&self) -> bool {
        self.retired.load(Ordering::SeqCst)
            && self
                .instances
                .try_lock()
                .is_ok_and(|i| i.iter().all(|i| i.in_flight == 0))
    }

    /// A copy of the figures so far.
    pub(crate) fn accounting(&self) -> Accounting {
        self.books().clone()
    }

    fn books(&self) -> std::sync::MutexGuard<'_, Accounting> {
        self.accounting.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs one invocation on an instance and books it.
    pub(crate) async fn invoke(
        &self,
        payload: Value,
        invocation_type: &str,
        when_busy: WhenBusy,
    ) -> Result<InvocationResult, LocalError> {
        let requested = Instant::now();
        let index = self.acquire(when_busy).await?;
        let rx = {
            let instances = self.instances.lock().await;
            instances[index].function.invoke_async(payload)
        };
        let result = match rx {
            Ok(rx) => rx
                .await
                .map_err(|_| LocalError::Instance("the instance dropped the invocation".into())),
            Err(e) => Err(e),
        };
        // Booked before it leaves `in_flight`: whoever sees nothing in flight sees its record.
        if let Ok(r) = &result {
            let record = InvocationRecord::new(r, invocation_type, index, requested, self.epoch);
            self.books().book(record, self.config.memory_mb);
        }
        {
            let mut instances = self.instances.lock().await;
            self.release(&mut instances, index);
        }
        self.freed.notify_waiters();
        result
    }

    /// Takes an instance with room (the first, so invocations pack onto few instances), or
    /// starts one within the concurrency limit; returns its index.
    async fn acquire(&self, when_busy: WhenBusy) -> Result<usize, LocalError> {
        let per_instance = self.config.per_instance_concurrency.max(1);
        loop {
            let freed = self.freed.notified();
            {
                let mut instances = self.instances.lock().await;
                let free = instances.iter().position(|i| i.in_flight < per_instance);
                let index = match free {
                    Some(i) => Some(i),
                    None if instances.len() < self.config.concurrency => {
                        instances.push(self.new_instance().await?);
                        Some(instances.len() - 1)
                    }
                    None => None,
                };
                if let Some(i) = index {
                    self.take(&mut instances, i);
                    return Ok(i);
                }
            }
            if when_busy == WhenBusy::Throttle {
                self.books().throttled();
                return Err(LocalError::Throttled(self.config.name.clone()));
            }
            freed.await;
        }
    }

    /// A new instance, its process not started yet (the first invocation starts it).
    async fn new_instance(&self) -> Result<Instance, LocalError> {
        let mut spec = self.config.spec(self.version.as_deref());
        spec.credentials = Some(self.credentials.clone());
        Ok(Instance {
            function: LocalFunction::new(spec).await?,
            in_flight: 0,
            busy_since: None,
            cpu_seen: 0,
        })
    }

    /// Books one more invocation on instance `i`.
    fn take(&self, instances: &mut [Instance], i: usize) {
        let now = Instant::now();
        let instance = &mut instances[i];
        instance.in_flight += 1;
        instance.busy_since.get_or_insert(now);
        let held = instance.in_flight as usize;
        let count = instances.len();
        self.books().started(i, held, count, self.epoch.ms(now));
    }

    /// Books the end of an invocation on instance `i`, and stops the instance if the pool
    /// is retired and this was its last invocation.
    fn release(&self, instances: &mut [Instance], i: usize) {
        let now = Instant::now();
        let count = instances.len();
        let instance = &mut instances[i];
        instance.in_flight = instance.in_flight.saturating_sub(1);
        let (peak_rss_kib, cpu) = instance
            .function
            .proc_status()
            .map(|p| (p.peak_rss_kib, p.cpu_ms))
            .unwrap_or_default();
        let busy = match (instance.in_flight, instance.busy_since) {
            (0, Some(since)) => {
                instance.busy_since = None;
                Some(now.saturating_duration_since(since))
            }
            _ => None,
        };
        // A reading below the last one is a new process (the old one was killed).
        let cpu_ms = cpu.checked_sub(instance.cpu_seen).unwrap_or(cpu);
        instance.cpu_seen = cpu;
        if instance.in_flight == 0 && self.retired.load(Ordering::SeqCst) {
            instance.function.kill();
        }
        let reading = EndReading {
            peak_rss_kib,
            cpu_ms,
            busy,
        };
        self.books().ended(i, reading, count, self.epoch.ms(now));
    }

    /// The process id of each instance (`None` while it has no live process), by index.
    pub(crate) async fn pids(&self) -> Vec<Option<u32>> {
        let instances = self.instances.lock().await;
        instances.iter().map(|i| i.function.pid()).collect()
    }

    /// Each instance's output (stdout and stderr) so far, by instance index.
    pub(crate) async fn logs(&self) -> Vec<String> {
        let instances = self.instances.lock().await;
        instances.iter().map(|i| i.function.logs()).collect()
    }

    /// Kills every instance's process.
    pub(crate) async fn stop(&self) {
        for i in self.instances.lock().await.iter() {
            i.function.kill();
        }
    }
}
