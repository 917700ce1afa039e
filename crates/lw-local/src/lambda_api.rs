//! Lambda's REST-JSON API (`/2015-03-31/functions/...`): CreateFunction, UpdateFunctionCode,
//! UpdateFunctionConfiguration, GetFunction(Configuration), PublishVersion,
//! ListVersionsByFunction and Invoke, each with a qualifier where Lambda takes one.

use std::{collections::HashMap, time::Duration};

use axum::{
    Json,
    body::Bytes,
    extract::{Path, Query, State},
    http::{HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use base64::Engine;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::{
    FunctionConfig, LocalError, Outcome, code::Code, functions::FunctionInfo, pool::WhenBusy,
    server::AppState,
};

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

fn zip_file(b64: &str) -> Result<Code, LocalError> {
    base64::engine::general_purpose::STANDARD
        .decode(b64)
        .map(Code::Zip)
        .map_err(|e| LocalError::InvalidParameter(format!("ZipFile is not base64: {e}")))
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
struct Environment {
    variables: HashMap<String, String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
struct CodeIn {
    zip_file: Option<String>,
    s3_bucket: Option<String>,
    image_uri: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreateIn {
    function_name: String,
    role: String,
    #[serde(default)]
    runtime: Option<String>,
    #[serde(default)]
    code: CodeIn,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    timeout: Option<u64>,
    #[serde(default)]
    memory_size: Option<u32>,
    #[serde(default)]
    environment: Option<Environment>,
    #[serde(default)]
    publish: bool,
    #[serde(default)]
    capacity_provider_config: Option<CapacityProviderIn>,
}

/// `CapacityProviderConfig`: a Lambda Managed Instances function. lw-local has no capacity
/// providers; it keeps the per-instance concurrency and runs the instances locally.
#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
struct CapacityProviderIn {
    lambda_managed_instances_capacity_provider_config: Option<ManagedInstancesIn>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
struct ManagedInstancesIn {
    capacity_provider_arn: Option<String>,
    per_execution_environment_max_concurrency: Option<u32>,
}

/// The capacity provider and the per-instance concurrency (16 when not given) of a
/// `CapacityProviderConfig`, checked.
fn managed_instances(c: Option<CapacityProviderIn>) -> Result<Option<(String, u32)>, LocalError> {
    let Some(m) = c.and_then(|c| c.lambda_managed_instances_capacity_provider_config) else {
        return Ok(None);
    };
    let arn = m
        .capacity_provider_arn
        .filter(|a| a.contains(":capacity-provider:"))
        .ok_or_else(|| {
            LocalError::InvalidParameter(
                "LambdaManagedInstancesCapacityProviderConfig.CapacityProviderArn must be a \
                 capacity provider's ARN"
                    .into(),
            )
        })?;
    let n = m.per_execution_environment_max_concurrency.unwrap_or(16);
    if !(1..=1600).contains(&n) {
        return Err(LocalError::InvalidParameter(format!(
            "PerExecutionEnvironmentMaxConcurrency {n} is outside 1..=1600"
        )));
    }
    Ok(Some((arn, n)))
}

/// Sorted, so a configuration prints and compares the same every time.
fn sorted(vars: HashMap<String, String>) -> Vec<(String, String)> {
    let mut v: Vec<_> = vars.into_iter().collect();
    v.sort();
    v
}

fn check_limits(timeout: Option<u64>, memory: Option<u32>) -> Result<(), LocalError> {
    if let Some(t) = timeout
        && !(1..=900).contains(&t)
    {
        return Err(LocalError::InvalidParameter(format!(
            "Timeout {t} is outside 1..=900 seconds"
        )));
    }
    if let Some(m) = memory
        && !(128..=10240).contains(&m)
    {
        return Err(LocalError::InvalidParameter(format!(
            "MemorySize {m} is outside 128..=10240 MB"
        )));
    }
    Ok(())
}

pub(crate) async fn create_function(State(s): State<AppState>, bytes: Bytes) -> Response {
    let req: CreateIn = match body(&bytes) {
        Ok(r) => r,
        Err(e) => return refused(e),
    };
    if let Some(r) = &req.runtime
        && !r.starts_with("provided")
    {
        return invalid(format!(
            "lw-local runs custom runtimes (provided.al2023), not {r}"
        ));
    }
    if req.code.s3_bucket.is_some() || req.code.image_uri.is_some() {
        return invalid("lw-local takes code as Code.ZipFile only (no S3, no images)");
    }
    let Some(zip) = req.code.zip_file.as_deref() else {
        return invalid("Code.ZipFile is required");
    };
    let code = match zip_file(zip) {
        Ok(c) => c,
        Err(e) => return refused(e),
    };
    if let Err(e) = check_limits(req.timeout, req.memory_size) {
        return refused(e);
    }
    let mut config = FunctionConfig::new(&req.function_name, "bootstrap");
    config.role = req.role;
    config.description = req.description.unwrap_or_default();
    config.timeout = Duration::from_secs(req.timeout.unwrap_or(3));
    config.memory_mb = req.memory_size.unwrap_or(128);
    config.env = sorted(req.environment.unwrap_or_default().variables);
    match managed_instances(req.capacity_provider_config) {
        Ok(Some((arn, n))) => {
            config.capacity_provider = Some(arn);
            config.per_instance_concurrency = n;
        }
        Ok(None) => {}
        Err(e) => return refused(e),
    }
    let created = s.registry.create(config, code);
    let info = match (created, req.publish) {
        (Ok(_), true) => s.registry.publish(&req.function_name, None, None, None),
        (other, _) => other,
    };
    ok(StatusCode::CREATED, info)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UpdateCodeIn {
    zip_file: Option<String>,
    #[serde(default)]
    publish: bool,
    #[serde(default)]
    revision_id: Option<String>,
}

pub(crate) async fn update_code(
    State(s): State<AppState>,
    Path(id): Path<String>,
    bytes: Bytes,
) -> Response {
    let req: UpdateCodeIn = match body(&bytes) {
        Ok(r) => r,
        Err(e) => return refused(e),
    };
    let Some(zip) = req.zip_file.as_deref() else {
        return invalid("lw-local takes code as ZipFile only (no S3, no images)");
    };
    let code = match zip_file(zip) {
        Ok(c) => c,
        Err(e) => return refused(e),
    };
    let updated = s
        .registry
        .update_code(&id, code, req.revision_id.as_deref());
    let info = match (updated, req.publish) {
        (Ok(_), true) => s.registry.publish(&id, None, None, None),
        (other, _) => other,
    };
    ok(StatusCode::OK, info)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UpdateConfigIn {
    #[serde(default)]
    role: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    timeout: Option<u64>,
    #[serde(default)]
    memory_size: Option<u32>,
    #[serde(default)]
    environment: Option<Environment>,
    #[serde(default)]
    revision_id: Option<String>,
    #[serde(default)]
    capacity_provider_config: Option<CapacityProviderIn>,
}

pub(crate) async fn update_configuration(
    State(s): State<AppState>,
    Path(id): Path<String>,
    bytes: Bytes,
) -> Response {
    let req: UpdateConfigIn = match body(&bytes) {
        Ok(r) => r,
        Err(e) => return refused(e),
    };
    if let Err(e) = check_limits(req.timeout, req.memory_size) {
        return refused(e);
    }
    let managed = match managed_instances(req.capacity_provider_config) {
        Ok(m) => m,
        Err(e) => return refused(e),
    };
    let info = s
        .registry
        .update_configuration(&id, req.revision_id.as_deref(), |c| {
            if let Some((arn, n)) = managed {
                c.capacity_provider = Some(arn);
                c.per_instance_concurrency = n;
            }
            if let Some(t) = req.timeout {
                c.timeout = Duration::from_secs(t);
            }
            if let Some(m) = req.memory_size {
                c.memory_mb = m;
            }
            if let Some(env) = req.environment {
                c.env = sorted(env.variables);
            }
            if let Some(d) = req.description {
                c.description = d;
            }
            if let Some(r) = req.role {
                c.role = r;
            }
        });
    ok(StatusCode::OK, info)
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
