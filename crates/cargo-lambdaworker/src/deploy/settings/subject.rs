//! What `policies` fills the IAM documents with. Unlike `deploy` it needs no settings: the
//! roles not chosen yet get placeholder names, and an ExternalId that is missing (or shorter
//! than `deploy` accepts) is generated, so `policies` is the first step on a new project.

use std::path::PathBuf;

use super::{
    FunctionFlags,
    metadata::{Metadata, check_external_id, check_role},
};
use crate::{Error, Project, deploy::external_id};

/// Why `policies` generated the ExternalId.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NewExternalId {
    /// Neither `--external-id` nor the metadata has one.
    Missing,
    /// The one set has this many characters, fewer than `deploy` accepts.
    TooShort(usize),
}

/// The function, its roles and the ExternalId, as far as they are set.
#[derive(Debug, Clone)]
pub struct PolicySubject {
    /// The Lambda function's name.
    pub function: String,
    /// The execution role, if set.
    pub execution_role: Option<String>,
    /// The invoke role, if set.
    pub invoke_role: Option<String>,
    /// The ExternalId: the one set, or a generated one (see `new_external_id`).
    pub external_id: String,
    /// Why the ExternalId was generated; `None` when it is the one set.
    pub new_external_id: Option<NewExternalId>,
    /// The package's `Cargo.toml`, where the settings go.
    pub manifest: PathBuf,
    /// The keys `[package.metadata.lambdaworker]` already has, of `invoke-role`,
    /// `execution-role` and `external-id`.
    pub in_metadata: Vec<&'static str>,
}

impl PolicySubject {
    /// Flags over metadata, as `deploy` reads them; a role that is set must be a role ARN,
    /// and an ExternalId that is set must be one IAM accepts.
    pub fn resolve(project: &Project, flags: FunctionFlags) -> Result<PolicySubject, Error> {
        let meta = Metadata::of(project);
        let pick = |flag: Option<String>, key: &str| -> Result<Option<String>, Error> {
            let value = match flag {
                Some(v) => Some(v),
                None => meta.string(key)?,
            };
            Ok(value.filter(|v| !v.is_empty()))
        };
        let invoke_role = pick(flags.invoke_role, "invoke-role")?;
        if let Some(r) = &invoke_role {
            check_role(r, "--invoke-role", meta.at("invoke-role"))?;
        }
        let execution_role = pick(flags.execution_role, "execution-role")?;
        if let Some(r) = &execution_role {
            check_role(r, "--execution-role", meta.at("execution-role"))?;
        }
        let (external_id, new_external_id) = match pick(flags.external_id, "external-id")? {
            Some(id) if id.len() >= external_id::MIN_LEN => {
                check_external_id(&id, meta.at("external-id"))?;
                (id, None)
            }
            Some(short) => (
                external_id::generate()?,
                Some(NewExternalId::TooShort(short.len())),
            ),
            None => (external_id::generate()?, Some(NewExternalId::Missing)),
        };
        let mut in_metadata = Vec::new();
        for key in ["invoke-role", "execution-role", "external-id"] {
            if meta.string(key)?.is_some_and(|v| !v.is_empty()) {
                in_metadata.push(key);
            }
        }
        Ok(PolicySubject {
            function: pick(flags.function_name, "function-name")?
                .unwrap_or_else(|| project.name.clone()),
            execution_role,
            invoke_role,
            external_id,
            new_external_id,
            manifest: project.package_manifest.clone(),
            in_metadata,
        })
    }
}
