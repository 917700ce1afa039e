//! [`Credentials`]: the access key lw-local makes for each run (from the operating system's
//! random source), and the [`Keyring`] of every key it accepts: the run's, and the session
//! keys its STS `AssumeRole` handed out.

use std::{
    collections::VecDeque,
    sync::Mutex,
    time::{Duration, SystemTime},
};

use crate::{LocalError, server::lock};

/// The access key of one lw-local run: every request to it must be signed (AWS SigV4) with
/// it, or with session credentials its STS handed out for it.
///
/// Made when the service starts, from the operating system's random source; never written
/// anywhere by lw-local itself. [`Credentials::env`] is what a program signing with the
/// AWS SDK needs. `Debug` shows the key id, never the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    access_key_id: String,
    secret_access_key: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .finish()
    }
}

/// The environment variables through which an AWS SDK may find credentials other than
/// `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` (a profile, a session token, a web
/// identity, a container endpoint): removed from a process that must sign with this run's
/// credentials ([`crate::DevServer`] removes them when its environment sets
/// `AWS_ACCESS_KEY_ID`).
pub const CREDENTIAL_SOURCES: [&str; 8] = [
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
];

/// Letters and digits, as AWS writes access keys.
const ALPHABET: &[u8; 36] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/// `len` symbols of [`ALPHABET`] from the operating system's random source.
pub(crate) fn random_string(len: usize) -> Result<String, LocalError> {
    crate::random::random_symbols(ALPHABET, len).map_err(|e| {
        LocalError::Io(std::io::Error::new(
            e.kind(),
            format!(
                "cannot read {} to make this run's credentials: {e}",
                crate::random::RANDOM_SOURCE
            ),
        ))
    })
}

impl Credentials {
    /// New credentials: `AKLW` and 16 random symbols, and a 40-symbol secret (about 206
    /// bits).
    pub(crate) fn generate() -> Result<Self, LocalError> {
        Ok(Self {
            access_key_id: format!("AKLW{}", random_string(16)?),
            secret_access_key: random_string(40)?,
        })
    }

    /// The access key id (`AWS_ACCESS_KEY_ID`).
    pub fn access_key_id(&self) -> &str {
        &self.access_key_id
    }

    /// The secret access key (`AWS_SECRET_ACCESS_KEY`).
    pub fn secret_access_key(&self) -> &str {
        &self.secret_access_key
    }

    /// `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY` for a process that calls lw-local
    /// through an AWS SDK.
    pub fn env(&self) -> Vec<(String, String)> {
        vec![
            ("AWS_ACCESS_KEY_ID".into(), self.access_key_id.clone()),
            (
                "AWS_SECRET_ACCESS_KEY".into(),
                self.secret_access_key.clone(),
            ),
        ]
    }

    /// The headers (`authorization`, `x-amz-date`) that sign a request to lw-local for a
    /// client without an AWS SDK: `url` is the full URL as sent (its host and port are the
    /// `Host` header), `headers` the other headers to sign (lower-case names), `body` the
    /// body as sent.
    pub fn sign(
        &self,
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<Vec<(String, String)>, LocalError> {
        super::sigv4::sign(self, method, url, headers, body)
    }
}

/// How long a session key from `AssumeRole` is accepted (its `Expiration`).
pub(crate) const SESSION_LIFETIME: Duration = Duration::from_secs(3600);

/// The most session keys kept: beyond it, the oldest is forgotten (and refused).
pub(crate) const MAX_SESSIONS: usize = 1024;

/// Session credentials `AssumeRole` handed out.
#[derive(Clone)]
pub(crate) struct Session {
    pub(crate) access_key_id: String,
    pub(crate) secret_access_key: String,
    pub(crate) session_token: String,
    pub(crate) expires: SystemTime,
}

/// Every key lw-local accepts: the run's, and the unexpired session keys it issued.
pub(crate) struct Keyring {
    pub(crate) run: Credentials,
    sessions: Mutex<VecDeque<Session>>,
}

impl Keyring {
    pub(crate) fn new(run: Credentials) -> Self {
        Self {
            run,
            sessions: Mutex::new(VecDeque::new()),
        }
    }

    /// New session credentials (an `ASIA` key, a secret and a token) for `AssumeRole`,
    /// accepted for [`SESSION_LIFETIME`]; the oldest is forgotten beyond [`MAX_SESSIONS`].
    pub(crate) fn issue(&self) -> Result<Session, LocalError> {
        let session = Session {
            access_key_id: format!("ASIA{}", random_string(16)?),
            secret_access_key: random_string(40)?,
            session_token: random_string(64)?,
            expires: SystemTime::now() + SESSION_LIFETIME,
        };
        let mut sessions = lock(&self.sessions);
        let now = SystemTime::now();
        sessions.retain(|s| s.expires > now);
        while sessions.len() >= MAX_SESSIONS {
            sessions.pop_front();
        }
        sessions.push_back(session.clone());
        Ok(session)
    }

    /// The secret (and session token, for a session key) of `key_id`, if lw-local accepts
    /// that key now.
    pub(crate) fn secret(&self, key_id: &str) -> Option<(String, Option<String>)> {
        if key_id == self.run.access_key_id {
            return Some((self.run.secret_access_key.clone(), None));
        }
        let now = SystemTime::now();
        lock(&self.sessions)
            .iter()
            .find(|s| s.access_key_id == key_id && s.expires > now)
            .map(|s| (s.secret_access_key.clone(), Some(s.session_token.clone())))
    }

    #[cfg(test)]
    pub(crate) fn session_count(&self) -> usize {
        lock(&self.sessions).len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_random_and_debug_hides_the_secret() {
        let (a, b) = (
            Credentials::generate().unwrap(),
            Credentials::generate().unwrap(),
        );
        assert_ne!(a, b);
        assert!(a.access_key_id().starts_with("AKLW") && a.access_key_id().len() == 20);
        assert_eq!(a.secret_access_key().len(), 40);
        let shown = format!("{a:?}");
        assert!(!shown.contains(a.secret_access_key()), "{shown}");
        assert!(shown.contains(a.access_key_id()), "{shown}");
    }

    #[test]
    fn session_keys_are_bounded_and_the_oldest_is_forgotten() {
        let keys = Keyring::new(Credentials::generate().unwrap());
        let first = keys.issue().unwrap();
        assert!(keys.secret(&first.access_key_id).is_some());
        for _ in 0..MAX_SESSIONS {
            keys.issue().unwrap();
        }
        assert_eq!(keys.session_count(), MAX_SESSIONS);
        assert!(keys.secret(&first.access_key_id).is_none());
        assert!(keys.secret(keys.run.access_key_id()).is_some());
        assert!(keys.secret("AKIAUNKNOWN").is_none());
    }
}
