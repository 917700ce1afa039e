//! Malformed `/next` answers (feature `testing`): [`NextFault`], for tests of how a runtime
//! copes with a broken or foreign Runtime API.

use std::time::{SystemTime, UNIX_EPOCH};

use axum::{
    http::{HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use tokio::time::Instant;

use super::{FunctionSpec, FunctionState, Shared, api::hand_out};

/// A malformed `/next` answer, as a broken or foreign Runtime API might give (feature
/// `testing`; set with [`FunctionSpec::next_fault`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextFault {
    /// This HTTP status, with a JSON error body and no invocation headers.
    Status(u16),
    /// 200 without `Lambda-Runtime-Aws-Request-Id`.
    MissingRequestId,
    /// 200 without `Lambda-Runtime-Deadline-Ms`.
    MissingDeadline,
    /// 200 with a `Lambda-Runtime-Deadline-Ms` that is not a number.
    DeadlineNotANumber,
}

impl FunctionSpec {
    /// Answers `/next` with `fault` instead of the next queued event (feature `testing`).
    pub fn next_fault(mut self, fault: NextFault) -> Self {
        self.next_fault = Some(fault);
        self
    }
}

/// With a fault set and an invocation queued: hands the invocation out (so that the
/// process's exit is reported as its outcome) and answers `/next` with the fault instead.
pub(super) fn faulty_next(shared: &Shared, s: &mut FunctionState) -> Option<Response> {
    let fault = shared.spec.next_fault?;
    let p = s.queue.pop_front()?;
    let now = Instant::now();
    let id = hand_out(s, p, now, now + shared.spec.timeout);
    Some(answer(fault, &shared.spec, &id))
}

/// The malformed answer `fault` describes.
fn answer(fault: NextFault, spec: &FunctionSpec, request_id: &str) -> Response {
    let deadline_ms = (SystemTime::now() + spec.timeout)
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis()
        .to_string();
    let mut headers = HeaderMap::new();
    let mut set = |name: &'static str, value: &str| {
        if let Ok(v) = HeaderValue::from_str(value) {
            headers.insert(name, v);
        }
    };
    let status = match fault {
        NextFault::Status(code) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let body = r#"{"errorMessage":"emulated failure","errorType":"ServiceException"}"#;
            return (status, body).into_response();
        }
        NextFault::MissingRequestId => {
            set("lambda-runtime-deadline-ms", &deadline_ms);
            StatusCode::OK
        }
        NextFault::MissingDeadline => {
            set("lambda-runtime-aws-request-id", request_id);
            StatusCode::OK
        }
        NextFault::DeadlineNotANumber => {
            set("lambda-runtime-aws-request-id", request_id);
            set("lambda-runtime-deadline-ms", "soon");
            StatusCode::OK
        }
    };
    set("lambda-runtime-invoked-function-arn", &spec.arn());
    (status, headers, "{}").into_response()
}
