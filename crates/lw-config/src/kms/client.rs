//! The KMS client (feature `kms`): aws-sdk-kms over rustls+ring, built from Lambda's
//! environment, decrypting every pending value concurrently within a bound.

use std::{collections::HashMap, time::Duration};

use aws_sdk_kms::{
    Client,
    config::{BehaviorVersion, Credentials, Region, http::HttpResponse, timeout::TimeoutConfig},
    error::{ProvideErrorMetadata, SdkError},
    primitives::Blob,
};
use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
use base64::Engine as _;

use super::Pending;
use crate::{ConfigError, KMS_PREFIX, Secret};

/// A KMS client for decrypting configuration secrets.
///
/// [`crate::Loader`] builds one from the environment when there is anything to decrypt; build
/// one yourself to decrypt variables of your own, or pass a preconfigured client with
/// [`Kms::from_client`].
///
/// ```no_run
/// # async fn f() -> Result<(), lw_config::ConfigError> {
/// use std::collections::HashMap;
/// let env: HashMap<String, String> = lw_config::env_snapshot();
/// let kms = lw_config::Kms::from_env(&env)?;
/// let ciphertext = env.get("MY_TOKEN").cloned().unwrap_or_default();
/// let token = kms
///     .decrypt("environment variable MY_TOKEN", &ciphertext, Some(("LambdaFunctionName", "my-fn")))
///     .await?;
/// # let _ = token; Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct Kms {
    client: Client,
    endpoint: Option<String>,
}

impl Kms {
    /// Builds a client from an environment snapshot: region from `AWS_REGION` (or
    /// `AWS_DEFAULT_REGION`), credentials from `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`
    /// and `AWS_SESSION_TOKEN` (what Lambda sets for the function's role), endpoint from
    /// `AWS_ENDPOINT_URL_KMS` or `AWS_ENDPOINT_URL` when set.
    pub fn from_env(env: &HashMap<String, String>) -> Result<Self, ConfigError> {
        let get = |k: &str| env.get(k).filter(|v| !v.trim().is_empty()).cloned();
        let missing = |var: &str, what: &str| ConfigError::Kms {
            source: None,
            origin: format!("environment variable {var}"),
            message: format!(
                "is not set, and decrypting KMS secrets needs {what}; Lambda sets it for every \
                 function, elsewhere export it"
            ),
        };
        let region = get("AWS_REGION")
            .or_else(|| get("AWS_DEFAULT_REGION"))
            .ok_or_else(|| missing("AWS_REGION", "the region"))?;
        let access_key = get("AWS_ACCESS_KEY_ID")
            .ok_or_else(|| missing("AWS_ACCESS_KEY_ID", "the role's credentials"))?;
        let secret_key = get("AWS_SECRET_ACCESS_KEY")
            .ok_or_else(|| missing("AWS_SECRET_ACCESS_KEY", "the role's credentials"))?;
        let credentials = Credentials::new(
            access_key,
            secret_key,
            get("AWS_SESSION_TOKEN"),
            None,
            "lambda-environment",
        );
        let endpoint = get("AWS_ENDPOINT_URL_KMS").or_else(|| get("AWS_ENDPOINT_URL"));
        if let Some(e) = &endpoint
            && !url::Url::parse(e)
                .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
        {
            let var = if get("AWS_ENDPOINT_URL_KMS").is_some() {
                "AWS_ENDPOINT_URL_KMS"
            } else {
                "AWS_ENDPOINT_URL"
            };
            return Err(ConfigError::Kms {
                source: None,
                origin: format!("environment variable {var}"),
                message: format!(
                    "`{e}` is not an http(s) URL; write it as https://host or http://host:port"
                ),
            });
        }
        let http = aws_smithy_http_client::Builder::new()
            .tls_provider(Provider::Rustls(CryptoMode::Ring))
            .build_https();
        let mut config = aws_sdk_kms::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(region))
            .credentials_provider(credentials)
            .http_client(http)
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(2))
                    .operation_attempt_timeout(Duration::from_secs(3))
                    .build(),
            );
        if let Some(e) = &endpoint {
            config = config.endpoint_url(e);
        }
        Ok(Self {
            client: Client::from_conf(config.build()),
            endpoint,
        })
    }

    /// Wraps a client you configured yourself.
    pub fn from_client(client: Client) -> Self {
        Self {
            client,
            endpoint: None,
        }
    }

    /// Decrypts base64 `ciphertext` (a leading `kms:` is allowed) with an optional encryption
    /// context. `origin` names where the value came from; errors carry it, never the value.
    pub async fn decrypt(
        &self,
        origin: &str,
        ciphertext: &str,
        context: Option<(&str, &str)>,
    ) -> Result<Secret, ConfigError> {
        let fail = |message: String| ConfigError::Kms {
            origin: origin.to_owned(),
            message,
            source: None,
        };
        let b64 = ciphertext.trim();
        let b64 = b64.strip_prefix(KMS_PREFIX).unwrap_or(b64).trim();
        let blob = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .map_err(|e| ConfigError::Kms {
                origin: origin.to_owned(),
                message: "is marked as KMS-encrypted but is not base64 ciphertext; set it to the \
                          CiphertextBlob that `aws kms encrypt` or the Lambda console printed"
                    .into(),
                source: Some(e.into()),
            })?;
        if blob.is_empty() {
            return Err(fail(
                "is marked as KMS-encrypted but is empty; set it to the base64 ciphertext".into(),
            ));
        }
        let mut request = self.client.decrypt().ciphertext_blob(Blob::new(blob));
        if let Some((k, v)) = context {
            request = request.encryption_context(k, v);
        }
        let output = request.send().await.map_err(|e| ConfigError::Kms {
            origin: origin.to_owned(),
            message: self.describe(&e, context),
            // Only a service error is kept: it is KMS's code and message (a 5xx carries
            // nothing more than its status). The SDK's other errors can carry the request,
            // and so the ciphertext.
            source: match &e {
                SdkError::ServiceError(ctx) if ctx.raw().status().as_u16() < 500 => {
                    Some(e.into_service_error().into())
                }
                _ => None,
            },
        })?;
        let plaintext = output
            .plaintext()
            .map(|b| b.as_ref().to_vec())
            .ok_or_else(|| {
                fail(
                    "KMS returned no plaintext; check the key is a symmetric encryption key".into(),
                )
            })?;
        String::from_utf8(plaintext).map(Secret::new).map_err(|_| {
            fail("decrypted to bytes that are not UTF-8 text; encrypt the text itself".into())
        })
    }

    fn describe(
        &self,
        e: &SdkError<aws_sdk_kms::operation::decrypt::DecryptError, HttpResponse>,
        context: Option<(&str, &str)>,
    ) -> String {
        // A server error is the endpoint's failure, whatever it says: not the value's.
        if let Some(status) = e.raw_response().map(|r| r.status().as_u16())
            && status >= 500
        {
            return format!(
                "KMS{} answered HTTP {status} (after retries); try again, and check that \
                 AWS_ENDPOINT_URL_KMS (if set) points at KMS",
                self.endpoint_note()
            );
        }
        let ctx = match context {
            Some((k, v)) => format!("the encryption context {k}={v}"),
            None => "no encryption context".to_owned(),
        };
        match e {
            SdkError::ServiceError(s) => {
                let err = s.err();
                let code = err.code().unwrap_or("Unknown");
                match code {
                    "InvalidCiphertextException" => format!(
                        "KMS cannot decrypt it with {ctx}: the \
                         ciphertext is damaged or was encrypted with a different encryption \
                         context; {}",
                        match context {
                            Some((k, v)) => format!(
                                "encrypt it with `--encryption-context {k}={v}` (the Lambda \
                                 console's encryption helpers do), or write it as `kms:<base64>` \
                                 if it was encrypted without a context"
                            ),
                            None => "encrypt `kms:` values without an encryption context, or \
                                     list the variable in LAMBDAWORKER_KMS_DECRYPT if the Lambda \
                                     console encrypted it"
                                .to_owned(),
                        }
                    ),
                    "AccessDeniedException" => format!(
                        "KMS denied decryption; allow the \
                         function's execution role `kms:Decrypt` on the key{} (see \
                         docs/configuration.md)",
                        match context {
                            Some((k, v)) => {
                                format!(", with the condition kms:EncryptionContext:{k} = {v}")
                            }
                            None => ", without an encryption-context condition (`kms:` values \
                                     carry no context)"
                                .to_owned(),
                        }
                    ),
                    "NotFoundException" | "IncorrectKeyException" => {
                        "KMS cannot find the key this was encrypted with; \
                         re-encrypt it with a key in this account and region"
                            .to_owned()
                    }
                    "DisabledException" | "KMSInvalidStateException" => {
                        "the key this was encrypted with cannot be used; enable \
                         the key or re-encrypt with an enabled one"
                            .to_owned()
                    }
                    _ => "KMS refused to decrypt it; its reason follows".to_owned(),
                }
            }
            SdkError::TimeoutError(_) => format!(
                "KMS did not answer in time{}; check the function can reach KMS (a VPC needs a \
                 KMS endpoint or NAT)",
                self.endpoint_note()
            ),
            // The SDK's own error text can carry the request (and so the ciphertext): only its
            // kind is shown.
            SdkError::DispatchFailure(d) => format!(
                "cannot reach KMS{} ({}); check AWS_ENDPOINT_URL_KMS and network access (a VPC \
                 needs a KMS endpoint or NAT)",
                self.endpoint_note(),
                if d.is_io() {
                    "connection failed"
                } else if d.is_timeout() {
                    "timed out"
                } else if d.is_user() {
                    "the request could not be sent"
                } else {
                    "dispatch failure"
                }
            ),
            SdkError::ConstructionFailure(_) => format!(
                "the KMS request could not be built{}; check AWS_REGION and \
                 AWS_ENDPOINT_URL_KMS",
                self.endpoint_note()
            ),
            _ => format!(
                "KMS gave a response that is not a Decrypt answer{}; check AWS_ENDPOINT_URL_KMS \
                 points at KMS",
                self.endpoint_note()
            ),
        }
    }

    fn endpoint_note(&self) -> String {
        self.endpoint
            .as_ref()
            .map(|e| format!(" at {e}"))
            .unwrap_or_default()
    }
}

/// Decrypts every pending value concurrently, all within `timeout`.
pub(crate) async fn decrypt_all(
    kms: &Kms,
    pending: &[Pending],
    timeout: Duration,
) -> Result<Vec<Secret>, ConfigError> {
    let calls = pending.iter().map(|p| {
        kms.decrypt(
            &p.origin,
            p.ciphertext.expose(),
            p.context.as_ref().map(|(k, v)| (k.as_str(), v.as_str())),
        )
    });
    match tokio::time::timeout(timeout, futures::future::try_join_all(calls)).await {
        Ok(r) => r,
        Err(_) => Err(ConfigError::Kms {
            source: None,
            origin: pending
                .iter()
                .map(|p| p.origin.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            message: format!(
                "decrypting did not finish within {} ms{}; check the function can reach KMS, \
                 or raise the bound with Loader::kms_timeout",
                timeout.as_millis(),
                kms.endpoint_note()
            ),
        }),
    }
}
