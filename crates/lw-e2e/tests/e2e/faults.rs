//! Faults thrown at the greeting function: SIGTERM and SIGKILL of the function process, the
//! Temporal server restarted mid-invocation, and many warm invocations in one process. Each
//! asserts that nothing is lost: every workflow started completes with its activity's result
//! recorded once.
//!
//! `LW_SOAK=1` (what `cargo xtask soak` sets) runs the long variants.

use std::time::Duration;

use lw_testkit::{DevServer, Greetings, OtlpReceiver, Outcome, unique};
use serde_json::json;
use tokio::time::Instant;

use crate::common::*;

fn soak() -> bool {
    std::env::var_os("LW_SOAK").is_some_and(|v| !v.is_empty() && v != "0")
}

/// Invokes until every workflow in `ids` completed, or `limit` passes.
async fn invoke_until_done(f: &Fixture, g: &Greetings, ids: &[String], limit: Duration) {
    let until = Instant::now() + limit;
    loop {
        let done = g.completed(ids).await.expect("describe");
        if done == ids.len() {
            return;
        }
        assert!(
            Instant::now() < until,
            "only {done} of {} workflows completed within {limit:?}\n{}",
            ids.len(),
            f.logs()
        );
        let r = f.invoke().await;
        assert!(
            matches!(r.outcome, Outcome::Response(_)),
            "{:?}\n{}",
            r.outcome,
            f.logs()
        );
    }
}

/// SIGTERM during an invocation (an emulator, local mode or a container stop; Lambda itself
/// sends it only between invocations): the worker stops polling, drains the running activity,
/// runs the shutdown hooks (the telemetry flush), posts its response and exits 0; the workflow
/// completes on the next process.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_mid_invocation_drains_runs_hooks_and_exits_cleanly() {
    let receiver = OtlpReceiver::start().await.unwrap();
    let f = faults_fixture(
        Duration::from_secs(30),
        &[("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint.as_str())],
    )
    .await;
    let g = Greetings::connect(f.server, &f.task_queue).await.unwrap();
    let names = vec!["slow:3000:Term".to_owned()];
    let ids = g.start(&names).await.unwrap();
    let pending = f.function.invoke_async(json!({})).unwrap();
    // Wait until the activity runs in the function.
    let until = Instant::now() + Duration::from_secs(20);
    loop {
        let d = f
            .server
            .cli(&["workflow", "describe", "-w", &ids[0], "-o", "json"])
            .unwrap();
        if d.contains("PENDING_ACTIVITY_STATE_STARTED") {
            break;
        }
        assert!(Instant::now() < until, "the activity never started");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let term_at = Instant::now();
    let kill_after = Duration::from_secs(10);
    f.function.terminate(kill_after).unwrap();
    let r = pending.await.unwrap();
    let rep = report(&r);
    assert_eq!(rep["warnings"], json!(["shutdown_requested"]), "{rep}");
    assert_eq!(rep["ended"], json!("shutdown"), "{rep}");
    assert_eq!(rep["run_end"], json!("drained"), "{rep}");
    // The activity was mid-run at SIGTERM: the drain waited for it.
    assert_eq!(rep["activities"], json!(1), "{rep}");
    assert!(rep["drain_ms"].as_u64().unwrap() >= 500, "{rep}");
    // Exited by itself, cleanly, long before SIGKILL.
    let until = Instant::now() + kill_after;
    while f.function.is_alive() {
        assert!(Instant::now() < until, "still alive after SIGTERM");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let exited = term_at.elapsed();
    assert_eq!(
        f.function.exits().last().map(String::as_str),
        Some("exit status: 0"),
        "{}",
        f.logs()
    );
    assert!(exited < Duration::from_secs(5), "took {exited:?}");
    assert_eq!(
        f.function.extensions(),
        ["lambdaworker-shutdown"],
        "the extension that makes Lambda send SIGTERM"
    );
    // The hooks ran: the activity's span was flushed before the response.
    let got = receiver.received();
    assert!(
        !got.spans_named("RunActivity:greet").is_empty(),
        "{:?}",
        got.spans
    );
    // The drained activity's result was recorded: the next process completes the workflow
    // without running the activity again.
    invoke_until_done(&f, &g, &ids, Duration::from_secs(60)).await;
    assert_nothing_lost(&g, &ids, &names).await;
    let o = g.outcome(&ids[0]).await.unwrap();
    assert_eq!(o.activity_attempt, Some(1), "{o:?}");
    println!("SIGTERM → exit in {exited:?}");
}

/// SIGTERM between invocations: the process exits 0 at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_between_invocations_exits_at_once() {
    let f = fixture(Duration::from_millis(8500), &[]).await;
    report(&f.invoke().await);
    assert!(f.function.is_alive());
    let t = Instant::now();
    f.function.terminate(Duration::from_secs(5)).unwrap();
    while f.function.is_alive() {
        assert!(t.elapsed() < Duration::from_secs(5), "still alive");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        f.function.exits().last().map(String::as_str),
        Some("exit status: 0")
    );
    println!("idle SIGTERM → exit in {:?}", t.elapsed());
}

/// The function process is SIGKILLed every few seconds while 200 workflows run; two of
/// them are mid-activity at the first kill. Then clean invocations finish the rest.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_every_few_seconds_loses_nothing() {
    let (workflows, kills) = if soak() { (1000, 20) } else { (200, 3) };
    let f = faults_fixture(Duration::from_secs(10), &[]).await;
    let g = Greetings::connect(f.server, &f.task_queue).await.unwrap();
    // Two activities that sleep 30 s on their first attempt: certainly running at a kill.
    let mut names: Vec<String> = (0..2).map(|i| format!("slow:30000:k{i}")).collect();
    names.extend((2..workflows).map(|i| {
        if i % 5 == 0 {
            format!("slow:300:n{i}")
        } else {
            format!("n{i}")
        }
    }));
    let ids = g.start(&names).await.unwrap();
    let mut crashed = 0;
    for round in 0..kills {
        let pending = f.function.invoke_async(json!({})).unwrap();
        // The fault schedule, not a synchronisation: kill 2 s into the invocation.
        let started = Instant::now();
        while f.function.pid().is_none() && started.elapsed() < Duration::from_secs(5) {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
        f.function.kill();
        let r = pending.await.unwrap();
        if matches!(r.outcome, Outcome::Crashed { .. }) {
            crashed += 1;
        }
        println!("kill round {round}: {:?}", r.outcome);
    }
    assert_eq!(crashed, kills, "every kill hit an invocation");
    invoke_until_done(&f, &g, &ids, Duration::from_secs(180)).await;
    let outcomes = assert_nothing_lost(&g, &ids, &names).await;
    let retried = outcomes
        .iter()
        .filter(|o| o.activity_attempt.is_some_and(|a| a >= 2))
        .count();
    println!(
        "{workflows} workflows, {kills} SIGKILLs: all completed, each activity result recorded \
         once; {retried} activities ran again after a killed attempt"
    );
    for id in &ids[..2] {
        let o = g.outcome(id).await.unwrap();
        assert!(
            o.activity_attempt.is_some_and(|a| a >= 2),
            "the killed attempt was retried: {o:?}"
        );
    }
}

/// The Temporal server is restarted (same database file) while an invocation is polling:
/// the invocation still ends before its deadline, and every workflow completes, including
/// those started after the restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_restart_mid_invocation_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server: &'static DevServer = Box::leak(Box::new(
        DevServer::start_persistent(&dir.path().join("temporal.db")).unwrap(),
    ));
    let f = fixture_of(GREETING_FAULTS, server, Duration::from_secs(25), &[]).await;
    let g = Greetings::connect(server, &f.task_queue).await.unwrap();
    let before: Vec<String> = (0..5).map(|i| format!("slow:200:b{i}")).collect();
    let mut ids = g.start(&before).await.unwrap();
    let pending = f.function.invoke_async(json!({})).unwrap();
    let until = Instant::now() + Duration::from_secs(15);
    while g.completed(&ids).await.unwrap() == 0 {
        assert!(Instant::now() < until, "nothing completed\n{}", f.logs());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let restarted = Instant::now();
    tokio::task::spawn_blocking(move || server.restart())
        .await
        .unwrap()
        .unwrap();
    println!("server restarted in {:?}", restarted.elapsed());
    let after: Vec<String> = (0..5).map(|i| format!("a{i}")).collect();
    ids.extend(g.start(&after).await.unwrap());
    let r = pending.await.unwrap();
    assert!(
        r.finished_at <= r.deadline.unwrap(),
        "the invocation outlived its deadline: {r:?}"
    );
    println!("invocation across the restart: {:?}", r.outcome);
    invoke_until_done(&f, &g, &ids, Duration::from_secs(120)).await;
    let names: Vec<String> = before.into_iter().chain(after).collect();
    assert_nothing_lost(&g, &ids, &names).await;
    server.stop();
}

/// Many warm invocations in one process: memory, descriptors and threads stay flat.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn warm_invocations_do_not_grow_memory_fds_or_threads() {
    let invocations = if soak() { 500 } else { 40 };
    // 8.2 s timeout - 7 s buffer: 1.2 s of polling per invocation.
    let f = fixture(Duration::from_millis(8200), &[]).await;
    let g = Greetings::connect(f.server, &f.task_queue).await.unwrap();
    let mut samples = Vec::new();
    let mut ids = Vec::new();
    let mut names = Vec::new();
    for i in 0..invocations {
        // Some work in every fifth invocation.
        if i % 5 == 0 {
            let name = vec![unique("w")];
            ids.extend(g.start(&name).await.unwrap());
            names.extend(name);
        }
        let r = f.invoke().await;
        report(&r);
        assert!(!r.cold || i == 0, "invocation {i} was cold");
        let st = f.function.proc_status().expect("alive");
        samples.push((st, f.function.open_fds().expect("alive")));
    }
    // After warm-up (allocator arenas, connection pools, the SDK's lazily built state).
    let (base, base_fds) = samples[4];
    let (last, last_fds) = *samples.last().unwrap();
    let growth_kib = last.rss_kib.saturating_sub(base.rss_kib);
    println!(
        "{invocations} warm invocations: RSS {} → {} KiB (peak {}), fds {base_fds} → {last_fds}, threads {} → {}",
        base.rss_kib, last.rss_kib, last.peak_rss_kib, base.threads, last.threads
    );
    assert!(growth_kib < 5 * 1024, "RSS grew {growth_kib} KiB");
    assert!(last_fds <= base_fds + 2, "fds {base_fds} → {last_fds}");
    assert!(
        last.threads <= base.threads + 1,
        "threads {} → {}",
        base.threads,
        last.threads
    );
    invoke_until_done(&f, &g, &ids, Duration::from_secs(60)).await;
    assert_nothing_lost(&g, &ids, &names).await;
}
