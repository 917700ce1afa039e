//! [`FunctionInfo`]: what `GetFunctionConfiguration` tells of a function or one of its
//! versions, assembled from its configuration, its stored code and its metadata.

use std::time::Duration;

use super::entry::{Entry, Meta, Version};
use crate::{FunctionConfig, LocalError, code::Stored};

/// What `GetFunctionConfiguration` tells of a function or one of its versions.
#[derive(Debug, Clone)]
pub struct FunctionInfo {
    /// The function's name.
    pub name: String,
    /// `$LATEST` or the version's number.
    pub version: String,
    /// The ARN, qualified with the version for a published one.
    pub arn: String,
    /// Base64 of the SHA-256 of the code (the zip's bytes, or the program's).
    pub code_sha256: String,
    /// Size of the code, bytes.
    pub code_size: u64,
    /// The description (a version's is the one given to `PublishVersion`).
    pub description: String,
    /// The execution role.
    pub role: String,
    /// Changes with every update; `UpdateFunctionCode` and `PublishVersion` can require it.
    pub revision_id: String,
    /// When the code or configuration last changed (ISO 8601).
    pub last_modified: String,
    /// Timeout.
    pub timeout: Duration,
    /// Memory, MB.
    pub memory_mb: u32,
    /// Environment variables.
    pub env: Vec<(String, String)>,
    /// `x86_64` or `arm64`.
    pub architecture: String,
    /// Invocations one instance holds at once (above 1: Lambda Managed Instances).
    pub per_instance_concurrency: u32,
    /// The capacity provider, for a Lambda Managed Instances function.
    pub capacity_provider: Option<String>,
}

impl Entry {
    /// `$LATEST`'s information; `code_sha256` is empty for a program registered by path
    /// (see [`Entry::latest_info_hashed`]).
    pub(super) fn latest_info(&self) -> FunctionInfo {
        let config = &self.latest.config;
        info(config, "$LATEST", config.arn(), &self.code, &self.meta)
    }

    /// [`Entry::latest_info`] with the code's hash computed if it was not yet.
    pub(super) fn latest_info_hashed(&self) -> Result<FunctionInfo, LocalError> {
        let mut info = self.latest_info();
        info.code_sha256 = self.code.sha256()?;
        Ok(info)
    }
}

impl Version {
    /// The version's information (`name` is the function's); `code_sha256` as
    /// [`Entry::latest_info`].
    pub(super) fn info(&self, name: &str) -> FunctionInfo {
        let arn = format!(
            "arn:aws:lambda:us-east-1:000000000000:function:{name}:{}",
            self.number
        );
        let number = self.number.to_string();
        info(&self.pool.config, &number, arn, &self.code, &self.meta)
    }

    /// [`Version::info`] with the code's hash computed if it was not yet.
    pub(super) fn info_hashed(&self, name: &str) -> Result<FunctionInfo, LocalError> {
        let mut info = self.info(name);
        info.code_sha256 = self.code.sha256()?;
        Ok(info)
    }
}

fn info(
    c: &FunctionConfig,
    version: &str,
    arn: String,
    code: &Stored,
    meta: &Meta,
) -> FunctionInfo {
    FunctionInfo {
        name: c.name.clone(),
        version: version.to_owned(),
        arn,
        code_sha256: code.sha256.clone().unwrap_or_default(),
        code_size: code.size,
        description: meta.description.clone(),
        role: meta.role.clone(),
        revision_id: meta.revision_id.clone(),
        last_modified: meta.last_modified.clone(),
        timeout: c.timeout,
        memory_mb: c.memory_mb,
        env: c.env.clone(),
        architecture: meta.architecture.clone(),
        per_instance_concurrency: c.per_instance_concurrency,
        capacity_provider: c.capacity_provider.clone(),
    }
}
