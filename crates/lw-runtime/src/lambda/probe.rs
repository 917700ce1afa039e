//! Noticing that the Runtime API went away (the emulator or environment stopped). With
//! concurrency above 1, `lambda_runtime`'s `/next` loops retry a failed call without pause
//! and never return, so [`super::serve`] watches the Runtime API's address itself.

use std::{collections::HashMap, time::Duration};

use tokio::{net::TcpStream, task::JoinHandle, time};

use super::max_concurrency;
use crate::{Error, runtime_api};

/// How long one probe may take to connect.
const PROBE_TIMEOUT: Duration = Duration::from_secs(1);
/// The pause between probes while the Runtime API answers.
const PAUSE_REACHABLE: Duration = Duration::from_secs(2);
/// The pause after a miss.
const PAUSE_MISSED: Duration = Duration::from_secs(1);
/// Misses in a row that mean it is gone.
const MISSES: u32 = 2;

/// Resolves, with the [`Error::RuntimeApi`] to return, once the Runtime API in `env` is gone.
/// With concurrency above 1, after the shutdown `extension`'s Extensions API call ends (on
/// Lambda it lasts as long as the environment), or at once without the extension, the
/// address is probed until [`MISSES`] probes in a row find nothing accepting connections.
/// One at a time, the runtime loop itself returns the error: this never resolves.
pub(super) async fn runtime_api_gone(
    env: &HashMap<String, String>,
    extension: Option<JoinHandle<()>>,
) -> Error {
    if max_concurrency(env).unwrap_or(1) <= 1 {
        return std::future::pending().await;
    }
    let api = env
        .get(runtime_api::RUNTIME_API_VAR)
        .cloned()
        .unwrap_or_default();
    let Some((host, port)) = runtime_api::host_port(&api) else {
        return std::future::pending().await;
    };
    let registered = extension.is_some();
    if let Some(extension) = extension {
        let _ = extension.await;
    }
    until_unreachable(&host, port).await;
    gone_error(api, registered)
}

/// Resolves once [`MISSES`] probes in a row find nothing accepting connections at
/// `host:port`.
async fn until_unreachable(host: &str, port: u16) {
    let mut misses = 0;
    loop {
        let reachable = accepts_connections(host, port).await;
        misses = if reachable { 0 } else { misses + 1 };
        if misses >= MISSES {
            return;
        }
        time::sleep(if reachable {
            PAUSE_REACHABLE
        } else {
            PAUSE_MISSED
        })
        .await;
    }
}

/// Whether a TCP connection to `host:port` opens within [`PROBE_TIMEOUT`].
async fn accepts_connections(host: &str, port: u16) -> bool {
    let connect = TcpStream::connect((host, port));
    matches!(time::timeout(PROBE_TIMEOUT, connect).await, Ok(Ok(_)))
}

/// The Runtime API at `api` went away mid-run (`extension`: the shutdown extension's
/// Extensions API call ended first).
fn gone_error(api: String, extension: bool) -> Error {
    let first = if extension {
        "its Extensions API call ended and "
    } else {
        ""
    };
    Error::RuntimeApi {
        api,
        reason: format!("it went away: {first}nothing accepts connections at its address any more"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_listening_address_is_reachable_and_a_closed_one_is_gone() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        assert!(accepts_connections("127.0.0.1", port).await);
        drop(listener);
        assert!(!accepts_connections("127.0.0.1", port).await);
        // Two misses, one pause between them.
        time::timeout(Duration::from_secs(5), until_unreachable("127.0.0.1", port))
            .await
            .expect("a closed port is found gone");
    }

    #[tokio::test]
    async fn one_at_a_time_the_probe_never_fires() {
        let env = HashMap::from([(
            runtime_api::RUNTIME_API_VAR.to_owned(),
            "127.0.0.1:1".to_owned(),
        )]);
        let gone = time::timeout(Duration::from_millis(50), runtime_api_gone(&env, None));
        assert!(
            gone.await.is_err(),
            "without concurrency the runtime loop reports it"
        );
    }

    #[test]
    fn the_error_says_what_went_away() {
        let e = gone_error("127.0.0.1:9001".into(), true);
        assert_eq!(e.kind(), "RuntimeApi");
        let m = e.message();
        assert!(
            m.contains("127.0.0.1:9001") && m.contains("Extensions API call ended"),
            "{m}"
        );
    }
}
