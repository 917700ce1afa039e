//! Test function, not part of the example: the greeting function with state built once per
//! process and configuration per invocation, for the `state` tests. Its async configure
//! builds a "pool" (200 ms, counted in the process); each invocation's callback reads the
//! tenant from the event, sets the identity to `<tenant>@<requestId>` and hands the `greet`
//! activity the pool with this invocation's values; its teardown waits 300 ms, then writes
//! `teardown-<requestId>` (holding the tenant) into `LW_STATE_DIR`. `greet` answers
//! `Hello, <name>! pool=<pid>/<build> tenant=<tenant> request=<requestId> cold=<cold>`.
#![allow(dead_code)] // the #[activities] macro generates constants only a caller would read

use std::{
    path::PathBuf,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use greeting::Greeting;
use lambdaworker::{RegisterOptions, VersioningBehavior};
use lw_e2e::var;
use temporalio_macros::activities;
use temporalio_sdk::activities::{ActivityContext, ActivityError};

/// How many pools this process built.
static POOL_BUILDS: AtomicU64 = AtomicU64::new(0);

/// What a database pool would be: made once per process, shared by every invocation.
struct Pool {
    pid: u32,
    build: u64,
}

impl Pool {
    async fn connect() -> Self {
        tokio::time::sleep(Duration::from_millis(200)).await;
        Self {
            pid: std::process::id(),
            build: POOL_BUILDS.fetch_add(1, Ordering::SeqCst) + 1,
        }
    }
}

struct StateActivities {
    pool: Arc<Pool>,
    tenant: String,
    request_id: String,
    cold: bool,
}

#[activities]
impl StateActivities {
    #[activity(name = "greet")]
    async fn greet(
        self: Arc<Self>,
        _ctx: ActivityContext,
        name: String,
    ) -> Result<String, ActivityError> {
        Ok(format!(
            "Hello, {name}! pool={}/{} tenant={} request={} cold={}",
            self.pool.pid, self.pool.build, self.tenant, self.request_id, self.cold
        ))
    }
}

#[tokio::main]
async fn main() -> Result<(), lambdaworker::Error> {
    lambdaworker::init_logging();
    let dir = PathBuf::from(var("LW_STATE_DIR").unwrap_or_else(|| ".".into()));
    lambdaworker::run_worker_async(lw_e2e::version(), async move |opts| {
        lw_e2e::telemetry(opts)?;
        let pool = Arc::new(Pool::connect().await);
        opts.register_workflow_with_options::<Greeting>(RegisterOptions::versioning_behavior(
            VersioningBehavior::AutoUpgrade,
        ))?;
        opts.register_activities(StateActivities {
            pool: pool.clone(),
            tenant: "none".into(),
            request_id: "none".into(),
            cold: false,
        });
        opts.on_invocation(async move |inv| {
            let tenant = inv.event["tenant"].as_str().unwrap_or("none").to_owned();
            let request_id = inv.invocation.request_id.clone();
            inv.identity = Some(format!("{tenant}@{request_id}"));
            inv.register_activities(StateActivities {
                pool: pool.clone(),
                tenant: tenant.clone(),
                request_id: request_id.clone(),
                cold: inv.invocation.cold,
            });
            let marker = dir.join(format!("teardown-{request_id}"));
            inv.on_teardown(move |_ctx| async move {
                tokio::time::sleep(Duration::from_millis(300)).await;
                std::fs::write(&marker, &tenant)?;
                eprintln!("greeting-state: teardown {request_id}");
                Ok(())
            });
            Ok(())
        });
        Ok(())
    })
    .await
}
