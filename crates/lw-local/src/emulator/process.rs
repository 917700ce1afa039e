//! The function's process: started (with the environment Lambda gives a runtime) when
//! work arrives and none runs, and what its exit means for the invocations it held.

use std::{process::Stdio, sync::Arc};

use tokio::{process::Command, sync::mpsc, time::Instant};

use super::{
    FunctionSpec, InFlight, InvocationResult, MAX_KEPT, Outcome, Shared, Stop, push_bounded,
};
use crate::LocalError;

/// Starts the function's process unless one is alive: a cold start. Its exit is watched
/// (see `on_exit`); [`super::LocalFunction::kill`] ends it.
pub(super) fn spawn_if_needed(shared: &Arc<Shared>) -> Result<(), LocalError> {
    let mut s = shared.state.lock().unwrap_or_else(|e| e.into_inner());
    if s.alive {
        return Ok(());
    }
    let addr = shared
        .addr
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .ok_or_else(|| LocalError::Command("emulator not bound".into()))?;
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&shared.log_path)?;
    let spec = &shared.spec;
    let mut child = command(spec, &addr.to_string(), s.generation, log)?
        .spawn()
        .map_err(|e| {
            LocalError::Command(format!("cannot start {}: {e}", spec.program.display()))
        })?;
    let (kill_tx, mut kill_rx) = mpsc::unbounded_channel::<Stop>();
    s.alive = true;
    s.generation += 1;
    s.kill = Some(kill_tx);
    s.pid = child.id();
    s.init_error = None;
    push_bounded(&mut s.spawned_at, Instant::now(), MAX_KEPT);
    let generation = s.generation;
    drop(s);
    let shared = shared.clone();
    tokio::spawn(async move {
        let status = loop {
            tokio::select! {
                st = child.wait() => {
                    break st.map(|s| s.to_string()).unwrap_or_else(|e| e.to_string());
                }
                stop = kill_rx.recv() => match stop {
                    Some(Stop::Term) => {
                        // `id()` is `None` once the child is reaped, which only this task
                        // does: the pid is still the child's.
                        if let Some(pid) = child.id().and_then(|p| libc::pid_t::try_from(p).ok()) {
                            // SAFETY: signalling our own child, not reaped yet.
                            unsafe { libc::kill(pid, libc::SIGTERM) };
                        }
                    }
                    Some(Stop::Kill) | None => {
                        let _ = child.kill().await;
                        break "killed".to_owned();
                    }
                }
            }
        };
        on_exit(&shared, generation, status);
    });
    Ok(())
}

/// The function's program with the environment Lambda gives a custom runtime, and nothing
/// of this process's but [`super::INHERITED_ENV`]: `AWS_LAMBDA_RUNTIME_API` =
/// `runtime_api`, the function's name, memory, version, log stream `local/<generation>`,
/// region, `TZ`, `LANG`, the spec's credentials and the spec's own environment (last, so
/// it can set anything), its output into `log`.
fn command(
    spec: &FunctionSpec,
    runtime_api: &str,
    generation: u64,
    log: std::fs::File,
) -> Result<Command, LocalError> {
    let mut cmd = Command::new(&spec.program);
    let version = spec.version.as_deref().unwrap_or("$LATEST");
    cmd.env_clear();
    for name in super::INHERITED_ENV {
        if let Some(v) = std::env::var_os(name) {
            cmd.env(name, v);
        }
    }
    if let Some(c) = &spec.credentials {
        cmd.envs(c.env());
    }
    cmd.env("TZ", ":UTC")
        .env("LANG", "en_US.UTF-8")
        .env("AWS_LAMBDA_RUNTIME_API", runtime_api)
        .env("AWS_LAMBDA_FUNCTION_NAME", &spec.name)
        .env(
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
            spec.memory_mb.to_string(),
        )
        .env("AWS_LAMBDA_FUNCTION_VERSION", version)
        .env("AWS_LAMBDA_LOG_STREAM_NAME", format!("local/{generation}"))
        .env(
            "AWS_LAMBDA_LOG_GROUP_NAME",
            format!("/aws/lambda/{}", spec.name),
        )
        .env("AWS_REGION", "us-east-1")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand")
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .kill_on_drop(true);
    if spec.max_concurrency > 1 {
        cmd.env(
            "AWS_LAMBDA_MAX_CONCURRENCY",
            spec.max_concurrency.to_string(),
        );
    }
    if let Some(root) = &spec.task_root {
        cmd.current_dir(root).env("LAMBDA_TASK_ROOT", root);
    }
    cmd.envs(spec.env.iter().map(|(k, v)| (k, v)));
    Ok(cmd)
}

/// The process ended: fail what it held, and restart it for queued work.
fn on_exit(shared: &Arc<Shared>, generation: u64, status: String) {
    let mut s = shared.state.lock().unwrap_or_else(|e| e.into_inner());
    if s.generation != generation {
        return;
    }
    s.alive = false;
    s.kill = None;
    push_bounded(&mut s.exits, status.clone(), MAX_KEPT);
    let init_error = s.init_error.take();
    let now = Instant::now();
    for (_, f) in s.in_flight.drain() {
        let outcome = if now >= f.deadline {
            Outcome::Timeout
        } else {
            Outcome::Crashed {
                status: status.clone(),
                init_error: init_error.clone(),
            }
        };
        finish(f, outcome, now);
    }
    // A process that died before taking queued work (an init failure) fails the invocation
    // that started it, as Lambda does.
    if let Some(p) = s.queue.pop_front() {
        let r = InvocationResult {
            request_id: p.request_id,
            outcome: Outcome::Crashed { status, init_error },
            cold: p.cold,
            queued_at: p.queued_at,
            delivered_at: None,
            finished_at: now,
            deadline: None,
        };
        let _ = p.done.send(r);
    }
    let more = !s.queue.is_empty();
    drop(s);
    if more {
        let _ = spawn_if_needed(shared);
    }
}

/// Ends a handed-out invocation with `outcome` and sends its result to whoever waits.
pub(super) fn finish(f: InFlight, outcome: Outcome, now: Instant) {
    let r = InvocationResult {
        request_id: f.pending.request_id,
        outcome,
        cold: f.pending.cold,
        queued_at: f.pending.queued_at,
        delivered_at: Some(f.delivered_at),
        finished_at: now,
        deadline: Some(f.deadline),
    };
    let _ = f.pending.done.send(r);
}
