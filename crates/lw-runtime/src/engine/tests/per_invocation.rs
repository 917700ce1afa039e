//! Per-invocation callbacks (`Options::on_invocation`) and their teardowns: what each
//! invocation sees and changes, their time counted and bounded, failures kept to their
//! invocation, teardowns before the shutdown hooks; alone and at Managed Instances
//! concurrency, under the paused clock.

use super::*;

/// A callback giving each invocation its own API key, identity, sticky cache size and a
/// teardown, and logging what it saw.
fn per_invocation(log: &Log, o: &mut Options) {
    let log = log.clone();
    o.on_invocation(async move |inv| {
        let rid = inv.invocation.request_id.clone();
        log.push(format!(
            "configure {rid} cold={} event={} left={}",
            inv.invocation.cold,
            inv.event,
            inv.invocation
                .deadline
                .saturating_duration_since(Instant::now())
                .as_secs()
        ));
        tokio::time::sleep(Duration::from_millis(200)).await;
        inv.connection_options.api_key = Some(format!("key-{rid}"));
        inv.identity = Some(format!("tenant-{rid}"));
        inv.worker_options.max_cached_workflows = 7;
        let log = log.clone();
        inv.on_teardown(move |ctx| async move {
            log.push(format!("teardown {rid} {}", ctx.remaining().as_secs()));
            Ok(())
        });
        Ok(())
    });
}

#[tokio::test(start_paused = true)]
async fn each_invocation_sees_itself_changes_its_own_settings_and_tears_down_before_the_hooks() {
    let fake = Fake {
        drain: Some(Duration::from_millis(5)),
        ..Default::default()
    };
    let (log, seen) = (fake.log.clone(), fake.seen.clone());
    let e = engine_with(fake, |o| {
        per_invocation(&log, o);
        hooks_into(&log, o);
    });
    let start = Instant::now();
    let first = inv("r1", 60).with_payload(serde_json::json!({"tenant": "a"}));
    let report = e.invoke(first).await.unwrap();
    // Its 200 ms count against the work window: polling still stops at deadline - 7 s.
    let took = start.elapsed();
    assert!(
        took >= Duration::from_secs(53) && took < Duration::from_millis(53_100),
        "{took:?}"
    );
    assert_eq!(report.configure_ms, 200);
    assert_eq!(report.identity.as_deref(), Some("tenant-r1"));
    assert_eq!(
        log.all(),
        vec![
            r#"configure r1 cold=true event={"tenant":"a"} left=60"#,
            "connect tenant-r1",
            "create q",
            "run",
            "shutdown",
            "stopped",
            // The invocation's teardown, then the process's hooks, then the close.
            "teardown r1 6",
            "hook0 6",
            "hook1 6",
            "hook2 6",
            "close worker=true",
        ]
    );
    e.invoke(inv("r2", 20)).await.unwrap();
    assert!(
        log.all()
            .contains(&"configure r2 cold=false event=null left=20".to_owned()),
        "{:?}",
        log.all()
    );
    let seen = seen.lock().unwrap();
    for ((c, _, w), rid) in seen.iter().zip(["r1", "r2"]) {
        assert_eq!(c.api_key.as_deref(), Some(format!("key-{rid}").as_str()));
        assert_eq!(c.identity, format!("tenant-{rid}"));
        assert_eq!(
            w.client_identity_override.as_deref(),
            Some(format!("tenant-{rid}").as_str())
        );
        assert_eq!(w.max_cached_workflows, 7);
        // What the lifecycle owns stays enforced.
        assert_eq!(w.task_queue, "q");
        assert_eq!(w.max_eager_activity_reservations_per_workflow_task, 0);
    }
}

#[tokio::test(start_paused = true)]
async fn a_failing_callback_fails_its_invocation_only_and_its_teardowns_and_hooks_still_run() {
    let fake = Fake {
        drain: Some(Duration::ZERO),
        ..Default::default()
    };
    let log = fake.log.clone();
    let e = engine_with(fake, |o| {
        let teardown_log = log.clone();
        o.on_invocation(async move |inv| {
            let rid = inv.invocation.request_id.clone();
            let log = teardown_log.clone();
            inv.on_teardown(move |_| async move {
                log.push(format!("teardown {rid}"));
                Ok(())
            });
            match inv.invocation.request_id.as_str() {
                "bad" => Err("the secrets service said 403".into()),
                "panics" => panic!("no tenant in the event"),
                "newline" => {
                    inv.connection_options.api_key = Some("key\n".into());
                    Ok(())
                }
                _ => Ok(()),
            }
        });
        hooks_into(&log, o);
    });
    let err = e.invoke(inv("bad", 30)).await.unwrap_err();
    assert_eq!(err.kind(), "InvocationConfigure");
    assert_eq!(
        err.message(),
        "the per-invocation callback (opts.on_invocation) failed for this invocation: the \
         secrets service said 403"
    );
    assert_eq!(log.count("connect"), 0, "{:?}", log.all());
    assert_eq!(log.count("teardown bad"), 1, "{:?}", log.all());
    assert_eq!(log.count("hook"), 3, "{:?}", log.all());

    let err = e.invoke(inv("panics", 30)).await.unwrap_err();
    assert_eq!(err.kind(), "InvocationConfigure");
    assert!(err.message().contains("no tenant in the event"), "{err}");

    let err = e.invoke(inv("newline", 30)).await.unwrap_err();
    assert_eq!(err.kind(), "InvocationOptions");
    assert!(
        err.message().starts_with("opts.connection_options.api_key"),
        "{err}"
    );

    // The next invocation runs as usual.
    let r = e.invoke(inv("good", 30)).await.unwrap();
    assert_eq!(r.run_end, Some(RunEnd::Drained));
    assert_eq!(log.count("connect"), 1);
    assert_eq!(log.count("teardown"), 4);
}

#[tokio::test(start_paused = true)]
async fn a_slow_callback_is_cut_off_leaving_the_minimum_work_time() {
    let fake = Fake::default();
    let log = fake.log.clone();
    let e = engine_with(fake, |o| {
        o.on_invocation(async |_| {
            std::future::pending::<()>().await;
            Ok(())
        });
        hooks_into(&log, o);
    });
    let start = Instant::now();
    let err = e.invoke(inv("r", 30)).await.unwrap_err();
    // 30 s - 7 s buffer = 23 s of work; cut off with 1 s of it left.
    assert_eq!(start.elapsed(), Duration::from_secs(22));
    assert_eq!(err.kind(), "InvocationConfigureTimeout");
    assert!(err.message().contains("cut off after 22s"), "{err}");
    assert_eq!(log.count("connect"), 0);
    assert_eq!(log.count("hook"), 3, "the hooks still ran: {:?}", log.all());
}

#[tokio::test(start_paused = true)]
async fn a_shutdown_request_cuts_a_slow_callback_short() {
    let e = Arc::new(engine_with(Fake::default(), |o| {
        o.on_invocation(async |_| {
            std::future::pending::<()>().await;
            Ok(())
        });
    }));
    let stopper = e.clone();
    let start = Instant::now();
    let (r, ()) = tokio::join!(e.invoke(inv("r", 600)), async move {
        tokio::time::sleep(Duration::from_secs(1)).await;
        stopper.request_shutdown();
    });
    assert_eq!(r.unwrap_err().kind(), "ShuttingDown");
    assert_eq!(start.elapsed(), Duration::from_secs(1));
}

/// Lambda Managed Instances: each concurrent invocation runs the callbacks on its own
/// configuration and tears down its own values.
#[tokio::test(start_paused = true)]
async fn concurrent_invocations_each_get_their_own_configuration_and_teardown() {
    let fake = Fake {
        drain: Some(Duration::from_millis(5)),
        ..Default::default()
    };
    let (log, seen) = (fake.log.clone(), fake.seen.clone());
    let e = Arc::new(engine_with(fake, |o| per_invocation(&log, o)));
    let (a, b, c) = tokio::join!(
        e.invoke(inv("a", 20)),
        e.invoke(inv("b", 40)),
        e.invoke(inv("c", 60))
    );
    for (r, id) in [(a, "a"), (b, "b"), (c, "c")] {
        let r = r.unwrap();
        assert_eq!(r.identity, Some(format!("tenant-{id}")));
        assert_eq!(r.configure_ms, 200);
        assert_eq!(log.count(&format!("teardown {id} ")), 1, "{:?}", log.all());
    }
    // One cold among them, and each connection got its own key.
    assert_eq!(
        log.count("configure") - log.count_containing("cold=false"),
        1
    );
    let mut keys: Vec<String> = seen
        .lock()
        .unwrap()
        .iter()
        .filter_map(|(c, _, _)| c.api_key.clone())
        .collect();
    keys.sort();
    assert_eq!(keys, ["key-a", "key-b", "key-c"]);
}

#[tokio::test(start_paused = true)]
async fn without_a_callback_nothing_is_timed_and_the_identity_is_the_default() {
    let fake = Fake {
        drain: Some(Duration::ZERO),
        ..Default::default()
    };
    let e = engine_with(fake, |_| {});
    let r = e.invoke(inv("r", 30)).await.unwrap();
    assert_eq!(r.configure_ms, 0);
    assert_eq!(
        r.identity.as_deref(),
        Some("r@arn:aws:lambda:us-east-1:1:function:f")
    );
}
