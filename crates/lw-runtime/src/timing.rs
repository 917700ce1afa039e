//! The lifecycle's fixed time limits.

use std::time::Duration;
/// How long an async configure callback (`run_worker_async`) may take in Lambda: Lambda's
/// init phase allows 10 s, which also covers the process's start and the init error's
/// report, so a second of it is left.
pub const INIT_BUDGET: Duration = Duration::from_secs(9);
/// Kept for the shutdown hooks out of the time the per-invocation teardowns share with them
/// (when there are hooks): a teardown that overruns cannot leave the hooks (the telemetry
/// flush) nothing.
pub const HOOKS_RESERVE: Duration = Duration::from_millis(150);
/// Work time (remaining − buffer) at or below which an invocation is refused.
pub const MIN_WORK_TIME: Duration = Duration::from_secs(1);
/// Work time below which one warning is logged.
pub const WARN_WORK_TIME: Duration = Duration::from_secs(5);
/// After the stop timeout, how long cancelled activities get before the run is dropped.
pub const CANCEL_GRACE: Duration = Duration::from_secs(1);
/// Kept free before the deadline for the drain's end: hooks and close fit in the rest.
pub const DRAIN_RESERVE: Duration = Duration::from_millis(500);
/// Kept free before the deadline for posting the response after the hooks.
pub const RESPONSE_RESERVE: Duration = Duration::from_millis(200);
/// Lambda's longest function timeout: a deadline further away than this is not one
/// Lambda sent, and is cut to it.
pub const MAX_INVOCATION: Duration = Duration::from_secs(15 * 60);
/// Deadlines before this (2001-01-01, in ms since the epoch) are not deadlines: `0`, or
/// the 1970 value `cargo lambda watch` sends.
pub const NO_DEADLINE_BEFORE_MS: u64 = 978_307_200_000;
/// The window an invocation without a usable deadline gets, as if it were the function
/// timeout (the buffer still applies).
pub const NO_DEADLINE_WINDOW: Duration = Duration::from_secs(60);
/// The least time after a worker's start before its idle clock starts (idle exit): the
/// larger of this and twice the connect time.
pub const POLL_ALLOWANCE_MIN: Duration = Duration::from_millis(100);
