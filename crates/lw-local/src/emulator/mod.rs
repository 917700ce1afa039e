//! [`LocalFunction`]: one function instance. The Lambda Runtime API (and the Extensions
//! API's registration) served on 127.0.0.1 to one function process, which is started when
//! work arrives and none runs, and killed at a deadline as Lambda does.
//!
//! `api` holds the HTTP handlers, `process` starts the process and reads its end, `spec`
//! says how it is run and `results` what came of each invocation.

use std::{
    collections::{HashMap, VecDeque},
    net::SocketAddr,
    path::PathBuf,
    sync::{Arc, Mutex},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use axum::{
    Router,
    body::Bytes,
    extract::{Path, State},
    http::{HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde_json::Value;
use tokio::{
    sync::{Notify, mpsc, oneshot},
    time::Instant,
};

use crate::LocalError;

mod api;
#[cfg(feature = "testing")]
mod fault;
mod process;
mod results;
mod spec;
#[cfg(test)]
mod tests;

pub(crate) use crate::server::push_bounded;
use api::{extension_next, init_error, invocation_error, next, register_extension, response};
#[cfg(feature = "testing")]
pub use fault::NextFault;
use process::{finish, spawn_if_needed};
pub use results::{InvocationResult, Outcome, ProcStatus};
pub use spec::{FunctionSpec, INHERITED_ENV};

struct Pending {
    request_id: String,
    payload: Value,
    queued_at: Instant,
    cold: bool,
    done: oneshot::Sender<InvocationResult>,
}

struct InFlight {
    pending: Pending,
    delivered_at: Instant,
    deadline: Instant,
}

#[derive(Default)]
struct FunctionState {
    queue: VecDeque<Pending>,
    in_flight: HashMap<String, InFlight>,
    init_error: Option<Value>,
    /// A process is alive (or being started).
    alive: bool,
    generation: u64,
    /// Tells the task that owns the process to signal it.
    kill: Option<mpsc::UnboundedSender<Stop>>,
    pid: Option<u32>,
    /// The last [`MAX_KEPT`] of each of these lists.
    next_calls: Vec<Instant>,
    spawned_at: Vec<Instant>,
    /// Names of the extensions registered, across processes.
    extensions: Vec<String>,
    /// How each process ended (`exit status: 0`, `killed`, ...), in order.
    exits: Vec<String>,
    /// The most invocations the process held at once.
    peak_in_flight: usize,
    /// Answers posted for invocations already ended (timed out), by request id.
    late_answers: Vec<String>,
    /// Invocations that timed out while their process lived on (concurrency above 1).
    ended_by_timeout: std::collections::HashSet<String>,
}

/// How many `/next` calls, process starts, exits, extensions and late answers an instance
/// remembers (the last ones; when full, the oldest tenth is dropped).
pub const MAX_KEPT: usize = 10_000;

/// What the task that owns a function's process is asked to do to it.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Stop {
    /// SIGTERM (Lambda's shutdown phase).
    Term,
    /// SIGKILL.
    Kill,
}

struct Shared {
    spec: FunctionSpec,
    state: Mutex<FunctionState>,
    wake: Notify,
    addr: Mutex<Option<SocketAddr>>,
    log_path: PathBuf,
}

/// A Lambda function process driven through our Runtime API emulator.
pub struct LocalFunction {
    shared: Arc<Shared>,
    addr: SocketAddr,
    _logs: tempfile::TempDir,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for LocalFunction {
    fn drop(&mut self) {
        if let Ok(mut s) = self.shared.state.lock()
            && let Some(k) = s.kill.take()
        {
            let _ = k.send(Stop::Kill);
        }
        self.server.abort();
    }
}

impl LocalFunction {
    /// Binds the Runtime API on a free loopback port. The process starts with the first
    /// invocation (or [`LocalFunction::start_process`]).
    pub async fn new(spec: FunctionSpec) -> Result<Self, LocalError> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        // Private (0700): the function's output is the developer's alone.
        let logs = tempfile::Builder::new()
            .prefix("lw-local-function-")
            .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o700))
            .tempdir()?;
        let shared = Arc::new(Shared {
            log_path: logs.path().join(format!("{}.log", spec.name)),
            spec,
            state: Mutex::new(FunctionState::default()),
            wake: Notify::new(),
            addr: Mutex::new(Some(addr)),
        });
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                post(response),
            )
            .route(
                "/2018-06-01/runtime/invocation/{id}/error",
                post(invocation_error),
            )
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .route("/2020-01-01/extension/register", post(register_extension))
            .route("/2020-01-01/extension/event/next", get(extension_next))
            .with_state(shared.clone());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self {
            shared,
            addr,
            _logs: logs,
            server,
        })
    }

    /// `AWS_LAMBDA_RUNTIME_API` for this function.
    pub fn runtime_api(&self) -> String {
        self.addr.to_string()
    }

    /// The spec.
    pub fn spec(&self) -> &FunctionSpec {
        &self.shared.spec
    }

    /// Everything the process wrote to stdout and stderr so far (bytes that are not UTF-8
    /// become U+FFFD, so one such line does not hide the others).
    pub fn logs(&self) -> String {
        String::from_utf8_lossy(&std::fs::read(&self.shared.log_path).unwrap_or_default())
            .into_owned()
    }

    /// When each process was started.
    pub fn spawn_times(&self) -> Vec<Instant> {
        self.lock().spawned_at.clone()
    }

    /// When each `/next` call arrived.
    pub fn next_calls(&self) -> Vec<Instant> {
        self.lock().next_calls.clone()
    }

    /// Whether a function process is alive.
    pub fn is_alive(&self) -> bool {
        self.lock().alive
    }

    /// The pid of the live process, if any.
    pub fn pid(&self) -> Option<u32> {
        let s = self.lock();
        if s.alive { s.pid } else { None }
    }

    /// Open file descriptors of the live process (Linux `/proc`).
    pub fn open_fds(&self) -> Option<usize> {
        let pid = self.pid()?;
        std::fs::read_dir(format!("/proc/{pid}/fd"))
            .ok()
            .map(Iterator::count)
    }

    /// Memory and threads of the live process, from `/proc/<pid>/status`.
    pub fn proc_status(&self) -> Option<ProcStatus> {
        ProcStatus::read(self.pid()?)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, FunctionState> {
        self.shared.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Starts the process now if none is alive (a cold start).
    pub fn start_process(&self) -> Result<(), LocalError> {
        spawn_if_needed(&self.shared)
    }

    /// Queues an invocation; the returned receiver yields its result.
    pub fn invoke_async(
        &self,
        payload: Value,
    ) -> Result<oneshot::Receiver<InvocationResult>, LocalError> {
        let (tx, rx) = oneshot::channel();
        let cold = {
            let s = self.lock();
            !s.alive
        };
        {
            let mut s = self.lock();
            s.queue.push_back(Pending {
                request_id: uuid::Uuid::new_v4().to_string(),
                payload,
                queued_at: Instant::now(),
                cold,
                done: tx,
            });
        }
        self.shared.wake.notify_waiters();
        spawn_if_needed(&self.shared)?;
        Ok(rx)
    }

    /// Invokes and waits for the result (response, error, timeout or crash).
    pub async fn invoke(&self, payload: Value) -> Result<InvocationResult, LocalError> {
        let rx = self.invoke_async(payload)?;
        rx.await
            .map_err(|_| LocalError::Command("the emulator dropped the invocation".into()))
    }

    /// Names of the extensions registered through the Extensions API so far.
    pub fn extensions(&self) -> Vec<String> {
        self.lock().extensions.clone()
    }

    /// How each process ended so far, oldest first (`exit status: 0`, `killed`, ...).
    pub fn exits(&self) -> Vec<String> {
        self.lock().exits.clone()
    }

    /// The most invocations handed out and not yet answered at one time.
    pub fn peak_in_flight(&self) -> usize {
        self.lock().peak_in_flight
    }

    /// Invocations handed out and not yet answered now.
    pub fn in_flight(&self) -> usize {
        self.lock().in_flight.len()
    }

    /// Request ids whose answer came after the invocation had ended (timed out).
    pub fn late_answers(&self) -> Vec<String> {
        self.lock().late_answers.clone()
    }

    /// Lambda's shutdown phase: SIGTERM to the live process (Lambda sends it only when an
    /// extension is registered; this sends it regardless), then SIGKILL if it is still alive
    /// after `grace`. Returns at once; watch [`LocalFunction::is_alive`] and
    /// [`LocalFunction::exits`].
    pub fn terminate(&self, grace: Duration) -> Result<(), LocalError> {
        let (pid, generation) = {
            let s = self.lock();
            match (s.alive, s.pid) {
                (true, Some(pid)) => (pid, s.generation),
                _ => return Ok(()),
            }
        };
        // The task that owns the process sends the signal, while the process is still its
        // own (not reaped: its pid cannot belong to anyone else).
        let sent = self
            .lock()
            .kill
            .as_ref()
            .map(|k| k.send(Stop::Term).is_ok());
        if sent != Some(true) {
            return Err(LocalError::Command(format!(
                "process {pid} ended before SIGTERM could be sent"
            )));
        }
        let shared = self.shared.clone();
        tokio::spawn(async move {
            tokio::time::sleep(grace).await;
            let mut s = shared.state.lock().unwrap_or_else(|e| e.into_inner());
            if s.generation == generation
                && let Some(k) = s.kill.take()
            {
                let _ = k.send(Stop::Kill);
            }
        });
        Ok(())
    }

    /// Kills the process (SIGKILL), as a crash would.
    pub fn kill(&self) {
        if let Some(k) = self.lock().kill.take() {
            let _ = k.send(Stop::Kill);
        }
    }
}
