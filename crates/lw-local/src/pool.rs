//! Functions, their instances and their accounting.

use std::{path::PathBuf, sync::Mutex, time::Duration};

use crate::{FunctionSpec, InvocationResult, LocalFunction, Outcome};
use serde::Serialize;
use serde_json::Value;
use tokio::sync::Notify;

use crate::LocalError;

/// A function registered with the local Lambda service.
#[derive(Debug, Clone)]
pub struct FunctionConfig {
    /// Function name (the ARN is `arn:aws:lambda:us-east-1:000000000000:function:<name>`).
    pub name: String,
    /// The `bootstrap` program.
    pub bootstrap: PathBuf,
    /// Environment variables.
    pub env: Vec<(String, String)>,
    /// Function timeout.
    pub timeout: Duration,
    /// Memory, MB (billing and `AWS_LAMBDA_FUNCTION_MEMORY_SIZE`).
    pub memory_mb: u32,
    /// Reserved concurrency: at most this many instances run at once.
    pub concurrency: usize,
    /// Invocations one instance holds at once (Lambda Managed Instances'
    /// `PerExecutionEnvironmentMaxConcurrency`; the process gets `AWS_LAMBDA_MAX_CONCURRENCY`).
    /// Default 1: one at a time, as on Lambda (default).
    pub per_instance_concurrency: u32,
    /// The capacity provider (recorded) of a function created for Lambda Managed Instances
    /// through the API.
    pub capacity_provider: Option<String>,
    /// `LAMBDA_TASK_ROOT` and working directory.
    pub task_root: Option<PathBuf>,
    /// The function's description.
    pub description: String,
    /// The execution role (recorded; nothing here assumes it).
    pub role: String,
}

impl FunctionConfig {
    /// A function with Lambda's defaults for the rest: 60 s timeout, 256 MB, concurrency 10.
    pub fn new(name: impl Into<String>, bootstrap: impl Into<PathBuf>) -> Self {
        Self {
            name: name.into(),
            bootstrap: bootstrap.into(),
            env: Vec::new(),
            timeout: Duration::from_secs(60),
            memory_mb: 256,
            concurrency: 10,
            per_instance_concurrency: 1,
            capacity_provider: None,
            task_root: None,
            description: String::new(),
            role: "arn:aws:iam::000000000000:role/lambda-execution".into(),
        }
    }

    /// Sets the timeout.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets the memory size.
    pub fn memory_mb(mut self, mb: u32) -> Self {
        self.memory_mb = mb;
        self
    }

    /// Sets the reserved concurrency.
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }

    /// Lets each instance hold up to `n` invocations at once (Lambda Managed Instances).
    pub fn per_instance_concurrency(mut self, n: u32) -> Self {
        self.per_instance_concurrency = n.max(1);
        self
    }

    /// Adds an environment variable.
    pub fn env(mut self, k: impl Into<String>, v: impl Into<String>) -> Self {
        self.env.push((k.into(), v.into()));
        self
    }

    /// The unqualified ARN.
    pub fn arn(&self) -> String {
        self.spec(None).arn()
    }

    fn spec(&self, version: Option<&str>) -> FunctionSpec {
        let mut spec = FunctionSpec::new(&self.bootstrap, &self.name).timeout(self.timeout);
        spec.memory_mb = self.memory_mb;
        spec.task_root = self.task_root.clone();
        spec.env = self.env.clone();
        spec.version = version.map(str::to_owned);
        spec.max_concurrency = self.per_instance_concurrency;
        spec
    }
}

/// One invocation as billed.
#[derive(Debug, Clone, Serialize)]
pub struct InvocationRecord {
    /// Request id.
    pub request_id: String,
    /// `RequestResponse` or `Event`.
    pub invocation_type: String,
    /// Which instance ran it (0-based, in creation order).
    pub instance: usize,
    /// Whether the instance's process was started for it.
    pub cold: bool,
    /// `response`, `error`, `timeout` or `crashed`.
    pub outcome: String,
    /// Billed duration, ms, rounded up (init included on a cold start).
    pub billed_ms: u64,
    /// When the Invoke call arrived, ms since the function (version) was created.
    pub requested_ms: u64,
    /// When it was queued on an instance (after waiting for one, and before a cold start's
    /// init), ms since the function was created.
    pub started_ms: u64,
    /// When `/next` handed it to the function's code, ms since the function was created
    /// (`None` if the instance never asked).
    pub delivered_ms: Option<u64>,
    /// When it ended, ms since the function was created.
    pub ended_ms: u64,
    /// `started_ms` as wall-clock time (ms since the Unix epoch), to set beside a server's
    /// event times.
    pub started_unix_ms: u64,
    /// The function's response body, when it answered (a lambdaworker function answers with
    /// its invocation report: `connect_ms`, `poll_ms`, `drain_ms`, `run_end`, ...).
    pub response: Option<Value>,
}

/// Per-function totals.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Accounting {
    /// Invocations run.
    pub invocations: u64,
    /// Of which cold starts.
    pub cold_starts: u64,
    /// Of which ended with a function error or crash.
    pub errors: u64,
    /// Of which timed out (the instance was killed).
    pub timeouts: u64,
    /// Invocations refused for lack of concurrency (synchronous ones only; events wait).
    pub throttles: u64,
    /// Billed duration, ms.
    pub billed_ms: u64,
    /// Billed GB-seconds (billed seconds × memory GB).
    pub gb_seconds: f64,
    /// Instances ever started.
    pub instances: usize,
    /// Invocations handed to an instance and not finished yet (not yet booked above).
    pub in_flight: u64,
    /// Every invocation.
    pub records: Vec<InvocationRecord>,
    /// Each instance's figures, by instance index.
    pub per_instance: Vec<InstanceStats>,
    /// Invocations in flight over time: a point at every change.
    pub timeline: Vec<TimelinePoint>,
}

/// One instance's (execution environment's) figures.
#[derive(Debug, Clone, Default, Serialize)]
pub struct InstanceStats {
    /// Invocations it ran.
    pub invocations: u64,
    /// Time it held at least one invocation, ms.
    pub busy_ms: u64,
    /// The most invocations it held at once.
    pub peak_in_flight: usize,
    /// Its process's peak resident memory (`VmHWM`), KiB, read as each invocation ended.
    pub peak_rss_kib: u64,
    /// Its processes' CPU time (user + system), ms, read as each invocation ended (a process
    /// started again after a kill adds to it).
    pub cpu_ms: u64,
}

/// The function's invocations in flight at a moment.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct TimelinePoint {
    /// Since the function (version) was created, ms.
    pub at_ms: u64,
    /// Invocations in flight, over all instances.
    pub in_flight: u64,
    /// Instances started so far.
    pub instances: usize,
}

struct Instance {
    function: LocalFunction,
    /// Invocations it holds now.
    in_flight: u32,
    /// Since when it has held at least one.
    busy_since: Option<tokio::time::Instant>,
    /// Its process's CPU time when last read, ms.
    cpu_seen: u64,
}

pub(crate) struct Function {
    pub(crate) config: FunctionConfig,
    /// The published version these instances run (`None`: `$LATEST`).
    version: Option<String>,
    instances: tokio::sync::Mutex<Vec<Instance>>,
    freed: Notify,
    accounting: Mutex<Accounting>,
    /// Replaced by a code or configuration update: no new instances; each instance stops
    /// once its invocation ends.
    retired: std::sync::atomic::AtomicBool,
    created: tokio::time::Instant,
}

/// Whether a caller waits for a free instance or is throttled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WhenBusy {
    Wait,
    Throttle,
}

impl Function {
    pub(crate) fn new(config: FunctionConfig, version: Option<String>) -> Self {
        Self {
            config,
            version,
            instances: tokio::sync::Mutex::new(Vec::new()),
            freed: Notify::new(),
            accounting: Mutex::new(Accounting::default()),
            retired: std::sync::atomic::AtomicBool::new(false),
            created: tokio::time::Instant::now(),
        }
    }

    /// `$LATEST` or the version's number.
    pub(crate) fn version_label(&self) -> &str {
        self.version.as_deref().unwrap_or("$LATEST")
    }

    /// Stops the idle instances now and each busy one when its invocation ends.
    pub(crate) fn retire(&self) {
        self.retired
            .store(true, std::sync::atomic::Ordering::SeqCst);
        if let Ok(instances) = self.instances.try_lock() {
            for i in instances.iter().filter(|i| i.in_flight == 0) {
                i.function.kill();
            }
        }
    }

    pub(crate) fn accounting(&self) -> Accounting {
        self.accounting
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Takes an instance with room (the first, so invocations pack onto few instances), or
    /// starts one within the concurrency limit.
    async fn acquire(&self, when_busy: WhenBusy) -> Result<usize, LocalError> {
        let per_instance = self.config.per_instance_concurrency.max(1);
        loop {
            let freed = self.freed.notified();
            {
                let mut instances = self.instances.lock().await;
                if let Some(i) = instances.iter().position(|i| i.in_flight < per_instance) {
                    self.take(&mut instances, i);
                    return Ok(i);
                }
                if instances.len() < self.config.concurrency {
                    let spec = self.config.spec(self.version.as_deref());
                    let function = LocalFunction::new(spec).await?;
                    instances.push(Instance {
                        function,
                        in_flight: 0,
                        busy_since: None,
                        cpu_seen: 0,
                    });
                    let n = instances.len();
                    self.take(&mut instances, n - 1);
                    return Ok(n - 1);
                }
            }
            if when_busy == WhenBusy::Throttle {
                self.accounting
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .throttles += 1;
                return Err(LocalError::Throttled(self.config.name.clone()));
            }
            freed.await;
        }
    }

    /// Books one more invocation on instance `i`.
    fn take(&self, instances: &mut [Instance], i: usize) {
        let now = tokio::time::Instant::now();
        let instance = &mut instances[i];
        instance.in_flight += 1;
        instance.busy_since.get_or_insert(now);
        let held = instance.in_flight as usize;
        let mut a = self.accounting.lock().unwrap_or_else(|e| e.into_inner());
        a.instances = a.instances.max(instances.len());
        if a.per_instance.len() < instances.len() {
            a.per_instance
                .resize(instances.len(), InstanceStats::default());
        }
        let stats = &mut a.per_instance[i];
        stats.invocations += 1;
        stats.peak_in_flight = stats.peak_in_flight.max(held);
        a.in_flight += 1;
        self.mark(&mut a, now, instances.len());
    }

    /// Books the end of an invocation on instance `i`.
    fn release(&self, instances: &mut [Instance], i: usize) {
        let now = tokio::time::Instant::now();
        let instance = &mut instances[i];
        instance.in_flight = instance.in_flight.saturating_sub(1);
        let (rss, cpu) = instance
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
        let cpu_delta = cpu.checked_sub(instance.cpu_seen).unwrap_or(cpu);
        instance.cpu_seen = cpu;
        if instance.in_flight == 0 && self.retired.load(std::sync::atomic::Ordering::SeqCst) {
            instance.function.kill();
        }
        let mut a = self.accounting.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(stats) = a.per_instance.get_mut(i) {
            stats.peak_rss_kib = stats.peak_rss_kib.max(rss);
            stats.cpu_ms += cpu_delta;
            if let Some(busy) = busy {
                stats.busy_ms += u64::try_from(busy.as_millis()).unwrap_or(u64::MAX);
            }
        }
        a.in_flight = a.in_flight.saturating_sub(1);
        self.mark(&mut a, now, instances.len());
    }

    /// `at` in ms since the function was created.
    fn since_created(&self, at: tokio::time::Instant) -> u64 {
        u64::try_from(at.saturating_duration_since(self.created).as_millis()).unwrap_or(u64::MAX)
    }

    fn mark(&self, a: &mut Accounting, now: tokio::time::Instant, instances: usize) {
        a.timeline.push(TimelinePoint {
            at_ms: self.since_created(now),
            in_flight: a.in_flight,
            instances,
        });
    }

    /// Runs one invocation on an instance and books it.
    pub(crate) async fn invoke(
        &self,
        payload: Value,
        invocation_type: &str,
        when_busy: WhenBusy,
    ) -> Result<InvocationResult, LocalError> {
        let requested = tokio::time::Instant::now();
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
            self.book(r, invocation_type, index, requested);
        }
        {
            let mut instances = self.instances.lock().await;
            self.release(&mut instances, index);
        }
        self.freed.notify_waiters();
        result
    }

    fn book(
        &self,
        r: &InvocationResult,
        invocation_type: &str,
        instance: usize,
        requested: tokio::time::Instant,
    ) {
        let started_unix_ms = std::time::SystemTime::now()
            .checked_sub(r.queued_at.elapsed())
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        let billed = r.finished_at.saturating_duration_since(r.queued_at);
        let billed_ms = u64::try_from(billed.as_micros().div_ceil(1000)).unwrap_or(u64::MAX);
        let outcome = match &r.outcome {
            Outcome::Response(_) => "response",
            Outcome::Error { .. } => "error",
            Outcome::Timeout => "timeout",
            Outcome::Crashed { .. } => "crashed",
        };
        let mut a = self.accounting.lock().unwrap_or_else(|e| e.into_inner());
        a.invocations += 1;
        a.cold_starts += u64::from(r.cold);
        a.errors += u64::from(matches!(outcome, "error" | "crashed"));
        a.timeouts += u64::from(outcome == "timeout");
        a.billed_ms += billed_ms;
        a.gb_seconds += billed_ms as f64 / 1000.0 * f64::from(self.config.memory_mb) / 1024.0;
        a.records.push(InvocationRecord {
            request_id: r.request_id.clone(),
            invocation_type: invocation_type.to_owned(),
            instance,
            cold: r.cold,
            outcome: outcome.to_owned(),
            billed_ms,
            requested_ms: self.since_created(requested),
            started_ms: self.since_created(r.queued_at),
            delivered_ms: r.delivered_at.map(|d| self.since_created(d)),
            ended_ms: self.since_created(r.finished_at),
            started_unix_ms,
            response: r.response().cloned(),
        });
    }

    /// The process ids of the instances that have a live process, by instance index.
    pub(crate) async fn pids(&self) -> Vec<Option<u32>> {
        self.instances
            .lock()
            .await
            .iter()
            .map(|i| i.function.pid())
            .collect()
    }

    /// Each instance's output (stdout and stderr) so far, by instance index.
    pub(crate) async fn logs(&self) -> Vec<String> {
        self.instances
            .lock()
            .await
            .iter()
            .map(|i| i.function.logs())
            .collect()
    }

    /// Kills every instance's process.
    pub(crate) async fn stop(&self) {
        for i in self.instances.lock().await.iter() {
            i.function.kill();
        }
    }
}
