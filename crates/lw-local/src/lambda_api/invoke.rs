//! Invoke: synchronous (`RequestResponse`) and asynchronous (`Event`) invocations of a
//! function or one of its versions, answered as Lambda answers them.

use std::{sync::Arc, time::Duration};

use axum::{
    Json,
    body::Bytes,
    extract::{Path, Query, State},
    http::{HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};

use super::{Params, invalid, lambda_error, refused};
use crate::{
    LocalError, Outcome,
    pool::{Pool, WhenBusy},
    server::AppState,
};

/// `POST /2015-03-31/functions/{id}/invocations`: runs the function (or the version the
/// ARN or `Qualifier` names) as `X-Amz-Invocation-Type` says.
pub(crate) async fn invoke(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Query(q): Params,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let qualifier = q.get("Qualifier").map(String::as_str);
    let Some(pool) = s.registry.find_qualified(&id, qualifier) else {
        let shown = match qualifier {
            Some(q) => format!("{id}:{q}"),
            None => id.clone(),
        };
        return refused(LocalError::NotFound(format!("Function not found: {shown}")));
    };
    let payload = match payload(&body) {
        Ok(p) => p,
        Err(e) => {
            return lambda_error(
                StatusCode::BAD_REQUEST,
                "InvalidRequestContentException",
                &format!("Could not parse request body into json: {e}"),
            );
        }
    };
    let executed = HeaderValue::from_str(pool.version_label())
        .unwrap_or_else(|_| HeaderValue::from_static("$LATEST"));
    let kind = headers
        .get("x-amz-invocation-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("RequestResponse");
    let mut resp = match kind {
        "Event" => invoke_event(pool, payload),
        "RequestResponse" => invoke_sync(pool, payload).await,
        "DryRun" => return StatusCode::NO_CONTENT.into_response(),
        other => {
            return invalid(format!(
                "X-Amz-Invocation-Type {other} is not RequestResponse, Event or DryRun"
            ));
        }
    };
    if resp.status().is_success() {
        resp.headers_mut()
            .insert("x-amz-executed-version", executed);
    }
    resp
}

/// The request body as the function's event: JSON, and `{}` for an empty body (as Lambda
/// hands it over).
fn payload(body: &[u8]) -> Result<Value, serde_json::Error> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(json!({}));
    }
    serde_json::from_slice(body)
}

/// An `Event` invocation: accepted at once, run when an instance is free.
fn invoke_event(pool: Arc<Pool>, payload: Value) -> Response {
    tokio::spawn(async move {
        if let Err(e) = pool.invoke(payload, "Event", WhenBusy::Wait).await {
            tracing::warn!(function = %pool.config.name, error = %e, "event invocation failed");
        }
    });
    StatusCode::ACCEPTED.into_response()
}

/// A `RequestResponse` invocation: the function's answer (or Lambda's error for it), or
/// `TooManyRequestsException` when every instance is busy at the limit.
async fn invoke_sync(pool: Arc<Pool>, payload: Value) -> Response {
    // On a task of its own: a caller that hangs up does not cut the invocation (and its
    // accounting) short, as on Lambda.
    let run = pool.clone();
    let invoked = tokio::spawn(async move {
        run.invoke(payload, "RequestResponse", WhenBusy::Throttle)
            .await
    })
    .await
    .unwrap_or_else(|e| Err(LocalError::Instance(format!("the invocation failed: {e}"))));
    match invoked {
        Ok(r) => {
            let (error, body) = answer(r.outcome, &r.request_id, pool.config.timeout);
            let mut resp = Json(body).into_response();
            if error {
                resp.headers_mut().insert(
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
