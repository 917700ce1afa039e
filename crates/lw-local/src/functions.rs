//! The Lambda control plane: functions, their code, their configuration and their published
//! versions. A published version is an immutable copy: its code and configuration are those
//! of `$LATEST` when it was published, and a qualified ARN (`…:function:NAME:3`) runs them
//! whatever `$LATEST` became since.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, SystemTime},
};

use crate::{
    LocalError,
    code::{Code, Store, Stored, check_name},
    pool::{Function, FunctionConfig},
};

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

/// One function: `$LATEST`, its published versions, and the `$LATEST` pools that code
/// updates replaced (kept for the accounting and to be stopped).
struct Entry {
    latest: Arc<Function>,
    code: Stored,
    meta: Meta,
    versions: Vec<Version>,
    retired: Vec<Arc<Function>>,
    /// The revision of `$LATEST` the last version was published from.
    published_from: Option<String>,
}

#[derive(Clone)]
struct Meta {
    description: String,
    role: String,
    architecture: String,
    revision_id: String,
    last_modified: String,
}

struct Version {
    number: u32,
    function: Arc<Function>,
    code: Stored,
    meta: Meta,
}

/// Every function, by name, and the folder their code is stored in.
#[derive(Clone)]
pub(crate) struct Registry {
    entries: Arc<Mutex<HashMap<String, Entry>>>,
    store: Arc<Store>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn revision() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// The name in `my-fn`, `my-fn:3`, `123456789012:function:my-fn` or a full ARN, and the
/// qualifier it carries, if any.
pub(crate) fn split_id(id: &str) -> (&str, Option<&str>) {
    let after = match id.find("function:") {
        Some(i) => &id[i + "function:".len()..],
        None => id,
    };
    match after.split_once(':') {
        Some((name, qualifier)) => (name, Some(qualifier)),
        None => (after, None),
    }
}

impl Registry {
    pub(crate) fn new() -> Result<Self, LocalError> {
        Ok(Self {
            entries: Arc::default(),
            store: Arc::new(Store::new()?),
        })
    }

    /// Registers (or replaces) a function that runs `config.bootstrap` where it is.
    pub(crate) fn insert(&self, config: FunctionConfig) {
        let size = std::fs::metadata(&config.bootstrap).map_or(0, |m| m.len());
        let code = Stored {
            bootstrap: config.bootstrap.clone(),
            task_root: config.task_root.clone(),
            sha256: None,
            size,
        };
        let entry = Entry::new(config, code);
        let old = lock(&self.entries).insert(entry.latest.config.name.clone(), entry);
        if let Some(old) = old {
            old.stop_all();
        }
    }

    /// `CreateFunction`: stores the code and registers the function.
    pub(crate) fn create(
        &self,
        config: FunctionConfig,
        code: Code,
    ) -> Result<FunctionInfo, LocalError> {
        check_name(&config.name)?;
        if lock(&self.entries).contains_key(&config.name) {
            return Err(LocalError::Conflict(format!(
                "Function already exist: {}",
                config.name
            )));
        }
        let stored = self.store.put(&config.name, code)?;
        let entry = Entry::new(config, stored);
        let info = entry.latest_info();
        let mut entries = lock(&self.entries);
        if entries.contains_key(&info.name) {
            return Err(LocalError::Conflict(format!(
                "Function already exist: {}",
                info.name
            )));
        }
        entries.insert(info.name.clone(), entry);
        Ok(info)
    }

    /// `UpdateFunctionCode`: new code for `$LATEST`; running invocations finish on the old.
    pub(crate) fn update_code(
        &self,
        id: &str,
        code: Code,
        revision_id: Option<&str>,
    ) -> Result<FunctionInfo, LocalError> {
        let (name, _) = split_id(id);
        let stored = self.store.put(name, code)?;
        self.update(id, revision_id, |config, code| {
            config.bootstrap = stored.bootstrap.clone();
            config.task_root = stored.task_root.clone();
            *code = stored;
        })
    }

    /// `UpdateFunctionConfiguration`: `change` edits `$LATEST`'s configuration.
    pub(crate) fn update_configuration(
        &self,
        id: &str,
        revision_id: Option<&str>,
        change: impl FnOnce(&mut FunctionConfig),
    ) -> Result<FunctionInfo, LocalError> {
        self.update(id, revision_id, |config, _| change(config))
    }

    fn update(
        &self,
        id: &str,
        revision_id: Option<&str>,
        change: impl FnOnce(&mut FunctionConfig, &mut Stored),
    ) -> Result<FunctionInfo, LocalError> {
        let (name, _) = split_id(id);
        let mut entries = lock(&self.entries);
        let entry = entries.get_mut(name).ok_or_else(|| not_found(id))?;
        entry.check_revision(revision_id)?;
        let mut config = entry.latest.config.clone();
        let mut code = entry.code.clone();
        change(&mut config, &mut code);
        entry.meta.description = config.description.clone();
        entry.meta.role = config.role.clone();
        entry.meta.revision_id = revision();
        entry.meta.last_modified = crate::server::iso8601(SystemTime::now());
        entry.code = code;
        let replaced = std::mem::replace(&mut entry.latest, Arc::new(Function::new(config, None)));
        replaced.retire();
        entry.retired.push(replaced);
        Ok(entry.latest_info())
    }

    /// `PublishVersion`: an immutable copy of `$LATEST`. Nothing changed since the last
    /// version: that version, as Lambda does.
    pub(crate) fn publish(
        &self,
        id: &str,
        description: Option<&str>,
        code_sha256: Option<&str>,
        revision_id: Option<&str>,
    ) -> Result<FunctionInfo, LocalError> {
        let (name, _) = split_id(id);
        let mut entries = lock(&self.entries);
        let entry = entries.get_mut(name).ok_or_else(|| not_found(id))?;
        entry.check_revision(revision_id)?;
        let sha = entry.code.sha256()?;
        if let Some(expected) = code_sha256
            && expected != sha
        {
            return Err(LocalError::InvalidParameter(format!(
                "CodeSHA256 ({expected}) is different from current CodeSHA256 in $LATEST \
                 ({sha}). Please try again with the CodeSHA256 in $LATEST."
            )));
        }
        if entry.published_from.as_deref() == Some(entry.meta.revision_id.as_str())
            && let Some(last) = entry.versions.last()
        {
            return Ok(last.info(&entry.latest.config.name));
        }
        let number = entry.versions.last().map_or(1, |v| v.number + 1);
        let mut meta = entry.meta.clone();
        if let Some(d) = description {
            meta.description = d.to_owned();
        }
        let function = Arc::new(Function::new(
            entry.latest.config.clone(),
            Some(number.to_string()),
        ));
        entry.versions.push(Version {
            number,
            function,
            code: entry.code.clone(),
            meta,
        });
        entry.published_from = Some(entry.meta.revision_id.clone());
        let name = entry.latest.config.name.clone();
        Ok(entry
            .versions
            .last()
            .map(|v| v.info(&name))
            .unwrap_or_else(|| entry.latest_info()))
    }

    /// `GetFunctionConfiguration` of `$LATEST` or of the version `qualifier` names.
    pub(crate) fn info(
        &self,
        id: &str,
        qualifier: Option<&str>,
    ) -> Result<FunctionInfo, LocalError> {
        let (name, in_arn) = split_id(id);
        let entries = lock(&self.entries);
        let entry = entries.get(name).ok_or_else(|| not_found(id))?;
        match qualifier.or(in_arn) {
            None | Some("$LATEST") => {
                let mut info = entry.latest_info();
                info.code_sha256 = entry.code.sha256()?;
                Ok(info)
            }
            Some(q) => {
                let v = entry
                    .version(q)
                    .ok_or_else(|| not_found(&format!("{name}:{q}")))?;
                let mut info = v.info(name);
                info.code_sha256 = v.code.sha256()?;
                Ok(info)
            }
        }
    }

    /// `ListVersionsByFunction`: `$LATEST`, then each version in order.
    pub(crate) fn versions(&self, id: &str) -> Result<Vec<FunctionInfo>, LocalError> {
        let (name, _) = split_id(id);
        let entries = lock(&self.entries);
        let entry = entries.get(name).ok_or_else(|| not_found(id))?;
        let mut all = vec![entry.latest_info()];
        all[0].code_sha256 = entry.code.sha256()?;
        for v in &entry.versions {
            let mut info = v.info(name);
            info.code_sha256 = v.code.sha256()?;
            all.push(info);
        }
        Ok(all)
    }

    /// The instances that run `id` (a name or ARN, qualified or not) or `qualifier`.
    pub(crate) fn find_qualified(
        &self,
        id: &str,
        qualifier: Option<&str>,
    ) -> Option<Arc<Function>> {
        let (name, in_arn) = split_id(id);
        let entries = lock(&self.entries);
        let entry = entries.get(name)?;
        match qualifier.or(in_arn) {
            None | Some("$LATEST") => Some(entry.latest.clone()),
            Some(q) => entry.version(q).map(|v| v.function.clone()),
        }
    }

    /// [`Registry::find_qualified`] with the qualifier, if any, in `id`.
    pub(crate) fn find(&self, id: &str) -> Option<Arc<Function>> {
        self.find_qualified(id, None)
    }

    /// Every pool with its label (`name` for `$LATEST`, `name:3` for a version), by name
    /// then version; replaced `$LATEST` pools are folded into the accounting of the label
    /// they had only when they ran something.
    pub(crate) fn all(&self) -> Vec<(String, Arc<Function>)> {
        let entries = lock(&self.entries);
        let mut names: Vec<&String> = entries.keys().collect();
        names.sort();
        let mut out = Vec::new();
        for name in names {
            let entry = &entries[name];
            for f in &entry.retired {
                if f.accounting().invocations > 0 {
                    out.push((format!("{name} (replaced)"), f.clone()));
                }
            }
            if entry.versions.is_empty() || entry.latest.accounting().invocations > 0 {
                out.push((name.clone(), entry.latest.clone()));
            }
            for v in &entry.versions {
                out.push((format!("{name}:{}", v.number), v.function.clone()));
            }
        }
        out
    }

    /// Every pool, to stop them.
    pub(crate) fn pools(&self) -> Vec<Arc<Function>> {
        let entries = lock(&self.entries);
        entries
            .values()
            .flat_map(|e| {
                std::iter::once(e.latest.clone())
                    .chain(e.retired.iter().cloned())
                    .chain(e.versions.iter().map(|v| v.function.clone()))
            })
            .collect()
    }
}

fn not_found(id: &str) -> LocalError {
    LocalError::NotFound(format!(
        "Function not found: arn:aws:lambda:us-east-1:000000000000:function:{}",
        id.rsplit("function:").next().unwrap_or(id)
    ))
}

impl Entry {
    fn new(mut config: FunctionConfig, code: Stored) -> Self {
        config.bootstrap = code.bootstrap.clone();
        config.task_root = code.task_root.clone();
        let meta = Meta {
            description: config.description.clone(),
            role: config.role.clone(),
            architecture: "x86_64".into(),
            revision_id: revision(),
            last_modified: crate::server::iso8601(SystemTime::now()),
        };
        Self {
            latest: Arc::new(Function::new(config, None)),
            code,
            meta,
            versions: Vec::new(),
            retired: Vec::new(),
            published_from: None,
        }
    }

    /// A `RevisionId` the caller requires must be `$LATEST`'s (Lambda's optimistic lock).
    fn check_revision(&self, revision_id: Option<&str>) -> Result<(), LocalError> {
        match revision_id {
            Some(expected) if expected != self.meta.revision_id => {
                Err(LocalError::PreconditionFailed(format!(
                    "The Revision Id provided does not match the latest Revision Id. Call the \
                     GetFunction/GetAlias API to retrieve the latest Revision Id ({})",
                    self.meta.revision_id
                )))
            }
            _ => Ok(()),
        }
    }

    fn version(&self, qualifier: &str) -> Option<&Version> {
        let n: u32 = qualifier.parse().ok()?;
        self.versions.iter().find(|v| v.number == n)
    }

    fn latest_info(&self) -> FunctionInfo {
        info(
            &self.latest.config,
            "$LATEST",
            self.latest.config.arn(),
            &self.code,
            &self.meta,
        )
    }

    fn stop_all(&self) {
        self.latest.retire();
        for f in &self.retired {
            f.retire();
        }
        for v in &self.versions {
            v.function.retire();
        }
    }
}

impl Version {
    fn info(&self, name: &str) -> FunctionInfo {
        let c = &self.function.config;
        let arn = format!(
            "arn:aws:lambda:us-east-1:000000000000:function:{name}:{}",
            self.number
        );
        info(c, &self.number.to_string(), arn, &self.code, &self.meta)
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
