//! `moto_server` (PyPI `moto[server]`) as a local AWS KMS.

use std::{
    collections::HashMap,
    net::TcpStream,
    path::PathBuf,
    process::{Command, Stdio},
    sync::OnceLock,
    time::{Duration, Instant},
};

use aws_sdk_kms::{
    Client,
    config::{BehaviorVersion, Credentials, Region},
    primitives::Blob,
};
use base64::Engine as _;

use crate::{TestkitError, free_port};

/// A running `moto_server` on 127.0.0.1.
#[derive(Debug)]
pub struct Moto {
    /// `http://127.0.0.1:<port>`: the value for `AWS_ENDPOINT_URL_KMS`.
    pub endpoint: String,
    pid: u32,
}

static SHARED: OnceLock<Result<Moto, String>> = OnceLock::new();

/// Region the fixture's keys live in.
pub const REGION: &str = "us-east-1";

fn find_moto() -> Result<PathBuf, TestkitError> {
    lw_local::process::find_program("MOTO_SERVER", "moto_server").ok_or_else(|| {
        TestkitError::Command(
            "`moto_server` was not found on PATH (or in $MOTO_SERVER): install it with \
             `pip install 'moto[server]'`"
                .into(),
        )
    })
}

impl Moto {
    /// The one server of this test process, started on first use; killed when the process
    /// exits.
    pub fn shared() -> Result<&'static Moto, TestkitError> {
        SHARED
            .get_or_init(|| Self::start().map_err(|e| e.to_string()))
            .as_ref()
            .map_err(|e| TestkitError::Command(e.clone()))
    }

    /// Starts a new server on a free port and waits until it accepts connections.
    pub fn start() -> Result<Moto, TestkitError> {
        let program = find_moto()?;
        let port = free_port()?;
        let mut cmd = Command::new(program);
        cmd.args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let pid = lw_local::process::spawn_tied(cmd)?;
        let until = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > until {
                return Err(TestkitError::Timeout(format!(
                    "moto_server on port {port} not accepting connections after 30 s"
                )));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(Moto {
            endpoint: format!("http://127.0.0.1:{port}"),
            pid,
        })
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The environment a function needs to reach this KMS: region, dummy credentials (moto
    /// accepts any) and `AWS_ENDPOINT_URL_KMS`.
    pub fn env(&self) -> HashMap<String, String> {
        [
            ("AWS_REGION", REGION),
            ("AWS_ACCESS_KEY_ID", "testing"),
            ("AWS_SECRET_ACCESS_KEY", "testing"),
            ("AWS_SESSION_TOKEN", "testing"),
            ("AWS_ENDPOINT_URL_KMS", self.endpoint.as_str()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    }

    /// A KMS client for this server in `us-east-1`.
    pub fn client(&self) -> Client {
        self.client_in(REGION)
    }

    /// A KMS client for this server in `region` (keys are per region, as in AWS: a key from
    /// another region is not usable, and decrypting with it is denied).
    pub fn client_in(&self, region: &str) -> Client {
        let config = aws_sdk_kms::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(region.to_owned()))
            .credentials_provider(Credentials::new("testing", "testing", None, None, "moto"))
            .endpoint_url(&self.endpoint)
            .http_client(aws_smithy_http_client::Builder::new().build_http())
            .build();
        Client::from_conf(config)
    }

    /// Creates a symmetric encryption key in `us-east-1` and returns its id.
    pub async fn create_key(&self) -> Result<String, TestkitError> {
        self.create_key_in(REGION).await
    }

    /// Creates a symmetric encryption key in `region` and returns its id.
    pub async fn create_key_in(&self, region: &str) -> Result<String, TestkitError> {
        let out = self
            .client_in(region)
            .create_key()
            .description("lambdaworker test key")
            .send()
            .await
            .map_err(|e| TestkitError::Command(format!("CreateKey: {e:?}")))?;
        out.key_metadata()
            .map(|m| m.key_id().to_owned())
            .ok_or_else(|| TestkitError::Command("CreateKey returned no key id".into()))
    }

    /// Encrypts `plaintext` with `key_id` and an optional encryption context and returns the
    /// base64 ciphertext, as the Lambda console and `aws kms encrypt` print it.
    pub async fn encrypt(
        &self,
        key_id: &str,
        plaintext: &str,
        context: Option<(&str, &str)>,
    ) -> Result<String, TestkitError> {
        self.encrypt_in(REGION, key_id, plaintext, context).await
    }

    /// [`Moto::encrypt`] with a key of `region`.
    pub async fn encrypt_in(
        &self,
        region: &str,
        key_id: &str,
        plaintext: &str,
        context: Option<(&str, &str)>,
    ) -> Result<String, TestkitError> {
        let mut request = self
            .client_in(region)
            .encrypt()
            .key_id(key_id)
            .plaintext(Blob::new(plaintext.as_bytes()));
        if let Some((k, v)) = context {
            request = request.encryption_context(k, v);
        }
        let out = request
            .send()
            .await
            .map_err(|e| TestkitError::Command(format!("Encrypt: {e:?}")))?;
        let blob = out
            .ciphertext_blob()
            .ok_or_else(|| TestkitError::Command("Encrypt returned no ciphertext".into()))?;
        Ok(base64::engine::general_purpose::STANDARD.encode(blob.as_ref()))
    }
}
