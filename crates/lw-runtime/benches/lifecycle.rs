#![allow(dead_code)] // the #[activities] macro generates constants nothing here reads
//! What the lifecycle itself costs, without a server: `cargo bench -p lw-runtime`.
//!
//! - `init/prepare`: configuration resolution (a `temporal.toml` profile + environment),
//!   the configure callback and validation: the init phase minus the SDK runtime.
//! - `invocation/engine`: one invocation through the engine with a backend that connects and
//!   drains at once, on a paused tokio clock: the engine's own work per invocation (deadline
//!   arithmetic, options and identity per invocation, start hooks, report), not the wait.

use std::{collections::HashMap, hint::black_box, sync::Arc, time::Duration};

use criterion::{Criterion, criterion_group, criterion_main};
use lw_options::WorkerDeploymentVersion;
use lw_runtime::{Backend, BoxError, Engine, Invocation, WorkerRunner};
use temporalio_client::{ClientOptions, ConnectionOptions};
use temporalio_macros::activities;
use temporalio_sdk::{
    WorkerOptions,
    activities::{ActivityContext, ActivityError},
};
use tokio::sync::Notify;

struct Acts;
#[activities]
impl Acts {
    #[activity]
    async fn noop(_ctx: ActivityContext) -> Result<(), ActivityError> {
        Ok(())
    }
}

/// Connects at once; the worker drains at once when asked to stop.
struct Instant;
struct Worker(Arc<Notify>);

impl WorkerRunner for Worker {
    fn shutdown_handle(&self) -> Box<dyn Fn() + Send + Sync> {
        let stop = self.0.clone();
        Box::new(move || stop.notify_one())
    }
    async fn run(&mut self) -> Result<(), BoxError> {
        self.0.notified().await;
        Ok(())
    }
}

impl Backend for Instant {
    type Client = ();
    type Worker = Worker;
    async fn connect(&self, _: ConnectionOptions, _: ClientOptions) -> Result<(), BoxError> {
        Ok(())
    }
    fn create_worker(&self, _: &(), _: WorkerOptions) -> Result<Worker, BoxError> {
        Ok(Worker(Arc::new(Notify::new())))
    }
    fn close(&self, _: (), _: Option<Worker>) {}
}

fn version() -> WorkerDeploymentVersion {
    WorkerDeploymentVersion::builder()
        .deployment_name("my-app")
        .build_id("build-1")
        .build()
}

fn init(c: &mut Criterion) {
    let dir = std::env::temp_dir().join(format!("lw-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("temporal.toml");
    std::fs::write(
        &file,
        "[profile.default]\naddress = \"my-ns.a1b2c.tmprl.cloud:7233\"\nnamespace = \"my-ns.a1b2c\"\n\
         [profile.default.grpc_meta]\nx-team = \"payments\"\n\
         [profile.staging]\naddress = \"localhost:7233\"\n",
    )
    .expect("write temporal.toml");
    let env: HashMap<String, String> = [
        ("TEMPORAL_CONFIG_FILE", file.display().to_string()),
        ("TEMPORAL_TASK_QUEUE", "my-task-queue".into()),
        ("TEMPORAL_API_KEY", "not-a-real-key".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    c.bench_function("init/prepare", |b| {
        b.iter(|| {
            rt.block_on(lw_runtime::prepare(version(), black_box(&env), |o| {
                o.register_activities(Acts);
                Ok(())
            }))
            .expect("prepare")
        })
    });
    let _ = std::fs::remove_dir_all(&dir);
}

fn invocation(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("runtime");
    let env: HashMap<String, String> = [("TEMPORAL_TASK_QUEUE", "q")]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    let options = rt
        .block_on(lw_runtime::prepare(version(), &env, |o| {
            o.register_activities(Acts);
            // Timing the engine, not stdout.
            o.print_report = false;
            o.on_invocation_start(|s| {
                black_box(&s.request_id);
            });
            Ok(())
        }))
        .expect("prepare");
    let engine = Engine::with_backend(options, Instant);
    c.bench_function("invocation/engine", |b| {
        b.iter(|| {
            rt.block_on(async {
                let i = Invocation::new(
                    "8f5c2a0e-7d4b-4c1e-9a3f-2b6d8e0c1f47",
                    "arn:aws:lambda:us-east-1:123456789012:function:greeting",
                    tokio::time::Instant::now() + Duration::from_secs(60),
                );
                engine.invoke(i).await.expect("invoke")
            })
        })
    });
}

criterion_group!(benches, init, invocation);
criterion_main!(benches);
