//! Reading `[package.metadata.lambdaworker]`: each value typed and range-checked, each
//! refusal naming the flag and the key that would fix it; and the checks a role ARN and an
//! external id get from either source.

use std::path::PathBuf;

use serde_json::Value;

use crate::{
    Error,
    package::{Arch, parse_include_from},
};

/// What an `include` entry must be.
const INCLUDE: &str = "a file or folder, as PATH or PATH=ARCHIVE_PATH";

/// A key of `[package.metadata.lambdaworker]` and the manifest holding it; displayed as
/// `` `memory` in [package.metadata.lambdaworker] of /path/Cargo.toml ``.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetadataKey {
    /// The key (`memory`, `env.NAME`, `include[2]`).
    pub key: String,
    /// The package's `Cargo.toml`.
    pub manifest: PathBuf,
}

impl std::fmt::Display for MetadataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "`{}` in [package.metadata.lambdaworker] of {}",
            self.key,
            self.manifest.display()
        )
    }
}

/// `[package.metadata.lambdaworker]` of the function's package, and where it is.
pub(super) struct Metadata<'a> {
    pub(super) table: Option<&'a serde_json::Map<String, Value>>,
    /// The package's `Cargo.toml`.
    pub(super) manifest: &'a std::path::Path,
    /// The package's folder: relative `include` paths are relative to it.
    pub(super) dir: &'a std::path::Path,
}

impl<'a> Metadata<'a> {
    /// The project's table (none: every key unset).
    pub(super) fn of(project: &'a crate::Project) -> Self {
        Metadata {
            table: project
                .metadata
                .get("lambdaworker")
                .and_then(Value::as_object),
            manifest: &project.package_manifest,
            dir: &project.package_dir,
        }
    }

    pub(super) fn at(&self, key: &str) -> MetadataKey {
        MetadataKey {
            key: key.to_owned(),
            manifest: self.manifest.to_owned(),
        }
    }

    /// `key` is not `expected`.
    fn wrong_type(&self, key: &str, expected: &'static str, found: &Value) -> Error {
        Error::MetadataValue {
            at: self.at(key),
            expected,
            found: found.to_string(),
        }
    }

    pub(super) fn string(&self, key: &str) -> Result<Option<String>, Error> {
        match self.table.and_then(|t| t.get(key)) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(self.wrong_type(key, "a string", other)),
        }
    }

    pub(super) fn number(&self, key: &str) -> Result<Option<u64>, Error> {
        match self.table.and_then(|t| t.get(key)) {
            None => Ok(None),
            Some(v) => v
                .as_u64()
                .map(Some)
                .ok_or_else(|| self.wrong_type(key, "a whole number", v)),
        }
    }

    /// The flag's value, else the key's, refused outside `range` naming both (`unit` follows
    /// the range in the message, like ` (MB)`).
    pub(super) fn number_in(
        &self,
        given: Option<u64>,
        (flag, key): (&'static str, &str),
        range: std::ops::RangeInclusive<u64>,
        unit: &'static str,
    ) -> Result<Option<u64>, Error> {
        let value = match given {
            Some(v) => Some(v),
            None => self.number(key)?,
        };
        match value {
            Some(value) if !range.contains(&value) => Err(Error::OutOfRange {
                flag,
                at: self.at(key),
                range,
                unit,
                value,
            }),
            _ => Ok(value),
        }
    }

    pub(super) fn arch(&self) -> Result<Option<Arch>, Error> {
        match self.table.and_then(|t| t.get("arch")) {
            None => Ok(None),
            Some(v) => v
                .as_str()
                .and_then(|a| a.parse().ok())
                .map(Some)
                .ok_or_else(|| self.wrong_type("arch", "x86_64 or arm64", v)),
        }
    }

    pub(super) fn env(&self) -> Result<Vec<(String, String)>, Error> {
        match self.table.and_then(|t| t.get("env")) {
            None => Ok(Vec::new()),
            Some(Value::Object(vars)) => vars
                .iter()
                .map(|(k, v)| match v {
                    Value::String(s) => Ok((k.clone(), s.clone())),
                    other => Err(self.wrong_type(&format!("env.{k}"), "a string", other)),
                })
                .collect(),
            Some(other) => {
                Err(self.wrong_type("env", "a table (env = { NAME = \"value\" })", other))
            }
        }
    }

    pub(super) fn includes(&self) -> Result<Vec<(PathBuf, String)>, Error> {
        match self.table.and_then(|t| t.get("include")) {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    let key = format!("include[{i}]");
                    let text = item
                        .as_str()
                        .ok_or_else(|| self.wrong_type(&key, INCLUDE, item))?;
                    let (path, at) = parse_include_from(text, &self.at(&key).to_string()).map_err(
                        |e| match e {
                            Error::IncludeWithoutName { .. } => {
                                self.wrong_type(&key, INCLUDE, item)
                            }
                            other => other,
                        },
                    )?;
                    Ok((self.dir.join(path), at))
                })
                .collect(),
            Some(other) => Err(self.wrong_type("include", "a list of paths", other)),
        }
    }
}

/// An IAM role ARN: `arn:aws:iam::123456789012:role/NAME` (any partition).
pub(super) fn check_role(arn: &str, flag: &'static str, at: MetadataKey) -> Result<(), Error> {
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
        Err(Error::InvalidValue {
            flag,
            at,
            expected: "a role ARN like arn:aws:iam::123456789012:role/NAME",
            value: arn.to_owned(),
        })
    }
}

/// IAM's rule for an ExternalId: 2 to 1224 of `[A-Za-z0-9+=,.@:/_-]`.
pub(super) fn check_external_id(id: &str, at: MetadataKey) -> Result<(), Error> {
    let ok = (2..=1224).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+=,.@:/_-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidValue {
            flag: "--external-id",
            at,
            expected: "2 to 1224 letters, digits or +=,.@:/_- (IAM's rule for an ExternalId)",
            value: id.to_owned(),
        })
    }
}

/// `deploy`'s rule on top of IAM's: at least [`MIN_LEN`](crate::deploy::external_id::MIN_LEN)
/// characters, the trust policy's only condition against other Temporal Cloud tenants.
/// `from` names where the id came from (the flag, or the key and its manifest).
pub(super) fn check_external_id_length(id: &str, from: String) -> Result<(), Error> {
    let min = crate::deploy::external_id::MIN_LEN;
    if id.len() >= min {
        Ok(())
    } else {
        Err(Error::ExternalIdTooShort {
            from,
            len: id.len(),
            min,
        })
    }
}
