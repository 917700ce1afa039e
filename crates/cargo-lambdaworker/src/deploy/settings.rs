//! What `deploy` needs to know, from flags over `[package.metadata.lambdaworker]` of the
//! function's package (as cargo-lambda reads `[package.metadata.lambda.deploy]`); every
//! refusal names the flag and the metadata key that would fix it.

use std::path::PathBuf;

use serde_json::Value;

use crate::{Error, Project, package::Arch};

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

/// `[package.metadata.lambdaworker]` of the function's package, and where it is.
struct Metadata<'a> {
    table: Option<&'a serde_json::Map<String, Value>>,
    manifest: String,
    /// The package's folder: relative `include` paths are relative to it.
    dir: &'a std::path::Path,
}

impl Metadata<'_> {
    fn at(&self, key: &str) -> String {
        format!(
            "`{key}` in [package.metadata.lambdaworker] of {}",
            self.manifest
        )
    }

    fn string(&self, key: &str) -> Result<Option<String>, Error> {
        match self.table.and_then(|t| t.get(key)) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(Error::Settings(format!(
                "make {} a string, not `{other}`",
                self.at(key)
            ))),
        }
    }

    fn number(&self, key: &str) -> Result<Option<u64>, Error> {
        match self.table.and_then(|t| t.get(key)) {
            None => Ok(None),
            Some(v) => v.as_u64().map(Some).ok_or_else(|| {
                Error::Settings(format!("make {} a whole number, not `{v}`", self.at(key)))
            }),
        }
    }

    /// The flag's value, else the key's, refused outside `range` naming both (`unit` follows
    /// the range in the message, like ` (MB)`).
    fn number_in(
        &self,
        flag: Option<u64>,
        (flag_name, key): (&str, &str),
        range: std::ops::RangeInclusive<u64>,
        unit: &str,
    ) -> Result<Option<u64>, Error> {
        let value = match flag {
            Some(v) => Some(v),
            None => self.number(key)?,
        };
        match value {
            Some(v) if !range.contains(&v) => Err(Error::Settings(format!(
                "set {flag_name} or {} between {} and {}{unit}, not {v}",
                self.at(key),
                range.start(),
                range.end()
            ))),
            _ => Ok(value),
        }
    }

    fn env(&self) -> Result<Vec<(String, String)>, Error> {
        match self.table.and_then(|t| t.get("env")) {
            None => Ok(Vec::new()),
            Some(Value::Object(vars)) => vars
                .iter()
                .map(|(k, v)| match v {
                    Value::String(s) => Ok((k.clone(), s.clone())),
                    other => Err(Error::Settings(format!(
                        "make {} a string, not `{other}`",
                        self.at(&format!("env.{k}"))
                    ))),
                })
                .collect(),
            Some(other) => Err(Error::Settings(format!(
                "make {} a table (env = {{ NAME = \"value\" }}), not `{other}`",
                self.at("env")
            ))),
        }
    }

    fn includes(&self) -> Result<Vec<(PathBuf, String)>, Error> {
        match self.table.and_then(|t| t.get("include")) {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .map(|item| {
                    let text = item.as_str().ok_or_else(|| {
                        Error::Settings(format!(
                            "make each entry of {} a string (PATH or PATH=ARCHIVE_PATH)",
                            self.at("include")
                        ))
                    })?;
                    let (path, at) = crate::package::parse_include(text)
                        .map_err(|e| Error::Settings(format!("{}: {e}", self.at("include"))))?;
                    Ok((self.dir.join(path), at))
                })
                .collect(),
            Some(other) => Err(Error::Settings(format!(
                "make {} a list of paths, not `{other}`",
                self.at("include")
            ))),
        }
    }
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

/// An IAM role ARN: `arn:aws:iam::123456789012:role/NAME` (any partition).
fn check_role(arn: &str, flag: &str, key: &str) -> Result<(), Error> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let ok = parts.len() == 6
        && parts[0] == "arn"
        && parts[1].starts_with("aws")
        && parts[2] == "iam"
        && parts[4].len() == 12
        && parts[4].bytes().all(|b| b.is_ascii_digit())
        && parts[5].starts_with("role/")
        && parts[5].len() > "role/".len();
    if ok {
        Ok(())
    } else {
        Err(Error::Settings(format!(
            "give {flag} (or {key}) a role ARN like arn:aws:iam::123456789012:role/NAME, not \
             `{arn}`"
        )))
    }
}

/// IAM's rule for an ExternalId: 2 to 1224 of `[A-Za-z0-9+=,.@:/_-]`.
fn check_external_id(id: &str, key: &str) -> Result<(), Error> {
    let ok = (2..=1224).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+=,.@:/_-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(Error::Settings(format!(
            "give --external-id (or {key}) 2 to 1224 letters, digits or +=,.@:/_- (IAM's rule \
             for an ExternalId); `{id}` is not one"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project(metadata: Value) -> Project {
        Project {
            workspace_root: "/w".into(),
            target_dir: "/w/target".into(),
            package: "orders".into(),
            package_dir: "/w".into(),
            package_manifest: "/w/Cargo.toml".into(),
            version: "0.1.0".into(),
            metadata,
            name: "orders".into(),
            example: false,
        }
    }

    const ROLE: &str = "arn:aws:iam::123456789012:role/temporal-invoker";
    const PROVIDER: &str = "arn:aws:lambda:us-east-1:123456789012:capacity-provider:workers";

    #[test]
    fn managed_instances_from_metadata_or_flags() {
        let meta = serde_json::json!({"lambdaworker": {
            "invoke-role": ROLE, "external-id": "x1", "capacity-provider": PROVIDER,
            "per-instance-concurrency": 8}});
        let s = Settings::resolve(&project(meta.clone()), Flags::default()).unwrap();
        let expected = ManagedInstances {
            capacity_provider: PROVIDER.into(),
            per_instance_concurrency: Some(8),
        };
        assert_eq!(s.managed_instances.as_ref(), Some(&expected));
        let flags = Flags {
            per_instance_concurrency: Some(4),
            ..Flags::default()
        };
        let s = Settings::resolve(&project(meta), flags).unwrap();
        assert_eq!(
            s.managed_instances.and_then(|m| m.per_instance_concurrency),
            Some(4)
        );
        let plain = serde_json::json!({"lambdaworker": {"invoke-role": ROLE, "external-id": "x1"}});
        let s = Settings::resolve(&project(plain), Flags::default()).unwrap();
        assert_eq!(s.managed_instances, None);
    }

    #[test]
    fn flags_win_over_metadata_and_names_default_to_the_binary() {
        let meta = serde_json::json!({"lambdaworker": {
            "invoke-role": ROLE, "external-id": "from-meta", "memory": 512,
            "env": {"A": "meta", "B": "meta"}, "include": ["temporal.toml"]}});
        let flags = Flags {
            external_id: Some("from-flag".into()),
            env: vec![("A".into(), "flag".into())],
            ..Flags::default()
        };
        let s = Settings::resolve(&project(meta), flags).unwrap();
        assert_eq!(s.external_id, "from-flag");
        assert_eq!(s.invoke_role, ROLE);
        assert_eq!(s.memory_mb, Some(512));
        assert_eq!(s.function, "orders");
        assert_eq!(s.deployment, "orders");
        assert!(s.env.contains(&("A".into(), "flag".into())));
        assert!(s.env.contains(&("B".into(), "meta".into())));
        assert_eq!(
            s.includes,
            [(
                PathBuf::from("/w/temporal.toml"),
                "temporal.toml".to_owned()
            )]
        );
    }

    #[test]
    fn each_refusal_names_the_flag_and_the_metadata_key() {
        let cases = [
            (
                serde_json::json!({}),
                "set --invoke-role ARN or `invoke-role` in [package.metadata.lambdaworker] of /w/Cargo.toml",
            ),
            (
                serde_json::json!({"lambdaworker": {"invoke-role": ROLE}}),
                "set --external-id ID or `external-id`",
            ),
            (
                serde_json::json!({"lambdaworker": {"invoke-role": "temporal-invoker", "external-id": "x1"}}),
                "give --invoke-role (or `invoke-role` in",
            ),
            (
                serde_json::json!({"lambdaworker": {"invoke-role": ROLE, "external-id": "has space"}}),
                "give --external-id",
            ),
            (
                serde_json::json!({"lambdaworker": {"invoke-role": ROLE, "external-id": "ok-id", "memory": 64}}),
                "set --memory or `memory` in",
            ),
            (
                serde_json::json!({"lambdaworker": {"invoke-role": ROLE, "external-id": "ok-id", "timeout": "long"}}),
                "make `timeout` in",
            ),
            (
                serde_json::json!({"lambdaworker": {"invoke-role": ROLE, "external-id": "ok-id", "env": {"LW_BUILD_ID": "x"}}}),
                "remove LW_BUILD_ID",
            ),
            (
                serde_json::json!({"lambdaworker": {"invoke-role": ROLE, "external-id": "ok-id", "arch": "sparc"}}),
                "`arch` in",
            ),
            (
                serde_json::json!({"lambdaworker": {"invoke-role": ROLE, "external-id": "ok-id", "per-instance-concurrency": 8}}),
                "set --capacity-provider ARN or `capacity-provider` in",
            ),
            (
                serde_json::json!({"lambdaworker": {"invoke-role": ROLE, "external-id": "ok-id", "capacity-provider": "workers"}}),
                "set --capacity-provider or `capacity-provider` in",
            ),
            (
                serde_json::json!({"lambdaworker": {"invoke-role": ROLE, "external-id": "ok-id",
                    "capacity-provider": PROVIDER, "per-instance-concurrency": 0}}),
                "set --per-instance-concurrency or `per-instance-concurrency` in",
            ),
        ];
        for (meta, expected) in cases {
            let e = Settings::resolve(&project(meta.clone()), Flags::default())
                .expect_err(&meta.to_string())
                .to_string();
            assert!(e.contains(expected), "{meta}: {e}");
        }
    }
}
