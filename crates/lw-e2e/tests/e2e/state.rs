//! State built once per process and configuration per invocation (`greeting-state`): the
//! async configure's pool is built once and shared by warm and concurrent invocations; each
//! invocation's callback sees its own event, request id and cold flag, and they reach the
//! activity and the server (the identity); each teardown has run when the response arrives.

use std::{collections::HashMap, path::Path, time::Duration};

use lw_testkit::{DevServer, Greetings};
use serde_json::json;

use crate::common::*;

/// `greeting-state`: async configure, `on_invocation`, a teardown.
const GREETING_STATE: &str = env!("CARGO_BIN_EXE_greeting-state");

/// The `key=value` pairs of a `greet` result.
fn fields(result: &str) -> HashMap<String, String> {
    result
        .split(' ')
        .filter_map(|w| w.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// The teardown wrote its marker (after a 300 ms wait) before the response was posted.
fn assert_torn_down(dir: &Path, request_id: &str, tenant: &str) {
    let marker = dir.join(format!("teardown-{request_id}"));
    let written = std::fs::read_to_string(&marker)
        .unwrap_or_else(|e| panic!("no teardown marker {} when answered: {e}", marker.display()));
    assert_eq!(written, tenant);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_is_built_once_and_each_invocation_configures_and_tears_down_its_own() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir_text = dir.path().display().to_string();
    let server = DevServer::shared().expect("dev server");
    let env = [
        ("LW_STATE_DIR", dir_text.as_str()),
        ("LAMBDAWORKER_IDLE_EXIT", "1s"),
    ];
    let f = managed_fixture(GREETING_STATE, server, Duration::from_secs(15), 3, &env).await;
    let g = Greetings::connect(f.server, &f.task_queue).await.unwrap();

    // A cold then a warm invocation, one after the other.
    let mut pids = Vec::new();
    for (tenant, cold) in [("t1", true), ("t2", false)] {
        let id = f.start(tenant);
        let r = f
            .function
            .invoke(json!({ "tenant": tenant }))
            .await
            .unwrap();
        let rep = report(&r).clone();
        assert_torn_down(dir.path(), &r.request_id, tenant);
        assert!(rep["hooks_ms"].as_u64().unwrap() >= 300, "{rep}");
        let result = f.server.result(&id).unwrap();
        let result = result.as_ref().and_then(|v| v.as_str()).unwrap_or_else(|| {
            panic!(
                "{id} did not complete in {}: {rep}\n{}",
                r.request_id,
                f.logs()
            )
        });
        assert!(result.starts_with(&format!("Hello, {tenant}!")), "{result}");
        let v = fields(result);
        assert_eq!(v["tenant"], tenant, "{result}");
        assert_eq!(v["request"], r.request_id, "{result}");
        assert_eq!(v["cold"], cold.to_string(), "{result}");
        pids.push(v["pool"].clone());
        // The per-invocation identity reached the server.
        let identity = format!("{tenant}@{}", r.request_id);
        assert_eq!(rep["identity"], json!(identity), "{rep}");
        let started = f.events(&id, "EVENT_TYPE_ACTIVITY_TASK_STARTED");
        assert_eq!(
            started[0]["activityTaskStartedEventAttributes"]["identity"],
            json!(identity)
        );
    }
    // One pool, built once by the process, served both.
    assert!(pids[0].ends_with("/1"), "{pids:?}");
    assert_eq!(pids[0], pids[1]);

    // Three invocations at once in the same process (Lambda Managed Instances).
    let names: Vec<String> = (0..6).map(|i| format!("c{i}")).collect();
    let ids = g.start(&names).await.unwrap();
    let tenants = ["c-a", "c-b", "c-c"];
    let pending: Vec<_> = tenants
        .iter()
        .map(|t| f.function.invoke_async(json!({ "tenant": t })).unwrap())
        .collect();
    let mut tenant_of = HashMap::new();
    for (p, tenant) in pending.into_iter().zip(tenants) {
        let r = p.await.unwrap();
        report(&r);
        assert_torn_down(dir.path(), &r.request_id, tenant);
        tenant_of.insert(r.request_id.clone(), tenant);
    }
    assert_eq!(f.function.spawn_times().len(), 1, "one process served all");
    assert_eq!(f.function.peak_in_flight(), 3);
    for o in g.outcomes(&ids).await.unwrap() {
        let result = o
            .result
            .unwrap_or_else(|| panic!("{} incomplete\n{}", o.id, f.logs()));
        let v = fields(&result);
        // Still the process's one pool; each activity saw its own invocation's values.
        assert_eq!(v["pool"], pids[0], "{result}");
        let tenant = tenant_of
            .get(&v["request"])
            .unwrap_or_else(|| panic!("{result}: not one of {tenant_of:?}"));
        assert_eq!(&v["tenant"], tenant, "{result}");
        assert_eq!(v["cold"], "false", "{result}");
    }
}
