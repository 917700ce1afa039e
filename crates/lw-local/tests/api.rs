//! The AWS wire shapes lw-local answers with, over real HTTP.

use lw_local::{FunctionConfig, LocalLambda, RoleConfig};

const ROLE: &str = "arn:aws:iam::000000000000:role/r";

async fn sts(aws: &LocalLambda, form: &[(&str, &str)]) -> (u16, String) {
    let body: String = form
        .iter()
        .map(|(k, v)| format!("{k}={}", v.replace(':', "%3A").replace('/', "%2F")))
        .collect::<Vec<_>>()
        .join("&");
    let r = reqwest::Client::new()
        .post(format!("{}/", aws.endpoint()))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
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
}

#[tokio::test]
async fn lambda_get_function_and_errors_have_the_aws_shapes() {
    let aws = LocalLambda::start().await.unwrap();
    let arn = aws.add_function(FunctionConfig::new("f1", "/nonexistent/bootstrap").memory_mb(512));
    let client = reqwest::Client::new();
    for id in [
        arn.clone(),
        format!("{arn}:live"),
        "f1".into(),
        "000000000000:function:f1".into(),
    ] {
        let r = client
            .get(format!(
                "{}/2015-03-31/functions/{}",
                aws.endpoint(),
                id.replace(':', "%3A")
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200, "{id}");
        let v: serde_json::Value = r.json().await.unwrap();
        assert_eq!(v["Configuration"]["FunctionArn"], serde_json::json!(arn));
        assert_eq!(v["Configuration"]["MemorySize"], serde_json::json!(512));
        assert_eq!(v["Configuration"]["State"], serde_json::json!("Active"));
    }
    let r = client
        .post(format!(
            "{}/2015-03-31/functions/nope/invocations",
            aws.endpoint()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
    assert_eq!(
        r.headers()["x-amzn-errortype"].to_str().unwrap(),
        "ResourceNotFoundException"
    );
    let r = client
        .get(format!(
            "{}/2015-03-31/functions/f1/aliases",
            aws.endpoint()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    assert_eq!(
        aws.unknown_requests(),
        ["GET /2015-03-31/functions/f1/aliases"]
    );
    // A bad invocation type is refused without running anything.
    let r = client
        .post(format!(
            "{}/2015-03-31/functions/f1/invocations",
            aws.endpoint()
        ))
        .header("x-amz-invocation-type", "Sometimes")
        .send()
        .await
        .unwrap();
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
