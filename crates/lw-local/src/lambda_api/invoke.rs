//! Invoke: synchronous (`RequestResponse`) and asynchronous (`Event`) invocations of a
//! function or one of its versions, answered as Lambda answers them.

use std::time::Duration;

use axum::{
    Json,
    body::Bytes,
    extract::{Path, Query, State},
    http::{HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};

use super::{Params, invalid, lambda_error, refused};
use crate::{LocalError, Outcome, pool::WhenBusy, server::AppState};

pub(crate) async fn invoke(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Query(q): Params,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let qualifier = q.get("Qualifier").map(String::as_str);
    let Some(f) = s.registry.find_qualified(&id, qualifier) else {
        let shown = match qualifier {
            Some(q) => format!("{id}:{q}"),
            None => id.clone(),
        };
        return refused(LocalError::NotFound(format!("Function not found: {shown}")));
    };
    let executed = f.version_label().to_owned();
    let kind = headers
        .get("x-amz-invocation-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("RequestResponse")
        .to_owned();
    // Lambda hands an empty payload to the function as `{}`.
    let payload: Value = if body.iter().all(u8::is_ascii_whitespace) {
        json!({})
    } else {
        match serde_json::from_slice(&body) {
            Ok(v) => v,
            Err(e) => {
                return lambda_error(
                    StatusCode::BAD_REQUEST,
                    "InvalidRequestContentException",
                    &format!("Could not parse request body into json: {e}"),
                );
            }
        }
    };
    let executed_header =
        HeaderValue::from_str(&executed).unwrap_or_else(|_| HeaderValue::from_static("$LATEST"));
    match kind.as_str() {
        "Event" => {
            tokio::spawn(async move {
                if let Err(e) = f.invoke(payload, "Event", WhenBusy::Wait).await {
                    tracing::warn!(function = %f.config.name, error = %e, "event invocation failed");
                }
            });
            let mut resp = StatusCode::ACCEPTED.into_response();
            resp.headers_mut()
                .insert("x-amz-executed-version", executed_header);
            resp
        }
        "RequestResponse" => {
            // On a task of its own: a caller that hangs up does not cut the invocation (and
            // its accounting) short, as on Lambda.
            let run = f.clone();
            let invoked = tokio::spawn(async move {
                run.invoke(payload, "RequestResponse", WhenBusy::Throttle)
                    .await
            })
            .await
            .unwrap_or_else(|e| Err(LocalError::Instance(format!("the invocation failed: {e}"))));
            match invoked {
                Ok(r) => {
                    let (error, body) = answer(r.outcome, &r.request_id, f.config.timeout);
                    let mut resp = Json(body).into_response();
                    let h = resp.headers_mut();
                    h.insert("x-amz-executed-version", executed_header);
                    if error {
                        h.insert(
                            "x-amz-function-error",
                            HeaderValue::from_static("Unhandled"),
                        );
                    }
                    resp
                }
                Err(LocalError::Throttled(name)) => lambda_error(
                    StatusCode::TOO_MANY_REQUESTS,
                    "TooManyRequestsException",
                    &format!("Rate Exceeded: {name} is at its reserved concurrency"),
                ),
                Err(e) => lambda_error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "ServiceException",
                    &e.to_string(),
                ),
            }
        }
        "DryRun" => StatusCode::NO_CONTENT.into_response(),
        other => invalid(format!(
            "X-Amz-Invocation-Type {other} is not RequestResponse, Event or DryRun"
        )),
    }
}

/// A synchronous invocation's body, and whether it is a function error.
fn answer(outcome: Outcome, request_id: &str, timeout: Duration) -> (bool, Value) {
    match outcome {
        Outcome::Response(v) => (false, v),
        Outcome::Error {
            error_type,
            message,
        } => (
            true,
            json!({"errorType": error_type, "errorMessage": message}),
        ),
        Outcome::Timeout => (
            true,
            json!({"errorType": "Sandbox.Timedout", "errorMessage": format!(
                "Task timed out after {:.2} seconds", timeout.as_secs_f64())}),
        ),
        Outcome::Crashed { status, .. } => (
            true,
            json!({"errorType": "Runtime.ExitError", "errorMessage": format!(
                "RequestId: {request_id} Error: Runtime exited: {status}")}),
        ),
    }
}
