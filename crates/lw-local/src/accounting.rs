//! What lw-local books for each function (version): every invocation as billed
//! ([`InvocationRecord`]), the totals ([`Accounting`]), each instance's figures
//! ([`InstanceStats`]) and the invocations in flight over time ([`TimelinePoint`]); and the
//! table [`crate::LocalLambda::report`] prints.
//!
//! The pool ([`crate::pool`]) decides what runs where; this file only counts.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;
use serde_json::Value;
use tokio::time::Instant;

use crate::{InvocationResult, Outcome};

/// How many invocation records and timeline points an [`Accounting`] keeps: the last ones
/// (when full, the oldest tenth is dropped). The totals count every invocation.
pub const MAX_RECORDS: usize = 10_000;

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
    /// The invocations, oldest first: the last [`MAX_RECORDS`] at most (`invocations`
    /// counts them all).
    pub records: Vec<InvocationRecord>,
    /// Each instance's figures, by instance index.
    pub per_instance: Vec<InstanceStats>,
    /// Invocations in flight over time: a point at every change (the last [`MAX_RECORDS`]
    /// at most).
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

/// The clock of one pool's figures: milliseconds since the pool (a function or one of its
/// versions) was created.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Epoch(Instant);

impl Epoch {
    /// Starts the clock now.
    pub(crate) fn now() -> Self {
        Self(Instant::now())
    }

    /// `at` in ms since the clock started.
    pub(crate) fn ms(self, at: Instant) -> u64 {
        millis(at.saturating_duration_since(self.0))
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// What an instance's process showed when one of its invocations ended.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct EndReading {
    /// Its peak resident memory (`VmHWM`), KiB.
    pub(crate) peak_rss_kib: u64,
    /// CPU time used since the last reading, ms.
    pub(crate) cpu_ms: u64,
    /// How long it was busy, when this end left it idle.
    pub(crate) busy: Option<Duration>,
}

impl Accounting {
    /// An invocation was handed to instance `i`, which now holds `held` of them; the pool
    /// has `instances` instances.
    pub(crate) fn started(&mut self, i: usize, held: usize, instances: usize, at_ms: u64) {
        self.instances = self.instances.max(instances);
        if self.per_instance.len() < instances {
            self.per_instance
                .resize(instances, InstanceStats::default());
        }
        let stats = &mut self.per_instance[i];
        stats.invocations += 1;
        stats.peak_in_flight = stats.peak_in_flight.max(held);
        self.in_flight += 1;
        self.mark(at_ms, instances);
    }

    /// An invocation on instance `i` ended, and its process showed `reading`.
    pub(crate) fn ended(&mut self, i: usize, reading: EndReading, instances: usize, at_ms: u64) {
        if let Some(stats) = self.per_instance.get_mut(i) {
            stats.peak_rss_kib = stats.peak_rss_kib.max(reading.peak_rss_kib);
            stats.cpu_ms += reading.cpu_ms;
            if let Some(busy) = reading.busy {
                stats.busy_ms += millis(busy);
            }
        }
        self.in_flight = self.in_flight.saturating_sub(1);
        self.mark(at_ms, instances);
    }

    /// A synchronous invocation was refused: every instance was busy at the limit.
    pub(crate) fn throttled(&mut self) {
        self.throttles += 1;
    }

    /// Books a finished invocation of a function with `memory_mb` of memory.
    pub(crate) fn book(&mut self, record: InvocationRecord, memory_mb: u32) {
        self.invocations += 1;
        self.cold_starts += u64::from(record.cold);
        self.errors += u64::from(matches!(record.outcome.as_str(), "error" | "crashed"));
        self.timeouts += u64::from(record.outcome == "timeout");
        self.billed_ms += record.billed_ms;
        self.gb_seconds += record.billed_ms as f64 / 1000.0 * f64::from(memory_mb) / 1024.0;
        crate::server::push_bounded(&mut self.records, record, MAX_RECORDS);
    }

    fn mark(&mut self, at_ms: u64, instances: usize) {
        let point = TimelinePoint {
            at_ms,
            in_flight: self.in_flight,
            instances,
        };
        crate::server::push_bounded(&mut self.timeline, point, MAX_RECORDS);
    }
}

impl InvocationRecord {
    /// The record of `r`, which arrived (as an Invoke call) at `requested` and ran on
    /// `instance`.
    pub(crate) fn new(
        r: &InvocationResult,
        invocation_type: &str,
        instance: usize,
        requested: Instant,
        epoch: Epoch,
    ) -> Self {
        let started_unix_ms = SystemTime::now()
            .checked_sub(r.queued_at.elapsed())
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, millis);
        // Billed from the moment it was queued: a cold start's init is billed with it.
        let billed = r.finished_at.saturating_duration_since(r.queued_at);
        let outcome = match &r.outcome {
            Outcome::Response(_) => "response",
            Outcome::Error { .. } => "error",
            Outcome::Timeout => "timeout",
            Outcome::Crashed { .. } => "crashed",
        };
        Self {
            request_id: r.request_id.clone(),
            invocation_type: invocation_type.to_owned(),
            instance,
            cold: r.cold,
            outcome: outcome.to_owned(),
            billed_ms: u64::try_from(billed.as_micros().div_ceil(1000)).unwrap_or(u64::MAX),
            requested_ms: epoch.ms(requested),
            started_ms: epoch.ms(r.queued_at),
            delivered_ms: r.delivered_at.map(|d| epoch.ms(d)),
            ended_ms: epoch.ms(r.finished_at),
            started_unix_ms,
            response: r.response().cloned(),
        }
    }
}

/// A table of accountings, one row per label (a function or `name:3` for a version).
pub(crate) fn report<'a>(rows: impl IntoIterator<Item = (&'a str, Accounting)>) -> String {
    let mut out = String::from(
        "function      invocations  cold  errors  timeouts  throttles  instances  at once  billed ms   GB-s\n",
    );
    for (label, a) in rows {
        // The most invocations one instance held at once (above 1: Managed Instances).
        let at_once = a.per_instance.iter().map(|i| i.peak_in_flight).max();
        out.push_str(&format!(
            "{:<13} {:>11}  {:>4}  {:>6}  {:>8}  {:>9}  {:>9}  {:>7}  {:>9}  {:>5.1}\n",
            label,
            a.invocations,
            a.cold_starts,
            a.errors,
            a.timeouts,
            a.throttles,
            a.instances,
            at_once.unwrap_or(0),
            a.billed_ms,
            a.gb_seconds
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_and_timeline_are_bounded_and_totals_count_everything() {
        let mut a = Accounting::default();
        let n = MAX_RECORDS + 7;
        for i in 0..n {
            a.started(0, 1, 1, i as u64);
            a.ended(0, EndReading::default(), 1, i as u64);
            let record = InvocationRecord {
                request_id: i.to_string(),
                invocation_type: "Event".into(),
                instance: 0,
                cold: false,
                outcome: "response".into(),
                billed_ms: 1,
                requested_ms: 0,
                started_ms: 0,
                delivered_ms: None,
                ended_ms: 0,
                started_unix_ms: 0,
                response: None,
            };
            a.book(record, 128);
        }
        assert_eq!(a.invocations, n as u64);
        assert_eq!(a.billed_ms, n as u64);
        assert!(a.records.len() <= MAX_RECORDS && a.timeline.len() <= MAX_RECORDS);
        assert_eq!(a.records.last().unwrap().request_id, (n - 1).to_string());
        assert_eq!(a.timeline.last().unwrap().at_ms, (n - 1) as u64);
    }
}
