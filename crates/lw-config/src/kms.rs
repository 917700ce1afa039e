//! KMS-encrypted secrets: Lambda's "encrypted environment variables" and `kms:` values.
//!
//! Two forms are understood:
//!
//! * variables listed in `LAMBDAWORKER_KMS_DECRYPT` (comma-separated), holding base64
//!   ciphertext made the way the Lambda console's encryption helpers make it: with the
//!   encryption context `LambdaFunctionName` = the function's name;
//! * any secret value (`api_key`, `tls.*_data`, `grpc_meta.*`, `codec.auth`, in the file or in
//!   the environment) written as `kms:<base64 ciphertext>`, encrypted without a context.
//!
//! Everything is decrypted once, concurrently, before the configuration is resolved, and
//! bounded by [`DEFAULT_KMS_TIMEOUT`] (see [`crate::Loader::kms_timeout`]). The client is
//! built from the variables Lambda sets (`AWS_REGION`, `AWS_ACCESS_KEY_ID`,
//! `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`) and honours `AWS_ENDPOINT_URL_KMS` /
//! `AWS_ENDPOINT_URL`. Plaintext only ever lives in [`Secret`]; errors name the variable or
//! key, never the value.
//!
//! The client needs the `kms` feature (on by default in `lambdaworker`). Without it, a
//! KMS-encrypted value is an init error that names it and says to turn the feature on.

use std::time::Duration;

use crate::Secret;

#[cfg(feature = "kms")]
mod client;
#[cfg(feature = "kms")]
pub use client::Kms;
#[cfg(feature = "kms")]
pub(crate) use client::decrypt_all;

/// The variable listing which environment variables hold Lambda-console-encrypted values.
pub const DECRYPT_VAR: &str = "LAMBDAWORKER_KMS_DECRYPT";
/// The prefix marking a value as base64 KMS ciphertext encrypted without a context.
pub const KMS_PREFIX: &str = "kms:";
/// The encryption-context key the Lambda console uses for environment variables.
pub const LAMBDA_CONTEXT_KEY: &str = "LambdaFunctionName";
/// How long decrypting every secret may take, all together, unless configured otherwise.
pub const DEFAULT_KMS_TIMEOUT: Duration = Duration::from_secs(5);

/// One value waiting to be decrypted.
#[derive(Debug)]
// Without the `kms` feature only `origin` is read: for the error that names it.
#[cfg_attr(not(feature = "kms"), allow(dead_code))]
pub(crate) struct Pending {
    /// Where it came from, for errors.
    pub(crate) origin: String,
    /// Where to put the plaintext.
    pub(crate) target: Target,
    /// Base64 ciphertext (never logged; `Pending` is not logged either).
    pub(crate) ciphertext: Secret,
    /// Encryption context, for console-encrypted variables.
    pub(crate) context: Option<(String, String)>,
}

/// Where a decrypted value goes.
#[derive(Debug, Clone)]
pub(crate) enum Target {
    /// A key path in the file profile's dictionary.
    File(Vec<String>),
    /// An environment variable.
    Env(String),
}

/// Secret keys (dotted, profile-relative) a `kms:` value may appear under.
pub(crate) fn is_secret_key(key: &str) -> bool {
    matches!(
        key,
        "api_key"
            | "tls.client_cert_data"
            | "tls.client_key_data"
            | "tls.server_ca_cert_data"
            | "codec.auth"
    ) || key.starts_with("grpc_meta.")
}
