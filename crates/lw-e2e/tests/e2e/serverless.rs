//! The real loop: the dev server's Worker Controller invokes the greeting function through
//! `lw-local` (STS + Lambda on loopback). One dev server (with the controller enabled) and
//! one local AWS service per test process.

use std::{
    sync::OnceLock,
    time::{Duration, Instant},
};

use lw_local::{FunctionConfig, LocalLambda, RoleConfig};
use lw_testkit::{DevServer, unique};
use serde_json::{Value, json};

const ROLE: &str = "arn:aws:iam::000000000000:role/temporal-invoker";

struct Loop {
    aws: LocalLambda,
    server: DevServer,
    /// Keeps the local service's tasks running for the whole test process.
    _runtime: tokio::runtime::Runtime,
}

/// The local AWS service lives on its own runtime, so every test (each with its own runtime)
/// can use it.
fn shared() -> &'static Loop {
    static LOOP: OnceLock<Loop> = OnceLock::new();
    LOOP.get_or_init(|| {
        // Built on a plain thread: the caller is inside a test's runtime.
        std::thread::spawn(|| {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .expect("runtime");
            let aws = runtime.block_on(LocalLambda::start()).expect("lw-local");
            let env = aws.server_env();
            let server = DevServer::start_with(lw_local::worker_controller_config(), env)
                .expect("dev server with the Worker Controller");
            Loop {
                aws,
                server,
                _runtime: runtime,
            }
        })
        .join()
        .expect("set-up thread")
    })
}

fn greeting(name: &str, timeout_s: u64, tq: &str, deployment: &str) -> FunctionConfig {
    function(
        env!("CARGO_BIN_EXE_e2e-greeting"),
        name,
        timeout_s,
        tq,
        deployment,
    )
}

/// The fault-injecting fixture (`slow:<ms>:<name>`) as the function.
fn greeting_faults(name: &str, timeout_s: u64, tq: &str, deployment: &str) -> FunctionConfig {
    function(
        env!("CARGO_BIN_EXE_greeting-faults"),
        name,
        timeout_s,
        tq,
        deployment,
    )
}

fn function(
    binary: &str,
    name: &str,
    timeout_s: u64,
    tq: &str,
    deployment: &str,
) -> FunctionConfig {
    FunctionConfig::new(name, binary)
        .timeout(Duration::from_secs(timeout_s))
        .env("TEMPORAL_ADDRESS", shared().server.address.clone())
        .env("TEMPORAL_TASK_QUEUE", tq)
        .env("LW_DEPLOYMENT_NAME", deployment)
        .env("LW_BUILD_ID", "b1")
        .env("TEMPORAL_CONFIG_FILE", "")
}

async fn wait_until(limit: Duration, what: &str, mut done: impl FnMut() -> bool) {
    let until = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < until, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn create_version(deployment: &str, arn: &str, role: &str, ext: &str) -> Result<String, String> {
    shared()
        .server
        .create_lambda_version(deployment, "b1", arn, role, ext)
        .map_err(|e| e.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_server_invokes_the_function_and_every_workflow_completes() {
    let Loop { aws, server, .. } = shared();
    let (deployment, tq, ext) = (unique("dep"), unique("tq"), unique("ext"));
    aws.add_role(RoleConfig {
        arn: ROLE.into(),
        external_id: Some(ext.clone()),
    });
    let arn = aws.add_function(greeting("greeting-loop", 12, &tq, &deployment));
    create_version(&deployment, &arn, ROLE, &ext).unwrap();
    // The server checked the trust policy both ways: with the ExternalId, and without it.
    let calls: Vec<_> = aws
        .assume_role_calls()
        .into_iter()
        .filter(|c| c.role_arn == ROLE)
        .collect();
    assert!(
        calls
            .iter()
            .any(|c| c.granted && c.external_id.as_deref() == Some(ext.as_str()))
    );
    assert!(calls.iter().any(|c| !c.granted && c.external_id.is_none()));
    // The validation invocation: asynchronous, empty payload, a cold start.
    let acc = || aws.accounting("greeting-loop").unwrap_or_default();
    // Wait for it to end, so nothing polls when the workflows start: only the server can
    // bring a worker up for them.
    wait_until(Duration::from_secs(30), "the validation invocation", || {
        let a = acc();
        a.invocations >= 1 && a.in_flight == 0
    })
    .await;
    assert_eq!(acc().invocations, 1);
    server.set_current_version(&deployment, "b1").unwrap();
    let ids: Vec<String> = (0..10)
        .map(|i| {
            let id = unique("wf");
            server
                .start_workflow(&tq, "Greeting", &id, &json!(format!("n{i}")))
                .unwrap();
            id
        })
        .collect();
    for (i, id) in ids.iter().enumerate() {
        let r = server.wait_result(id, Duration::from_secs(90)).unwrap();
        assert_eq!(r, json!(format!("Hello, n{i}!")));
    }
    wait_until(
        Duration::from_secs(30),
        "the last invocation to end",
        || acc().in_flight == 0,
    )
    .await;
    let a = acc();
    println!("{}", aws.report());
    assert!(
        a.invocations >= 2,
        "the server invoked again for the workflows: {a:?}"
    );
    assert_eq!(a.records.len() as u64, a.invocations);
    assert!(
        a.records.iter().all(|r| r.invocation_type == "Event"),
        "{a:?}"
    );
    assert!(a.records[0].cold);
    assert_eq!(a.errors + a.timeouts, 0, "{a:?}");
    let billed: u64 = a.records.iter().map(|r| r.billed_ms).sum();
    assert_eq!(billed, a.billed_ms);
    assert!((a.gb_seconds - a.billed_ms as f64 / 1000.0 * 0.25).abs() < 1e-6);
    // Each invocation polls until deadline − buffer (12 s − 7 s) and no longer.
    assert!(a.records.iter().all(|r| r.billed_ms < 12_000), "{a:?}");
    assert!(
        aws.unknown_requests().is_empty(),
        "{:?}",
        aws.unknown_requests()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_that_does_not_enforce_the_external_id_is_rejected() {
    let Loop { aws, .. } = shared();
    let (deployment, tq) = (unique("dep"), unique("tq"));
    let lax = "arn:aws:iam::000000000000:role/lax";
    aws.add_role(RoleConfig {
        arn: lax.into(),
        external_id: None,
    });
    let arn = aws.add_function(greeting("greeting-lax", 12, &tq, &deployment));
    let e = create_version(&deployment, &arn, lax, "anything").unwrap_err();
    assert!(e.contains("does not enforce ExternalID"), "{e}");
    // A wrong ExternalId is refused by STS, so the version is rejected too.
    let strict = "arn:aws:iam::000000000000:role/strict";
    aws.add_role(RoleConfig {
        arn: strict.into(),
        external_id: Some("the-right-one".into()),
    });
    let e = create_version(&unique("dep"), &arn, strict, "a-wrong-one").unwrap_err();
    assert!(
        e.contains("error creating worker deployment version"),
        "{e}"
    );
    assert_eq!(
        aws.accounting("greeting-lax")
            .unwrap_or_default()
            .invocations,
        0,
        "a rejected version must not be invoked"
    );
}

/// A `RequestResponse` Invoke, signed with lw-local's credentials (it refuses anything
/// else).
async fn invoke(aws: &LocalLambda, arn: &str) -> (u16, Option<String>, Value) {
    let url = format!("{}/2015-03-31/functions/{arn}/invocations", aws.endpoint());
    let kind = ("x-amz-invocation-type", "RequestResponse");
    let signed = aws
        .credentials()
        .sign("POST", &url, &[kind], b"{}")
        .unwrap();
    let mut request = reqwest::Client::new()
        .post(url)
        .header(kind.0, kind.1)
        .body("{}");
    for (k, v) in signed {
        request = request.header(k, v);
    }
    let r = request.send().await.unwrap();
    let status = r.status().as_u16();
    let error = r
        .headers()
        .get("x-amz-function-error")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    (status, error, r.json().await.unwrap_or(Value::Null))
}

/// Driven through the Lambda Invoke API directly: concurrency, throttling, and a hung
/// instance killed at its deadline, with the workflow finishing on the next (cold) instance.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instances_scale_out_and_a_timed_out_instance_is_replaced() {
    let Loop { aws, server, .. } = shared();
    let (deployment, tq) = (unique("dep"), unique("tq"));
    server.set_current_version(&deployment, "b1").unwrap();
    let arn = aws.add_function(greeting("greeting-pool", 12, &tq, &deployment).concurrency(2));
    let ids: Vec<String> = (0..2)
        .map(|i| {
            let id = unique("wf");
            server
                .start_workflow(&tq, "Greeting", &id, &json!(format!("p{i}")))
                .unwrap();
            id
        })
        .collect();
    // Three at once with a concurrency of two: two instances start, the third call is
    // throttled.
    let (a, b, c) = tokio::join!(invoke(aws, &arn), invoke(aws, &arn), invoke(aws, &arn));
    let mut statuses = [a.0, b.0, c.0];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 200, 429], "{a:?} {b:?} {c:?}");
    let acc = aws.accounting("greeting-pool").unwrap();
    assert_eq!(
        (acc.instances, acc.cold_starts, acc.throttles),
        (2, 2, 1),
        "{acc:?}"
    );
    for id in &ids {
        server.wait_result(id, Duration::from_secs(5)).unwrap();
    }

    // A hung instance: freeze the process mid-activity; Lambda kills it at the deadline.
    let arn =
        aws.add_function(greeting_faults("greeting-freeze", 12, &tq, &deployment).concurrency(1));
    let id = unique("wf");
    server
        .start_workflow(&tq, "Greeting", &id, &json!("slow:60000:Frozen"))
        .unwrap();
    let arn2 = arn.clone();
    let hung = tokio::spawn(async move { invoke(aws, &arn2).await });
    let until = Instant::now() + Duration::from_secs(10);
    loop {
        // A started activity shows in the workflow's pending activities (history only
        // records the start when the attempt ends).
        let started = server
            .cli(&["workflow", "describe", "--workflow-id", &id, "-o", "json"])
            .ok()
            .and_then(|out| serde_json::from_str::<Value>(&out).ok())
            .is_some_and(|d| {
                d["pendingActivities"][0]["state"].as_str()
                    == Some("PENDING_ACTIVITY_STATE_STARTED")
            });
        if started {
            break;
        }
        assert!(Instant::now() < until, "the activity never started");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let pid = aws.instance_pids("greeting-freeze").await[0].expect("a live instance");
    // SAFETY: signalling our own child process.
    unsafe { libc::kill(pid as i32, libc::SIGSTOP) };
    let (status, error, body) = hung.await.unwrap();
    assert_eq!(
        (status, error.as_deref()),
        (200, Some("Unhandled")),
        "{body}"
    );
    assert_eq!(body["errorType"], json!("Sandbox.Timedout"));
    assert_eq!(aws.accounting("greeting-freeze").unwrap().timeouts, 1);
    // The next invocations start a new process; the activity's retry completes the workflow.
    let mut after = 0;
    while server.result(&id).unwrap().is_none() {
        after += 1;
        assert!(
            after <= 4,
            "the workflow was not finished after the timeout"
        );
        let (status, error, body) = invoke(aws, &arn).await;
        assert_eq!((status, error), (200, None), "{body}");
    }
    assert_eq!(server.result(&id).unwrap(), Some(json!("Hello, Frozen!")));
    let acc = aws.accounting("greeting-freeze").unwrap();
    assert!(
        acc.records[1].cold,
        "the invocation after a timeout is a cold start: {acc:?}"
    );
    assert_eq!(acc.instances, 1, "{acc:?}");
}

/// Idle early exit through the real loop (the Worker Controller invoking, 60 s function
/// timeout, 256 MB): the same 30 workflows with and without it. With it, every workflow still
/// completes and the billed GB-seconds per 1000 workflows are at least 10× lower.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_exit_cuts_billed_time_tenfold_through_the_real_loop() {
    let Loop { aws, server, .. } = shared();
    let role = "arn:aws:iam::000000000000:role/idle-invoker";
    let ext = unique("ext");
    aws.add_role(RoleConfig {
        arn: role.into(),
        external_id: Some(ext.clone()),
    });
    let mut runs = Vec::new();
    for (name, idle) in [("greeting-busy", None), ("greeting-idle", Some("500ms"))] {
        let (deployment, tq) = (unique("dep"), unique("tq"));
        let mut f = greeting(name, 60, &tq, &deployment);
        if let Some(idle) = idle {
            f = f.env("LAMBDAWORKER_IDLE_EXIT", idle);
        }
        let arn = aws.add_function(f);
        create_version(&deployment, &arn, role, &ext).unwrap();
        server.set_current_version(&deployment, "b1").unwrap();
        let g = lw_testkit::Greetings::connect(server, &tq).await.unwrap();
        let names: Vec<String> = (0..30).map(|i| format!("n{i}")).collect();
        let ids = g.start(&names).await.unwrap();
        runs.push((name, g, ids));
    }
    let mut figures = Vec::new();
    for (name, g, ids) in &runs {
        g.wait_all(ids, Duration::from_secs(180)).await.unwrap();
        let outcomes = g.outcomes(ids).await.unwrap();
        for (i, o) in outcomes.iter().enumerate() {
            assert_eq!(o.result.as_deref(), Some(format!("Hello, n{i}!").as_str()));
            assert_eq!(o.activity_completions, 1, "{o:?}");
        }
        let mut latency: Vec<Duration> = outcomes
            .iter()
            .filter_map(|o| o.closed_at?.duration_since(o.started_at?).ok())
            .collect();
        latency.sort();
        let median = latency[latency.len() / 2];
        wait_until(Duration::from_secs(75), "the invocations to end", || {
            aws.accounting(name).is_some_and(|a| a.in_flight == 0)
        })
        .await;
        let a = aws.accounting(name).unwrap();
        assert_eq!(a.errors + a.timeouts, 0, "{a:?}");
        let per_1000 = a.gb_seconds / ids.len() as f64 * 1000.0;
        println!(
            "{name}: {} invocations ({} cold), {} ms billed, {:.2} GB-s = {per_1000:.1} GB-s \
             per 1000 workflows; median start-to-completion {median:?}",
            a.invocations, a.cold_starts, a.billed_ms, a.gb_seconds
        );
        figures.push((per_1000, median));
    }
    let (busy, idle) = (figures[0].0, figures[1].0);
    assert!(
        busy >= 10.0 * idle,
        "idle exit billed {idle:.1} GB-s per 1000 workflows, without {busy:.1}: less than 10× lower"
    );
}

/// Lambda Managed Instances through the real loop: the controller's invocations pack onto
/// instances that serve four at once; every workflow completes, each activity once, and
/// each invocation answers before its own deadline.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn managed_instances_pack_the_controllers_invocations() {
    let test_started = std::time::SystemTime::now();
    let Loop { aws, server, .. } = shared();
    let role = "arn:aws:iam::000000000000:role/managed-invoker";
    let ext = unique("ext");
    aws.add_role(RoleConfig {
        arn: role.into(),
        external_id: Some(ext.clone()),
    });
    let (deployment, tq) = (unique("dep"), unique("tq"));
    let name = "greeting-managed";
    let f = greeting(name, 12, &tq, &deployment).per_instance_concurrency(4);
    let arn = aws.add_function(f);
    create_version(&deployment, &arn, role, &ext).unwrap();
    server.set_current_version(&deployment, "b1").unwrap();
    let g = lw_testkit::Greetings::connect(server, &tq).await.unwrap();
    let names: Vec<String> = (0..40).map(|i| format!("m{i}")).collect();
    let ids = g.start(&names).await.unwrap();
    g.wait_all(&ids, Duration::from_secs(120)).await.unwrap();
    let outcomes = g.outcomes(&ids).await.unwrap();
    for (i, o) in outcomes.iter().enumerate() {
        assert_eq!(o.result.as_deref(), Some(format!("Hello, m{i}!").as_str()));
        assert_eq!(o.activity_completions, 1, "{o:?}");
    }
    wait_until(Duration::from_secs(30), "the invocations to end", || {
        aws.accounting(name).is_some_and(|a| a.in_flight == 0)
    })
    .await;
    let a = aws.accounting(name).unwrap();
    println!("{}", aws.report());
    assert_eq!(a.errors + a.timeouts, 0, "{a:?}");
    assert!(a.records.iter().all(|r| r.outcome == "response"), "{a:?}");
    assert_burst_is_attributable(&a, &outcomes, test_started);
    let peak = a.per_instance.iter().map(|i| i.peak_in_flight).max();
    assert!(
        peak.is_some_and(|p| (2..=4).contains(&p)),
        "no instance served several invocations at once: {:?}",
        a.per_instance
    );
    assert!(
        (a.instances as u64) < a.invocations,
        "{} instances for {} invocations",
        a.instances,
        a.invocations
    );
    let timeline_peak = a.timeline.iter().map(|p| p.in_flight).max().unwrap_or(0);
    assert!(timeline_peak >= 2, "{:?}", a.timeline);
    assert!(
        a.per_instance
            .iter()
            .all(|i| i.peak_rss_kib > 0 && i.busy_ms > 0)
    );
}

/// What `cargo xtask bench --burst` reads to say where a burst's time went holds: each
/// invocation's times are in order, its wall-clock start falls within the test, every task
/// the server handed out names an invocation lw-local ran (`<requestId>@<ARN>`), and each
/// invocation that picked up a task did so after it started and before it ended (the server
/// and lw-local share this machine's clock; 50 ms for rounding and scheduling).
fn assert_burst_is_attributable(
    a: &lw_local::Accounting,
    outcomes: &[lw_testkit::WorkflowOutcome],
    since: std::time::SystemTime,
) {
    use std::time::{SystemTime, UNIX_EPOCH};
    let unix_ms = |t: SystemTime| t.duration_since(UNIX_EPOCH).unwrap().as_millis() as u64;
    let (since, now) = (unix_ms(since), unix_ms(SystemTime::now()));
    for r in &a.records {
        let delivered = r.delivered_ms.expect("handed out");
        assert!(
            r.requested_ms <= r.started_ms && r.started_ms <= delivered,
            "{r:?}"
        );
        assert!(delivered <= r.ended_ms, "{r:?}");
        assert!(
            (since..=now).contains(&r.started_unix_ms),
            "{since}..{now}: {r:?}"
        );
    }
    let first_task = lw_testkit::first_task_by_request(outcomes);
    assert!(!first_task.is_empty());
    for (id, at) in &first_task {
        let r = a.records.iter().find(|r| &r.request_id == id);
        let r = r.unwrap_or_else(|| panic!("a task went to {id}, which lw-local never ran"));
        let at = unix_ms(*at);
        let ended = r.started_unix_ms + r.ended_ms.saturating_sub(r.started_ms);
        assert!(
            at + 50 >= r.started_unix_ms && at <= ended + 50,
            "{id}: {at} {r:?}"
        );
    }
    let cpu: u64 = a.per_instance.iter().map(|i| i.cpu_ms).sum();
    assert!(cpu > 0, "{:?}", a.per_instance);
}
