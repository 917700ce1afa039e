//! Reading `[package.metadata.lambdaworker]`: each value typed and range-checked, each
//! refusal naming the flag and the key that would fix it; and the checks a role ARN and an
//! external id get from either source.

use std::path::PathBuf;

use serde_json::Value;

use crate::Error;

/// `[package.metadata.lambdaworker]` of the function's package, and where it is.
pub(super) struct Metadata<'a> {
    pub(super) table: Option<&'a serde_json::Map<String, Value>>,
    pub(super) manifest: String,
    /// The package's folder: relative `include` paths are relative to it.
    pub(super) dir: &'a std::path::Path,
}

impl Metadata<'_> {
    pub(super) fn at(&self, key: &str) -> String {
        format!(
            "`{key}` in [package.metadata.lambdaworker] of {}",
            self.manifest
        )
    }

    pub(super) fn string(&self, key: &str) -> Result<Option<String>, Error> {
        match self.table.and_then(|t| t.get(key)) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(Error::Settings(format!(
                "make {} a string, not `{other}`",
                self.at(key)
            ))),
        }
    }

    pub(super) fn number(&self, key: &str) -> Result<Option<u64>, Error> {
        match self.table.and_then(|t| t.get(key)) {
            None => Ok(None),
            Some(v) => v.as_u64().map(Some).ok_or_else(|| {
                Error::Settings(format!("make {} a whole number, not `{v}`", self.at(key)))
            }),
        }
    }

    /// The flag's value, else the key's, refused outside `range` naming both (`unit` follows
    /// the range in the message, like ` (MB)`).
    pub(super) fn number_in(
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

    pub(super) fn env(&self) -> Result<Vec<(String, String)>, Error> {
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

    pub(super) fn includes(&self) -> Result<Vec<(PathBuf, String)>, Error> {
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

/// An IAM role ARN: `arn:aws:iam::123456789012:role/NAME` (any partition).
pub(super) fn check_role(arn: &str, flag: &str, key: &str) -> Result<(), Error> {
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
pub(super) fn check_external_id(id: &str, key: &str) -> Result<(), Error> {
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
