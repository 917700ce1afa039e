//! The Lambda control plane: functions, their code, their configuration and their published
//! versions. A published version is an immutable copy: its code and configuration are those
//! of `$LATEST` when it was published, and a qualified ARN (`…:function:NAME:3`) runs them
//! whatever `$LATEST` became since.
//!
//! This file holds the [`Registry`] (functions by name, and lookups by name, ARN and
//! qualifier); `entry` holds one function and the rules for changing and publishing it;
//! `info` what `GetFunctionConfiguration` tells of it.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use crate::{
    Accounting, Credentials, FunctionConfig, LocalError,
    code::{Code, Store, Stored, check_name},
    pool::Pool,
};

mod entry;
mod info;

use entry::Entry;
pub use info::FunctionInfo;

/// Every function, by name, the folder their code is stored in, and the credentials their
/// processes are given.
#[derive(Clone)]
pub(crate) struct Registry {
    entries: Arc<Mutex<HashMap<String, Entry>>>,
    store: Arc<Store>,
    credentials: Credentials,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
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
    /// An empty registry whose functions get `credentials` (as Lambda gives a function its
    /// role's).
    pub(crate) fn new(credentials: Credentials) -> Result<Self, LocalError> {
        Self::with_store(credentials, Store::new()?)
    }

    pub(crate) fn with_store(credentials: Credentials, store: Store) -> Result<Self, LocalError> {
        Ok(Self {
            entries: Arc::default(),
            store: Arc::new(store),
            credentials,
        })
    }

    #[cfg(test)]
    pub(crate) fn store(&self) -> &Store {
        &self.store
    }

    /// Registers (or replaces) a function that runs `config.bootstrap` where it is.
    pub(crate) fn insert(&self, config: FunctionConfig) {
        let size = std::fs::metadata(&config.bootstrap).map_or(0, |m| m.len());
        let code = Stored {
            bootstrap: config.bootstrap.clone(),
            task_root: config.task_root.clone(),
            sha256: None,
            size,
            folder: None,
        };
        let entry = Entry::new(config, code, self.credentials.clone());
        let old = lock(&self.entries).insert(entry.latest.config.name.clone(), entry);
        for pool in old.iter().flat_map(Entry::pools) {
            pool.retire();
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
        let entry = Entry::new(config, stored, self.credentials.clone());
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
        // Nothing is unpacked for a function that does not exist (or a stale revision).
        check_name(name)?;
        {
            let entries = lock(&self.entries);
            let entry = entries.get(name).ok_or_else(|| not_found(id))?;
            entry.check_revision(revision_id)?;
        }
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
        entry.update(change);
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
        entry.publish(description, code_sha256)
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
            None | Some("$LATEST") => entry.latest_info_hashed(),
            Some(q) => entry
                .version(q)
                .ok_or_else(|| not_found(&format!("{name}:{q}")))?
                .info_hashed(name),
        }
    }

    /// `ListVersionsByFunction`: `$LATEST`, then each version in order.
    pub(crate) fn versions(&self, id: &str) -> Result<Vec<FunctionInfo>, LocalError> {
        let (name, _) = split_id(id);
        let entries = lock(&self.entries);
        let entry = entries.get(name).ok_or_else(|| not_found(id))?;
        std::iter::once(entry.latest_info_hashed())
            .chain(entry.versions.iter().map(|v| v.info_hashed(name)))
            .collect()
    }

    /// The pool that runs `id` (a name or ARN, qualified or not) or `qualifier`.
    pub(crate) fn find_qualified(&self, id: &str, qualifier: Option<&str>) -> Option<Arc<Pool>> {
        let (name, in_arn) = split_id(id);
        let entries = lock(&self.entries);
        let entry = entries.get(name)?;
        match qualifier.or(in_arn) {
            None | Some("$LATEST") => Some(entry.latest.clone()),
            Some(q) => entry.version(q).map(|v| v.pool.clone()),
        }
    }

    /// [`Registry::find_qualified`] with the qualifier, if any, in `id`.
    pub(crate) fn find(&self, id: &str) -> Option<Arc<Pool>> {
        self.find_qualified(id, None)
    }

    /// Every pool's accounting with its label (`name` for `$LATEST`, `name:3` for a
    /// version), by name then version. A replaced `$LATEST` (as `name (replaced)`) is listed
    /// only when it ran something, and `$LATEST` of a function with versions only when it
    /// did.
    pub(crate) fn all(&self) -> Vec<(String, Accounting)> {
        let entries = lock(&self.entries);
        let mut names: Vec<&String> = entries.keys().collect();
        names.sort();
        let mut out = Vec::new();
        for name in names {
            let entry = &entries[name];
            for a in entry.replaced_accounting() {
                if a.invocations > 0 {
                    out.push((format!("{name} (replaced)"), a));
                }
            }
            let latest = entry.latest.accounting();
            if entry.versions.is_empty() || latest.invocations > 0 {
                out.push((name.clone(), latest));
            }
            for v in &entry.versions {
                out.push((format!("{name}:{}", v.number), v.pool.accounting()));
            }
        }
        out
    }

    /// Every pool, to stop them.
    pub(crate) fn pools(&self) -> Vec<Arc<Pool>> {
        let entries = lock(&self.entries);
        entries.values().flat_map(|e| e.pools().cloned()).collect()
    }
}

fn not_found(id: &str) -> LocalError {
    LocalError::NotFound(format!(
        "Function not found: arn:aws:lambda:us-east-1:000000000000:function:{}",
        id.rsplit("function:").next().unwrap_or(id)
    ))
}

#[cfg(test)]
mod tests;
