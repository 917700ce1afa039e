//! The Runtime API's HTTP handlers (`/next`, `/response`, `/error`, `/init/error`) and the
//! Extensions API's (`/register`, `/event/next`), over the function's shared state.

use super::*;

/// `GET /2018-06-01/runtime/invocation/next`: waits for a queued invocation and hands it
/// out with Lambda's headers (request id, deadline, function ARN, trace id).
pub(super) async fn next(State(shared): State<Arc<Shared>>) -> Response {
    loop {
        let notified = shared.wake.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        {
            let mut s = shared.state.lock().unwrap_or_else(|e| e.into_inner());
            super::push_bounded(&mut s.next_calls, Instant::now(), super::MAX_KEPT);
            #[cfg(feature = "testing")]
            if let Some(answer) = super::fault::faulty_next(&shared, &mut s) {
                return answer;
            }
            if let Some(p) = s.queue.pop_front() {
                return deliver(&shared, s, p);
            }
        }
        notified.await;
    }
}

/// Hands `p` out: records it in flight, arms its deadline, and answers `/next` with it.
fn deliver(
    shared: &Arc<Shared>,
    mut s: std::sync::MutexGuard<'_, FunctionState>,
    p: Pending,
) -> Response {
    let now = Instant::now();
    let deadline = now + shared.spec.timeout;
    let headers = invocation_headers(&shared.spec, &p.request_id);
    let body = p.payload.to_string();
    let id = hand_out(&mut s, p, now, deadline);
    let generation = s.generation;
    drop(s);
    tokio::spawn(watch_deadline(shared.clone(), id, generation, deadline));
    (StatusCode::OK, headers, body).into_response()
}

/// The headers Lambda sends with an invocation on `/next`.
fn invocation_headers(spec: &FunctionSpec, request_id: &str) -> HeaderMap {
    let since_epoch = |t: SystemTime| t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let deadline_ms = since_epoch(SystemTime::now() + spec.timeout).as_millis();
    let trace_id = format!(
        "Root=1-{:08x}-{};Parent={};Sampled=1",
        since_epoch(SystemTime::now()).as_secs(),
        &uuid::Uuid::new_v4().simple().to_string()[..24],
        &uuid::Uuid::new_v4().simple().to_string()[..16],
    );
    let mut headers = HeaderMap::new();
    let h = |v: String| HeaderValue::from_str(&v).unwrap_or(HeaderValue::from_static(""));
    headers.insert("lambda-runtime-aws-request-id", h(request_id.to_owned()));
    headers.insert("lambda-runtime-deadline-ms", h(deadline_ms.to_string()));
    headers.insert("lambda-runtime-invoked-function-arn", h(spec.arn()));
    headers.insert("lambda-runtime-trace-id", h(trace_id));
    headers.insert("content-type", HeaderValue::from_static("application/json"));
    headers
}

/// At `deadline`, ends invocation `id` as timed out if the process of `generation` still
/// holds it. Lambda kills a function that passes its deadline; on Managed Instances
/// (concurrency above 1) only that invocation fails, and its late answer is noted.
async fn watch_deadline(shared: Arc<Shared>, id: String, generation: u64, deadline: Instant) {
    tokio::time::sleep_until(deadline).await;
    let kill_on_timeout = shared.spec.max_concurrency <= 1;
    let mut s = shared.state.lock().unwrap_or_else(|e| e.into_inner());
    if s.generation != generation {
        return;
    }
    let Some(f) = s.in_flight.remove(&id) else {
        return;
    };
    if kill_on_timeout {
        if let Some(k) = s.kill.take() {
            let _ = k.send(super::Stop::Kill);
        }
    } else {
        s.ended_by_timeout.insert(id);
    }
    finish(f, Outcome::Timeout, Instant::now());
}

/// Records `p` as handed out at `now`, due by `deadline`; returns its request id.
pub(super) fn hand_out(
    s: &mut FunctionState,
    p: Pending,
    now: Instant,
    deadline: Instant,
) -> String {
    let id = p.request_id.clone();
    s.in_flight.insert(
        id.clone(),
        InFlight {
            pending: p,
            delivered_at: now,
            deadline,
        },
    );
    s.peak_in_flight = s.peak_in_flight.max(s.in_flight.len());
    id
}

fn take_in_flight(shared: &Shared, id: &str) -> Option<InFlight> {
    let mut s = shared.state.lock().unwrap_or_else(|e| e.into_inner());
    let taken = s.in_flight.remove(id);
    if taken.is_none() && s.ended_by_timeout.remove(id) {
        super::push_bounded(&mut s.late_answers, id.to_owned(), super::MAX_KEPT);
    }
    taken
}

/// Ends an in-flight invocation with `outcome`; 404 for an unknown or finished one.
fn complete(shared: &Shared, id: &str, outcome: Outcome) -> StatusCode {
    let now = Instant::now();
    match take_in_flight(shared, id) {
        Some(f) => {
            finish(f, outcome, now);
            StatusCode::ACCEPTED
        }
        None => StatusCode::NOT_FOUND,
    }
}

pub(super) async fn response(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: Bytes,
) -> StatusCode {
    let v = serde_json::from_slice(&body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into_owned()));
    complete(&shared, &id, Outcome::Response(v))
}

pub(super) async fn invocation_error(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: Bytes,
) -> StatusCode {
    let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let outcome = Outcome::Error {
        error_type: v["errorType"].as_str().unwrap_or_default().to_owned(),
        message: v["errorMessage"].as_str().unwrap_or_default().to_owned(),
    };
    complete(&shared, &id, outcome)
}

pub(super) async fn init_error(State(shared): State<Arc<Shared>>, body: Bytes) -> StatusCode {
    let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    shared
        .state
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .init_error = Some(v);
    StatusCode::ACCEPTED
}

/// `POST /2020-01-01/extension/register`: accepted, with an identifier.
pub(super) async fn register_extension(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
) -> Response {
    let name = headers
        .get("lambda-extension-name")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    {
        let mut s = shared.state.lock().unwrap_or_else(|e| e.into_inner());
        super::push_bounded(&mut s.extensions, name, super::MAX_KEPT);
    }
    let mut out = HeaderMap::new();
    if let Ok(id) = HeaderValue::from_str(&uuid::Uuid::new_v4().to_string()) {
        out.insert("lambda-extension-identifier", id);
    }
    let body = serde_json::json!({
        "functionName": shared.spec.name,
        "functionVersion": "$LATEST",
        "handler": "bootstrap",
    });
    (StatusCode::OK, out, body.to_string()).into_response()
}

/// `GET /2020-01-01/extension/event/next`: no events are ever sent (the emulator's
/// shutdown is a signal); the call waits until the process goes away.
pub(super) async fn extension_next() -> Response {
    std::future::pending::<()>().await;
    StatusCode::OK.into_response()
}
