//! [`Invocation`]: one invocation as the engine sees it, from Lambda or any other source.

use std::time::Duration;

use tokio::time::Instant;
use tracing::warn;

use crate::timing;

/// One invocation, from Lambda or any other source.
#[derive(Debug, Clone)]
pub struct Invocation {
    /// The request id (`Lambda-Runtime-Aws-Request-Id`).
    pub request_id: String,
    /// The invoked function's ARN.
    pub function_arn: String,
    /// When the invocation must have answered.
    pub deadline: Instant,
    /// Lambda's X-Ray trace header (`Lambda-Runtime-Trace-Id`), if any.
    pub xray_trace_id: Option<String>,
    /// The runtime sent no usable deadline; `deadline` is a default window
    /// ([`timing::NO_DEADLINE_WINDOW`]). Reported as the `no_deadline` warning.
    pub no_deadline: bool,
    /// Not a Lambda invocation but the long-lived local mode ([`Invocation::local`]): the
    /// worker keeps the SDK's default identity and never leaves early when idle.
    pub local: bool,
    /// The event Lambda delivered (`Null` when none): what
    /// [`lw_options::InvocationConfig::event`] shows the per-invocation callbacks.
    pub payload: serde_json::Value,
}

impl Invocation {
    /// An invocation that must have answered by `deadline`.
    pub fn new(
        request_id: impl Into<String>,
        function_arn: impl Into<String>,
        deadline: Instant,
    ) -> Self {
        Self {
            request_id: request_id.into(),
            function_arn: function_arn.into(),
            deadline,
            xray_trace_id: None,
            no_deadline: false,
            local: false,
            payload: serde_json::Value::Null,
        }
    }

    /// The long-lived worker of local mode (outside Lambda): runs until
    /// [`Engine::request_shutdown`](crate::Engine::request_shutdown) (a year at most), then drains.
    pub fn local() -> Self {
        let mut me = Self::new(
            "local",
            "",
            Instant::now() + Duration::from_secs(365 * 24 * 3600),
        );
        me.local = true;
        me
    }

    /// An invocation whose deadline is `deadline_ms` milliseconds since the Unix epoch (the
    /// Runtime API's `Lambda-Runtime-Deadline-Ms`).
    ///
    /// A deadline before 2001 (0, or the 1970 one `cargo lambda watch` sends) is no deadline:
    /// the invocation gets [`timing::NO_DEADLINE_WINDOW`] (60 s) as if that were the function
    /// timeout, with a warning, so local development works. A deadline already past leaves
    /// no time: [`Engine::invoke`](crate::Engine::invoke) then answers `NotEnoughTime` at once, naming the numbers.
    /// A deadline further away than [`timing::MAX_INVOCATION`] (Lambda's 15-minute maximum)
    /// or beyond what the clock can represent is cut to it, with a warning: never a panic, a
    /// negative wait or a worker that outlives any real invocation.
    pub fn from_epoch_deadline(request_id: &str, function_arn: &str, deadline_ms: u64) -> Self {
        if deadline_ms < timing::NO_DEADLINE_BEFORE_MS {
            warn!(
                deadline_ms,
                window_s = timing::NO_DEADLINE_WINDOW.as_secs(),
                "the runtime sent no usable deadline (as `cargo lambda watch` does); working \
                 for a default window as if it were the function timeout"
            );
            let mut me = Self::new(
                request_id,
                function_arn,
                Instant::now() + timing::NO_DEADLINE_WINDOW,
            );
            me.no_deadline = true;
            return me;
        }
        let remaining = std::time::UNIX_EPOCH
            .checked_add(Duration::from_millis(deadline_ms))
            .map(|deadline| {
                deadline
                    .duration_since(std::time::SystemTime::now())
                    .unwrap_or_default()
            })
            .unwrap_or(Duration::MAX);
        let remaining = if remaining > timing::MAX_INVOCATION {
            warn!(
                deadline_ms,
                max_s = timing::MAX_INVOCATION.as_secs(),
                "the invocation deadline is further away than Lambda allows; using the maximum"
            );
            timing::MAX_INVOCATION
        } else {
            remaining
        };
        Self::new(request_id, function_arn, Instant::now() + remaining)
    }

    /// The same invocation carrying the event Lambda delivered.
    pub fn with_payload(mut self, payload: serde_json::Value) -> Self {
        self.payload = payload;
        self
    }

    /// The same invocation carrying Lambda's X-Ray trace header.
    pub fn with_xray_trace_id(mut self, header: Option<String>) -> Self {
        self.xray_trace_id = header.filter(|h| !h.is_empty());
        self
    }
}
