//! Tests of [`super`]: init, the version and task-queue checks, the async configure budget.

#![allow(dead_code)] // the #[activities] macro generates constants only tests read

use super::*;
use temporalio_macros::activities;
use temporalio_sdk::activities::{ActivityContext, ActivityError};

struct Acts;
#[activities]
impl Acts {
    #[activity]
    async fn noop(_ctx: ActivityContext) -> Result<(), ActivityError> {
        Ok(())
    }
}

fn version(d: &str, b: &str) -> WorkerDeploymentVersion {
    WorkerDeploymentVersion::builder()
        .deployment_name(d)
        .build_id(b)
        .build()
}

fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[tokio::test]
async fn init_reads_the_task_queue_from_the_environment() {
    let o = prepare(
        version("d", "b"),
        &env(&[("TEMPORAL_TASK_QUEUE", "from-env")]),
        |o| {
            o.register_activities(Acts);
            Ok(())
        },
    )
    .await
    .unwrap();
    assert_eq!(o.options().task_queue, "from-env");
}

#[tokio::test]
async fn init_fails_when_the_code_serves_another_version_or_queue_than_the_environment() {
    let e = prepare(
        version("my-app", "build-1"),
        &env(&[
            (crate::DEPLOYMENT_NAME_VAR, "dep-1"),
            (crate::BUILD_ID_VAR, "b1"),
            (TASK_QUEUE_VAR, "tq-1"),
        ]),
        |o| {
            o.register_activities(Acts);
            Ok(())
        },
    )
    .await
    .unwrap_err();
    assert_eq!(e.kind(), "VersionMismatch");
    let m = e.message();
    assert!(
        m.contains("LW_DEPLOYMENT_NAME is `dep-1`") && m.contains("`my-app`"),
        "{m}"
    );

    let e = prepare(
        crate::version::version_in(
            &env(&[(crate::DEPLOYMENT_NAME_VAR, "dep-1")]),
            "my-app",
            "build-1",
        ),
        &env(&[
            (crate::DEPLOYMENT_NAME_VAR, "dep-1"),
            (TASK_QUEUE_VAR, "tq-1"),
        ]),
        |o| {
            o.task_queue = "my-task-queue".into();
            o.register_activities(Acts);
            Ok(())
        },
    )
    .await
    .unwrap_err();
    assert_eq!(e.kind(), "TaskQueueMismatch");
    let m = e.message();
    assert!(m.contains("`tq-1`") && m.contains("`my-task-queue`"), "{m}");
}

#[tokio::test]
async fn fatal_init_errors_name_their_cause() {
    let e = prepare(version("d", "b"), &env(&[]), |o| {
        o.register_activities(Acts);
        Ok(())
    })
    .await
    .unwrap_err();
    assert_eq!(e.kind(), "Options");
    assert!(e.to_string().contains("TEMPORAL_TASK_QUEUE"), "{e}");

    let e = prepare(
        version("d", "b"),
        &env(&[("TEMPORAL_TASK_QUEUE", "q")]),
        |_| Err("no database url".into()),
    )
    .await
    .unwrap_err();
    assert_eq!(e.kind(), "Configure");
    assert_eq!(
        e.message(),
        "the configure callback failed: no database url"
    );

    let e = prepare(
        version("d", "b"),
        &env(&[("TEMPORAL_CONFIG_FILE", "/missing.toml")]),
        |_| Ok(()),
    )
    .await
    .unwrap_err();
    assert_eq!(e.kind(), "Config");
    assert!(e.to_string().contains("/missing.toml"), "{e}");

    let e = prepare(
        version("d", " "),
        &env(&[("TEMPORAL_TASK_QUEUE", "q")]),
        |o| {
            o.register_activities(Acts);
            Ok(())
        },
    )
    .await
    .unwrap_err();
    assert!(e.to_string().contains("non-blank"), "{e}");
}

/// An activities struct holding state built at init, as `run_worker_async` users write.
struct Stateful {
    pool: std::sync::Arc<String>,
}
#[activities]
impl Stateful {
    #[activity]
    async fn uses_pool(
        self: std::sync::Arc<Self>,
        _ctx: ActivityContext,
    ) -> Result<String, ActivityError> {
        Ok(self.pool.to_string())
    }
}

#[tokio::test(start_paused = true)]
async fn an_async_configure_builds_state_at_init_within_the_budget() {
    let q = env(&[("TEMPORAL_TASK_QUEUE", "q")]);
    let o = prepare_async(version("d", "b"), &q, async |o| {
        tokio::time::sleep(std::time::Duration::from_secs(2)).await;
        let pool = std::sync::Arc::new("pool".to_owned());
        o.register_activities(Stateful { pool });
        Ok(())
    })
    .await
    .unwrap();
    assert_eq!(o.options().task_queue, "q");

    // In Lambda (the Runtime API's address set): bounded.
    let in_lambda = env(&[
        ("TEMPORAL_TASK_QUEUE", "q"),
        ("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001"),
    ]);
    let started = tokio::time::Instant::now();
    let e = prepare_async(version("d", "b"), &in_lambda, async |_| {
        std::future::pending::<()>().await;
        Ok(())
    })
    .await
    .unwrap_err();
    assert_eq!(e.kind(), "ConfigureTimeout");
    assert_eq!(started.elapsed(), crate::timing::INIT_BUDGET);
    assert!(
        e.message()
            .starts_with("make the configure callback finish within 9s"),
        "{e}"
    );

    let e = prepare_async(version("d", "b"), &q, async |_| {
        tokio::task::yield_now().await;
        Err("cannot reach postgres://db:5432".into())
    })
    .await
    .unwrap_err();
    assert_eq!(e.kind(), "Configure");
    assert_eq!(
        e.message(),
        "the configure callback failed: cannot reach postgres://db:5432"
    );
}
