//! A burst's figures: from `lw-local`'s invocation records, instances and timeline (before
//! and after the burst) and the workflows' histories.

use lw_local::{Accounting, InvocationRecord};
use lw_testkit::WorkflowOutcome;

use super::runner::MEMORY_MB;
use crate::bench::report::median;

/// One burst, measured.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub(super) struct BurstRun {
    pub(super) workflows: usize,
    pub(super) seconds_to_all_done: f64,
    pub(super) instances: usize,
    pub(super) invocations: usize,
    pub(super) cold_starts: usize,
    /// The most invocations one instance held at once.
    pub(super) peak_in_flight: usize,
    /// The most invocations in flight at once, over all instances.
    pub(super) most_in_flight: u64,
    /// Peak RSS of the largest instance, MiB.
    pub(super) peak_rss_mib_max: f64,
    /// Peak RSS averaged over the instances, MiB.
    pub(super) peak_rss_mib_mean: f64,
    /// Seconds the instances held at least one invocation, summed.
    pub(super) instance_busy_s: f64,
    /// Billed GB-s (per-invocation duration × memory, Lambda's default model) per 1000
    /// workflows.
    pub(super) gb_s_per_1000: f64,
    /// Instance-seconds busy × memory per 1000 workflows (what Managed Instances pay for).
    pub(super) instance_gb_s_per_1000: f64,
    /// The burst's start → the controller's first Invoke, ms.
    pub(super) first_invoke_ms: f64,
    /// The burst's start → its last Invoke, ms.
    pub(super) last_invoke_ms: f64,
    /// Median gap between consecutive Invokes, ms.
    pub(super) invoke_gap_ms: f64,
    /// Median Invoke → the invocation queued on an instance (waiting for room), ms.
    pub(super) wait_for_instance_ms: f64,
    /// Median queued → first task picked up by that invocation's worker, cold starts, ms.
    pub(super) to_first_task_cold_ms: f64,
    /// The same for warm invocations, ms.
    pub(super) to_first_task_warm_ms: f64,
    /// Invocations whose worker picked up no task at all.
    pub(super) invocations_without_task: usize,
    /// Invocations that ended by the idle exit (lambdaworker's report says so).
    pub(super) ended_idle: usize,
    /// Of which before the burst's last workflow completed.
    pub(super) ended_idle_before_done: usize,
    /// The dev server's CPU over the burst (start → last invocation ended) per workflow, ms.
    pub(super) server_cpu_ms_per_wf: f64,
    /// The function processes' CPU over the burst per workflow, ms.
    pub(super) worker_cpu_ms_per_wf: f64,
    /// `(seconds since the burst's start, invocations in flight)` at every change.
    pub(super) timeline: Vec<(f64, u64)>,
    /// Seconds since the burst's start at which each workflow completed, sorted.
    pub(super) completed_s: Vec<f64>,
}

pub(super) fn ms(t: std::time::SystemTime) -> f64 {
    t.duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

/// The burst's figures from the function's accounting (before and after) and the
/// workflows' histories.
pub(super) fn measure(
    before: &Accounting,
    a: &Accounting,
    workflows: usize,
    outcomes: &[WorkflowOutcome],
    started: std::time::SystemTime,
    polled_seconds: f64,
) -> BurstRun {
    let records: &[InvocationRecord] = a.records.get(before.records.len()..).unwrap_or(&[]);
    let timeline = a.timeline.get(before.timeline.len()..).unwrap_or(&[]);
    // The burst's start on the function's clock (ms since it was created): each record
    // stamps one moment on both clocks; the median over them.
    let origin = median(
        records
            .iter()
            .map(|r| r.started_ms as f64 - (r.started_unix_ms as f64 - ms(started)))
            .collect(),
    );
    let origin = if origin.is_finite() { origin } else { 0.0 };
    let rel = |at_ms: u64| (at_ms as f64 - origin).max(0.0);
    // Time to all done by the server's clock: the last workflow's close event.
    let mut completed: Vec<f64> = outcomes
        .iter()
        .filter_map(|o| o.closed_at)
        .map(|t| (ms(t) - ms(started)) / 1000.0)
        .collect();
    completed.sort_by(f64::total_cmp);
    let seconds_to_all_done = completed.last().copied().unwrap_or(polled_seconds);
    let mut run = BurstRun {
        workflows,
        seconds_to_all_done,
        invocations: records.len(),
        cold_starts: records.iter().filter(|r| r.cold).count(),
        most_in_flight: timeline.iter().map(|p| p.in_flight).max().unwrap_or(0),
        gb_s_per_1000: (a.gb_seconds - before.gb_seconds) / workflows as f64 * 1000.0,
        ended_idle: records.iter().filter(|r| ended_idle(r)).count(),
        ended_idle_before_done: records
            .iter()
            .filter(|r| ended_idle(r) && rel(r.ended_ms) < seconds_to_all_done * 1000.0)
            .count(),
        timeline: timeline
            .iter()
            .map(|p| (rel(p.at_ms) / 1000.0, p.in_flight))
            .collect(),
        completed_s: completed,
        ..BurstRun::default()
    };
    invokes(&mut run, records, &rel);
    first_tasks(&mut run, records, outcomes);
    instances(&mut run, before, a);
    run
}

/// The controller's Invokes and each one's wait for an instance.
fn invokes(run: &mut BurstRun, records: &[InvocationRecord], rel: &dyn Fn(u64) -> f64) {
    let mut requested: Vec<f64> = records.iter().map(|r| rel(r.requested_ms)).collect();
    requested.sort_by(f64::total_cmp);
    run.first_invoke_ms = requested.first().copied().unwrap_or(f64::NAN);
    run.last_invoke_ms = requested.last().copied().unwrap_or(f64::NAN);
    run.invoke_gap_ms = median(requested.windows(2).map(|w| w[1] - w[0]).collect());
    run.wait_for_instance_ms = median(
        records
            .iter()
            .map(|r| r.started_ms.saturating_sub(r.requested_ms) as f64)
            .collect(),
    );
}

/// Each invocation's time from its start to the first task its worker picked up.
fn first_tasks(run: &mut BurstRun, records: &[InvocationRecord], outcomes: &[WorkflowOutcome]) {
    let first = lw_testkit::first_task_by_request(outcomes);
    let to_first = |cold: bool| {
        median(
            records
                .iter()
                .filter(|r| r.cold == cold)
                .filter_map(|r| Some(ms(*first.get(&r.request_id)?) - r.started_unix_ms as f64))
                .collect(),
        )
    };
    run.to_first_task_cold_ms = to_first(true);
    run.to_first_task_warm_ms = to_first(false);
    run.invocations_without_task = records
        .iter()
        .filter(|r| !first.contains_key(&r.request_id))
        .count();
}

/// Instances: how many, their peak RSS, busy time and CPU over the burst.
fn instances(run: &mut BurstRun, before: &Accounting, a: &Accounting) {
    let earlier = |i: usize| before.per_instance.get(i).cloned().unwrap_or_default();
    let (mut busy_ms, mut cpu_ms) = (0_u64, 0_u64);
    for (i, s) in a.per_instance.iter().enumerate() {
        busy_ms += s.busy_ms.saturating_sub(earlier(i).busy_ms);
        cpu_ms += s.cpu_ms.saturating_sub(earlier(i).cpu_ms);
    }
    let rss: Vec<f64> = a
        .per_instance
        .iter()
        .map(|i| i.peak_rss_kib as f64 / 1024.0)
        .collect();
    let workflows = run.workflows as f64;
    run.instances = a.instances;
    run.peak_in_flight = a
        .per_instance
        .iter()
        .map(|i| i.peak_in_flight)
        .max()
        .unwrap_or(0);
    run.peak_rss_mib_max = rss.iter().copied().fold(0.0, f64::max);
    run.peak_rss_mib_mean = rss.iter().sum::<f64>() / rss.len().max(1) as f64;
    run.instance_busy_s = busy_ms as f64 / 1000.0;
    run.instance_gb_s_per_1000 =
        busy_ms as f64 / 1000.0 * f64::from(MEMORY_MB) / 1024.0 / workflows * 1000.0;
    run.worker_cpu_ms_per_wf = cpu_ms as f64 / workflows;
}

/// Whether the invocation's report says the idle exit ended it.
fn ended_idle(r: &InvocationRecord) -> bool {
    r.response
        .as_ref()
        .and_then(|v| v.get("ended"))
        .and_then(|v| v.as_str())
        == Some("idle")
}

#[cfg(test)]
mod tests {
    use super::*;
    use lw_local::{InstanceStats, TimelinePoint};
    use std::time::{Duration, SystemTime};

    fn record(
        id: &str,
        cold: bool,
        at: (u64, u64, u64),
        unix: u64,
        ended: &str,
    ) -> InvocationRecord {
        InvocationRecord {
            request_id: id.into(),
            invocation_type: "Event".into(),
            instance: 0,
            cold,
            outcome: "response".into(),
            billed_ms: at.2 - at.1,
            requested_ms: at.0,
            started_ms: at.1,
            delivered_ms: Some(at.1 + 5),
            ended_ms: at.2,
            started_unix_ms: unix,
            response: Some(serde_json::json!({ "ended": ended })),
        }
    }

    fn outcome(closed: SystemTime, starts: &[(&str, SystemTime)]) -> WorkflowOutcome {
        WorkflowOutcome {
            id: "w".into(),
            result: Some("Hello".into()),
            activity_completions: 1,
            activity_attempt: Some(1),
            started_at: None,
            closed_at: Some(closed),
            timeline: Vec::new(),
            task_starts: starts
                .iter()
                .map(|(i, t)| (format!("{i}@arn:aws:lambda:x"), *t))
                .collect(),
        }
    }

    /// The figures of a made-up burst: two invocations (one cold, one warm) on the
    /// function's clock where the burst started at 10 000 ms (wall clock 1 000 000 ms).
    #[test]
    fn a_burst_is_measured_from_the_records_and_histories() {
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_millis(1_000_000);
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        let before = Accounting {
            records: vec![record("validation", true, (0, 0, 500), 990_000, "idle")],
            per_instance: vec![InstanceStats {
                cpu_ms: 100,
                busy_ms: 500,
                ..Default::default()
            }],
            timeline: vec![TimelinePoint {
                at_ms: 0,
                in_flight: 1,
                instances: 1,
            }],
            gb_seconds: 1.0,
            ..Default::default()
        };
        let mut a = before.clone();
        a.records.push(record(
            "a",
            true,
            (10_200, 10_250, 12_000),
            1_000_250,
            "idle",
        ));
        a.records.push(record(
            "b",
            false,
            (10_600, 10_600, 13_000),
            1_000_600,
            "deadline",
        ));
        a.per_instance = vec![
            InstanceStats {
                cpu_ms: 300,
                busy_ms: 2_900,
                peak_rss_kib: 15 * 1024,
                ..Default::default()
            },
            InstanceStats {
                cpu_ms: 100,
                busy_ms: 1_750,
                peak_rss_kib: 14 * 1024,
                ..Default::default()
            },
        ];
        a.timeline.extend([
            TimelinePoint {
                at_ms: 10_250,
                in_flight: 1,
                instances: 2,
            },
            TimelinePoint {
                at_ms: 10_600,
                in_flight: 2,
                instances: 2,
            },
            TimelinePoint {
                at_ms: 12_000,
                in_flight: 1,
                instances: 2,
            },
        ]);
        a.instances = 2;
        a.gb_seconds = 2.0;
        let outcomes = [
            outcome(at(2_500), &[("a", at(290)), ("b", at(700))]),
            outcome(at(3_000), &[("a", at(400))]),
        ];
        let r = measure(&before, &a, 2, &outcomes, t0, 9.0);
        assert_eq!(r.invocations, 2);
        assert_eq!(r.cold_starts, 1);
        assert_eq!(
            r.seconds_to_all_done, 3.0,
            "the last close event, not the polled time"
        );
        assert_eq!(r.completed_s, vec![2.5, 3.0]);
        assert_eq!((r.first_invoke_ms, r.last_invoke_ms), (200.0, 600.0));
        assert_eq!(r.invoke_gap_ms, 400.0);
        assert_eq!(r.wait_for_instance_ms, 25.0);
        assert_eq!(r.to_first_task_cold_ms, 40.0);
        assert_eq!(r.to_first_task_warm_ms, 100.0);
        assert_eq!(r.invocations_without_task, 0);
        assert_eq!((r.ended_idle, r.ended_idle_before_done), (1, 1));
        assert_eq!(r.gb_s_per_1000, 500.0);
        assert_eq!(r.worker_cpu_ms_per_wf, 150.0);
        assert_eq!(r.instance_busy_s, 4.15);
        assert_eq!(r.most_in_flight, 2);
        assert_eq!(r.timeline.first(), Some(&(0.25, 1)));
    }
}
