//! A task queue or namespace the server refuses ends the invocation with the server's reason
//! (errorType `TaskQueueRejected`), not a clean `deadline` after polls retried in silence.

use std::time::Duration;

use crate::common::{error_of, fixture};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_queue_the_server_refuses_is_an_error_with_its_reason() {
    let f = fixture(
        Duration::from_secs(20),
        &[("TEMPORAL_TASK_QUEUE", "/_sys/reserved")],
    )
    .await;
    let r = f.invoke().await;
    let (error_type, message) = error_of(&r);
    assert_eq!(error_type, "TaskQueueRejected", "{message}");
    assert!(
        message.starts_with("fix the task queue `/_sys/reserved` or namespace `default`")
            && message.contains("(InvalidArgument)")
            && message.contains("invalid task queue"),
        "{message}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_namespace_is_an_error_with_the_servers_reason() {
    let f = fixture(
        Duration::from_secs(20),
        &[("TEMPORAL_NAMESPACE", "no-such-namespace")],
    )
    .await;
    let r = f.invoke().await;
    let (error_type, message) = error_of(&r);
    assert_eq!(error_type, "TaskQueueRejected", "{message}");
    assert!(
        message.contains("namespace `no-such-namespace`") && message.contains("not found"),
        "{message}"
    );
    // The report line says so too.
    let logs = f.logs();
    assert!(
        logs.lines()
            .any(|l| l.contains("\"ended\":\"error\"") && l.contains("TaskQueueRejected")),
        "{logs}"
    );
}
