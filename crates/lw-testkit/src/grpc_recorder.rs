//! An HTTP/2 (gRPC) pass-through proxy that records request headers.

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
};

use hyper::{Request, body::Incoming, service::service_fn};
use hyper_util::{
    client::legacy::{Client, connect::HttpConnector},
    rt::{TokioExecutor, TokioIo},
};

use crate::TestkitError;

/// One recorded call: its path and request headers.
pub type RecordedCall = (String, Vec<(String, String)>);

/// Forwards gRPC calls from `address` to an upstream server (e.g. the dev server) unchanged,
/// recording each call's path and headers, so a test can see what the client really sent
/// (an `authorization` header, gRPC metadata).
pub struct GrpcRecorder {
    /// `127.0.0.1:<port>` to point the client at.
    pub address: String,
    seen: Arc<Mutex<Vec<RecordedCall>>>,
    times: Arc<Mutex<Vec<(String, tokio::time::Instant)>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for GrpcRecorder {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl GrpcRecorder {
    /// Listens on a free loopback port and forwards to `upstream` (`host:port`).
    pub async fn start(upstream: &str) -> Result<Self, TestkitError> {
        Self::start_on("127.0.0.1:0", upstream).await
    }

    /// Listens on `listen` (e.g. an address a function was already given, to make a server
    /// "come back") and forwards to `upstream`.
    pub async fn start_on(listen: &str, upstream: &str) -> Result<Self, TestkitError> {
        let listener = tokio::net::TcpListener::bind(listen).await?;
        let addr: SocketAddr = listener.local_addr()?;
        // TCP_NODELAY both ways, as tonic and the server set it: without it, Nagle's
        // algorithm and delayed ACKs add ~40 ms to small gRPC messages through the proxy.
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        let proxy = Proxy {
            client: Client::builder(TokioExecutor::new())
                .http2_only(true)
                .build(connector),
            upstream: upstream.to_owned(),
            seen: Arc::default(),
            times: Arc::default(),
        };
        let (seen, times) = (proxy.seen.clone(), proxy.times.clone());
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let _ = stream.set_nodelay(true);
                tokio::spawn(proxy.clone().serve(stream));
            }
        });
        Ok(Self {
            address: addr.to_string(),
            seen,
            times,
            task,
        })
    }

    /// Each call's path and when it arrived, in order.
    pub fn call_times(&self) -> Vec<(String, tokio::time::Instant)> {
        self.times.lock().map(|t| t.clone()).unwrap_or_default()
    }

    /// Values of header `name` (lowercase) across every call so far.
    pub fn header_values(&self, name: &str) -> Vec<String> {
        self.calls()
            .into_iter()
            .flat_map(|(_, h)| h.into_iter().filter(|(k, _)| k == name).map(|(_, v)| v))
            .collect()
    }

    /// Every call so far: its path (e.g. `/temporal.api.workflowservice.v1.WorkflowService/
    /// PollWorkflowTaskQueue`) and request headers.
    pub fn calls(&self) -> Vec<RecordedCall> {
        self.seen.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

/// What every connection of a [`GrpcRecorder`] shares: the upstream, a client for it, and
/// the records.
#[derive(Clone)]
struct Proxy {
    client: Client<HttpConnector, Incoming>,
    upstream: String,
    seen: Arc<Mutex<Vec<RecordedCall>>>,
    times: Arc<Mutex<Vec<(String, tokio::time::Instant)>>>,
}

impl Proxy {
    /// Serves one client connection: each request recorded, then forwarded unchanged.
    async fn serve(self, stream: tokio::net::TcpStream) {
        let service = service_fn(move |mut req: Request<Incoming>| {
            let target = self.record(&req);
            let client = self.client.clone();
            async move {
                *req.uri_mut() = target.parse().map_err(|e| format!("{e}"))?;
                client.request(req).await.map_err(|e| format!("{e}"))
            }
        });
        let _ = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
            .serve_connection(TokioIo::new(stream), service)
            .await;
    }

    /// Records `req`'s path, headers and arrival; returns the upstream URI to send it to.
    fn record(&self, req: &Request<Incoming>) -> String {
        let path = req
            .uri()
            .path_and_query()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_default();
        let headers = req
            .headers()
            .iter()
            .map(|(k, v)| {
                let value = String::from_utf8_lossy(v.as_bytes()).into_owned();
                (k.as_str().to_owned(), value)
            })
            .collect();
        if let Ok(mut s) = self.seen.lock() {
            s.push((path.clone(), headers));
        }
        if let Ok(mut t) = self.times.lock() {
            t.push((path.clone(), tokio::time::Instant::now()));
        }
        format!("http://{}{path}", self.upstream)
    }
}
