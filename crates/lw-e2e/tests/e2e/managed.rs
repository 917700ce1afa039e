//! Lambda Managed Instances: one function process serving several invocations at once
//! (`AWS_LAMBDA_MAX_CONCURRENCY`), under our Runtime API emulator and under `cargo lambda
//! watch --concurrency 4` (a Runtime API nobody here wrote). Each invocation keeps its own
//! deadline, identity, drain and report; SIGTERM drains every one in flight; one
//! invocation's failed connect leaves its neighbours working; nothing a workflow did is lost.

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use lw_testkit::{DevServer, Greetings, Outcome, free_port, unique};
use serde_json::{Value, json};
use tokio::time::Instant;

use crate::common::*;

async fn wait_until(limit: Duration, what: &str, mut done: impl FnMut() -> bool) {
    let until = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < until, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_overlapping_invocations_in_one_process_keep_their_own_deadlines() {
    let server = DevServer::shared().expect("dev server");
    let f = managed_fixture(GREETING_FAULTS, server, Duration::from_secs(12), 4, &[]).await;
    let g = Greetings::connect(f.server, &f.task_queue).await.unwrap();
    let names: Vec<String> = (0..8).map(|i| format!("slow:300:m{i}")).collect();
    let ids = g.start(&names).await.unwrap();
    let mut pending = Vec::new();
    for n in 1..=4 {
        pending.push(f.function.invoke_async(json!({})).unwrap());
        wait_until(Duration::from_secs(20), "the invocation handed out", || {
            f.function.in_flight() == n
        })
        .await;
        // Spread the deadlines, so each invocation's own is visible in its timing.
        tokio::time::sleep(Duration::from_millis(600)).await;
    }
    let mut results = Vec::new();
    for p in pending {
        results.push(p.await.unwrap());
    }
    assert_eq!(
        f.function.spawn_times().len(),
        1,
        "one process served all four"
    );
    assert_eq!(f.function.peak_in_flight(), 4);
    let mut identities = Vec::new();
    let mut activities = 0;
    for r in &results {
        let rep = report(r);
        let deadline = r.deadline.expect("delivered");
        assert!(
            r.finished_at <= deadline,
            "answered after its deadline: {r:?}"
        );
        // Polled until its own deadline minus the 7 s buffer, then drained and answered.
        let left = deadline.saturating_duration_since(r.finished_at);
        assert!(
            left > Duration::from_secs(5) && left < Duration::from_secs(7),
            "{left:?} {rep}"
        );
        assert_eq!(rep["ended"], json!("deadline"), "{rep}");
        assert_eq!(rep["run_end"], json!("drained"), "{rep}");
        identities.push(rep["identity"].as_str().unwrap_or_default().to_owned());
        activities += rep["activities"].as_u64().unwrap_or_default();
    }
    let deadlines: Vec<Instant> = results.iter().filter_map(|r| r.deadline).collect();
    let spread = *deadlines.iter().max().unwrap() - *deadlines.iter().min().unwrap();
    assert!(spread >= Duration::from_millis(1500), "{spread:?}");
    identities.sort();
    identities.dedup();
    assert_eq!(identities.len(), 4, "{identities:?}");
    assert_eq!(
        results
            .iter()
            .filter(|r| report(r)["cold"] == json!(true))
            .count(),
        1
    );
    // Each invocation's log lines carry its own request id, though they interleave.
    let logs = f.logs();
    for r in &results {
        let id = report(r)["request_id"].as_str().unwrap_or_default();
        let tagged = format!("\"requestId\":\"{id}\"");
        assert!(
            logs.lines()
                .any(|l| l.contains("invocation done") && l.contains(&tagged)),
            "no `invocation done` line with requestId {id}:\n{logs}"
        );
    }
    g.wait_all(&ids, Duration::from_secs(30)).await.unwrap();
    assert_nothing_lost(&g, &ids, &names).await;
    assert_eq!(activities, 8, "each activity ran once, in one of the four");
    assert!(f.function.late_answers().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_drains_every_invocation_in_flight() {
    let server = DevServer::shared().expect("dev server");
    let f = managed_fixture(GREETING_FAULTS, server, Duration::from_secs(60), 3, &[]).await;
    let g = Greetings::connect(f.server, &f.task_queue).await.unwrap();
    let names: Vec<String> = (0..3).map(|i| format!("slow:2500:t{i}")).collect();
    let ids = g.start(&names).await.unwrap();
    let pending: Vec<_> = (0..3)
        .map(|_| f.function.invoke_async(json!({})).unwrap())
        .collect();
    // Wait until every activity runs in the function.
    let until = Instant::now() + Duration::from_secs(20);
    for id in &ids {
        loop {
            let d = f
                .server
                .cli(&["workflow", "describe", "-w", id, "-o", "json"])
                .unwrap();
            if d.contains("PENDING_ACTIVITY_STATE_STARTED") {
                break;
            }
            assert!(Instant::now() < until, "the activity of {id} never started");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    assert_eq!(f.function.in_flight(), 3);
    let term_at = Instant::now();
    f.function.terminate(Duration::from_secs(10)).unwrap();
    let mut drained_activities = 0;
    for p in pending {
        let r = p.await.unwrap();
        let rep = report(&r);
        assert_eq!(rep["ended"], json!("shutdown"), "{rep}");
        assert_eq!(rep["run_end"], json!("drained"), "{rep}");
        drained_activities += rep["activities"].as_u64().unwrap_or_default();
    }
    assert_eq!(
        drained_activities, 3,
        "the drains waited for the running activities"
    );
    wait_until(Duration::from_secs(10), "the process to exit", || {
        !f.function.is_alive()
    })
    .await;
    assert!(term_at.elapsed() < Duration::from_secs(6));
    assert_eq!(
        f.function.exits().last().map(String::as_str),
        Some("exit status: 0"),
        "{}",
        f.logs()
    );
    // The drained results were recorded: the workflows complete without a second attempt
    // (on a function with a short timeout, so the last invocation ends soon after).
    let after =
        lw_testkit::LocalFunction::new(f.function.spec().clone().timeout(Duration::from_secs(9)))
            .await
            .unwrap();
    let until = Instant::now() + Duration::from_secs(60);
    while g.completed(&ids).await.unwrap() < ids.len() {
        assert!(Instant::now() < until, "workflows left\n{}", after.logs());
        let r = after.invoke(json!({})).await.unwrap();
        assert!(matches!(r.outcome, Outcome::Response(_)), "{:?}", r.outcome);
    }
    assert_nothing_lost(&g, &ids, &names).await;
    for id in &ids {
        assert_eq!(g.outcome(id).await.unwrap().activity_attempt, Some(1));
    }
}

/// A TCP front for the dev server whose first connection never answers (a server that hangs
/// for one client); the others are passed through.
async fn flaky_front(target: String) -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        while let Ok((mut inbound, _)) = listener.accept().await {
            if count.fetch_add(1, Ordering::SeqCst) == 0 {
                tokio::spawn(async move {
                    use tokio::io::AsyncReadExt;
                    let mut buf = [0u8; 4096];
                    while inbound.read(&mut buf).await.is_ok_and(|n| n > 0) {}
                });
                continue;
            }
            let target = target.clone();
            tokio::spawn(async move {
                if let Ok(mut outbound) = tokio::net::TcpStream::connect(&target).await {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                }
            });
        }
    });
    (address, accepted)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_failed_connect_does_not_fail_its_neighbours() {
    let server = DevServer::shared().expect("dev server");
    let (front, accepted) = flaky_front(server.address.clone()).await;
    let f = managed_fixture(
        GREETING,
        server,
        Duration::from_secs(10),
        3,
        &[("TEMPORAL_ADDRESS", front.as_str())],
    )
    .await;
    let g = Greetings::connect(f.server, &f.task_queue).await.unwrap();
    let names = vec!["Neighbour".to_owned()];
    let ids = g.start(&names).await.unwrap();
    let pending: Vec<_> = (0..3)
        .map(|_| f.function.invoke_async(json!({})).unwrap())
        .collect();
    let mut failed = Vec::new();
    let mut served = 0;
    for p in pending {
        let r = p.await.unwrap();
        match &r.outcome {
            Outcome::Error { .. } => failed.push(error_of(&r).0.to_owned()),
            Outcome::Response(rep) => {
                assert_eq!(rep["run_end"], json!("drained"), "{rep}");
                served += 1;
            }
            other => panic!("{other:?}\n{}", f.logs()),
        }
    }
    // The hung one gives up at the end of its work window (10 s − 7 s buffer).
    assert_eq!(failed, ["ConnectTimeout"], "{}", f.logs());
    assert_eq!(served, 2);
    assert!(accepted.load(Ordering::SeqCst) >= 3);
    assert!(f.function.is_alive(), "the process lives on");
    g.wait_all(&ids, Duration::from_secs(30)).await.unwrap();
    assert_nothing_lost(&g, &ids, &names).await;
}

/// Waits until something accepts connections on `port`.
async fn wait_for_port(port: u16, what: &str) {
    let until = Instant::now() + Duration::from_secs(30);
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        assert!(Instant::now() < until, "{what} never listened on {port}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn cargo_lambda() -> String {
    std::env::var("CARGO_LAMBDA").unwrap_or_else(|_| "cargo-lambda".to_owned())
}

/// `cargo lambda invoke` against the watch server; returns (sent, answered, response).
async fn lambda_invoke(port: u16) -> (Instant, Instant, Value) {
    let sent = Instant::now();
    let out = tokio::process::Command::new(cargo_lambda())
        .args(["lambda", "invoke", "--invoke-port", &port.to_string()])
        .args(["--data-ascii", "{}", "_"])
        .output()
        .await
        .expect("cargo lambda invoke (installed by `cargo xtask test`)");
    let answered = Instant::now();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let response = serde_json::from_str(text.trim()).unwrap_or_else(|e| panic!("{e}: {text}"));
    (sent, answered, response)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cargo_lambda_watch_with_concurrency_4_serves_four_overlapping_invocations() {
    let server = DevServer::shared().expect("dev server");
    let port = free_port().unwrap();
    // How long `cargo lambda invoke` waits for an answer, and an idle `/next` waits before
    // cargo lambda answers it 408 (on which lambda_runtime 1.5 panics): longer than the test.
    let timeout_s = 120u64;
    let mut watch = tokio::process::Command::new(cargo_lambda())
        .args([
            "lambda",
            "watch",
            "--only-lambda-apis",
            "--concurrency",
            "4",
        ])
        .args(["-P", &port.to_string(), "--timeout", &timeout_s.to_string()])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("cargo lambda (installed by `cargo xtask test`)");
    wait_for_port(port, "cargo lambda watch").await;
    let (tq, deployment) = (unique("tq"), unique("dep"));
    server.set_current_version(&deployment, BUILD).unwrap();
    let logs = tempfile::NamedTempFile::new().unwrap();
    let mut function = tokio::process::Command::new(GREETING)
        .env(
            "AWS_LAMBDA_RUNTIME_API",
            format!("http://127.0.0.1:{port}/.rt"),
        )
        .env("AWS_LAMBDA_FUNCTION_NAME", "_")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "1024")
        .env("AWS_LAMBDA_MAX_CONCURRENCY", "4")
        .env("TEMPORAL_ADDRESS", server.address.clone())
        .env("TEMPORAL_TASK_QUEUE", tq.clone())
        .env("LW_DEPLOYMENT_NAME", deployment)
        .env("LW_BUILD_ID", BUILD)
        .env("TEMPORAL_CONFIG_FILE", "")
        // cargo lambda sends no usable deadline (the worker then takes a 60 s window): end
        // each invocation once it has been idle for 3 s instead, long enough that the four
        // `cargo lambda invoke` processes (started one after another on a busy machine) all
        // begin before the first invocation ends.
        .env("LAMBDAWORKER_IDLE_EXIT", "3s")
        .stdout(std::process::Stdio::null())
        .stderr(logs.reopen().unwrap())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let g = Greetings::connect(server, &tq).await.unwrap();
    let names: Vec<String> = (0..4).map(|i| format!("cl{i}")).collect();
    let ids = g.start(&names).await.unwrap();
    let calls: Vec<_> = (0..4).map(|_| tokio::spawn(lambda_invoke(port))).collect();
    let mut answers = Vec::new();
    for c in calls {
        answers.push(c.await.unwrap());
    }
    let log = || std::fs::read_to_string(logs.path()).unwrap_or_default();
    // Overlapping: each began (its answer less the time it billed) before any was answered.
    let began = |(_, answered, rep): &(Instant, Instant, Value)| {
        *answered - Duration::from_millis(rep["billed_ms"].as_u64().unwrap_or_default())
    };
    let last_began = answers.iter().map(began).max().unwrap();
    let first_answer = answers.iter().map(|a| a.1).min().unwrap();
    assert!(
        last_began < first_answer,
        "the invocations ran one after another: {answers:?}"
    );
    let mut identities: Vec<String> = Vec::new();
    for (sent, answered, rep) in &answers {
        assert!(rep["request_id"].is_string(), "{rep}\n{}", log());
        assert_eq!(rep["run_end"], json!("drained"), "{rep}");
        assert_eq!(rep["ended"], json!("idle"), "{rep}");
        assert_eq!(rep["warnings"], json!(["no_deadline"]), "{rep}");
        // Answered well before its own deadline (the 60 s window minus the 7 s buffer).
        let took = answered.saturating_duration_since(*sent);
        assert!(took < Duration::from_secs(20), "{took:?} {rep}");
        identities.push(rep["identity"].as_str().unwrap_or_default().to_owned());
    }
    identities.sort();
    identities.dedup();
    assert_eq!(identities.len(), 4, "{identities:?}");
    g.wait_all(&ids, Duration::from_secs(30)).await.unwrap();
    assert_nothing_lost(&g, &ids, &names).await;
    assert!(
        function.try_wait().unwrap().is_none(),
        "the function exited\n{}",
        log()
    );
    // The Runtime API goes away: the function notices and exits instead of retrying `/next`
    // in a loop (lambda_runtime's concurrent loops retry without pause).
    watch.kill().await.unwrap();
    let until = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = function.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < until,
            "still running without its Runtime API\n{}",
            log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(!status.success(), "{status}");
    let log = log();
    let last = log.lines().last().unwrap_or_default();
    assert!(last.contains("went away"), "{last}");
}
