//! What one sample measures (a version's first invocation, a cold start on the registered
//! version and the warm batch after it) and one run through the local serverless loop.

use super::*;

/// Converts the server's clock to the emulator's.
struct Clock {
    at: Instant,
    sys: SystemTime,
}

impl Clock {
    fn now() -> Self {
        Self {
            at: Instant::now(),
            sys: SystemTime::now(),
        }
    }
    fn instant(&self, t: SystemTime) -> Instant {
        match t.duration_since(self.sys) {
            Ok(d) => self.at + d,
            Err(e) => self.at.checked_sub(e.duration()).unwrap_or(self.at),
        }
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn names(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("bench-{i}")).collect()
}

fn responded(r: &InvocationResult, peer: &str) -> Result<(), String> {
    match &r.outcome {
        Outcome::Response(_) => Ok(()),
        other => Err(format!("{peer}: the invocation did not answer: {other:?}")),
    }
}

/// When each workflow of `outs` completed, on the emulator's clock; an error unless all did.
fn closed_at(outs: &[WorkflowOutcome], clock: &Clock) -> Result<Vec<Instant>, String> {
    let closed: Vec<Instant> = outs
        .iter()
        .filter_map(|o| o.closed_at.map(|t| clock.instant(t)))
        .collect();
    if closed.len() == outs.len() {
        Ok(closed)
    } else {
        Err(format!(
            "only {} of {} workflows completed",
            closed.len(),
            outs.len()
        ))
    }
}

/// The first dozen RPCs within 300 ms of `from`, as `+12.3 ms PollWorkflowTaskQueue`.
fn first_calls(recorder: &GrpcRecorder, from: Instant) -> Vec<String> {
    recorder
        .call_times()
        .into_iter()
        .filter(|(_, t)| *t >= from && *t < from + Duration::from_millis(300))
        .take(12)
        .map(|(path, t)| {
            format!(
                "+{:.1} ms {}",
                ms(t - from),
                path.rsplit('/').next().unwrap_or(&path)
            )
        })
        .collect()
}

/// What a cold invocation measured, on the emulator's clock.
struct Cold {
    result: InvocationResult,
    delivered: Instant,
    /// The first and the last of its workflows to complete.
    first_done: Instant,
    last_done: Instant,
}

/// A cold invocation of `function` with ten workflows started just before it. Prints where
/// the time went (the first RPCs, the first workflow's history).
async fn cold_invocation(
    peer: &Peer,
    function: &LocalFunction,
    g: &Greetings,
    recorder: &GrpcRecorder,
    clock: &Clock,
    what: &str,
) -> Result<Cold, String> {
    let e = |e: &dyn std::fmt::Display| format!("{}: {e}", peer.name);
    let ids = g.start(&names(10)).await.map_err(|x| e(&x))?;
    let cold = function.invoke(json!({})).await.map_err(|x| e(&x))?;
    responded(&cold, peer.name).map_err(|m| format!("{m}\n{}", function.logs()))?;
    if !cold.cold {
        return Err(format!("{}: the {what} was not a cold start", peer.name));
    }
    if let Some(report) = cold.response().filter(|r| r.is_object()) {
        eprintln!("xtask: {} {what}, report: {report}", peer.name);
    }
    let delivered = cold.delivered_at.ok_or("cold: never delivered")?;
    let outs = g.outcomes(&ids).await.map_err(|x| e(&x))?;
    let closed =
        closed_at(&outs, clock).map_err(|m| format!("{}: {m} in the {what}", peer.name))?;
    eprintln!(
        "xtask: {} {what}, first RPCs: {:?}",
        peer.name,
        first_calls(recorder, delivered)
    );
    let first_done = closed.iter().min().copied().unwrap_or(delivered);
    let last_done = closed.iter().max().copied().unwrap_or(delivered);
    if let Some(i) = closed.iter().position(|t| *t == first_done) {
        let events: Vec<String> = outs[i]
            .timeline
            .iter()
            .map(|(kind, t)| {
                let at = clock.instant(*t);
                let (sign, d) = if at >= delivered {
                    ("+", at - delivered)
                } else {
                    ("-", delivered - at)
                };
                format!(
                    "{sign}{:.1} ms {}",
                    ms(d),
                    kind.trim_start_matches("EVENT_TYPE_")
                )
            })
            .collect();
        eprintln!(
            "xtask: {} {what}, the first workflow's history: {events:?}",
            peer.name
        );
    }
    Ok(Cold {
        result: cold,
        delivered,
        first_done,
        last_done,
    })
}

/// One sample: a brand-new deployment version whose first invocation registers the task
/// queue with the server; then a fresh process (a cold start on the registered version, as
/// every cold start after a version's first is) and a warm invocation draining `batch`
/// workflows.
pub(super) async fn sample(
    peer: &Peer,
    server: &DevServer,
    args: &Args,
    batch: usize,
) -> Result<Sample, String> {
    let e = |e: &dyn std::fmt::Display| format!("{}: {e}", peer.name);
    let recorder = GrpcRecorder::start(&server.address)
        .await
        .map_err(|x| e(&x))?;
    let (task_queue, deployment) = (unique("bench"), unique("bench-dep"));
    server
        .set_current_version(&deployment, BUILD_ID)
        .map_err(|x| e(&x))?;
    let spec = |timeout: Duration| {
        let mut spec = FunctionSpec::new(&peer.program, &format!("bench-{}", peer.name))
            .timeout(timeout)
            .env("TEMPORAL_ADDRESS", recorder.address.clone())
            .env("TEMPORAL_NAMESPACE", "default")
            .env("TEMPORAL_TASK_QUEUE", task_queue.clone())
            .env("LW_DEPLOYMENT_NAME", deployment.clone())
            .env("LW_BUILD_ID", BUILD_ID)
            .env("TEMPORAL_CONFIG_FILE", "");
        spec.task_root = peer.task_root.clone();
        spec
    };
    let g = Greetings::connect(server, &task_queue)
        .await
        .map_err(|x| e(&x))?;
    let clock = Clock::now();
    // The version's first invocation: the server adds the task queue to the version when
    // the first pollers arrive. 10 s timeout (3 s of work): enough, and no 18 s wait.
    let first_fn = LocalFunction::new(spec(Duration::from_secs(10)))
        .await
        .map_err(|x| e(&x))?;
    let new_version = cold_invocation(
        peer,
        &first_fn,
        &g,
        &recorder,
        &clock,
        "first invocation of a new version",
    )
    .await?;
    first_fn.kill();
    // A fresh process on the now registered version: the cold start measured.
    let function = LocalFunction::new(spec(args.timeout))
        .await
        .map_err(|x| e(&x))?;
    let cold = cold_invocation(peer, &function, &g, &recorder, &clock, "cold invocation").await?;
    let init = function.next_calls()[0] - function.spawn_times()[0];
    let mut s = Sample {
        init_ms: ms(init),
        first_workflow_ms: ms(cold.first_done.saturating_duration_since(cold.delivered)),
        new_version_first_ms: ms(new_version
            .first_done
            .saturating_duration_since(new_version.delivered)),
        cold_busy_ms: ms(cold.last_done.saturating_duration_since(cold.delivered)),
        cold_billed_ms: ms(init + (cold.result.finished_at - cold.delivered)),
        ..Sample::default()
    };
    let ids = g.start(&names(batch)).await.map_err(|x| e(&x))?;
    // CPU the batch costs the worker and the server: read before the hand-out and when the
    // pass-through has seen every workflow's second (last) workflow task completed.
    let cpu = || Some((function.proc_status()?.cpu_ms, server.proc_status()?.cpu_ms));
    let cpu_before = cpu();
    let asked = Instant::now();
    let pending = function.invoke_async(json!({})).map_err(|x| e(&x))?;
    let until = asked + args.timeout;
    let completions = || {
        recorder
            .call_times()
            .iter()
            .filter(|(path, t)| path.ends_with("/RespondWorkflowTaskCompleted") && *t >= asked)
            .count()
    };
    while completions() < 2 * batch && Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let cpu_after = cpu();
    if completions() < 2 * batch {
        eprintln!(
            "xtask: {}: fewer than two workflow-task completions per workflow seen; the CPU \
             figures of this sample include idle polling",
            peer.name
        );
    }
    let warm = pending
        .await
        .map_err(|_| format!("{}: the warm invocation was dropped", peer.name))?;
    responded(&warm, peer.name)?;
    if let (Some((fb, sb)), Some((fa, sa))) = (cpu_before, cpu_after) {
        s.worker_cpu_ms_per_wf = fa.saturating_sub(fb) as f64 / batch as f64;
        s.server_cpu_ms_per_wf = sa.saturating_sub(sb) as f64 / batch as f64;
    }
    if warm.cold {
        return Err(format!(
            "{}: the second invocation was a cold start",
            peer.name
        ));
    }
    let delivered = warm.delivered_at.ok_or("warm: never delivered")?;
    let closed = closed_at(&g.outcomes(&ids).await.map_err(|x| e(&x))?, &clock)
        .map_err(|m| format!("{}: {m} in one warm invocation; raise --timeout", peer.name))?;
    let last_done = closed.iter().max().copied().unwrap_or(delivered);
    let busy = last_done.saturating_duration_since(delivered);
    s.batch_per_s = batch as f64 / busy.as_secs_f64().max(1e-3);
    s.warm_busy_ms = ms(busy);
    s.warm_billed_ms = ms(warm.finished_at - delivered);
    let first_poll = recorder
        .call_times()
        .into_iter()
        .filter(|(path, t)| path.contains("PollWorkflowTaskQueue") && *t >= delivered)
        .map(|(_, t)| t)
        .min()
        .ok_or(format!("{}: no workflow-task poll seen", peer.name))?;
    s.to_polling_ms = ms(first_poll - delivered);
    let deadline = warm.deadline.ok_or("warm: no deadline")?;
    let stop = deadline - BUFFER;
    if warm.finished_at + Duration::from_millis(5) < stop {
        return Err(format!(
            "{}: the warm invocation answered {:?} before its stop time: not a deadline stop",
            peer.name,
            stop - warm.finished_at
        ));
    }
    s.stop_to_response_ms = ms(warm.finished_at.saturating_duration_since(stop));
    // What the worker sent in the first moments of the warm invocation, for the record.
    eprintln!(
        "xtask: {} warm invocation, first RPCs: {:?}",
        peer.name,
        first_calls(&recorder, delivered)
    );
    let st = function
        .proc_status()
        .ok_or(format!("{}: the process is gone", peer.name))?;
    s.peak_rss_mib = st.peak_rss_kib as f64 / 1024.0;
    function.kill();
    Ok(s)
}

/// The real loop: the dev server's Worker Controller invokes the function through our local
/// Lambda; billed GB-seconds per 1000 workflows.
pub(super) async fn loop_run(
    peer: &Peer,
    aws: &LocalLambda,
    server: &DevServer,
    args: &Args,
) -> Result<LoopRun, String> {
    let e = |e: &dyn std::fmt::Display| format!("{}: {e}", peer.name);
    let name = format!("loop-{}", peer.name);
    let mut config = FunctionConfig::new(&name, &peer.program).timeout(Duration::from_secs(60));
    config.task_root = peer.task_root.clone();
    let env = peer.env.iter().map(|(k, v)| (*k, (*v).to_owned()));
    let task_queue =
        super::serverless::register(aws, server, "loop", config, env).map_err(|x| e(&x))?;
    let g = Greetings::connect(server, &task_queue)
        .await
        .map_err(|x| e(&x))?;
    let started = Instant::now();
    let ids = g
        .start(&names(args.loop_workflows))
        .await
        .map_err(|x| e(&x))?;
    g.wait_all(&ids, Duration::from_secs(300))
        .await
        .map_err(|x| e(&x))?;
    let seconds = started.elapsed().as_secs_f64();
    let latency = g
        .outcomes(&ids)
        .await
        .map_err(|x| e(&x))?
        .iter()
        .filter_map(|o| o.closed_at?.duration_since(o.started_at?).ok())
        .map(ms)
        .collect();
    // Let the running invocations end (they are billed to their end).
    let until = Instant::now() + Duration::from_secs(70);
    while aws.accounting(&name).is_some_and(|a| a.in_flight > 0) && Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let a = aws.accounting(&name).unwrap_or_default();
    Ok(LoopRun {
        workflows: ids.len(),
        invocations: a.invocations,
        cold_starts: a.cold_starts,
        billed_ms: a.billed_ms,
        gb_seconds: a.gb_seconds,
        gb_s_per_1000: a.gb_seconds / ids.len() as f64 * 1000.0,
        seconds_to_complete: seconds,
        median_latency_ms: median(latency),
        runs: Vec::new(),
    })
}
