//! The HTTP side: STS (query protocol, XML) and Lambda (REST-JSON) on one port, as
//! `AWS_ENDPOINT_URL` sends both there.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use crate::Outcome;
use axum::{
    Router,
    body::Bytes,
    extract::{Path, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
    routing::{any, get, post},
};
use serde_json::{Value, json};

use crate::{
    LocalError,
    pool::{Registry, WhenBusy},
};

/// A role Temporal may assume.
#[derive(Debug, Clone)]
pub struct RoleConfig {
    /// The role's ARN.
    pub arn: String,
    /// The ExternalId its trust policy requires; `None` means the trust policy does not
    /// require one (Temporal rejects such a role).
    pub external_id: Option<String>,
}

/// One STS call as seen, for tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssumeRoleCall {
    /// `RoleArn`.
    pub role_arn: String,
    /// `ExternalId`, if sent.
    pub external_id: Option<String>,
    /// Whether credentials were issued.
    pub granted: bool,
}

#[derive(Clone)]
pub(crate) struct AppState {
    pub(crate) registry: Registry,
    pub(crate) roles: Arc<Mutex<Vec<RoleConfig>>>,
    pub(crate) sts_calls: Arc<Mutex<Vec<AssumeRoleCall>>>,
    pub(crate) unknown: Arc<Mutex<Vec<String>>>,
}

pub(crate) fn router(state: AppState) -> Router {
    Router::new()
        .route("/", post(sts))
        .route("/2015-03-31/functions/{id}", get(get_function))
        .route("/2015-03-31/functions/{id}/invocations", post(invoke))
        .fallback(any(unknown))
        .with_state(state)
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

async fn unknown(State(s): State<AppState>, req: axum::extract::Request) -> Response {
    let what = format!("{} {}", req.method(), req.uri());
    tracing::warn!(request = %what, "lw-local: an AWS API this local service does not emulate");
    lock(&s.unknown).push(what.clone());
    lambda_error(
        StatusCode::BAD_REQUEST,
        "InvalidRequestContentException",
        &format!("lw-local does not emulate {what}"),
    )
}

// ---- STS --------------------------------------------------------------------------------

const STS_NS: &str = "https://sts.amazonaws.com/doc/2011-06-15/";

async fn sts(State(s): State<AppState>, body: Bytes) -> Response {
    let form: HashMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
    match form.get("Action").map(String::as_str) {
        Some("AssumeRole") => {}
        other => {
            return sts_error(
                StatusCode::BAD_REQUEST,
                "InvalidAction",
                &format!(
                    "lw-local emulates only STS AssumeRole, not {}",
                    other.unwrap_or("(no Action)")
                ),
            );
        }
    }
    let role_arn = form.get("RoleArn").cloned().unwrap_or_default();
    let external_id = form.get("ExternalId").cloned().filter(|e| !e.is_empty());
    let session = form
        .get("RoleSessionName")
        .cloned()
        .unwrap_or_else(|| "session".into());
    let role = lock(&s.roles).iter().find(|r| r.arn == role_arn).cloned();
    let granted = match &role {
        None => false,
        Some(r) => match &r.external_id {
            None => true,
            Some(required) => external_id.as_deref() == Some(required.as_str()),
        },
    };
    lock(&s.sts_calls).push(AssumeRoleCall {
        role_arn: role_arn.clone(),
        external_id,
        granted,
    });
    if !granted {
        return sts_error(
            StatusCode::FORBIDDEN,
            "AccessDenied",
            &format!("User is not authorized to perform: sts:AssumeRole on resource: {role_arn}"),
        );
    }
    let role_name = role_arn.rsplit('/').next().unwrap_or("role");
    let account = role_arn.split(':').nth(4).unwrap_or("000000000000");
    let id = uuid::Uuid::new_v4().simple().to_string().to_uppercase();
    let expiration = iso8601(SystemTime::now() + Duration::from_secs(3600));
    let body = format!(
        "<AssumeRoleResponse xmlns=\"{STS_NS}\"><AssumeRoleResult><Credentials>\
         <AccessKeyId>ASIA{}</AccessKeyId><SecretAccessKey>{}</SecretAccessKey>\
         <SessionToken>{}</SessionToken><Expiration>{expiration}</Expiration></Credentials>\
         <AssumedRoleUser><AssumedRoleId>AROA{}:{session}</AssumedRoleId>\
         <Arn>arn:aws:sts::{account}:assumed-role/{role_name}/{session}</Arn></AssumedRoleUser>\
         </AssumeRoleResult><ResponseMetadata><RequestId>{}</RequestId></ResponseMetadata>\
         </AssumeRoleResponse>",
        &id[..16],
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple(),
        &id[16..],
        uuid::Uuid::new_v4()
    );
    ([(header::CONTENT_TYPE, "text/xml")], body).into_response()
}

fn sts_error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = format!(
        "<ErrorResponse xmlns=\"{STS_NS}\"><Error><Type>Sender</Type><Code>{code}</Code>\
         <Message>{}</Message></Error><RequestId>{}</RequestId></ErrorResponse>",
        xml_escape(message),
        uuid::Uuid::new_v4()
    );
    (status, [(header::CONTENT_TYPE, "text/xml")], body).into_response()
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// `2026-11-29T17:00:00Z`.
fn iso8601(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

// ---- Lambda -----------------------------------------------------------------------------

fn lambda_error(status: StatusCode, kind: &str, message: &str) -> Response {
    (
        status,
        [("x-amzn-errortype", kind)],
        axum::Json(json!({ "Type": "User", "message": message })),
    )
        .into_response()
}

fn not_found(id: &str) -> Response {
    lambda_error(
        StatusCode::NOT_FOUND,
        "ResourceNotFoundException",
        &format!("Function not found: {id}"),
    )
}

async fn get_function(State(s): State<AppState>, Path(id): Path<String>) -> Response {
    let Some(f) = s.registry.find(&id) else {
        return not_found(&id);
    };
    let c = &f.config;
    axum::Json(json!({
        "Configuration": {
            "FunctionName": c.name,
            "FunctionArn": c.arn(),
            "Runtime": "provided.al2023",
            "Role": "arn:aws:iam::000000000000:role/lambda-execution",
            "Handler": "bootstrap",
            "Timeout": c.timeout.as_secs(),
            "MemorySize": c.memory_mb,
            "Version": "$LATEST",
            "State": "Active",
            "LastUpdateStatus": "Successful",
            "PackageType": "Zip",
            "Architectures": ["x86_64"],
        },
        "Code": { "RepositoryType": "S3", "Location": "file://local" },
        "Concurrency": { "ReservedConcurrentExecutions": c.concurrency },
    }))
    .into_response()
}

async fn invoke(
    State(s): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(f) = s.registry.find(&id) else {
        return not_found(&id);
    };
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
    match kind.as_str() {
        "Event" => {
            tokio::spawn(async move {
                if let Err(e) = f.invoke(payload, "Event", WhenBusy::Wait).await {
                    tracing::warn!(function = %f.config.name, error = %e, "event invocation failed");
                }
            });
            (
                StatusCode::ACCEPTED,
                [("x-amz-executed-version", "$LATEST")],
            )
                .into_response()
        }
        "RequestResponse" => match f
            .invoke(payload, "RequestResponse", WhenBusy::Throttle)
            .await
        {
            Ok(r) => {
                let (error, body) = match r.outcome {
                    Outcome::Response(v) => (None, v),
                    Outcome::Error {
                        error_type,
                        message,
                    } => (
                        Some("Unhandled"),
                        json!({"errorType": error_type, "errorMessage": message}),
                    ),
                    Outcome::Timeout => (
                        Some("Unhandled"),
                        json!({"errorType": "Sandbox.Timedout", "errorMessage": format!(
                            "Task timed out after {:.2} seconds", f.config.timeout.as_secs_f64())}),
                    ),
                    Outcome::Crashed { status, .. } => (
                        Some("Unhandled"),
                        json!({"errorType": "Runtime.ExitError", "errorMessage": format!(
                            "RequestId: {} Error: Runtime exited: {status}", r.request_id)}),
                    ),
                };
                let mut resp = axum::Json(body).into_response();
                let h = resp.headers_mut();
                h.insert(
                    "x-amz-executed-version",
                    axum::http::HeaderValue::from_static("$LATEST"),
                );
                if let Some(e) = error
                    && let Ok(v) = e.parse()
                {
                    h.insert("x-amz-function-error", v);
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
        },
        "DryRun" => StatusCode::NO_CONTENT.into_response(),
        other => lambda_error(
            StatusCode::BAD_REQUEST,
            "InvalidParameterValueException",
            &format!("X-Amz-Invocation-Type {other} is not RequestResponse, Event or DryRun"),
        ),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn iso8601_dates() {
        let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_795_970_792);
        assert_eq!(super::iso8601(t), "2026-11-29T16:46:32Z");
        assert_eq!(
            super::iso8601(std::time::UNIX_EPOCH),
            "1970-01-01T00:00:00Z"
        );
    }
}
