//! `deploy`'s Lambda step against lw-local, without a build: the function's environment is
//! exactly what the settings say (plus the version's identity), so a secret removed from the
//! settings, or a variable added by hand, leaves the function.

use std::collections::BTreeMap;

use cargo_lambdaworker::{
    Project,
    deploy::{Flags, FunctionFlags, Package, Settings, lambda},
    package::{Entries, write_zip},
};
use lw_local::LocalLambda;

const FUNCTION: &str = "env-worker";

fn project(env: serde_json::Value) -> Project {
    Project {
        workspace_root: "/w".into(),
        target_dir: "/w/target".into(),
        package: FUNCTION.into(),
        package_dir: "/w".into(),
        package_manifest: "/w/Cargo.toml".into(),
        version: "0.1.0".into(),
        metadata: serde_json::json!({"lambdaworker": {
            "invoke-role": "arn:aws:iam::000000000000:role/invoker",
            "execution-role": "arn:aws:iam::000000000000:role/execution",
            "external-id": "ext-0123456789abcdef",
            "env": env,
        }}),
        name: FUNCTION.into(),
        example: false,
    }
}

fn settings(env: serde_json::Value) -> Settings {
    let flags = Flags {
        function: FunctionFlags::default(),
        ..Flags::default()
    };
    Settings::resolve(&project(env), flags).unwrap()
}

/// A package whose code differs with `build`, written under `dir`.
fn package(dir: &std::path::Path, build: &str) -> Package {
    let zip = write_zip(
        format!("#!/bin/sh\n# {build}\n").as_bytes(),
        &Entries::new(),
    )
    .unwrap();
    let path = dir.join(format!("{build}.zip"));
    std::fs::write(&path, zip).unwrap();
    Package::read(path).unwrap()
}

fn client(aws: &LocalLambda) -> aws_sdk_lambda::Client {
    use aws_sdk_lambda::config::{BehaviorVersion, Credentials, Region};
    let config = aws_sdk_lambda::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new(
            aws.credentials().access_key_id(),
            aws.credentials().secret_access_key(),
            None,
            None,
            "lw-local",
        ))
        .endpoint_url(aws.endpoint())
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .build();
    aws_sdk_lambda::Client::from_conf(config)
}

fn env_of(aws: &LocalLambda) -> BTreeMap<String, String> {
    aws.function_info(FUNCTION)
        .unwrap()
        .env
        .into_iter()
        .collect()
}

#[tokio::test]
async fn the_functions_environment_is_exactly_the_settings() {
    let aws = LocalLambda::start().await.unwrap();
    let lambda = client(&aws);
    let dir = tempfile::tempdir().unwrap();

    let first = settings(serde_json::json!({"TEMPORAL_TASK_QUEUE": "q", "OLD_TOKEN": "t0ken"}));
    lambda::publish(&lambda, &first, &package(dir.path(), "one"), "b1")
        .await
        .unwrap();
    assert!(env_of(&aws).contains_key("OLD_TOKEN"), "{:?}", env_of(&aws));
    // Someone adds a variable by hand.
    let mut by_hand: Vec<_> = env_of(&aws).into_iter().collect();
    by_hand.push(("ADDED_BY_HAND".into(), "x".into()));
    aws.update_function_environment(FUNCTION, by_hand).unwrap();

    let second = settings(serde_json::json!({"TEMPORAL_TASK_QUEUE": "q"}));
    lambda::publish(&lambda, &second, &package(dir.path(), "two"), "b2")
        .await
        .unwrap();
    let expected: BTreeMap<String, String> = [
        ("TEMPORAL_TASK_QUEUE", "q"),
        ("LW_DEPLOYMENT_NAME", FUNCTION),
        ("LW_BUILD_ID", "b2"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    assert_eq!(env_of(&aws), expected);
    // The published version carries the same environment.
    let v2 = aws.function_info(&format!("{FUNCTION}:2")).unwrap();
    let v2: BTreeMap<_, _> = v2.env.into_iter().collect();
    assert_eq!(v2, expected);

    // What deploy prints as removed: the names, sorted.
    let current = [
        ("OLD_TOKEN", "t0ken"),
        ("ADDED_BY_HAND", "x"),
        ("LW_BUILD_ID", "b1"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let (_, removed) = lambda::environment(&current, &second, "b2");
    assert_eq!(removed, ["ADDED_BY_HAND", "OLD_TOKEN"]);
    aws.stop().await;
}
