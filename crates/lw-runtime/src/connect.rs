//! Connecting a Temporal client within a time limit, a failure explained: the one connect path
//! of the engine (each invocation) and of tools acting on the same server
//! ([`connect_client`]: `cargo lambdaworker deploy`, `status`).

use std::time::Duration;

use temporalio_client::{Client, ClientOptions, Connection, ConnectionOptions};

use crate::{
    BoxError, Error,
    connect_error::{self, Attempt},
};

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
    let attempt = Attempt::new(&connection, &config.namespace, &config.sources);
    bounded(
        &attempt,
        within,
        temporal_client(connection, client_options),
    )
    .await
}

/// Awaits `connect` (the connection `attempt` describes) for at most `window`: a failure is
/// an [`Error::Connect`] leading with its fix, running out of time an
/// [`Error::ConnectTimeout`].
pub(crate) async fn bounded<C>(
    attempt: &Attempt<'_>,
    window: Duration,
    connect: impl Future<Output = Result<C, BoxError>>,
) -> Result<C, Error> {
    match tokio::time::timeout(window, connect).await {
        Ok(Ok(client)) => Ok(client),
        Ok(Err(error)) => Err(connect_error::failed(attempt, error)),
        Err(_) => Err(Error::ConnectTimeout {
            address: attempt.address.clone(),
            address_source: connect_error::address_source(attempt.sources).to_owned(),
            window,
        }),
    }
}

/// A connected SDK client: the connection, then the client over it.
pub(crate) async fn temporal_client(
    connection: ConnectionOptions,
    client: ClientOptions,
) -> Result<Client, BoxError> {
    let connection = Connection::connect(connection).await?;
    Ok(Client::new(connection, client)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attempt(sources: &lw_config::Sources) -> Attempt<'_> {
        Attempt {
            address: "http://h:7233/".into(),
            tls_on: false,
            namespace: "default",
            sources,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn running_out_of_time_is_a_connect_timeout_naming_the_window() {
        let sources = lw_config::Sources::default();
        let never = std::future::pending::<Result<(), BoxError>>();
        let e = bounded(&attempt(&sources), Duration::from_secs(3), never)
            .await
            .unwrap_err();
        assert_eq!(e.kind(), "ConnectTimeout");
        assert!(e.message().contains("3s work window"), "{}", e.message());
        assert!(e.message().contains("set in code"), "{}", e.message());
    }

    #[tokio::test]
    async fn a_failure_is_explained() {
        let sources = lw_config::Sources::default();
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        let failed = async { Err::<(), BoxError>(refused.into()) };
        let e = bounded(&attempt(&sources), Duration::from_secs(3), failed)
            .await
            .unwrap_err();
        let Error::Connect { problem, .. } = &e else {
            panic!("{e:?}")
        };
        assert_eq!(*problem, crate::ConnectProblem::Refused);
    }
}
