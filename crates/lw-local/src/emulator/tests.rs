//! The Runtime API as a runtime sees it: `/next` with Lambda's headers, `/response`, and
//! (feature `testing`) a malformed `/next`. The "function" is a shell script that only
//! sleeps; the test plays the runtime over HTTP.

use std::{os::unix::fs::PermissionsExt, time::Duration};

use serde_json::json;

use super::{FunctionSpec, LocalFunction, Outcome};

/// A program that waits to be killed, in a folder removed with the returned guard.
fn sleeper() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bootstrap");
    std::fs::write(&path, "#!/bin/sh\nexec sleep 30\n").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    (dir, path)
}

fn url(f: &LocalFunction, path: &str) -> String {
    format!("http://{}/2018-06-01/runtime/{path}", f.runtime_api())
}

#[tokio::test]
async fn next_hands_out_the_event_with_lambdas_headers_and_takes_the_response() {
    let (_dir, program) = sleeper();
    let spec = FunctionSpec::new(&program, "probe").timeout(Duration::from_secs(5));
    let f = LocalFunction::new(spec).await.unwrap();
    let rx = f.invoke_async(json!({"a": 1})).unwrap();
    let next = reqwest::get(url(&f, "invocation/next")).await.unwrap();
    assert_eq!(next.status(), 200);
    let header = |name: &str| {
        let v = next
            .headers()
            .get(name)
            .unwrap_or_else(|| panic!("no {name}"));
        v.to_str().unwrap().to_owned()
    };
    let id = header("lambda-runtime-aws-request-id");
    let deadline: u128 = header("lambda-runtime-deadline-ms").parse().unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    assert!(deadline > now.unwrap().as_millis());
    assert_eq!(
        header("lambda-runtime-invoked-function-arn"),
        "arn:aws:lambda:us-east-1:000000000000:function:probe"
    );
    assert!(header("lambda-runtime-trace-id").starts_with("Root=1-"));
    assert_eq!(
        next.json::<serde_json::Value>().await.unwrap(),
        json!({"a": 1})
    );
    let answer = reqwest::Client::new()
        .post(url(&f, &format!("invocation/{id}/response")))
        .body(r#"{"ok":true}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 202);
    let result = rx.await.unwrap();
    assert_eq!(result.outcome, Outcome::Response(json!({"ok": true})));
    assert!(result.cold);
    f.kill();
}

#[cfg(feature = "testing")]
#[tokio::test]
async fn a_next_fault_replaces_the_answer_and_the_invocation_is_held() {
    use super::NextFault;
    let (_dir, program) = sleeper();
    let spec = FunctionSpec::new(&program, "probe").next_fault(NextFault::MissingDeadline);
    let f = LocalFunction::new(spec).await.unwrap();
    let _rx = f.invoke_async(json!({})).unwrap();
    let next = reqwest::get(url(&f, "invocation/next")).await.unwrap();
    assert_eq!(next.status(), 200);
    assert!(
        next.headers()
            .get("lambda-runtime-aws-request-id")
            .is_some()
    );
    assert!(next.headers().get("lambda-runtime-deadline-ms").is_none());
    assert_eq!(f.in_flight(), 1);
    f.kill();
}

#[tokio::test]
async fn a_log_line_that_is_not_utf8_does_not_hide_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let program = dir.path().join("bootstrap");
    std::fs::write(
        &program,
        "#!/bin/sh\nprintf 'before\\n\\377\\376 bad\\nafter\\n' >&2\nexec sleep 30\n",
    )
    .unwrap();
    std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o755)).unwrap();
    let spec = FunctionSpec::new(&program, "noisy").timeout(Duration::from_secs(5));
    let f = LocalFunction::new(spec).await.unwrap();
    let _rx = f.invoke_async(json!({})).unwrap();
    let until = std::time::Instant::now() + Duration::from_secs(10);
    while !f.logs().contains("after") {
        assert!(
            std::time::Instant::now() < until,
            "logs so far: {:?}",
            f.logs()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let logs = f.logs();
    assert!(
        logs.contains("before\n") && logs.contains("\u{fffd}\u{fffd} bad\n"),
        "{logs:?}"
    );
}
