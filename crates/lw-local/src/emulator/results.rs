//! What the emulator reports: how each invocation ended, and a process's resource use.

use std::time::Duration;

use serde_json::Value;
use tokio::time::Instant;

/// What `/proc/<pid>/status` says of a process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcStatus {
    /// Resident set size now, KiB (`VmRSS`).
    pub rss_kib: u64,
    /// Peak resident set size, KiB (`VmHWM`).
    pub peak_rss_kib: u64,
    /// Threads.
    pub threads: u64,
    /// CPU time used so far, user + system, in ms (`/proc/PID/stat`, 100 ticks a second).
    pub cpu_ms: u64,
}

impl ProcStatus {
    /// Reads the status of `pid` (Linux).
    pub fn read(pid: u32) -> Option<Self> {
        let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        let field = |name: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.split_whitespace().next())
                .and_then(|v| v.parse::<u64>().ok())
        };
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // The fields after the command name (which may hold spaces) in parentheses: state
        // is field 3, utime 14 and stime 15.
        let rest: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
        let ticks = |i: usize| rest.get(i).and_then(|v| v.parse::<u64>().ok());
        Some(Self {
            rss_kib: field("VmRSS:")?,
            peak_rss_kib: field("VmHWM:")?,
            threads: field("Threads:")?,
            cpu_ms: (ticks(11)? + ticks(12)?) * 10,
        })
    }
}

/// How an invocation ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// `/response` was posted.
    Response(Value),
    /// `/error` was posted.
    Error {
        /// `errorType`.
        error_type: String,
        /// `errorMessage`.
        message: String,
    },
    /// The deadline passed: the process was killed.
    Timeout,
    /// The process exited during init or the invocation.
    Crashed {
        /// Exit status text.
        status: String,
        /// The init error posted, if any.
        init_error: Option<Value>,
    },
}

/// What the emulator saw of one invocation.
#[derive(Debug, Clone)]
pub struct InvocationResult {
    /// The request id.
    pub request_id: String,
    /// How it ended.
    pub outcome: Outcome,
    /// Whether a process had to be started for it.
    pub cold: bool,
    /// When it was queued.
    pub queued_at: Instant,
    /// When `/next` handed it out.
    pub delivered_at: Option<Instant>,
    /// When it ended (response, error, kill).
    pub finished_at: Instant,
    /// The deadline given to the function.
    pub deadline: Option<Instant>,
}

impl InvocationResult {
    /// The response body, if the function answered.
    pub fn response(&self) -> Option<&Value> {
        match &self.outcome {
            Outcome::Response(v) => Some(v),
            _ => None,
        }
    }

    /// Time from hand-out to the end.
    pub fn duration(&self) -> Option<Duration> {
        self.delivered_at.map(|d| self.finished_at - d)
    }
}
