//! The invocation lifecycle of the crate documentation (deadline check, connect, start,
//! poll, drain, shutdown hooks, close), step by step, with a fake backend under tokio's
//! paused clock.

#![allow(dead_code)] // the #[activities] macro generates constants only tests read

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use lw_options::{Options, RunEnd, ValidatedOptions, Warning, WorkerDeploymentVersion};
use temporalio_client::{ClientOptions, ConnectionOptions, Url};
use temporalio_macros::activities;
use temporalio_sdk::{
    WorkerOptions,
    activities::{ActivityContext, ActivityError},
};
use tokio::{sync::Notify, time::Instant};

use super::*;
use crate::{BoxError, backend::WorkerRunner};

struct Acts;
#[allow(dead_code)]
#[activities]
impl Acts {
    #[activity]
    async fn noop(_ctx: ActivityContext) -> Result<(), ActivityError> {
        Ok(())
    }
}

#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<String>>>);
impl Log {
    fn push(&self, s: impl Into<String>) {
        self.0.lock().unwrap().push(s.into());
    }
    fn all(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
    fn count(&self, prefix: &str) -> usize {
        self.all().iter().filter(|e| e.starts_with(prefix)).count()
    }
    fn count_containing(&self, part: &str) -> usize {
        self.all().iter().filter(|e| e.contains(part)).count()
    }
}

#[derive(Clone, Default)]
struct Fake {
    log: Log,
    connect_delay: Duration,
    connect_fails: bool,
    /// Connects fail only for identities starting with this (one invocation among several).
    connect_fails_for: Option<String>,
    create_fails: bool,
    run_fails: bool,
    /// How long the run keeps going after shutdown is requested; `None` = forever.
    drain: Option<Duration>,
    seen: Arc<Mutex<Vec<(ConnectionOptions, ClientOptions, WorkerOptions)>>>,
}

struct FakeWorker {
    log: Log,
    stop: Arc<Notify>,
    fails: bool,
    drain: Option<Duration>,
}

impl WorkerRunner for FakeWorker {
    fn shutdown_handle(&self) -> Box<dyn Fn() + Send + Sync> {
        let stop = self.stop.clone();
        let log = self.log.clone();
        Box::new(move || {
            log.push("shutdown");
            stop.notify_one();
        })
    }
    async fn run(&mut self) -> Result<(), BoxError> {
        self.log.push("run");
        if self.fails {
            return Err("poll failed: namespace not found".into());
        }
        self.stop.notified().await;
        match self.drain {
            Some(d) => tokio::time::sleep(d).await,
            None => std::future::pending::<()>().await,
        }
        self.log.push("stopped");
        Ok(())
    }
}

impl Backend for Fake {
    type Client = ();
    type Worker = FakeWorker;
    async fn connect(&self, c: ConnectionOptions, o: ClientOptions) -> Result<(), BoxError> {
        self.log.push(format!("connect {}", c.identity));
        tokio::time::sleep(self.connect_delay).await;
        let singled_out = self
            .connect_fails_for
            .as_deref()
            .is_some_and(|p| c.identity.starts_with(p));
        if self.connect_fails || singled_out {
            return Err(std::io::Error::from(std::io::ErrorKind::ConnectionRefused).into());
        }
        self.seen
            .lock()
            .unwrap()
            .push((c, o, WorkerOptions::new("").build()));
        Ok(())
    }
    fn create_worker(&self, _c: &(), w: WorkerOptions) -> Result<FakeWorker, BoxError> {
        self.log.push(format!("create {}", w.task_queue));
        if let Some(last) = self.seen.lock().unwrap().last_mut() {
            last.2 = w;
        }
        if self.create_fails {
            return Err("bad worker options".into());
        }
        Ok(FakeWorker {
            log: self.log.clone(),
            stop: Arc::new(Notify::new()),
            fails: self.run_fails,
            drain: self.drain,
        })
    }
    fn close(&self, _c: (), w: Option<FakeWorker>) {
        self.log.push(format!("close worker={}", w.is_some()));
    }
}

fn options(configure: impl FnOnce(&mut Options)) -> ValidatedOptions {
    let version = WorkerDeploymentVersion::builder()
        .deployment_name("app")
        .build_id("b1")
        .build();
    let mut o = Options::with_client(
        version,
        ConnectionOptions::new(Url::parse("http://127.0.0.1:7233").unwrap()).build(),
        ClientOptions::new("default").build(),
    );
    o.task_queue = "q".into();
    o.register_activities(Acts);
    // The report line goes straight to stdout, past the test harness's capture.
    o.print_report = false;
    configure(&mut o);
    o.validate().unwrap()
}

fn engine_with(fake: Fake, configure: impl FnOnce(&mut Options)) -> Engine<Fake> {
    Engine::with_backend(options(configure), fake)
}

fn inv(id: &str, secs: u64) -> Invocation {
    Invocation::new(
        id,
        "arn:aws:lambda:us-east-1:1:function:f",
        Instant::now() + Duration::from_secs(secs),
    )
}

fn hooks_into(log: &Log, o: &mut Options) {
    for n in 0..3 {
        let log = log.clone();
        o.on_shutdown(move |ctx| {
            let log = log.clone();
            async move {
                log.push(format!("hook{n} {}", ctx.remaining().as_secs()));
                if n == 1 {
                    return Err("hook 1 fails".into());
                }
                Ok(())
            }
        });
    }
}

#[tokio::test(start_paused = true)]
async fn full_lifecycle_in_order_and_on_time() {
    let fake = Fake {
        drain: Some(Duration::from_millis(5)),
        ..Default::default()
    };
    let log = fake.log.clone();
    let e = engine_with(fake, |o| hooks_into(&log, o));
    let start = Instant::now();
    let report = e.invoke(inv("r1", 60)).await.unwrap();
    // Poll until deadline - 7 s buffer, then a 5 ms drain.
    let took = start.elapsed();
    assert!(
        took >= Duration::from_secs(53) && took < Duration::from_millis(53_100),
        "{took:?}"
    );
    assert_eq!(report.run_end, Some(RunEnd::Drained));
    assert_eq!(
        report.identity.as_deref(),
        Some("r1@arn:aws:lambda:us-east-1:1:function:f")
    );
    assert_eq!(
        log.all(),
        vec![
            "connect r1@arn:aws:lambda:us-east-1:1:function:f",
            "create q",
            "run",
            "shutdown",
            "stopped",
            // Drain, then the hooks (each gets the budget to the deadline minus the
            // response reserve), then the close.
            "hook0 6",
            "hook1 6",
            "hook2 6",
            "close worker=true",
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn three_invocations_three_cycles() {
    let fake = Fake {
        drain: Some(Duration::ZERO),
        ..Default::default()
    };
    let log = fake.log.clone();
    let e = engine_with(fake, |_| {});
    for i in 0..3 {
        e.invoke(inv(&format!("r{i}"), 10)).await.unwrap();
    }
    assert_eq!(log.count("connect"), 3);
    assert_eq!(log.count("create"), 3);
    assert_eq!(log.count("run"), 3);
    assert_eq!(log.count("shutdown"), 3);
    assert_eq!(log.count("stopped"), 3);
    assert_eq!(log.count("close worker=true"), 3);
}

#[tokio::test(start_paused = true)]
async fn too_little_time_creates_no_worker() {
    let fake = Fake::default();
    let log = fake.log.clone();
    let e = engine_with(fake, |_| {});
    // 8 s left - 7 s buffer = 1 s of work: refused.
    let err = e.invoke(inv("r", 8)).await.unwrap_err();
    assert_eq!(err.kind(), "NotEnoughTime");
    let msg = err.to_string();
    assert!(msg.contains("8s") && msg.contains("7s"), "{msg}");
    assert!(log.all().is_empty(), "{:?}", log.all());
}

#[tokio::test(start_paused = true)]
async fn short_work_time_warns_once_and_runs() {
    // Asserted on the report, not on a tracing subscriber: callsite interest is process-wide
    // and another test thread hitting the same `warn!` first can make a scoped subscriber miss it.
    let fake = Fake {
        drain: Some(Duration::ZERO),
        ..Default::default()
    };
    let log = fake.log.clone();
    let e = engine_with(fake, |_| {});
    let report = e.invoke(inv("r", 10)).await.unwrap();
    assert_eq!(report.warnings, [Warning::LittleWorkTime]);
    assert_eq!(log.count("run"), 1);
    // Plenty of time: no warning.
    let report = e.invoke(inv("r2", 60)).await.unwrap();
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
}

#[tokio::test(start_paused = true)]
async fn connect_failure_is_an_invocation_error_and_hooks_still_run() {
    let fake = Fake {
        connect_fails: true,
        ..Default::default()
    };
    let log = fake.log.clone();
    let e = engine_with(fake, |o| hooks_into(&log, o));
    let err = e.invoke(inv("r", 60)).await.unwrap_err();
    assert_eq!(err.kind(), "Connect");
    assert!(
        matches!(
            err,
            crate::Error::Connect {
                problem: crate::ConnectProblem::Refused,
                ..
            }
        ),
        "{err}"
    );
    // The fix first, naming the address; the transport's text after it.
    let message = err.message();
    assert!(
        message.starts_with("check the address (set in code) and that the server is running: ")
            && message.contains("http://127.0.0.1:7233/")
            && message.ends_with("connection refused"),
        "{message}"
    );
    assert_eq!(log.count("hook"), 3);
    assert_eq!(log.count("create"), 0);
}

#[tokio::test(start_paused = true)]
async fn connect_is_bounded_by_the_work_window() {
    let fake = Fake {
        connect_delay: Duration::from_secs(3600),
        ..Default::default()
    };
    let log = fake.log.clone();
    let e = engine_with(fake, |o| hooks_into(&log, o));
    let start = Instant::now();
    let err = e.invoke(inv("r", 30)).await.unwrap_err();
    assert_eq!(err.kind(), "ConnectTimeout");
    assert!(start.elapsed() <= Duration::from_secs(30));
    assert_eq!(log.count("hook"), 3);
}

#[tokio::test(start_paused = true)]
async fn worker_start_failure_closes_the_client() {
    let fake = Fake {
        create_fails: true,
        ..Default::default()
    };
    let log = fake.log.clone();
    let e = engine_with(fake, |o| hooks_into(&log, o));
    let err = e.invoke(inv("r", 60)).await.unwrap_err();
    assert_eq!(err.kind(), "WorkerStart");
    assert_eq!(log.count("close worker=false"), 1);
    assert_eq!(log.count("hook"), 3);
}

#[tokio::test(start_paused = true)]
async fn worker_run_failure_is_reported_after_close_and_hooks() {
    let fake = Fake {
        run_fails: true,
        ..Default::default()
    };
    let log = fake.log.clone();
    let e = engine_with(fake, |o| hooks_into(&log, o));
    let err = e.invoke(inv("r", 60)).await.unwrap_err();
    assert_eq!(err.kind(), "WorkerRun");
    // The cause is the error's source, printed once by `message`.
    assert_eq!(err.to_string(), "the worker failed while polling");
    assert_eq!(
        err.message(),
        "the worker failed while polling: poll failed: namespace not found"
    );
    let source = std::error::Error::source(&err).expect("a typed source");
    assert_eq!(source.to_string(), "poll failed: namespace not found");
    assert_eq!(log.count("close worker=true"), 1);
    assert_eq!(log.count("hook"), 3);
}

#[tokio::test(start_paused = true)]
async fn a_drain_that_never_ends_is_forced_before_the_deadline() {
    let fake = Fake {
        drain: None,
        ..Default::default()
    };
    let log = fake.log.clone();
    let e = engine_with(fake, |o| hooks_into(&log, o));
    let i = inv("r", 60);
    let deadline = i.deadline;
    let report = e.invoke(i).await.unwrap();
    assert_eq!(report.run_end, Some(RunEnd::Forced));
    assert_eq!(report.warnings, [Warning::ForcedStop]);
    assert!(Instant::now() < deadline);
    // Stop timeout 5 s + 1 s grace.
    assert_eq!(report.drain_ms, 6000);
    assert_eq!(log.count("close worker=true"), 1);
    assert_eq!(log.count("hook"), 3);
}

#[tokio::test(start_paused = true)]
async fn a_short_buffer_still_keeps_the_deadline() {
    let fake = Fake {
        drain: None,
        ..Default::default()
    };
    let log = fake.log.clone();
    let e = engine_with(fake, |o| {
        // The shortest buffer allowed: the stop timeout itself.
        o.worker_options.graceful_shutdown_period = Some(Duration::from_secs(2));
        o.shutdown_deadline_buffer = Some(Duration::from_secs(2));
        hooks_into(&log, o);
    });
    let i = inv("r", 30);
    let deadline = i.deadline;
    e.invoke(i).await.unwrap();
    assert!(Instant::now() < deadline);
}

#[tokio::test(start_paused = true)]
async fn a_hook_that_hangs_is_cut_at_the_deadline() {
    let fake = Fake {
        drain: Some(Duration::ZERO),
        ..Default::default()
    };
    let log = fake.log.clone();
    let e = engine_with(fake, |o| {
        o.on_shutdown(|_| async {
            std::future::pending::<()>().await;
            Ok(())
        });
        hooks_into(&log, o);
    });
    let i = inv("r", 20);
    let deadline = i.deadline;
    e.invoke(i).await.unwrap();
    assert!(Instant::now() < deadline);
    // The hanging hook used the budget; later hooks are still called, with nothing left.
    assert_eq!(log.count("hook"), 3);
}

#[tokio::test(start_paused = true)]
async fn user_overrides_reach_connect_and_worker_creation() {
    let fake = Fake {
        drain: Some(Duration::ZERO),
        ..Default::default()
    };
    let seen = fake.seen.clone();
    let e = engine_with(fake, |o| {
        o.task_queue = "other-queue".into();
        o.client_options.namespace = "other-ns".into();
        o.worker_options.max_cached_workflows = 7;
        o.worker_options.client_identity_override = Some("custom-id".into());
    });
    e.invoke(inv("r", 20)).await.unwrap();
    let seen = seen.lock().unwrap();
    let (c, o, w) = &seen[0];
    assert_eq!(c.identity, "custom-id");
    assert_eq!(o.namespace, "other-ns");
    assert_eq!(w.task_queue, "other-queue");
    assert_eq!(w.max_cached_workflows, 7);
    assert_eq!(w.client_identity_override.as_deref(), Some("custom-id"));
    assert!(w.deployment_options.use_worker_versioning);
}

#[test]
fn epoch_deadline_in_the_past_gives_no_work_time() {
    let i = Invocation::from_epoch_deadline("r", "a", 1_500_000_000_000);
    assert!(i.deadline <= Instant::now());
}

#[tokio::test(start_paused = true)]
async fn start_hooks_run_before_connecting_with_cold_then_warm() {
    let fake = Fake {
        drain: Some(Duration::ZERO),
        ..Default::default()
    };
    let log = fake.log.clone();
    let hook_log = log.clone();
    let e = engine_with(fake, move |o| {
        o.on_invocation_start(|_| panic!("a broken start hook"));
        o.on_invocation_start(move |s| {
            hook_log.push(format!(
                "start {} cold={} xray={}",
                s.request_id,
                s.cold,
                s.xray_trace_id.as_deref().unwrap_or("-")
            ));
        });
    });
    let first = inv("r1", 10).with_xray_trace_id(Some("Root=1-5f000000-abc;Sampled=1".into()));
    let report = e.invoke(first).await.unwrap();
    assert_eq!(
        report.warnings,
        [Warning::LittleWorkTime, Warning::StartHookPanicked]
    );
    e.invoke(inv("r2", 10)).await.unwrap();
    let starts: Vec<String> = log
        .all()
        .into_iter()
        .filter(|l| l.starts_with("start") || l.starts_with("connect"))
        .collect();
    assert_eq!(starts.len(), 4, "{starts:?}");
    assert_eq!(
        starts[0],
        "start r1 cold=true xray=Root=1-5f000000-abc;Sampled=1"
    );
    assert!(starts[1].starts_with("connect"), "{starts:?}");
    assert_eq!(starts[2], "start r2 cold=false xray=-");
}

#[tokio::test(start_paused = true)]
async fn no_start_hook_when_there_is_not_enough_time() {
    let fake = Fake::default();
    let log = fake.log.clone();
    let hook_log = log.clone();
    let e = engine_with(fake, move |o| {
        o.on_invocation_start(move |_| hook_log.push("start"));
    });
    assert!(e.invoke(inv("r1", 3)).await.is_err());
    assert_eq!(log.count("start"), 0);
}

#[tokio::test(start_paused = true)]
async fn deadlines_in_the_past_or_absurd_never_panic_nor_hang() {
    // 1970 (cargo lambda watch) or 0: no deadline, a default 60 s window, flagged.
    for ms in [0, 1, 1_000] {
        let i = Invocation::from_epoch_deadline("r", "arn", ms);
        assert!(i.no_deadline);
        assert_eq!(i.deadline - Instant::now(), timing::NO_DEADLINE_WINDOW);
        let e = engine_with(
            Fake {
                drain: Some(Duration::ZERO),
                ..Default::default()
            },
            |_| {},
        );
        let started = Instant::now();
        let report = e.invoke(i).await.unwrap();
        assert_eq!(report.warnings, [Warning::NoDeadline]);
        assert_eq!(started.elapsed(), Duration::from_secs(53));
    }
    // Already past (2001-09-09): no time, a clear error at once.
    for ms in [1_000_000_000_000] {
        let i = Invocation::from_epoch_deadline("r", "arn", ms);
        assert!(i.deadline <= Instant::now(), "{ms}");
        let e = engine_with(Fake::default(), |_| {});
        let started = Instant::now();
        let err = e.invoke(i).await.unwrap_err();
        assert!(matches!(err, Error::NotEnoughTime { .. }), "{err}");
        assert_eq!(started.elapsed(), Duration::ZERO);
    }
    // Far future or beyond the clock: cut to Lambda's 15-minute maximum.
    for ms in [u64::MAX, u64::MAX / 2, 4_102_444_800_000] {
        let i = Invocation::from_epoch_deadline("r", "arn", ms);
        let left = i.deadline.saturating_duration_since(Instant::now());
        assert!(
            left <= timing::MAX_INVOCATION && left > Duration::from_secs(899),
            "{left:?}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn a_shutdown_request_mid_run_drains_at_once_and_later_invocations_are_refused() {
    let fake = Fake {
        drain: Some(Duration::from_millis(300)),
        ..Default::default()
    };
    let log = fake.log.clone();
    let e = engine_with(fake, |o| hooks_into(&log, o));
    let started = Instant::now();
    let (report, ()) = tokio::join!(e.invoke(inv("r", 60)), async {
        tokio::time::sleep(Duration::from_secs(2)).await;
        e.request_shutdown();
    });
    let report = report.unwrap();
    assert_eq!(report.ended, lw_options::Ended::Shutdown);
    assert_eq!(report.warnings, [Warning::ShutdownRequested]);
    assert_eq!(report.poll_ms, 2000);
    assert_eq!(report.drain_ms, 300);
    assert_eq!(started.elapsed(), Duration::from_millis(2300));
    assert_eq!(log.count("hook"), 3, "{:?}", log.all());
    let err = e.invoke(inv("r2", 60)).await.unwrap_err();
    assert_eq!(err.kind(), "ShuttingDown");
}

#[tokio::test(start_paused = true)]
async fn a_shutdown_request_cuts_a_hanging_connect_short() {
    let fake = Fake {
        connect_delay: Duration::from_secs(100),
        ..Default::default()
    };
    let log = fake.log.clone();
    let e = engine_with(fake, |o| hooks_into(&log, o));
    let started = Instant::now();
    let (r, ()) = tokio::join!(e.invoke(inv("r", 600)), async {
        tokio::time::sleep(Duration::from_secs(1)).await;
        e.request_shutdown();
    });
    assert_eq!(r.unwrap_err().kind(), "ShuttingDown");
    assert_eq!(started.elapsed(), Duration::from_secs(1));
    assert_eq!(log.count("hook"), 3, "the hooks still ran: {:?}", log.all());
}

/// Lambda Managed Instances: several invocations at once on one engine, each on its own
/// clock (the adapter runs them as local tasks; here they are joined on one task).
#[tokio::test(start_paused = true)]
async fn concurrent_invocations_keep_their_own_deadlines_identities_and_reports() {
    let fake = Fake {
        drain: Some(Duration::from_millis(5)),
        ..Default::default()
    };
    let log = fake.log.clone();
    let e = Arc::new(engine_with(fake, |o| hooks_into(&log, o)));
    let start = Instant::now();
    let ends = Arc::new(Mutex::new(Vec::new()));
    let run = |id: &'static str, secs: u64| {
        let (e, ends) = (e.clone(), ends.clone());
        async move {
            let report = e.invoke(inv(id, secs)).await.unwrap();
            ends.lock().unwrap().push((id, start.elapsed()));
            report
        }
    };
    let (a, b, c) = tokio::join!(run("a", 20), run("b", 40), run("c", 60));
    // Each polls to its own deadline minus the 7 s buffer, then drains 5 ms.
    let ends = ends.lock().unwrap().clone();
    for (id, secs) in [("a", 13), ("b", 33), ("c", 53)] {
        let took = ends.iter().find(|(i, _)| *i == id).unwrap().1;
        let expected = Duration::from_secs(secs);
        assert!(
            took >= expected && took < expected + Duration::from_millis(100),
            "{id}: {took:?}"
        );
    }
    for (r, id) in [(&a, "a"), (&b, "b"), (&c, "c")] {
        assert_eq!(r.request_id, id);
        assert_eq!(
            r.identity.as_deref(),
            Some(format!("{id}@arn:aws:lambda:us-east-1:1:function:f").as_str())
        );
        assert_eq!(r.run_end, Some(RunEnd::Drained));
    }
    // Only the process's first invocation is cold; each ran its own hooks and close.
    assert_eq!([a.cold, b.cold, c.cold].iter().filter(|c| **c).count(), 1);
    assert_eq!(log.count("connect"), 3);
    assert_eq!(log.count("hook0"), 3);
    assert_eq!(log.count("close worker=true"), 3);
}

#[tokio::test(start_paused = true)]
async fn one_connect_failure_does_not_fail_its_neighbours() {
    let fake = Fake {
        drain: Some(Duration::ZERO),
        connect_fails_for: Some("bad@".into()),
        ..Default::default()
    };
    let log = fake.log.clone();
    let e = Arc::new(engine_with(fake, |_| {}));
    let (bad, good1, good2) = tokio::join!(
        e.invoke(inv("bad", 30)),
        e.invoke(inv("good1", 30)),
        e.invoke(inv("good2", 30)),
    );
    assert_eq!(bad.unwrap_err().kind(), "Connect");
    assert_eq!(good1.unwrap().run_end, Some(RunEnd::Drained));
    assert_eq!(good2.unwrap().run_end, Some(RunEnd::Drained));
    assert_eq!(log.count("create"), 2);
    assert_eq!(log.count("close worker=true"), 2);
}

#[tokio::test(start_paused = true)]
async fn shutdown_drains_every_invocation_in_flight() {
    let fake = Fake {
        drain: Some(Duration::from_millis(300)),
        ..Default::default()
    };
    let log = fake.log.clone();
    let e = Arc::new(engine_with(fake, |o| hooks_into(&log, o)));
    let stopper = e.clone();
    let start = Instant::now();
    let (r1, r2, r3, ()) = tokio::join!(
        e.invoke(inv("r1", 60)),
        e.invoke(inv("r2", 120)),
        e.invoke(inv("r3", 600)),
        async move {
            tokio::time::sleep(Duration::from_secs(2)).await;
            stopper.request_shutdown();
        }
    );
    // All three stopped at the signal, drained, ran their hooks; none waited for its deadline.
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "{:?}",
        start.elapsed()
    );
    for r in [r1, r2, r3] {
        let r = r.unwrap();
        assert_eq!(r.ended, Ended::Shutdown);
        assert_eq!(r.run_end, Some(RunEnd::Drained));
    }
    assert_eq!(log.count("stopped"), 3);
    assert_eq!(log.count("hook2"), 3);
    // Later invocations are refused at once.
    assert_eq!(
        e.invoke(inv("r4", 60)).await.unwrap_err().kind(),
        "ShuttingDown"
    );
}

mod per_invocation;
