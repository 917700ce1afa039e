//! Lambda's REST-JSON API (`/2015-03-31/functions/...`): CreateFunction, UpdateFunctionCode,
//! UpdateFunctionConfiguration, GetFunction(Configuration), PublishVersion,
//! ListVersionsByFunction and Invoke, each with a qualifier where Lambda takes one.
//!
//! This file holds the answers every call shares and the reads; `configure` creates and
//! changes functions, `invoke` runs them.

use std::collections::HashMap;

use axum::{
    Json,
    body::Bytes,
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use serde_json::{Value, json};

mod configure;
mod invoke;

pub(crate) use configure::{create_function, update_code, update_configuration};
pub(crate) use invoke::invoke;

use crate::{LocalError, functions::FunctionInfo, server::AppState};

type Params = Query<HashMap<String, String>>;

pub(crate) fn lambda_error(status: StatusCode, kind: &str, message: &str) -> Response {
    (
        status,
        [("x-amzn-errortype", kind)],
        Json(json!({ "Type": "User", "message": message, "Message": message })),
    )
        .into_response()
}

/// Lambda's answer to a refused request.
fn refused(e: LocalError) -> Response {
    let (status, kind) = match &e {
        LocalError::NotFound(_) => (StatusCode::NOT_FOUND, "ResourceNotFoundException"),
        LocalError::Conflict(_) => (StatusCode::CONFLICT, "ResourceConflictException"),
        LocalError::InvalidParameter(_) => {
            (StatusCode::BAD_REQUEST, "InvalidParameterValueException")
        }
        LocalError::PreconditionFailed(_) => (
            StatusCode::PRECONDITION_FAILED,
            "PreconditionFailedException",
        ),
        LocalError::Throttled(_) => (StatusCode::TOO_MANY_REQUESTS, "TooManyRequestsException"),
        _ => (StatusCode::INTERNAL_SERVER_ERROR, "ServiceException"),
    };
    lambda_error(status, kind, &e.to_string())
}

fn invalid(message: impl Into<String>) -> Response {
    refused(LocalError::InvalidParameter(message.into()))
}

/// `FunctionConfiguration` as Lambda writes it.
fn configuration(i: &FunctionInfo) -> Value {
    let variables: serde_json::Map<String, Value> = i
        .env
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    let mut out = json!({
        "FunctionName": i.name,
        "FunctionArn": i.arn,
        "Runtime": "provided.al2023",
        "Role": i.role,
        "Handler": "bootstrap",
        "CodeSize": i.code_size,
        "CodeSha256": i.code_sha256,
        "Description": i.description,
        "Timeout": i.timeout.as_secs(),
        "MemorySize": i.memory_mb,
        "LastModified": i.last_modified,
        "Version": i.version,
        "Environment": { "Variables": variables },
        "RevisionId": i.revision_id,
        "State": "Active",
        "LastUpdateStatus": "Successful",
        "PackageType": "Zip",
        "Architectures": [i.architecture],
    });
    if let Some(arn) = &i.capacity_provider {
        out["CapacityProviderConfig"] = json!({
            "LambdaManagedInstancesCapacityProviderConfig": {
                "CapacityProviderArn": arn,
                "PerExecutionEnvironmentMaxConcurrency": i.per_instance_concurrency,
            }
        });
    }
    out
}

fn ok(status: StatusCode, info: Result<FunctionInfo, LocalError>) -> Response {
    match info {
        Ok(i) => (status, Json(configuration(&i))).into_response(),
        Err(e) => refused(e),
    }
}

fn body<'a, T: Deserialize<'a>>(bytes: &'a [u8]) -> Result<T, LocalError> {
    serde_json::from_slice(bytes)
        .map_err(|e| LocalError::InvalidParameter(format!("Could not parse the request: {e}")))
}

pub(crate) async fn get_function(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Query(q): Params,
) -> Response {
    match s.registry.info(&id, q.get("Qualifier").map(String::as_str)) {
        Ok(i) => Json(json!({
            "Configuration": configuration(&i),
            "Code": { "RepositoryType": "S3", "Location": "file://lw-local" },
        }))
        .into_response(),
        Err(e) => refused(e),
    }
}

pub(crate) async fn get_configuration(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Query(q): Params,
) -> Response {
    ok(
        StatusCode::OK,
        s.registry.info(&id, q.get("Qualifier").map(String::as_str)),
    )
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
struct PublishIn {
    code_sha256: Option<String>,
    description: Option<String>,
    revision_id: Option<String>,
}

pub(crate) async fn publish_version(
    State(s): State<AppState>,
    Path(id): Path<String>,
    bytes: Bytes,
) -> Response {
    let req: PublishIn = if bytes.iter().all(u8::is_ascii_whitespace) {
        PublishIn::default()
    } else {
        match body(&bytes) {
            Ok(r) => r,
            Err(e) => return refused(e),
        }
    };
    ok(
        StatusCode::CREATED,
        s.registry.publish(
            &id,
            req.description.as_deref(),
            req.code_sha256.as_deref(),
            req.revision_id.as_deref(),
        ),
    )
}

pub(crate) async fn list_versions(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Query(q): Params,
) -> Response {
    let all = match s.registry.versions(&id) {
        Ok(v) => v,
        Err(e) => return refused(e),
    };
    let start: usize = q.get("Marker").and_then(|m| m.parse().ok()).unwrap_or(0);
    let max: usize = q
        .get("MaxItems")
        .and_then(|m| m.parse().ok())
        .unwrap_or(50)
        .clamp(1, 10_000);
    let page: Vec<Value> = all
        .iter()
        .skip(start)
        .take(max)
        .map(configuration)
        .collect();
    let next = (start + page.len() < all.len()).then(|| (start + page.len()).to_string());
    Json(json!({ "Versions": page, "NextMarker": next })).into_response()
}
