//! A Temporal client connected the way the worker connects, for tools that act on the same
//! server with the same configuration (`cargo lambdaworker deploy`, `status`).

use std::time::Duration;

use temporalio_client::{Client, Connection};

use crate::{Error, connect_error};

/// Connects a client from a resolved [`lw_config::ClientConfig`] (its `temporal.toml`
/// profile, `TEMPORAL_*` variables, API key, mTLS and KMS-decrypted secrets), within
/// `within`. A refused or unreachable server is the same [`Error::Connect`] (with its fix)
/// or [`Error::ConnectTimeout`] an invocation reports.
///
/// ```no_run
/// # async fn f() -> Result<(), lw_runtime::Error> {
/// let config = lw_config::ClientConfig::load_async().await?;
/// let client = lw_runtime::connect_client(&config, "deploy-tool", std::time::Duration::from_secs(10)).await?;
/// # drop(client); Ok(()) }
/// ```
pub async fn connect_client(
    config: &lw_config::ClientConfig,
    identity: &str,
    within: Duration,
) -> Result<Client, Error> {
    let (mut connection, client_options) = config.to_options()?;
    connection.identity = identity.to_owned();
    let address = connection.target.to_string();
    let tls_on = connection.tls_options.is_some();
    let connect = async {
        let connection = Connection::connect(connection).await?;
        Ok::<_, lw_options::BoxError>(Client::new(connection, client_options)?)
    };
    match tokio::time::timeout(within, connect).await {
        Err(_) => Err(Error::ConnectTimeout {
            address,
            address_source: connect_error::address_source(&config.sources).to_owned(),
            window: within,
        }),
        Ok(Err(error)) => {
            let attempt = connect_error::Attempt {
                address: &address,
                tls_on,
                namespace: &config.namespace,
                sources: &config.sources,
            };
            Err(connect_error::failed(&attempt, error))
        }
        Ok(Ok(client)) => Ok(client),
    }
}
