//! `cargo lambdaworker` decrypts the project's `kms:` values with the AWS credentials of the
//! standard chain, like the rest of `deploy`: here a named profile in a temporary
//! `AWS_CONFIG_FILE` / `AWS_SHARED_CREDENTIALS_FILE`, with no `AWS_ACCESS_KEY_ID` in the
//! environment, against moto's KMS. No build: `status` only reads the project and connects.

use std::{path::Path, process::Command};

use lw_testkit::Moto;

const BIN: &str = env!("CARGO_BIN_EXE_cargo-lambdaworker");

/// A worker project (never built) whose `temporal.toml` holds `api_key = "kms:…"`.
fn project(dir: &Path, address: &str, ciphertext: &str) {
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::write(dir.join("src/main.rs"), "fn main() {}\n").unwrap();
    std::fs::write(
        dir.join("Cargo.toml"),
        "[package]\nname = \"kms-worker\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n\
         [dependencies]\nlambdaworker = \"0.1\"\n\n[workspace]\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("temporal.toml"),
        format!(
            "[profile.default]\naddress = \"{address}\"\nnamespace = \"default\"\n\
             api_key = \"kms:{ciphertext}\"\n"
        ),
    )
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kms_values_decrypt_with_a_profiles_credentials() {
    let moto = Moto::shared().unwrap();
    let key = moto.create_key().await.unwrap();
    let ciphertext = moto.encrypt(&key, "sk-PLAINTEXT-7", None).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let port = lw_local::process::free_port().unwrap();
    let address = format!("127.0.0.1:{port}");
    let worker = dir.path().join("worker");
    project(&worker, &address, &ciphertext);
    let (config, credentials) = (dir.path().join("config"), dir.path().join("credentials"));
    std::fs::write(&config, "[profile deployer]\nregion = us-east-1\n").unwrap();
    std::fs::write(
        &credentials,
        "[deployer]\naws_access_key_id = testing\naws_secret_access_key = testing\n",
    )
    .unwrap();

    let mut cmd = Command::new(BIN);
    cmd.args(["lambdaworker", "status", "--deployment", "nothing"])
        .arg("--manifest-path")
        .arg(worker.join("Cargo.toml"))
        .current_dir(&worker);
    for (k, _) in std::env::vars() {
        if k.starts_with("AWS_") || k.starts_with("TEMPORAL_") {
            cmd.env_remove(k);
        }
    }
    cmd.env("AWS_CONFIG_FILE", &config)
        .env("AWS_SHARED_CREDENTIALS_FILE", &credentials)
        .env("AWS_PROFILE", "deployer")
        .env("AWS_ENDPOINT_URL_KMS", &moto.endpoint)
        .env("AWS_EC2_METADATA_DISABLED", "true");
    let out = cmd.output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // Nothing listens at the address: the command fails, but only once the API key was
    // decrypted and a connection tried (a failed decryption names KMS and the variables).
    assert!(!out.status.success(), "{text}");
    let error = text
        .lines()
        .find(|l| l.starts_with("error: "))
        .unwrap_or_else(|| panic!("no error line:\n{text}"));
    assert!(error.contains(&address), "{text}");
    assert!(
        !text.contains("KMS") && !text.contains("AWS_ACCESS_KEY_ID"),
        "{text}"
    );
    assert!(
        !text.contains("PLAINTEXT") && !text.contains(&ciphertext),
        "{text}"
    );
}
