//! The greeting example built as a real Lambda function, driven through the Runtime API
//! emulator against the Temporal dev server.

use std::time::Duration;

use lw_testkit::{DevServer, Outcome};
use serde_json::{Value, json};

use crate::common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_workflow_started_before_the_invocation_completes_during_it() {
    let f = fixture(Duration::from_secs(10), &[]).await;
    let id = f.start("World");
    let r = f.invoke().await;
    let rep = report(&r);
    // Nothing polls after the invocation, so it completed during it.
    assert_eq!(
        f.server.result(&id).unwrap(),
        Some(json!("Hello, World!")),
        "{}",
        f.logs()
    );
    let identity = format!("{}@{}", r.request_id, f.function.spec().arn());
    assert_eq!(rep["identity"], json!(identity));
    let started = f.events(&id, "EVENT_TYPE_WORKFLOW_TASK_STARTED");
    assert!(
        started
            .iter()
            .all(|e| e["workflowTaskStartedEventAttributes"]["identity"] == json!(identity))
    );
    let act = f.events(&id, "EVENT_TYPE_ACTIVITY_TASK_STARTED");
    assert_eq!(
        act[0]["activityTaskStartedEventAttributes"]["identity"],
        json!(identity)
    );
    let done = f.events(&id, "EVENT_TYPE_WORKFLOW_TASK_COMPLETED");
    let attrs = &done.last().unwrap()["workflowTaskCompletedEventAttributes"];
    assert_eq!(
        attrs["deploymentVersion"]["deploymentName"],
        json!(f.deployment)
    );
    assert_eq!(attrs["deploymentVersion"]["buildId"], json!(BUILD));
    assert_eq!(
        attrs["versioningBehavior"],
        json!("VERSIONING_BEHAVIOR_AUTO_UPGRADE")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pinned_workflows_are_recorded_as_pinned() {
    // The fault-injecting twin takes the behaviour from `LW_GREETING_BEHAVIOR`.
    let f = faults_fixture(
        Duration::from_secs(10),
        &[("LW_GREETING_BEHAVIOR", "pinned")],
    )
    .await;
    let id = f.start("Pin");
    let _ = report(&f.invoke().await).clone();
    assert_eq!(f.server.result(&id).unwrap(), Some(json!("Hello, Pin!")));
    let done = f.events(&id, "EVENT_TYPE_WORKFLOW_TASK_COMPLETED");
    let attrs = &done.last().unwrap()["workflowTaskCompletedEventAttributes"];
    assert_eq!(
        attrs["versioningBehavior"],
        json!("VERSIONING_BEHAVIOR_PINNED")
    );
    assert_eq!(
        attrs["deploymentVersion"]["deploymentName"],
        json!(f.deployment)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_response_comes_at_deadline_minus_buffer() {
    let f = fixture(Duration::from_secs(10), &[]).await;
    let r = f.invoke().await;
    let rep = report(&r);
    assert_eq!(rep["run_end"], json!("drained"));
    let target = r.deadline.unwrap() - Duration::from_secs(7);
    let off = if r.finished_at > target {
        r.finished_at - target
    } else {
        target - r.finished_at
    };
    assert!(
        off <= Duration::from_millis(300),
        "response {off:?} away from deadline - buffer"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_invocation_connects_afresh_and_leaks_no_descriptors() {
    // 8.5 s timeout - 7 s buffer: 1.5 s of polling per invocation.
    let f = fixture(Duration::from_millis(8500), &[]).await;
    let mut fds = Vec::new();
    for i in 0..20 {
        let id = (i < 3).then(|| f.start(&format!("n{i}")));
        let r = f.invoke().await;
        let rep = report(&r).clone();
        assert!(!r.cold || i == 0, "invocation {i} was a cold start");
        if let Some(id) = id {
            assert_eq!(
                f.server.result(&id).unwrap(),
                Some(json!(format!("Hello, n{i}!")))
            );
            let ident = &f.events(&id, "EVENT_TYPE_WORKFLOW_TASK_STARTED")[0]["workflowTaskStartedEventAttributes"]
                ["identity"];
            assert_eq!(ident, &rep["identity"], "invocation {i} used a new client");
        }
        fds.push(f.function.open_fds().expect("process alive"));
    }
    let (early, late) = (fds[2], fds[19]);
    assert!(
        late <= early + 2,
        "fds grew from {early} to {late}: {fds:?}"
    );
    assert_eq!(f.logs().matches("Initializing worker").count(), 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_little_work_time_is_an_invocation_error_with_the_numbers() {
    let f = fixture(Duration::from_secs(8), &[]).await;
    let r = f.invoke().await;
    let (error_type, message) = error_of(&r);
    assert_eq!(error_type, "NotEnoughTime");
    assert!(
        message.contains("buffer of 7s") && message.contains("left before the deadline"),
        "{message}"
    );
    assert!(!f.logs().contains("Initializing worker"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_server_is_an_error_before_the_deadline() {
    let port = lw_testkit::free_port().unwrap();
    let addr = format!("127.0.0.1:{port}");
    let f = fixture(Duration::from_secs(10), &[("TEMPORAL_ADDRESS", &addr)]).await;
    let r = f.invoke().await;
    let (error_type, message) = error_of(&r);
    assert!(
        error_type == "Connect" || error_type == "ConnectTimeout",
        "{error_type}"
    );
    // The fix first, naming where the address came from, then the address itself.
    assert!(
        message.starts_with("check the address (environment variable TEMPORAL_ADDRESS)")
            && message.contains(&format!("http://{addr}")),
        "{message}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_activity_ignoring_cancellation_cannot_hold_the_invocation() {
    // 12 s timeout: 5 s of polling, then a forced drain after the 5 s stop timeout + 1 s.
    let f = faults_fixture(Duration::from_secs(12), &[]).await;
    let id = f.start("slow:30000:Tortoise");
    let r = f.invoke().await;
    assert_eq!(report(&r)["run_end"], json!("forced"), "{}", f.logs());
    assert_eq!(f.server.result(&id).unwrap(), None);
    // The abandoned attempt times out (start-to-close 10 s) and is retried on a later
    // invocation, where it completes.
    let until = tokio::time::Instant::now() + Duration::from_secs(60);
    let result = loop {
        report(&f.invoke().await);
        if let Some(v) = f.server.result(&id).unwrap() {
            break v;
        }
        assert!(
            tokio::time::Instant::now() < until,
            "workflow never completed"
        );
    };
    assert_eq!(result, json!("Hello, Tortoise!"));
}

/// The shutdown hooks get the invocation's connected client: the fixture's hook makes a real
/// RPC through `ShutdownContext::client` after the drain, before the invocation's report line.
/// (The order drain → hooks → close is asserted on the engine with a recording backend.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_hooks_run_after_the_drain_with_the_client_still_connected() {
    let f = faults_fixture(Duration::from_secs(10), &[]).await;
    let id = f.start("Hook");
    let r = f.invoke().await;
    assert_eq!(report(&r)["run_end"], json!("drained"), "{}", f.logs());
    assert_eq!(f.server.result(&id).unwrap(), Some(json!("Hello, Hook!")));
    let logs = f.logs();
    let hook = logs
        .find("greeting-faults: shutdown hook: the client is connected")
        .unwrap_or_else(|| panic!("the hook did not reach the server: {logs}"));
    let report_line = logs
        .find(r#""lambdaworker":"invocation""#)
        .unwrap_or_else(|| panic!("no report line: {logs}"));
    assert!(hook < report_line, "{logs}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fatal_init_error_exits_with_one_clear_line() {
    let f = fixture(
        Duration::from_secs(10),
        &[("TEMPORAL_CONFIG_FILE", "/nonexistent/temporal.toml")],
    )
    .await;
    let r = f.function.invoke(json!({})).await.unwrap();
    let Outcome::Crashed { status, init_error } = &r.outcome else {
        panic!("expected a crash, got {:?}", r.outcome)
    };
    assert!(status.contains("exit status: 1"), "{status}");
    let init_error = init_error.as_ref().expect("init error posted");
    assert_eq!(init_error["errorType"], json!("Config"));
    // `main` returns the error: Rust prints it once, with `Error::message` as its Debug form
    // (the message and its causes, never a struct dump).
    let line: Vec<_> = f
        .logs()
        .lines()
        .filter(|l| l.starts_with("Error: "))
        .map(str::to_owned)
        .collect();
    assert_eq!(line.len(), 1, "{}", f.logs());
    assert!(
        line[0].contains("/nonexistent/temporal.toml") && !line[0].contains(" { "),
        "{}",
        line[0]
    );
}

/// The API key exists only as Lambda-console-style KMS ciphertext (encryption context
/// `LambdaFunctionName` = the function's name), decrypted at init by a real KMS API
/// (moto_server). The dev server ignores API keys, so a recording proxy in front of it shows
/// what the client really sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_api_key_that_exists_only_kms_encrypted_reaches_the_connection() {
    let moto = lw_testkit::Moto::shared().expect("moto_server (pip install 'moto[server]')");
    let key = moto.create_key().await.unwrap();
    let plaintext = "tmprl-e2e-key-6f1c";
    let ciphertext = moto
        .encrypt(&key, plaintext, Some(("LambdaFunctionName", "greeting")))
        .await
        .unwrap();
    let server = DevServer::shared().expect("dev server");
    let recorder = lw_testkit::GrpcRecorder::start(&server.address)
        .await
        .unwrap();
    let mut env: Vec<(String, String)> = moto.env().into_iter().collect();
    env.extend(
        [
            ("TEMPORAL_ADDRESS", recorder.address.as_str()),
            ("TEMPORAL_TLS", "false"),
            ("TEMPORAL_API_KEY", ciphertext.as_str()),
            ("LAMBDAWORKER_KMS_DECRYPT", "TEMPORAL_API_KEY"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned())),
    );
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let f = fixture(Duration::from_secs(10), &env).await;
    let id = f.start("Vault");
    let r = f.invoke().await;
    report(&r);
    assert_eq!(
        f.server.result(&id).unwrap(),
        Some(json!("Hello, Vault!")),
        "{}",
        f.logs()
    );
    let sent = recorder.header_values("authorization");
    assert!(!sent.is_empty(), "no call carried an API key");
    assert!(
        sent.iter().all(|v| v == &format!("Bearer {plaintext}")),
        "{sent:?}"
    );
    let logs = f.logs();
    assert!(
        !logs.contains(plaintext) && !logs.contains(&ciphertext),
        "{logs}"
    );
    let decrypted = logs
        .lines()
        .find(|l| l.contains("decrypted KMS-encrypted configuration"))
        .unwrap_or_else(|| panic!("no decryption log line: {logs}"));
    // The figure docs/performance.md quotes (init-time KMS cost against moto on loopback).
    println!("kms init: {decrypted}");

    // Encrypted for another function: init fails, naming the variable, not the value.
    let other = moto
        .encrypt(&key, plaintext, Some(("LambdaFunctionName", "other-fn")))
        .await
        .unwrap();
    let mut env = env.clone();
    env.push(("TEMPORAL_API_KEY", other.as_str()));
    let f = fixture(Duration::from_secs(10), &env).await;
    let r = f.function.invoke(json!({})).await.unwrap();
    let Outcome::Crashed { init_error, .. } = &r.outcome else {
        panic!("expected an init failure, got {:?}", r.outcome)
    };
    let init_error = init_error.as_ref().expect("init error posted");
    assert_eq!(init_error["errorType"], json!("Config"));
    let message = init_error["errorMessage"].as_str().unwrap_or_default();
    assert!(
        message.contains("environment variable TEMPORAL_API_KEY")
            && message.contains("LambdaFunctionName=greeting"),
        "{message}"
    );
    assert!(!message.contains(plaintext) && !message.contains(&other));
}

fn attr<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// X-Ray trace ids start with the epoch second (8 hex digits).
fn assert_xray_trace_id(trace_id: &str) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let secs = u64::from_str_radix(&trace_id[..8], 16).unwrap_or(0);
    assert!(
        now.abs_diff(secs) < 600,
        "trace id {trace_id} does not start with the epoch second (now {now:x})"
    );
}

/// With `OTEL_EXPORTER_OTLP_ENDPOINT` set, the greeting function applies
/// `lw_otel::apply_defaults`. When the emulator has the response, the collector already holds
/// the invocation's metrics and spans: nothing waits for an export period (10 s).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telemetry_is_flushed_inside_every_invocation() {
    let receiver = lw_testkit::OtlpReceiver::start().await.unwrap();
    let f = fixture(
        Duration::from_secs(10),
        &[("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint.as_str())],
    )
    .await;
    let mut seen_invocations = Vec::new();
    for (round, name) in ["Otel", "Again"].into_iter().enumerate() {
        let id = f.start(name);
        let r = f.invoke().await;
        // The snapshot is taken as the response arrives: no polling, no waiting.
        let got = receiver.received();
        println!(
            "round {round}: flush hook took {} ms",
            report(&r)["hooks_ms"]
        );
        assert_eq!(r.cold, round == 0);
        assert_eq!(
            f.server.result(&id).unwrap(),
            Some(json!(format!("Hello, {name}!"))),
            "{}",
            f.logs()
        );
        for metric in [
            "temporal_workflow_completed",
            "temporal_activity_execution_latency",
            "temporal_request",
        ] {
            assert!(
                got.has_metric(metric),
                "round {round}: no {metric}; got {:?}",
                got.metrics.iter().map(|m| &m.name).collect::<Vec<_>>()
            );
        }
        let invocation: Vec<_> = got
            .spans_named("greeting")
            .into_iter()
            .filter(|s| attr(&s.attributes, "faas.invocation_id") == Some(&r.request_id))
            .collect();
        assert_eq!(invocation.len(), 1, "one invocation span: {:?}", got.spans);
        let inv = invocation[0];
        assert_xray_trace_id(&inv.trace_id);
        assert_eq!(
            attr(&inv.attributes, "faas.coldstart"),
            Some(if round == 0 { "true" } else { "false" })
        );
        let run_wf: Vec<_> = got
            .spans_named("RunWorkflow:Greeting")
            .into_iter()
            .filter(|s| s.trace_id == inv.trace_id)
            .collect();
        assert!(
            !run_wf.is_empty(),
            "no RunWorkflow span under the invocation: {:?}",
            got.spans
        );
        assert!(
            run_wf.iter().any(|s| s.parent_span_id == inv.span_id),
            "RunWorkflow is not a child of the invocation span"
        );
        assert!(
            got.spans_named("RunActivity:greet")
                .iter()
                .any(|s| s.trace_id == inv.trace_id),
            "no RunActivity span in the invocation's trace: {:?}",
            got.spans
        );
        for s in &got.spans {
            assert_eq!(attr(&s.resource, "service.name"), Some("greeting"));
            assert_eq!(attr(&s.resource, "faas.name"), Some("greeting"));
            assert_eq!(attr(&s.resource, "cloud.provider"), Some("aws"));
            assert_xray_trace_id(&s.trace_id);
        }
        for m in &got.metrics {
            assert_eq!(attr(&m.resource, "service.name"), Some("greeting"));
        }
        println!(
            "round {round}: {} metric exports ({} metrics), {} trace exports, spans {:?}",
            got.metric_exports,
            got.metrics.len(),
            got.trace_exports,
            got.spans
                .iter()
                .map(|s| (&s.name, &s.trace_id[..8], &s.parent_span_id))
                .collect::<Vec<_>>()
        );
        seen_invocations.push((got.metric_exports, got.trace_exports));
    }
    // The warm invocation reused the providers (set up once) and flushed again.
    assert!(seen_invocations[1].0 > seen_invocations[0].0);
    assert!(seen_invocations[1].1 > seen_invocations[0].1);
    assert_eq!(
        f.logs()
            .matches("OpenTelemetry metrics and traces set up")
            .count(),
        1
    );
}

/// Telemetry never breaks the worker: with no collector listening, the invocation still
/// completes its work and answers on time, and a warning says what happened.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_collector_only_warns() {
    let port = lw_testkit::free_port().unwrap();
    let endpoint = format!("http://127.0.0.1:{port}");
    let f = fixture(
        Duration::from_secs(10),
        &[("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str())],
    )
    .await;
    let id = f.start("Offline");
    let r = f.invoke().await;
    println!(
        "unreachable collector: hooks took {} ms",
        report(&r)["hooks_ms"]
    );
    assert_eq!(
        f.server.result(&id).unwrap(),
        Some(json!("Hello, Offline!")),
        "{}",
        f.logs()
    );
    assert!(
        f.logs().contains("telemetry could not be flushed"),
        "{}",
        f.logs()
    );
}

/// A panicking activity is an activity failure, retried; the worker keeps running and the
/// workflow completes within the same invocation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_activity_fails_and_is_retried_while_the_worker_keeps_running() {
    let f = faults_fixture(Duration::from_secs(12), &[]).await;
    let id = f.start("panic:Bang");
    let r = f.invoke().await;
    report(&r);
    assert_eq!(
        f.server.result(&id).unwrap(),
        Some(json!("Hello, Bang!")),
        "{}",
        f.logs()
    );
    let failed = f.events(&id, "EVENT_TYPE_ACTIVITY_TASK_COMPLETED");
    assert_eq!(failed.len(), 1);
    let started = f.events(&id, "EVENT_TYPE_ACTIVITY_TASK_STARTED");
    assert_eq!(
        started[0]["activityTaskStartedEventAttributes"]["attempt"],
        json!(2),
        "the completed attempt is the retry"
    );
    let failure = &started[0]["activityTaskStartedEventAttributes"]["lastFailure"]["message"];
    assert!(
        failure
            .as_str()
            .is_some_and(|m| m.contains("asked to panic")),
        "{failure}"
    );
}

/// The server is unreachable at connect: that invocation fails before its deadline; once the
/// server is reachable, the next invocation does the work and nothing is lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_unreachable_at_connect_is_fine_by_the_next_invocation() {
    let port = lw_testkit::free_port().unwrap();
    let address = format!("127.0.0.1:{port}");
    let f = fixture(
        Duration::from_secs(10),
        &[("TEMPORAL_ADDRESS", address.as_str())],
    )
    .await;
    let id = f.start("Later");
    let r = f.invoke().await;
    let (kind, message) = error_of(&r);
    assert_eq!(kind, "Connect", "{message}");
    assert!(message.contains(&address), "{message}");
    let _server_is_back = lw_testkit::GrpcRecorder::start_on(&address, &f.server.address)
        .await
        .unwrap();
    let r = f.invoke().await;
    report(&r);
    assert!(!r.cold, "the process survived the failed invocation");
    assert_eq!(f.server.result(&id).unwrap(), Some(json!("Hello, Later!")));
}

/// The report line the function printed for `request_id`.
fn report_line(logs: &str, request_id: &str) -> Value {
    logs.lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|v| v["lambdaworker"] == json!("invocation") && v["request_id"] == json!(request_id))
        .unwrap_or_else(|| panic!("no report line for {request_id} in\n{logs}"))
}

/// Idle early exit: with nothing left in flight for the idle period the invocation drains and
/// answers long before deadline − buffer; the work was done; the report agrees with what the
/// emulator saw.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_exit_answers_early_once_the_work_is_done() {
    let f = fixture(Duration::from_secs(60), &[("LAMBDAWORKER_IDLE_EXIT", "1s")]).await;
    let id = f.start("Early");
    let r = f.invoke().await;
    let rep = report(&r).clone();
    assert_eq!(rep["ended"], json!("idle"), "{rep}");
    assert_eq!(rep["run_end"], json!("drained"), "{rep}");
    assert_eq!(f.server.result(&id).unwrap(), Some(json!("Hello, Early!")));
    assert!(rep["workflow_activations"].as_u64().unwrap() >= 2, "{rep}");
    assert_eq!(rep["activities"], json!(1), "{rep}");
    assert_eq!(rep["cold"], json!(true));
    assert!(rep["init_ms"].as_u64().is_some(), "{rep}");
    let seen = r.duration().unwrap();
    assert!(seen < Duration::from_secs(10), "answered after {seen:?}");
    // The same report, as one JSON line in the function's output.
    let line = report_line(&f.logs(), &r.request_id);
    assert_eq!(line["billed_ms"], rep["billed_ms"]);
    assert_eq!(line["ended"], json!("idle"));
    // The report's billed duration agrees with the emulator's hand-out → response: within
    // 20 ms at best of three (the gap is the response post and scheduling; a loaded CI
    // machine can stretch one of them), never above 250 ms.
    let mut gaps = Vec::new();
    for round in 0..3 {
        let r = if round == 0 {
            r.clone()
        } else {
            f.start(&format!("Again{round}"));
            f.invoke().await
        };
        let seen = r.duration().unwrap();
        let billed = Duration::from_millis(report(&r)["billed_ms"].as_u64().unwrap());
        assert!(
            billed <= seen + Duration::from_millis(1),
            "{billed:?} > {seen:?}"
        );
        let gap = seen.saturating_sub(billed);
        assert!(gap <= Duration::from_millis(250), "{gap:?}");
        gaps.push(gap);
    }
    let best = gaps.iter().min().copied().unwrap_or_default();
    assert!(
        best <= Duration::from_millis(20),
        "report vs emulator: {gaps:?}"
    );
    println!("report vs emulator billed gaps: {gaps:?}");
    println!("idle exit: answered after {seen:?}; report {rep}");
}

/// Idle exit never cuts an activity short: one running longer than the idle period completes
/// in the same invocation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_exit_never_cuts_an_activity_short() {
    let f = faults_fixture(
        Duration::from_secs(60),
        &[("LAMBDAWORKER_IDLE_EXIT", "500ms")],
    )
    .await;
    let id = f.start("slow:3000:Patient");
    let r = f.invoke().await;
    let rep = report(&r);
    assert_eq!(rep["ended"], json!("idle"), "{rep}");
    assert_eq!(
        f.server.result(&id).unwrap(),
        Some(json!("Hello, Patient!")),
        "{}",
        f.logs()
    );
    let started = f.events(&id, "EVENT_TYPE_ACTIVITY_TASK_STARTED");
    assert_eq!(
        started[0]["activityTaskStartedEventAttributes"]["attempt"],
        json!(1),
        "the first attempt completed"
    );
    assert!(r.duration().unwrap() >= Duration::from_secs(3));
}

/// Without idle exit the report says the deadline ended it; a bad setting is an init error
/// naming the variable.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_idle_exit_setting_is_an_init_error_naming_the_variable() {
    let f = fixture(
        Duration::from_secs(10),
        &[("LAMBDAWORKER_IDLE_EXIT", "soon")],
    )
    .await;
    let r = f.function.invoke(json!({})).await.unwrap();
    match &r.outcome {
        Outcome::Crashed { init_error, .. } => {
            let message = init_error.as_ref().expect("init error posted")["errorMessage"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            assert!(
                message.contains("LAMBDAWORKER_IDLE_EXIT") && message.contains("500ms"),
                "{message}"
            );
        }
        other => panic!("expected an init failure, got {other:?}"),
    }
}

/// Outside Lambda (no Runtime API variables) the same binary is an ordinary long-lived
/// worker: it completes a workflow and stops cleanly on SIGTERM.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outside_lambda_the_binary_is_a_long_lived_worker_until_sigterm() {
    let server = DevServer::shared().unwrap();
    let (tq, deployment) = (lw_testkit::unique("tq"), lw_testkit::unique("dep"));
    server.set_current_version(&deployment, BUILD).unwrap();
    let logs = tempfile::NamedTempFile::new().unwrap();
    // One file, appended to by both streams (two plain handles would overwrite each other).
    let append = || {
        std::fs::OpenOptions::new()
            .append(true)
            .open(logs.path())
            .unwrap()
    };
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_e2e-greeting"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("TEMPORAL_ADDRESS", server.address.clone())
        .env("TEMPORAL_TASK_QUEUE", tq.clone())
        .env("LW_DEPLOYMENT_NAME", deployment)
        .env("LW_BUILD_ID", BUILD)
        .env("TEMPORAL_CONFIG_FILE", "")
        .stdout(append())
        .stderr(append())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let id = lw_testkit::unique("wf");
    server
        .start_workflow(&tq, "Greeting", &id, &json!("Local"))
        .unwrap();
    let r = server.wait_result(&id, Duration::from_secs(30)).unwrap();
    assert_eq!(r, json!("Hello, Local!"));
    let pid = child.id().unwrap() as libc::pid_t;
    // SAFETY: signalling the child this test started.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    let status = tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .expect("exited after SIGTERM")
        .unwrap();
    let out = std::fs::read_to_string(logs.path()).unwrap();
    assert!(status.success(), "{status}\n{out}");
    assert!(
        out.contains("running as an ordinary long-lived worker"),
        "{out}"
    );
    let line = report_line(&out, "local");
    assert_eq!(line["ended"], json!("shutdown"), "{line}");
    assert!(line["activities"].as_u64().unwrap() >= 1, "{line}");
}
