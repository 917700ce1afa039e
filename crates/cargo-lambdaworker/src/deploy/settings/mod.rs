//! What `deploy` needs to know, from flags over `[package.metadata.lambdaworker]` of the
//! function's package (as cargo-lambda reads `[package.metadata.lambda.deploy]`); every
//! refusal names the flag and the metadata key that would fix it.

use std::path::PathBuf;

use serde_json::Value;

use crate::{Error, Project, package::Arch};

mod metadata;

use metadata::{Metadata, check_external_id, check_role};

/// What to do with the new version once it is registered.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Rollout {
    /// Leave it for a later `promote` or `ramp`.
    #[default]
    Register,
    /// Make it the current version: new workflows start on it.
    Current,
    /// Ramp it to this percentage of new workflows (the current version keeps the rest).
    Ramp(f32),
}

/// The flags of `deploy` (each `None` or empty when not given).
#[derive(Debug, Clone, Default)]
pub struct Flags {
    /// `--function-name`.
    pub function: Option<String>,
    /// `--execution-role`: the role the function runs as (needed to create it).
    pub execution_role: Option<String>,
    /// `--invoke-role`: the role Temporal assumes to invoke the function.
    pub invoke_role: Option<String>,
    /// `--external-id`: the ExternalId the invoke role's trust policy requires.
    pub external_id: Option<String>,
    /// `--deployment`: the Worker Deployment name.
    pub deployment: Option<String>,
    /// `--build-id`.
    pub build_id: Option<String>,
    /// `--memory` (MB).
    pub memory_mb: Option<u32>,
    /// `--timeout` (seconds).
    pub timeout_s: Option<u64>,
    /// `--env NAME=VALUE`.
    pub env: Vec<(String, String)>,
    /// `--include`.
    pub includes: Vec<(PathBuf, String)>,
    /// `--target`.
    pub arch: Option<Arch>,
    /// `--capacity-provider ARN`: run on Lambda Managed Instances.
    pub capacity_provider: Option<String>,
    /// `--per-instance-concurrency N`: invocations one execution environment serves at once.
    pub per_instance_concurrency: Option<u32>,
    /// `--profile`: the cargo profile to build with (`release` by default).
    pub profile: Option<String>,
    /// `--zip`: deploy this package instead of building one.
    pub zip: Option<PathBuf>,
    /// `--current` / `--ramp`.
    pub rollout: Rollout,
}

/// Everything `deploy` acts on, resolved.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The Lambda function's name.
    pub function: String,
    /// The execution role (only needed when the function is created).
    pub execution_role: Option<String>,
    /// The role Temporal assumes to invoke the function.
    pub invoke_role: String,
    /// The ExternalId in that role's trust policy.
    pub external_id: String,
    /// The Worker Deployment name.
    pub deployment: String,
    /// The Build ID, when given (else derived from the package's hash).
    pub build_id: Option<String>,
    /// Memory, MB (kept as it is on an existing function when unset).
    pub memory_mb: Option<u32>,
    /// Timeout, seconds (likewise).
    pub timeout_s: Option<u64>,
    /// Environment variables set on the function (besides `LW_DEPLOYMENT_NAME` and
    /// `LW_BUILD_ID`, which deploy sets).
    pub env: Vec<(String, String)>,
    /// Files added to the package.
    pub includes: Vec<(PathBuf, String)>,
    /// The architecture.
    pub arch: Arch,
    /// Lambda Managed Instances, when the function runs on a capacity provider.
    pub managed_instances: Option<ManagedInstances>,
    /// The cargo profile.
    pub profile: Option<String>,
    /// A ready package to deploy instead of building.
    pub zip: Option<PathBuf>,
    /// What to do with the version.
    pub rollout: Rollout,
}

/// Where a Lambda Managed Instances function runs and how many invocations one of its
/// execution environments serves at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManagedInstances {
    /// The capacity provider's ARN.
    pub capacity_provider: String,
    /// `PerExecutionEnvironmentMaxConcurrency`; Lambda's default when unset.
    pub per_instance_concurrency: Option<u32>,
}

impl Settings {
    /// Flags over metadata over defaults (the function and deployment are named after the
    /// binary); the invoke role and external id have no default.
    pub fn resolve(project: &Project, flags: Flags) -> Result<Settings, Error> {
        let meta = Metadata {
            table: project
                .metadata
                .get("lambdaworker")
                .and_then(Value::as_object),
            manifest: project.package_manifest.display().to_string(),
            dir: &project.package_dir,
        };
        let pick = |flag: Option<String>, key: &str| -> Result<Option<String>, Error> {
            Ok(match flag {
                Some(v) => Some(v),
                None => meta.string(key)?,
            })
        };
        let required = |value: Option<String>, flag: &str, key: &str, why: &str| {
            value.filter(|v| !v.is_empty()).ok_or_else(|| {
                Error::Settings(format!(
                    "set {flag} or {}: {why} (`cargo lambdaworker policies` prints the IAM \
                     setup)",
                    meta.at(key)
                ))
            })
        };
        let invoke_role = required(
            pick(flags.invoke_role, "invoke-role")?,
            "--invoke-role ARN",
            "invoke-role",
            "Temporal assumes this role to invoke the function",
        )?;
        check_role(&invoke_role, "--invoke-role", &meta.at("invoke-role"))?;
        let external_id = required(
            pick(flags.external_id, "external-id")?,
            "--external-id ID",
            "external-id",
            "the invoke role's trust policy requires it of Temporal",
        )?;
        check_external_id(&external_id, &meta.at("external-id"))?;
        let execution_role = pick(flags.execution_role, "execution-role")?;
        if let Some(r) = &execution_role {
            check_role(r, "--execution-role", &meta.at("execution-role"))?;
        }
        let managed_instances = managed_instances(
            &meta,
            flags.capacity_provider.clone(),
            flags.per_instance_concurrency,
        )?;
        let memory_mb = meta.number_in(
            flags.memory_mb.map(u64::from),
            ("--memory", "memory"),
            128..=10_240,
            " (MB)",
        )?;
        let timeout_s = meta.number_in(
            flags.timeout_s,
            ("--timeout", "timeout"),
            1..=900,
            " (seconds)",
        )?;
        let mut env = meta.env()?;
        for (k, v) in flags.env {
            env.retain(|(name, _)| *name != k);
            env.push((k, v));
        }
        if let Some((k, _)) = env
            .iter()
            .find(|(k, _)| k == "LW_BUILD_ID" || k == "LW_DEPLOYMENT_NAME")
        {
            return Err(Error::Settings(format!(
                "remove {k} from --env and the metadata's env: deploy sets it to the version \
                 it registers (use --build-id / --deployment)"
            )));
        }
        let includes = merge_includes(meta.includes()?, flags.includes);
        let arch = match (flags.arch, meta.string("arch")?) {
            (Some(a), _) => a,
            (None, Some(a)) => a
                .parse()
                .map_err(|e| Error::Settings(format!("{}: {e}", meta.at("arch"))))?,
            (None, None) => Arch::default(),
        };
        if let Rollout::Ramp(p) = flags.rollout
            && !(0.0..=100.0).contains(&p)
        {
            return Err(Error::Settings(format!(
                "give --ramp a percentage between 0 and 100, not {p}"
            )));
        }
        let memory_mb = memory_mb.map(|m| m as u32);
        Ok(Settings {
            function: pick(flags.function, "function-name")?
                .unwrap_or_else(|| project.name.clone()),
            deployment: pick(flags.deployment, "deployment")?
                .unwrap_or_else(|| project.name.clone()),
            build_id: flags.build_id,
            execution_role,
            invoke_role,
            external_id,
            memory_mb,
            timeout_s,
            env,
            includes,
            arch,
            managed_instances,
            profile: flags.profile,
            zip: flags.zip,
            rollout: flags.rollout,
        })
    }
}

/// `capacity-provider` and `per-instance-concurrency`, flags over metadata, checked.
fn managed_instances(
    meta: &Metadata,
    capacity_provider: Option<String>,
    per_instance_concurrency: Option<u32>,
) -> Result<Option<ManagedInstances>, Error> {
    let provider = match capacity_provider {
        Some(p) => Some(p),
        None => meta.string("capacity-provider")?,
    };
    let per_instance = meta.number_in(
        per_instance_concurrency.map(u64::from),
        ("--per-instance-concurrency", "per-instance-concurrency"),
        1..=1600,
        "",
    )?;
    let Some(provider) = provider else {
        if per_instance.is_some() {
            return Err(Error::Settings(format!(
                "set --capacity-provider ARN or {} too: a per-instance concurrency applies to \
                 Lambda Managed Instances, which run on a capacity provider",
                meta.at("capacity-provider")
            )));
        }
        return Ok(None);
    };
    let parts: Vec<&str> = provider.split(':').collect();
    let well_formed = parts.len() == 7
        && parts[0] == "arn"
        && parts[2] == "lambda"
        && parts[5] == "capacity-provider"
        && !parts[6].is_empty();
    if !well_formed {
        return Err(Error::Settings(format!(
            "set --capacity-provider or {} to a capacity provider's ARN \
             (arn:aws:lambda:REGION:ACCOUNT:capacity-provider:NAME), not `{provider}`",
            meta.at("capacity-provider")
        )));
    }
    Ok(Some(ManagedInstances {
        capacity_provider: provider,
        per_instance_concurrency: per_instance.map(|n| n as u32),
    }))
}

/// The package's extra files for `package` as for `deploy`: the metadata's `include` list,
/// then the flags' (a flag naming the same archive path replaces the metadata's entry).
pub fn package_includes(
    project: &Project,
    flags: Vec<(PathBuf, String)>,
) -> Result<Vec<(PathBuf, String)>, Error> {
    let meta = Metadata {
        table: project
            .metadata
            .get("lambdaworker")
            .and_then(Value::as_object),
        manifest: project.package_manifest.display().to_string(),
        dir: &project.package_dir,
    };
    Ok(merge_includes(meta.includes()?, flags))
}

fn merge_includes(
    mut from_metadata: Vec<(PathBuf, String)>,
    flags: Vec<(PathBuf, String)>,
) -> Vec<(PathBuf, String)> {
    from_metadata.retain(|(_, at)| !flags.iter().any(|(_, f)| f == at));
    from_metadata.extend(flags);
    from_metadata
}

#[cfg(test)]
mod tests;
