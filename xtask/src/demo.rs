//! `cargo xtask demo`: the local serverless loop on the greeting example (the README's first
//! command).

use std::time::{Duration, Instant};

use lw_testkit::unique;
use serde_json::json;

use crate::{install::ensure_temporal_cli, workspace_root};

/// `cargo xtask demo`: `cargo lambdaworker dev` on the greeting example, with N workflows
/// started and awaited.
pub(crate) fn demo(args: &[String]) -> Result<(), String> {
    let mut workflows = 20usize;
    let mut port: Option<u16> = None;
    let mut timeout_s = 20u64;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut number = |what: &str| -> Result<u64, String> {
            it.next()
                .and_then(|n| n.parse().ok())
                .filter(|n| *n > 0)
                .ok_or(format!("{what} takes a positive number"))
        };
        match a.as_str() {
            "--workflows" => workflows = number("--workflows")? as usize,
            "--port" => {
                port = Some(
                    u16::try_from(number("--port")?).map_err(|_| "--port takes a port number")?,
                )
            }
            "--timeout" => timeout_s = number("--timeout")?.max(10),
            other => {
                return Err(format!(
                    "demo: unknown argument {other}\nusage: cargo xtask demo [--workflows N] \
                     [--port PORT] [--timeout SECONDS]"
                ));
            }
        }
    }
    ensure_temporal_cli()?;
    let project = cargo_lambdaworker::Project::locate(&cargo_lambdaworker::Selection {
        manifest_path: Some(workspace_root().join("Cargo.toml")),
        package: Some("greeting".into()),
        bin: Some("greeting".into()),
        example: None,
    })
    .map_err(|e| e.to_string())?;
    let task_queue = unique("greeting");
    let options = cargo_lambdaworker::dev::DevOptions {
        aws_port: port,
        task_queue: Some(task_queue.clone()),
        deployment: Some(unique("my-app")),
        timeout: Duration::from_secs(timeout_s),
        // The demo prints results and invocations; the function's JSON logs would drown them.
        show_logs: false,
        ..Default::default()
    };
    let runtime = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    runtime.block_on(async {
        let mut dev = cargo_lambdaworker::dev::Dev::start(project, options)
            .await
            .map_err(|e| e.to_string())?;
        let result = demo_loop(&mut dev, &task_queue, workflows, timeout_s).await;
        for line in dev.new_invocation_lines() {
            println!("{line}");
        }
        println!("\n{}", dev.report());
        dev.stop().await;
        eprintln!("xtask: stopped the function instances and the dev server");
        result
    })
}

/// Starts `workflows` Greeting workflows and waits for every result, printing each one and
/// each invocation as it ends.
async fn demo_loop(
    dev: &mut cargo_lambdaworker::dev::Dev,
    task_queue: &str,
    workflows: usize,
    timeout_s: u64,
) -> Result<(), String> {
    let mut pending = Vec::new();
    for i in 0..workflows {
        let id = format!("greeting-{i}-{}", unique("wf"));
        dev.server()
            .start_workflow(task_queue, "Greeting", &id, &json!(format!("World {i}")))
            .map_err(|e| e.to_string())?;
        pending.push(id);
    }
    eprintln!(
        "xtask: started {workflows} Greeting workflows on {task_queue}; nothing polls it until \
         the server invokes the function"
    );
    let started = Instant::now();
    let limit = Duration::from_secs(timeout_s * 4 + 60);
    let mut done = 0;
    while !pending.is_empty() {
        if started.elapsed() > limit {
            return Err(format!(
                "{} workflows did not complete within {limit:?}: {pending:?}",
                pending.len()
            ));
        }
        let mut still = Vec::new();
        for id in pending {
            match dev.server().result(&id).map_err(|e| e.to_string())? {
                Some(v) => {
                    done += 1;
                    println!(
                        "[{:>5.1} s] {done}/{workflows} {id}: {v}",
                        started.elapsed().as_secs_f64()
                    );
                }
                None => still.push(id),
            }
        }
        pending = still;
        for line in dev.new_invocation_lines() {
            println!("{line}");
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    eprintln!(
        "xtask: all {workflows} workflows completed in {:.1} s; waiting for the running \
         invocations to end",
        started.elapsed().as_secs_f64()
    );
    let until = Instant::now() + Duration::from_secs(timeout_s + 5);
    let running = |dev: &cargo_lambdaworker::dev::Dev| {
        dev.aws()
            .accounting(dev.current_function())
            .is_some_and(|a| a.in_flight > 0)
    };
    while running(dev) && Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Ok(())
}
