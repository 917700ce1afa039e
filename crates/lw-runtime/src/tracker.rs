//! What one invocation's worker has in flight, seen through SDK interceptors: for the idle
//! early exit and the invocation report.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use futures::future::LocalBoxFuture;
use temporalio_common::protos::coresdk::{
    workflow_activation::WorkflowActivation, workflow_completion::WorkflowActivationCompletion,
};
use temporalio_sdk::{
    Worker, WorkerOptions,
    interceptors::{
        ActivityInboundInterceptor, ExecuteActivityInput, ExecuteActivityOutput, Next,
        RunWorkerInput, WorkerInterceptor,
    },
};
use tokio::{sync::watch, time::Instant};

#[derive(Debug, Clone, Copy)]
struct State {
    /// The worker's run has started (its pollers are being started).
    started: bool,
    /// Workflow activations, activities and local activities in flight.
    in_flight: u64,
    /// When `in_flight` last changed, or the run started.
    last_change: Instant,
}

/// Counts one worker's work in flight and done.
#[derive(Debug)]
pub struct Tracker {
    state: watch::Sender<State>,
    /// Runs with an activation in flight (one at a time per run), so that a completion
    /// without a matching activation (one that failed to decode) is not taken off another.
    runs: std::sync::Mutex<std::collections::HashSet<String>>,
    /// Added to the run's start before the idle clock starts: the namespace check and the
    /// first polls go out in that time.
    poll_allowance_ms: AtomicU64,
    activations: AtomicU64,
    activities: AtomicU64,
    local_activities: AtomicU64,
}

impl Default for Tracker {
    fn default() -> Self {
        Self {
            state: watch::Sender::new(State {
                started: false,
                in_flight: 0,
                last_change: Instant::now(),
            }),
            runs: std::sync::Mutex::new(std::collections::HashSet::new()),
            poll_allowance_ms: AtomicU64::new(0),
            activations: AtomicU64::new(0),
            activities: AtomicU64::new(0),
            local_activities: AtomicU64::new(0),
        }
    }
}

impl Tracker {
    /// Adds the interceptors that feed this tracker to `options`; they append to any
    /// others (e.g. `lw-otel`'s).
    pub fn attach(self: &Arc<Self>, options: &mut WorkerOptions) {
        options.worker_interceptor(Watch(self.clone()));
        options.activity_inbound_interceptor(Watch(self.clone()));
    }

    /// Sets how long after the run's start the idle clock starts.
    pub fn set_poll_allowance(&self, allowance: Duration) {
        self.poll_allowance_ms.store(
            u64::try_from(allowance.as_millis()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
    }

    /// The run started; the idle clock starts after the poll allowance.
    pub fn started(&self) {
        let allowance = Duration::from_millis(self.poll_allowance_ms.load(Ordering::Relaxed));
        self.state.send_modify(|s| {
            s.started = true;
            s.last_change = Instant::now() + allowance;
        });
    }

    fn runs(&self) -> std::sync::MutexGuard<'_, std::collections::HashSet<String>> {
        self.runs.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A workflow activation for `run_id` began.
    pub fn activation_began(&self, run_id: &str) {
        if self.runs().insert(run_id.to_owned()) {
            self.begin();
        }
    }

    /// The activation of `run_id` completed.
    pub fn activation_completed(&self, run_id: &str) {
        if self.runs().remove(run_id) {
            self.activation_done();
        }
    }

    /// Something began.
    pub fn begin(&self) {
        self.state.send_modify(|s| {
            s.in_flight += 1;
            s.last_change = s.last_change.max(Instant::now());
        });
    }

    /// Something ended; `counter` counts it as done.
    fn end(&self, counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
        self.state.send_modify(|s| {
            s.in_flight = s.in_flight.saturating_sub(1);
            s.last_change = s.last_change.max(Instant::now());
        });
    }

    /// A workflow activation completed.
    fn activation_done(&self) {
        self.end(&self.activations);
    }

    /// `(workflow activations, activities, local activities)` completed so far.
    pub fn done(&self) -> (u64, u64, u64) {
        (
            self.activations.load(Ordering::Relaxed),
            self.activities.load(Ordering::Relaxed),
            self.local_activities.load(Ordering::Relaxed),
        )
    }

    /// Resolves once the run has started and nothing has been in flight for `idle`.
    pub async fn wait_idle(&self, idle: Duration) {
        let mut rx = self.state.subscribe();
        loop {
            let s = *rx.borrow_and_update();
            if s.started && s.in_flight == 0 {
                let quiet_until = s.last_change + idle;
                if Instant::now() >= quiet_until {
                    return;
                }
                tokio::select! {
                    () = tokio::time::sleep_until(quiet_until) => {}
                    r = rx.changed() => if r.is_err() { std::future::pending::<()>().await },
                }
            } else if rx.changed().await.is_err() {
                std::future::pending::<()>().await;
            }
        }
    }
}

/// The interceptors.
struct Watch(Arc<Tracker>);

/// Ends an activity when its future completes or is dropped.
struct ActivityGuard {
    tracker: Arc<Tracker>,
    local: bool,
}

impl Drop for ActivityGuard {
    fn drop(&mut self) {
        let t = &self.tracker;
        t.end(if self.local {
            &t.local_activities
        } else {
            &t.activities
        });
    }
}

impl ActivityInboundInterceptor for Watch {
    fn execute_activity<'a>(
        &'a self,
        input: ExecuteActivityInput,
        next: Next<'a, ExecuteActivityInput, ExecuteActivityOutput<'a>>,
    ) -> ExecuteActivityOutput<'a> {
        self.0.begin();
        let guard = ActivityGuard {
            tracker: self.0.clone(),
            local: input.activity_info().is_local,
        };
        let run = next.run(input);
        Box::pin(async move {
            let out = run.await;
            drop(guard);
            out
        })
    }
}

#[async_trait::async_trait(?Send)]
impl WorkerInterceptor for Watch {
    fn run_worker<'a>(
        &'a self,
        input: RunWorkerInput<'a>,
        next: Next<
            'a,
            RunWorkerInput<'a>,
            LocalBoxFuture<'a, Result<(), temporalio_sdk::WorkerRunError>>,
        >,
    ) -> LocalBoxFuture<'a, Result<(), temporalio_sdk::WorkerRunError>> {
        self.0.started();
        next.run(input)
    }

    async fn on_workflow_activation_completion(&self, c: &WorkflowActivationCompletion) {
        self.0.activation_completed(&c.run_id);
    }

    fn on_shutdown(&self, _sdk_worker: &Worker) {}

    async fn on_workflow_activation(&self, a: &WorkflowActivation) -> Result<(), anyhow::Error> {
        self.0.activation_began(&a.run_id);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn idle_only_after_start_and_with_nothing_in_flight() {
        let t = Arc::new(Tracker::default());
        let idle = Duration::from_secs(2);
        let t0 = Instant::now();
        // Not started: never idle, however long.
        assert!(
            tokio::time::timeout(Duration::from_secs(30), t.wait_idle(idle))
                .await
                .is_err()
        );
        t.started();
        let started = Instant::now();
        t.begin();
        // Busy: not idle while the activity runs 10 s.
        let t2 = t.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(10)).await;
            t2.end(&t2.activities);
        });
        t.wait_idle(idle).await;
        assert_eq!(Instant::now() - started, Duration::from_secs(12));
        assert_eq!(t.done(), (0, 1, 0));
        assert!(Instant::now() - t0 >= Duration::from_secs(42));
    }

    #[tokio::test(start_paused = true)]
    async fn the_idle_clock_starts_after_the_poll_allowance() {
        let t = Arc::new(Tracker::default());
        t.set_poll_allowance(Duration::from_millis(300));
        t.started();
        let start = Instant::now();
        t.wait_idle(Duration::from_millis(200)).await;
        assert_eq!(Instant::now() - start, Duration::from_millis(500));
    }

    #[tokio::test(start_paused = true)]
    async fn a_completion_without_its_activation_does_not_hide_work_in_flight() {
        let t = Arc::new(Tracker::default());
        t.started();
        t.begin(); // an activity
        t.activation_completed("run-that-never-began");
        let idle =
            tokio::time::timeout(Duration::from_secs(30), t.wait_idle(Duration::from_secs(1)));
        assert!(idle.await.is_err(), "idle while an activity runs");
        t.activation_began("r1");
        t.activation_began("r1"); // the same run twice counts once
        t.activation_completed("r1");
        assert_eq!(t.done(), (1, 0, 0));
        t.end(&t.activities);
        t.wait_idle(Duration::from_secs(1)).await;
    }

    #[tokio::test(start_paused = true)]
    async fn each_completion_restarts_the_idle_period() {
        let t = Arc::new(Tracker::default());
        t.started();
        let start = Instant::now();
        let t2 = t.clone();
        tokio::spawn(async move {
            for _ in 0..3 {
                tokio::time::sleep(Duration::from_millis(1500)).await;
                t2.activation_began("r");
                t2.activation_completed("r");
            }
        });
        t.wait_idle(Duration::from_secs(2)).await;
        // Activations at 1.5, 3.0, 4.5 s; idle 2 s after the last.
        assert_eq!(Instant::now() - start, Duration::from_millis(6500));
        assert_eq!(t.done(), (3, 0, 0));
    }
}
