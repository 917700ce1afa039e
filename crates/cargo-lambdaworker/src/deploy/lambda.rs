//! The AWS side of `deploy`: the function created or updated with the package, and the
//! build published as its own Lambda version (one version per build id, found again by its
//! code hash and build id instead of published twice).

use std::{collections::HashMap, time::Duration};

use aws_sdk_lambda::{
    Client,
    client::Waiters,
    error::{ProvideErrorMetadata, SdkError},
    primitives::Blob,
    types::{
        Architecture, CapacityProviderConfig, Environment, FunctionCode, FunctionConfiguration,
        LambdaManagedInstancesCapacityProviderConfig, Runtime,
    },
};

use super::{Package, settings::Settings};
use crate::{Error, error_chain as chain, package::Arch, progress};

/// The build published as a Lambda version.
#[derive(Debug, Clone)]
pub struct Published {
    /// The version's qualified ARN (`…:function:NAME:N`).
    pub arn: String,
    /// Its number.
    pub version: String,
    /// Whether this run published it (`false`: found from an earlier run).
    pub new: bool,
}

/// The Lambda client, from the standard AWS configuration chain (environment, profiles,
/// SSO, `credential_process`, web identity, container and instance roles;
/// `AWS_ENDPOINT_URL_LAMBDA` / `AWS_ENDPOINT_URL` for another endpoint).
pub async fn client() -> Client {
    Client::new(&sdk_config().await)
}

/// The AWS configuration from the standard chain, with the rustls (ring) HTTPS client the
/// rest of the workspace uses.
pub async fn sdk_config() -> aws_config::SdkConfig {
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
            aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https();
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(http)
        .load()
        .await
}

/// A refused AWS call as a message that leads with what to do.
fn refused<E, R>(step: &str, resource: &str, e: SdkError<E, R>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    let code = e.code().unwrap_or("").to_owned();
    let message = e.message().unwrap_or("").to_owned();
    let fix = match (&e, code.as_str()) {
        (SdkError::DispatchFailure(_) | SdkError::TimeoutError(_), _) => {
            "check the network and the AWS endpoint (AWS_ENDPOINT_URL_LAMBDA / AWS_ENDPOINT_URL, \
             the region in AWS_REGION or the profile)"
                .to_owned()
        }
        (SdkError::ConstructionFailure(_), _) => {
            "configure AWS credentials and a region (`aws configure`, AWS_PROFILE, or \
             AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY with AWS_REGION)"
                .to_owned()
        }
        (_, "AccessDeniedException" | "AccessDenied" | "UnrecognizedClientException") => format!(
            "give the AWS identity you deploy with the Lambda permissions on {resource} \
             (`cargo lambdaworker policies` prints the deployer policy)"
        ),
        (_, "ResourceConflictException") => {
            "another update of the function is in progress: wait for it and deploy again".into()
        }
        (_, "InvalidParameterValueException") => {
            "fix the value AWS names below (role, memory, timeout, package)".into()
        }
        (_, "RequestEntityTooLargeException") => {
            "make the package smaller (a direct upload takes at most 50 MB zipped)".into()
        }
        _ => "see AWS's answer below".into(),
    };
    let detail = if code.is_empty() {
        chain(&e)
    } else {
        format!("{code}: {message}")
    };
    Error::Aws {
        fix,
        step: step.to_owned(),
        detail,
    }
}

fn is_not_found<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>) -> bool {
    e.code() == Some("ResourceNotFoundException")
}

fn variables(c: &FunctionConfiguration) -> HashMap<String, String> {
    c.environment()
        .and_then(|e| e.variables())
        .cloned()
        .unwrap_or_default()
}

/// The variables `deploy` itself sets on every version: the version's identity.
pub const MANAGED_ENV: [&str; 2] = ["LW_DEPLOYMENT_NAME", "LW_BUILD_ID"];

/// The environment the version gets: exactly the settings' (`--env` over the metadata's
/// `env`) and the version's identity ([`MANAGED_ENV`]), so a variable removed from the
/// settings leaves the function; and the names of the `current` variables that are dropped,
/// sorted.
pub fn environment(
    current: &HashMap<String, String>,
    s: &Settings,
    build_id: &str,
) -> (HashMap<String, String>, Vec<String>) {
    let mut vars: HashMap<String, String> = s.env.iter().cloned().collect();
    vars.insert(MANAGED_ENV[0].into(), s.deployment.clone());
    vars.insert(MANAGED_ENV[1].into(), build_id.to_owned());
    let mut removed: Vec<String> = current
        .keys()
        .filter(|k| !vars.contains_key(*k))
        .cloned()
        .collect();
    removed.sort();
    (vars, removed)
}

/// The description of a build's Lambda version: names the deployment and the build.
pub fn description(deployment: &str, build_id: &str) -> String {
    format!("lambdaworker: deployment {deployment}, build {build_id}")
}

/// A version published earlier for this package and build (same code hash, same build id);
/// `None` also when the function does not exist yet.
pub async fn find_published(
    lambda: &Client,
    function: &str,
    package: &Package,
    build_id: &str,
) -> Result<Option<Published>, Error> {
    let mut pages = lambda
        .list_versions_by_function()
        .function_name(function)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = match page {
            Ok(p) => p,
            Err(e) if is_not_found(&e) => return Ok(None),
            Err(e) => return Err(refused("listing the function's versions", function, e)),
        };
        let found = page.versions().iter().find(|v| {
            v.version() != Some("$LATEST")
                && v.code_sha256() == Some(package.sha256.as_str())
                && variables(v).get("LW_BUILD_ID").map(String::as_str) == Some(build_id)
        });
        if let Some(v) = found {
            return Ok(Some(Published {
                arn: v.function_arn().unwrap_or_default().to_owned(),
                version: v.version().unwrap_or_default().to_owned(),
                new: false,
            }));
        }
    }
    Ok(None)
}

/// Creates or updates the function with `package` and the build's configuration, waits for
/// the update, and publishes the version (call [`find_published`] first: this publishes).
pub async fn publish(
    lambda: &Client,
    s: &Settings,
    package: &Package,
    build_id: &str,
) -> Result<Published, Error> {
    let function = s.function.as_str();
    let current = match lambda.get_function().function_name(function).send().await {
        Ok(out) => out.configuration().cloned(),
        Err(e) if is_not_found(&e) => None,
        Err(e) => return Err(refused("reading the function", function, e)),
    };
    let Some(current) = current else {
        create(lambda, s, package, build_id).await?;
        return publish_latest(lambda, s, package, build_id).await;
    };
    let (vars, removed) = environment(&variables(&current), s, build_id);
    if !removed.is_empty() {
        progress(&format!(
            "removing {} from {function}'s environment: not in --env or `env` of \
             [package.metadata.lambdaworker]",
            removed.join(", ")
        ));
    }
    let capacity = capacity_config(s);
    let capacity_changed = s.managed_instances.as_ref().is_some_and(|m| {
        let now = current
            .capacity_provider_config()
            .and_then(|c| c.lambda_managed_instances_capacity_provider_config());
        now.is_none_or(|c| {
            c.capacity_provider_arn() != m.capacity_provider
                || m.per_instance_concurrency.is_some_and(|n| {
                    Some(n as i32) != c.per_execution_environment_max_concurrency()
                })
        })
    });
    let config_changed = vars != variables(&current)
        || capacity_changed
        || s.memory_mb
            .is_some_and(|m| Some(m as i32) != current.memory_size())
        || s.timeout_s
            .is_some_and(|t| Some(t as i32) != current.timeout());
    if config_changed {
        progress(&format!(
            "updating {function}'s configuration for build {build_id}"
        ));
        lambda
            .update_function_configuration()
            .function_name(function)
            .environment(Environment::builder().set_variables(Some(vars)).build())
            .set_memory_size(s.memory_mb.map(|m| m as i32))
            .set_timeout(s.timeout_s.map(|t| t as i32))
            .set_capacity_provider_config(capacity.filter(|_| capacity_changed))
            .send()
            .await
            .map_err(|e| refused("updating the function's configuration", function, e))?;
        wait_updated(lambda, function).await?;
    }
    if current.code_sha256() != Some(package.sha256.as_str()) {
        progress(&format!(
            "uploading {function}'s code ({:.2} MiB)",
            package.bytes.len() as f64 / 1024.0 / 1024.0
        ));
        lambda
            .update_function_code()
            .function_name(function)
            .zip_file(Blob::new(package.bytes.clone()))
            .architectures(architecture(s.arch))
            .send()
            .await
            .map_err(|e| refused("uploading the function's code", function, e))?;
        wait_updated(lambda, function).await?;
    }
    publish_latest(lambda, s, package, build_id).await
}

/// The function's `CapacityProviderConfig` when it runs on Lambda Managed Instances.
fn capacity_config(s: &Settings) -> Option<CapacityProviderConfig> {
    let m = s.managed_instances.as_ref()?;
    let config = LambdaManagedInstancesCapacityProviderConfig::builder()
        .capacity_provider_arn(&m.capacity_provider)
        .set_per_execution_environment_max_concurrency(m.per_instance_concurrency.map(|n| n as i32))
        .build()
        .ok()?;
    Some(
        CapacityProviderConfig::builder()
            .lambda_managed_instances_capacity_provider_config(config)
            .build(),
    )
}

fn architecture(arch: Arch) -> Architecture {
    match arch {
        Arch::X86_64 => Architecture::X8664,
        Arch::Arm64 => Architecture::Arm64,
    }
}

async fn create(
    lambda: &Client,
    s: &Settings,
    package: &Package,
    build_id: &str,
) -> Result<(), Error> {
    let function = s.function.as_str();
    let Some(role) = &s.execution_role else {
        return Err(Error::NoExecutionRole {
            function: function.to_owned(),
        });
    };
    // Managed Instances' execution environments start at 2 GB.
    let default_memory = if s.managed_instances.is_some() {
        2048
    } else {
        256
    };
    progress(&format!("creating the function {function}"));
    lambda
        .create_function()
        .function_name(function)
        .role(role)
        .runtime(Runtime::Providedal2023)
        .handler("bootstrap")
        .architectures(architecture(s.arch))
        .code(
            FunctionCode::builder()
                .zip_file(Blob::new(package.bytes.clone()))
                .build(),
        )
        .environment(
            Environment::builder()
                .set_variables(Some(environment(&HashMap::new(), s, build_id).0))
                .build(),
        )
        .memory_size(s.memory_mb.unwrap_or(default_memory) as i32)
        .timeout(s.timeout_s.unwrap_or(60) as i32)
        .set_capacity_provider_config(capacity_config(s))
        .description(format!("Temporal worker {}", s.deployment))
        .send()
        .await
        .map_err(|e| refused("creating the function", function, e))?;
    lambda
        .wait_until_function_active_v2()
        .function_name(function)
        .wait(Duration::from_secs(300))
        .await
        .map_err(|e| Error::Aws {
            fix: "see the function's state in the Lambda console".into(),
            step: format!("waiting for {function} to become active"),
            detail: chain(&e),
        })?;
    Ok(())
}

async fn wait_updated(lambda: &Client, function: &str) -> Result<(), Error> {
    lambda
        .wait_until_function_updated_v2()
        .function_name(function)
        .wait(Duration::from_secs(300))
        .await
        .map_err(|e| Error::Aws {
            fix: "see LastUpdateStatusReason in the Lambda console, fix it and deploy again".into(),
            step: format!("waiting for the update of {function}"),
            detail: chain(&e),
        })?;
    Ok(())
}

async fn publish_latest(
    lambda: &Client,
    s: &Settings,
    package: &Package,
    build_id: &str,
) -> Result<Published, Error> {
    let function = s.function.as_str();
    let out = lambda
        .publish_version()
        .function_name(function)
        .code_sha256(&package.sha256)
        .description(description(&s.deployment, build_id))
        .send()
        .await
        .map_err(|e| refused("publishing a version", function, e))?;
    let published = Published {
        arn: out.function_arn().unwrap_or_default().to_owned(),
        version: out.version().unwrap_or_default().to_owned(),
        new: true,
    };
    progress(&format!(
        "published {function} version {} for build {build_id}",
        published.version
    ));
    Ok(published)
}
