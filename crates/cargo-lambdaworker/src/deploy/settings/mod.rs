//! What `deploy` needs to know, from flags over `[package.metadata.lambdaworker]` of the
//! function's package (as cargo-lambda reads `[package.metadata.lambda.deploy]`); every
//! refusal names the flag and the metadata key that would fix it.

use std::path::PathBuf;

use crate::{Error, Project, package::Arch};

mod metadata;
mod subject;

pub use metadata::MetadataKey;
use metadata::{Metadata, check_external_id, check_external_id_length, check_role};
pub use subject::{NewExternalId, PolicySubject};

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

/// `deploy`'s two rollout flags, read into a [`Rollout`].
#[derive(clap::Args)]
struct RolloutFlags {
    /// Make the new version current.
    #[arg(long, conflicts_with = "ramp")]
    current: bool,
    /// Ramp the new version to this percentage of new workflows.
    #[arg(long, value_name = "PERCENT")]
    ramp: Option<f32>,
}

impl clap::FromArgMatches for Rollout {
    fn from_arg_matches(matches: &clap::ArgMatches) -> Result<Self, clap::Error> {
        let flags = RolloutFlags::from_arg_matches(matches)?;
        Ok(match (flags.current, flags.ramp) {
            (true, _) => Rollout::Current,
            (false, Some(percent)) => Rollout::Ramp(percent),
            (false, None) => Rollout::Register,
        })
    }

    fn update_from_arg_matches(&mut self, matches: &clap::ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(matches)?;
        Ok(())
    }
}

impl clap::Args for Rollout {
    fn augment_args(command: clap::Command) -> clap::Command {
        RolloutFlags::augment_args(command)
    }

    fn augment_args_for_update(command: clap::Command) -> clap::Command {
        RolloutFlags::augment_args_for_update(command)
    }
}

/// The flags of `deploy` (each `None` or empty when not given; each field's doc is its
/// `--help` line).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct Flags {
    /// The function, its roles and its deployment (`policies` takes these too).
    #[command(flatten)]
    pub function: FunctionFlags,
    /// The Build ID (default: the crate's version and the package's hash).
    #[arg(long)]
    pub build_id: Option<String>,
    /// `--current` or `--ramp PERCENT`; neither: leave the version for `promote`.
    #[command(flatten)]
    pub rollout: Rollout,
    /// The function memory, in MB.
    #[arg(long = "memory", value_name = "MEMORY")]
    pub memory_mb: Option<u32>,
    /// The function timeout, in seconds.
    #[arg(long = "timeout", value_name = "TIMEOUT")]
    pub timeout_s: Option<u64>,
    /// Environment for the function: NAME=VALUE.
    #[arg(long = "env", value_parser = crate::parse_env)]
    pub env: Vec<(String, String)>,
    /// A file or folder to add: PATH or PATH=ARCHIVE_PATH.
    #[arg(long = "include", value_name = "INCLUDE", value_parser = crate::package::parse_include)]
    pub includes: Vec<(PathBuf, String)>,
    /// x86_64 or arm64.
    #[arg(long = "target")]
    pub arch: Option<Arch>,
    /// Run on Lambda Managed Instances: the capacity provider's ARN (at creation).
    #[arg(long, value_name = "ARN")]
    pub capacity_provider: Option<String>,
    /// Invocations one Managed Instances execution environment serves at once.
    #[arg(long, value_name = "N")]
    pub per_instance_concurrency: Option<u32>,
    /// The cargo profile to build with (release by default).
    #[arg(long)]
    pub profile: Option<String>,
    /// Deploy this package instead of building one.
    #[arg(long)]
    pub zip: Option<PathBuf>,
}

/// Where the function goes and how Temporal invokes it (each also read from
/// `[package.metadata.lambdaworker]`: `function-name`, `execution-role`, `invoke-role`,
/// `external-id`, `deployment`).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct FunctionFlags {
    /// The Lambda function's name (the binary's by default).
    #[arg(long)]
    pub function_name: Option<String>,
    /// The role the function runs as (needed to create it).
    #[arg(long)]
    pub execution_role: Option<String>,
    /// The role Temporal assumes to invoke the function.
    #[arg(long)]
    pub invoke_role: Option<String>,
    /// The ExternalId the invoke role's trust policy requires.
    #[arg(long)]
    pub external_id: Option<String>,
    /// The Worker Deployment name (the binary's by default).
    #[arg(long)]
    pub deployment: Option<String>,
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
    /// The function's environment, exactly (besides `LW_DEPLOYMENT_NAME` and
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
        let meta = Metadata::of(project);
        let Identity {
            function,
            deployment,
            execution_role,
            invoke_role,
            external_id,
        } = identity(&meta, flags.function, &project.name)?;
        let managed_instances = managed_instances(
            &meta,
            flags.capacity_provider,
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
        if let Rollout::Ramp(value) = flags.rollout
            && !(0.0..=100.0).contains(&value)
        {
            return Err(Error::Percent {
                flag: "--ramp",
                value,
            });
        }
        Ok(Settings {
            function,
            deployment,
            build_id: flags.build_id,
            execution_role,
            invoke_role,
            external_id,
            memory_mb: memory_mb.map(|m| m as u32),
            timeout_s,
            env: environment(&meta, flags.env)?,
            includes: merge_includes(meta.includes()?, flags.includes),
            arch: match flags.arch {
                Some(a) => a,
                None => meta.arch()?.unwrap_or_default(),
            },
            managed_instances,
            profile: flags.profile,
            zip: flags.zip,
            rollout: flags.rollout,
        })
    }
}

/// The function's and the deployment's names and the roles, resolved.
struct Identity {
    function: String,
    deployment: String,
    execution_role: Option<String>,
    invoke_role: String,
    external_id: String,
}

/// Flags over metadata; the names default to the binary's, the invoke role and external id
/// have no default, and each role ARN and the external id are checked.
fn identity(meta: &Metadata, flags: FunctionFlags, binary: &str) -> Result<Identity, Error> {
    let pick = |flag: Option<String>, key: &str| -> Result<Option<String>, Error> {
        Ok(match flag {
            Some(v) => Some(v),
            None => meta.string(key)?,
        })
    };
    let required = |value: Option<String>, flag, key, why| {
        value
            .filter(|v| !v.is_empty())
            .ok_or_else(|| Error::MissingSetting {
                flag,
                at: meta.at(key),
                why,
            })
    };
    let invoke_role = required(
        pick(flags.invoke_role, "invoke-role")?,
        "--invoke-role ARN",
        "invoke-role",
        "Temporal assumes this role to invoke the function",
    )?;
    check_role(&invoke_role, "--invoke-role", meta.at("invoke-role"))?;
    let from = match flags.external_id {
        Some(_) => "--external-id".to_owned(),
        None => meta.at("external-id").to_string(),
    };
    let external_id = required(
        pick(flags.external_id, "external-id")?,
        "--external-id ID",
        "external-id",
        "the invoke role's trust policy requires it of Temporal",
    )?;
    check_external_id(&external_id, meta.at("external-id"))?;
    check_external_id_length(&external_id, from)?;
    let execution_role = pick(flags.execution_role, "execution-role")?;
    if let Some(r) = &execution_role {
        check_role(r, "--execution-role", meta.at("execution-role"))?;
    }
    Ok(Identity {
        function: pick(flags.function_name, "function-name")?.unwrap_or_else(|| binary.into()),
        deployment: pick(flags.deployment, "deployment")?.unwrap_or_else(|| binary.into()),
        execution_role,
        invoke_role,
        external_id,
    })
}

/// The metadata's `env`, then the flags' (a flag naming the same variable wins); the two
/// variables `deploy` sets are refused.
fn environment(
    meta: &Metadata,
    flags: Vec<(String, String)>,
) -> Result<Vec<(String, String)>, Error> {
    let mut env = meta.env()?;
    for (k, v) in flags {
        env.retain(|(name, _)| *name != k);
        env.push((k, v));
    }
    match env
        .iter()
        .find(|(k, _)| k == "LW_BUILD_ID" || k == "LW_DEPLOYMENT_NAME")
    {
        Some((name, _)) => Err(Error::ReservedEnv { name: name.clone() }),
        None => Ok(env),
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
            return Err(Error::ConcurrencyWithoutProvider {
                at: meta.at("capacity-provider"),
            });
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
        return Err(Error::InvalidValue {
            flag: "--capacity-provider",
            at: meta.at("capacity-provider"),
            expected: "a capacity provider's ARN \
                       (arn:aws:lambda:REGION:ACCOUNT:capacity-provider:NAME)",
            value: provider,
        });
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
    Ok(merge_includes(Metadata::of(project).includes()?, flags))
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
