//! CreateFunction, UpdateFunctionCode and UpdateFunctionConfiguration: the request shapes
//! Lambda takes and the checks it makes on them.

use std::{collections::HashMap, time::Duration};

use axum::{
    body::Bytes,
    extract::{Path, State},
    http::StatusCode,
    response::Response,
};
use base64::Engine;
use serde::Deserialize;

use super::{body, invalid, ok, refused};
use crate::{FunctionConfig, LocalError, code::Code, server::AppState};

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
