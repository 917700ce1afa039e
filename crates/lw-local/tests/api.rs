//! The AWS wire shapes lw-local answers with, over real HTTP.

use lw_local::{Credentials, FunctionConfig, LocalLambda, RoleConfig};

const ROLE: &str = "arn:aws:iam::000000000000:role/r";

/// Sends a request signed with `c` (lw-local refuses any other).
async fn send(
    c: &Credentials,
    method: reqwest::Method,
    url: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> reqwest::Response {
    let signed = c.sign(method.as_str(), url, headers, &body).unwrap();
    let mut r = reqwest::Client::new().request(method, url).body(body);
    for (k, v) in headers {
        r = r.header(*k, *v);
    }
    for (k, v) in signed {
        r = r.header(k, v);
    }
    r.send().await.unwrap()
}

async fn sts(aws: &LocalLambda, form: &[(&str, &str)]) -> (u16, String) {
    let body: String = form
        .iter()
        .map(|(k, v)| format!("{k}={}", v.replace(':', "%3A").replace('/', "%2F")))
        .collect::<Vec<_>>()
        .join("&");
    let r = send(
        aws.credentials(),
        reqwest::Method::POST,
        &format!("{}/", aws.endpoint()),
        &[("content-type", "application/x-www-form-urlencoded")],
        body.into_bytes(),
    )
    .await;
    (r.status().as_u16(), r.text().await.unwrap())
}

#[tokio::test]
async fn assume_role_enforces_the_external_id() {
    let aws = LocalLambda::start().await.unwrap();
    aws.add_role(RoleConfig {
        arn: ROLE.into(),
        external_id: Some("ext-1".into()),
    });
    let base = [
        ("Action", "AssumeRole"),
        ("RoleArn", ROLE),
        ("RoleSessionName", "s"),
    ];
    let (status, body) = sts(
        &aws,
        &[base.as_slice(), &[("ExternalId", "ext-1")]].concat(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains("<AccessKeyId>ASIA") && body.contains("<SessionToken>"),
        "{body}"
    );
    assert!(body.contains("assumed-role/r/s"), "{body}");
    for extra in [&[][..], &[("ExternalId", "wrong")][..]] {
        let (status, body) = sts(&aws, &[base.as_slice(), extra].concat()).await;
        assert_eq!(status, 403, "{body}");
        assert!(body.contains("<Code>AccessDenied</Code>"), "{body}");
    }
    let (status, _) = sts(
        &aws,
        &[
            ("Action", "AssumeRole"),
            ("RoleArn", "arn:aws:iam::1:role/unknown"),
        ],
    )
    .await;
    assert_eq!(status, 403);
    let granted: Vec<bool> = aws.assume_role_calls().iter().map(|c| c.granted).collect();
    assert_eq!(granted, [true, false, false, false]);
    // A session name that is XML is written as text, not as elements.
    let crafted = [
        ("Action", "AssumeRole"),
        ("RoleArn", ROLE),
        ("ExternalId", "ext-1"),
        ("RoleSessionName", "x</Arn><Injected>1</Injected><Arn>"),
    ];
    let (status, body) = sts(&aws, &crafted).await;
    assert_eq!(status, 200, "{body}");
    assert!(!body.contains("<Injected>"), "{body}");
    assert!(body.contains("x&lt;/Arn&gt;&lt;Injected&gt;"), "{body}");
}

#[tokio::test]
async fn lambda_get_function_and_errors_have_the_aws_shapes() {
    let aws = LocalLambda::start().await.unwrap();
    let arn = aws.add_function(FunctionConfig::new("f1", "/nonexistent/bootstrap").memory_mb(512));
    let c = aws.credentials();
    let get =
        |url: String| async move { send(c, reqwest::Method::GET, &url, &[], Vec::new()).await };
    let post = |url: String, headers: &'static [(&'static str, &'static str)]| async move {
        send(c, reqwest::Method::POST, &url, headers, Vec::new()).await
    };
    for id in [
        arn.clone(),
        format!("{arn}:$LATEST"),
        "f1".into(),
        "000000000000:function:f1".into(),
    ] {
        let r = get(format!(
            "{}/2015-03-31/functions/{}",
            aws.endpoint(),
            id.replace(':', "%3A")
        ))
        .await;
        assert_eq!(r.status().as_u16(), 200, "{id}");
        let v: serde_json::Value = r.json().await.unwrap();
        assert_eq!(v["Configuration"]["FunctionArn"], serde_json::json!(arn));
        assert_eq!(v["Configuration"]["MemorySize"], serde_json::json!(512));
        assert_eq!(v["Configuration"]["State"], serde_json::json!("Active"));
    }
    let r = post(
        format!("{}/2015-03-31/functions/nope/invocations", aws.endpoint()),
        &[],
    )
    .await;
    assert_eq!(r.status().as_u16(), 404);
    assert_eq!(
        r.headers()["x-amzn-errortype"].to_str().unwrap(),
        "ResourceNotFoundException"
    );
    let r = get(format!(
        "{}/2015-03-31/functions/f1/aliases",
        aws.endpoint()
    ))
    .await;
    assert_eq!(r.status().as_u16(), 400);
    assert_eq!(
        aws.unknown_requests(),
        ["GET /2015-03-31/functions/f1/aliases"]
    );
    // A bad invocation type is refused without running anything.
    let r = post(
        format!("{}/2015-03-31/functions/f1/invocations", aws.endpoint()),
        &[("x-amz-invocation-type", "Sometimes")],
    )
    .await;
    assert_eq!(r.status().as_u16(), 400);
    assert_eq!(aws.accounting("f1").unwrap().invocations, 0);
}

#[tokio::test]
async fn a_taken_port_is_a_clear_error() {
    let held = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = held.local_addr().unwrap().to_string();
    let e = LocalLambda::bind(&addr).await.err().unwrap().to_string();
    assert!(e.contains("is the port taken"), "{e}");
}

/// A zip holding `bootstrap` with `content`.
fn package(content: &str) -> String {
    use base64::Engine;
    use std::io::Write;
    let mut out = std::io::Cursor::new(Vec::new());
    let mut zip = zip::ZipWriter::new(&mut out);
    let options = zip::write::SimpleFileOptions::default().unix_permissions(0o755);
    zip.start_file("bootstrap", options).unwrap();
    zip.write_all(content.as_bytes()).unwrap();
    zip.finish().unwrap();
    base64::engine::general_purpose::STANDARD.encode(out.into_inner())
}

async fn call(
    c: &Credentials,
    method: reqwest::Method,
    url: String,
    body: Option<serde_json::Value>,
) -> (u16, String, serde_json::Value) {
    let (headers, body): (&[(&str, &str)], Vec<u8>) = match body {
        Some(b) => (
            &[("content-type", "application/json")],
            serde_json::to_vec(&b).unwrap(),
        ),
        None => (&[], Vec::new()),
    };
    let r = send(c, method, &url, headers, body).await;
    let status = r.status().as_u16();
    let kind = r
        .headers()
        .get("x-amzn-errortype")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, kind, r.json().await.unwrap_or_default())
}

#[tokio::test]
async fn published_versions_are_immutable_copies_addressed_by_qualifier() {
    use reqwest::Method;
    use serde_json::json;
    let aws = LocalLambda::start().await.unwrap();
    let c = aws.credentials().clone();
    let f = format!("{}/2015-03-31/functions", aws.endpoint());
    let create = json!({"FunctionName": "orders", "Role": ROLE, "Runtime": "provided.al2023",
        "Handler": "bootstrap", "Code": {"ZipFile": package("one")},
        "Environment": {"Variables": {"LW_BUILD_ID": "b1"}}, "Timeout": 30});
    let (status, _, v) = call(&c, Method::POST, f.clone(), Some(create.clone())).await;
    assert_eq!(status, 201, "{v}");
    assert_eq!(v["Version"], "$LATEST");
    let sha1 = v["CodeSha256"].as_str().unwrap().to_owned();
    let (status, kind, _) = call(&c, Method::POST, f.clone(), Some(create)).await;
    assert_eq!((status, kind.as_str()), (409, "ResourceConflictException"));

    let publish = |body: serde_json::Value| {
        call(&c, Method::POST, format!("{f}/orders/versions"), Some(body))
    };
    let (status, _, v) = publish(json!({"CodeSha256": sha1, "Description": "build one"})).await;
    assert_eq!((status, v["Version"].as_str()), (201, Some("1")));
    assert!(
        v["FunctionArn"]
            .as_str()
            .unwrap()
            .ends_with(":function:orders:1")
    );
    // Nothing changed since version 1: version 1 again.
    let (_, _, v) = publish(json!({})).await;
    assert_eq!(v["Version"], "1");

    let (status, _, v) = call(
        &c,
        Method::PUT,
        format!("{f}/orders/code"),
        Some(json!({"ZipFile": package("two")})),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    let sha2 = v["CodeSha256"].as_str().unwrap().to_owned();
    assert_ne!(sha1, sha2);
    let (status, kind, _) = publish(json!({"CodeSha256": sha1})).await;
    assert_eq!(
        (status, kind.as_str()),
        (400, "InvalidParameterValueException")
    );
    let (status, kind, _) = publish(json!({"RevisionId": "not-the-latest"})).await;
    assert_eq!(
        (status, kind.as_str()),
        (412, "PreconditionFailedException")
    );
    let (_, _, v) = call(
        &c,
        Method::PUT,
        format!("{f}/orders/configuration"),
        Some(json!({"Environment": {"Variables": {"LW_BUILD_ID": "b2"}}})),
    )
    .await;
    assert_eq!(v["Environment"]["Variables"]["LW_BUILD_ID"], "b2");
    let (_, _, v) = publish(json!({"CodeSha256": sha2, "Description": "build two"})).await;
    assert_eq!(v["Version"], "2");

    // Version 1 keeps its code and configuration, by qualifier or qualified ARN.
    for url in [
        format!("{f}/orders?Qualifier=1"),
        format!(
            "{f}/{}",
            "arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction%3Aorders%3A1"
        ),
    ] {
        let (status, _, v) = call(&c, Method::GET, url, None).await;
        assert_eq!(status, 200);
        assert_eq!(v["Configuration"]["CodeSha256"], json!(sha1));
        assert_eq!(
            v["Configuration"]["Environment"]["Variables"]["LW_BUILD_ID"],
            "b1"
        );
        assert_eq!(v["Configuration"]["Description"], "build one");
    }
    let (_, _, v) = call(
        &c,
        Method::GET,
        format!("{f}/orders/versions?MaxItems=2"),
        None,
    )
    .await;
    let versions: Vec<&str> = v["Versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["Version"].as_str().unwrap())
        .collect();
    assert_eq!(versions, ["$LATEST", "1"]);
    let (_, _, v) = call(
        &c,
        Method::GET,
        format!(
            "{f}/orders/versions?Marker={}",
            v["NextMarker"].as_str().unwrap()
        ),
        None,
    )
    .await;
    assert_eq!(v["Versions"][0]["Version"], "2");
    assert_eq!(aws.versions("orders").unwrap().len(), 3);
    let (status, kind, _) = call(
        &c,
        Method::POST,
        format!("{f}/orders/invocations?Qualifier=9"),
        None,
    )
    .await;
    assert_eq!((status, kind.as_str()), (404, "ResourceNotFoundException"));
    // A name Lambda would refuse never reaches the file system.
    let (status, kind, _) = call(
        &c,
        Method::PUT,
        format!("{f}/..%2F..%2Fescape/code"),
        Some(json!({"ZipFile": package("x")})),
    )
    .await;
    assert_eq!(
        (status, kind.as_str()),
        (400, "InvalidParameterValueException")
    );
    // A zip without bootstrap is refused.
    let (status, kind, v) = call(
        &c,
        Method::PUT,
        format!("{f}/orders/code"),
        Some(json!({"ZipFile": "UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA=="})),
    )
    .await;
    assert_eq!(
        (status, kind.as_str()),
        (400, "InvalidParameterValueException"),
        "{v}"
    );
}

/// A bootstrap serving `AWS_LAMBDA_MAX_CONCURRENCY` invocations at once (one `/next` loop
/// per slot); each sleeps `payload.sleep` seconds and answers with its process id.
const CONCURRENT_BOOTSTRAP: &str = r#"#!/usr/bin/env python3
import json, os, threading, time, urllib.request
api = os.environ["AWS_LAMBDA_RUNTIME_API"]
n = int(os.environ.get("AWS_LAMBDA_MAX_CONCURRENCY", "1"))
def serve():
    while True:
        r = urllib.request.urlopen(f"http://{api}/2018-06-01/runtime/invocation/next")
        rid = r.headers["Lambda-Runtime-Aws-Request-Id"]
        time.sleep(json.loads(r.read() or b"{}").get("sleep", 0))
        body = json.dumps({"pid": os.getpid(), "max_concurrency": n}).encode()
        url = f"http://{api}/2018-06-01/runtime/invocation/{rid}/response"
        try:
            urllib.request.urlopen(urllib.request.Request(url, data=body, method="POST"))
        except Exception:
            pass
threads = [threading.Thread(target=serve) for _ in range(n)]
for t in threads:
    t.start()
for t in threads:
    t.join()
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_managed_instances_function_packs_invocations_and_times_out_one_alone() {
    use reqwest::Method;
    use serde_json::json;
    let aws = LocalLambda::start().await.unwrap();
    let c = aws.credentials().clone();
    let functions = format!("{}/2015-03-31/functions", aws.endpoint());
    let provider = "arn:aws:lambda:us-east-1:000000000000:capacity-provider:p";
    let (status, _, created) = call(
        &c,
        Method::POST,
        functions.clone(),
        Some(json!({
            "FunctionName": "mi", "Role": ROLE, "Runtime": "provided.al2023",
            "Code": {"ZipFile": package(CONCURRENT_BOOTSTRAP)}, "Timeout": 3,
            "CapacityProviderConfig": {"LambdaManagedInstancesCapacityProviderConfig": {
                "CapacityProviderArn": provider, "PerExecutionEnvironmentMaxConcurrency": 3}},
        })),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let managed =
        &created["CapacityProviderConfig"]["LambdaManagedInstancesCapacityProviderConfig"];
    assert_eq!(managed["CapacityProviderArn"], json!(provider));
    assert_eq!(managed["PerExecutionEnvironmentMaxConcurrency"], json!(3));
    // A bad concurrency is refused with Lambda's error type.
    let (status, kind, _) = call(
        &c,
        Method::POST,
        functions.clone(),
        Some(json!({
            "FunctionName": "mi2", "Role": ROLE, "Code": {"ZipFile": package("")},
            "CapacityProviderConfig": {"LambdaManagedInstancesCapacityProviderConfig": {
                "CapacityProviderArn": provider, "PerExecutionEnvironmentMaxConcurrency": 0}},
        })),
    )
    .await;
    assert_eq!(
        (status, kind.as_str()),
        (400, "InvalidParameterValueException")
    );

    // Three quick invocations and one that outlives the 3 s timeout, all at once.
    let invoke = |sleep: u64| {
        let url = format!("{functions}/mi/invocations");
        let c = c.clone();
        tokio::spawn(
            async move { call(&c, Method::POST, url, Some(json!({ "sleep": sleep }))).await },
        )
    };
    let calls = [invoke(1), invoke(1), invoke(6), invoke(1)];
    let mut answers = Vec::new();
    for c in calls {
        answers.push(c.await.unwrap());
    }
    let a = aws.accounting("mi").unwrap();
    assert_eq!(a.invocations, 4, "{a:?}");
    assert_eq!(a.timeouts, 1, "{a:?}");
    assert_eq!(
        a.instances, 2,
        "three fit on the first instance, the fourth on a second"
    );
    assert_eq!(a.per_instance[0].peak_in_flight, 3, "{:?}", a.per_instance);
    assert!(
        a.timeline.iter().any(|p| p.in_flight == 4),
        "{:?}",
        a.timeline
    );
    // The quick ones answered from their instances' processes, told the concurrency; the
    // timed-out one failed alone and no process was killed for it.
    let pids: Vec<u64> = answers
        .iter()
        .filter_map(|(_, _, body)| body["pid"].as_u64())
        .collect();
    assert_eq!(pids.len(), 3, "{answers:?}");
    assert!(
        answers
            .iter()
            .all(|(_, _, b)| b["pid"].is_null() || b["max_concurrency"] == json!(3))
    );
    let alive = aws.instance_pids("mi").await;
    assert_eq!(alive.iter().filter(|p| p.is_some()).count(), 2, "{alive:?}");
    assert!(
        a.per_instance.iter().all(|i| i.busy_ms >= 900),
        "{:?}",
        a.per_instance
    );
    aws.stop().await;
}
