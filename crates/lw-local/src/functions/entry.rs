//! One function: `$LATEST` (its configuration, code and metadata), the pools code updates
//! replaced, and its published versions, with the rules Lambda applies to changing and
//! publishing it (the `RevisionId` lock, "nothing changed: the last version").

use std::{collections::VecDeque, sync::Arc, time::SystemTime};

use crate::{Accounting, Credentials, FunctionConfig, LocalError, code::Stored, pool::Pool};

/// The most replaced `$LATEST` pools whose accounting a function keeps (for
/// [`crate::LocalLambda::report`]); beyond it the oldest is forgotten.
pub(crate) const MAX_REPLACED: usize = 32;

use super::FunctionInfo;

/// One function: `$LATEST`, its published versions, and the `$LATEST` pools that updates
/// replaced (kept to be stopped while they still run something; then only their
/// accounting is kept, the last [`MAX_REPLACED`]).
pub(super) struct Entry {
    pub(super) latest: Arc<Pool>,
    pub(super) code: Stored,
    pub(super) meta: Meta,
    pub(super) versions: Vec<Version>,
    pub(super) retired: Vec<Arc<Pool>>,
    /// The accounting of replaced pools that have stopped, oldest first.
    replaced: VecDeque<Accounting>,
    /// What every process of this function is given (as Lambda gives its role's).
    credentials: Credentials,
    /// The revision of `$LATEST` the last version was published from.
    published_from: Option<String>,
}

/// What Lambda reports of a function beside its configuration.
#[derive(Clone)]
pub(super) struct Meta {
    pub(super) description: String,
    pub(super) role: String,
    pub(super) architecture: String,
    pub(super) revision_id: String,
    pub(super) last_modified: String,
}

/// A published version: a frozen copy of `$LATEST`'s configuration, code and metadata.
pub(super) struct Version {
    pub(super) number: u32,
    pub(super) pool: Arc<Pool>,
    pub(super) code: Stored,
    pub(super) meta: Meta,
}

fn revision() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn now() -> String {
    crate::server::iso8601(SystemTime::now())
}

impl Entry {
    /// A function running `code` (its `bootstrap` and `task_root` replace the
    /// configuration's).
    pub(super) fn new(mut config: FunctionConfig, code: Stored, credentials: Credentials) -> Self {
        config.bootstrap = code.bootstrap.clone();
        config.task_root = code.task_root.clone();
        let meta = Meta {
            description: config.description.clone(),
            role: config.role.clone(),
            architecture: "x86_64".into(),
            revision_id: revision(),
            last_modified: now(),
        };
        Self {
            latest: Arc::new(Pool::new(config, None, &code, credentials.clone())),
            code,
            meta,
            versions: Vec::new(),
            retired: Vec::new(),
            replaced: VecDeque::new(),
            credentials,
            published_from: None,
        }
    }

    /// The accounting of every replaced `$LATEST` pool, oldest first.
    pub(super) fn replaced_accounting(&self) -> Vec<Accounting> {
        let stopped = self.replaced.iter().cloned();
        stopped
            .chain(self.retired.iter().map(|p| p.accounting()))
            .collect()
    }

    /// Drops the replaced pools that run nothing any more (their processes are stopped;
    /// their code folder goes with the last holder), keeping their accounting.
    fn prune_retired(&mut self) {
        let (drained, running): (Vec<_>, Vec<_>) =
            self.retired.drain(..).partition(|p| p.is_drained());
        self.retired = running;
        for pool in drained {
            self.replaced.push_back(pool.accounting());
            if self.replaced.len() > MAX_REPLACED {
                self.replaced.pop_front();
            }
        }
    }

    /// A `RevisionId` the caller requires must be `$LATEST`'s (Lambda's optimistic lock).
    pub(super) fn check_revision(&self, revision_id: Option<&str>) -> Result<(), LocalError> {
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

    /// Applies `change` to `$LATEST`'s configuration and code: a new revision, run by a new
    /// pool; the old pool finishes what it runs, then stops.
    pub(super) fn update(&mut self, change: impl FnOnce(&mut FunctionConfig, &mut Stored)) {
        let mut config = self.latest.config.clone();
        let mut code = self.code.clone();
        change(&mut config, &mut code);
        self.meta.description = config.description.clone();
        self.meta.role = config.role.clone();
        self.meta.revision_id = revision();
        self.meta.last_modified = now();
        let pool = Pool::new(config, None, &code, self.credentials.clone());
        self.code = code;
        let replaced = std::mem::replace(&mut self.latest, Arc::new(pool));
        replaced.retire();
        self.retired.push(replaced);
        self.prune_retired();
    }

    /// Publishes `$LATEST` as the next version, or returns the last version when `$LATEST`
    /// has not changed since it was published (as Lambda does).
    pub(super) fn publish(
        &mut self,
        description: Option<&str>,
        code_sha256: Option<&str>,
    ) -> Result<FunctionInfo, LocalError> {
        let sha = self.code.sha256()?;
        if let Some(expected) = code_sha256
            && expected != sha
        {
            return Err(LocalError::InvalidParameter(format!(
                "CodeSHA256 ({expected}) is different from current CodeSHA256 in $LATEST \
                 ({sha}). Please try again with the CodeSHA256 in $LATEST."
            )));
        }
        let name = self.latest.config.name.clone();
        let unchanged = self.published_from.as_deref() == Some(self.meta.revision_id.as_str());
        if let (true, Some(last)) = (unchanged, self.versions.last()) {
            return Ok(last.info(&name));
        }
        let number = self.versions.last().map_or(1, |v| v.number + 1);
        let mut meta = self.meta.clone();
        if let Some(d) = description {
            meta.description = d.to_owned();
        }
        let version = Version {
            number,
            pool: Arc::new(Pool::new(
                self.latest.config.clone(),
                Some(number.to_string()),
                &self.code,
                self.credentials.clone(),
            )),
            code: self.code.clone(),
            meta,
        };
        let info = version.info(&name);
        self.versions.push(version);
        self.published_from = Some(self.meta.revision_id.clone());
        Ok(info)
    }

    /// The version `qualifier` (a number) names.
    pub(super) fn version(&self, qualifier: &str) -> Option<&Version> {
        let n: u32 = qualifier.parse().ok()?;
        self.versions.iter().find(|v| v.number == n)
    }

    /// Every pool: `$LATEST`, the replaced ones and the versions'.
    pub(super) fn pools(&self) -> impl Iterator<Item = &Arc<Pool>> {
        std::iter::once(&self.latest)
            .chain(&self.retired)
            .chain(self.versions.iter().map(|v| &v.pool))
    }
}
