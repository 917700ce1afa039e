use super::*;
use opentelemetry_sdk::trace::IdGenerator;

fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[test]
fn endpoint_resolution_order() {
    let all = env(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4317")]);
    assert_eq!(
        OtelOptions::default()
            .endpoint("http://option:4317")
            .resolve(&all)
            .endpoint,
        "http://option:4317"
    );
    assert_eq!(
        OtelOptions::default().resolve(&all).endpoint,
        "http://collector:4317"
    );
    assert_eq!(
        OtelOptions::default()
            .resolve(&env(&[("OTEL_EXPORTER_OTLP_ENDPOINT", " ")]))
            .endpoint,
        DEFAULT_ENDPOINT
    );
    assert_eq!(
        OtelOptions::default().resolve(&env(&[])).endpoint,
        "http://localhost:4317"
    );
}

#[test]
fn service_name_resolution_order() {
    let all = env(&[
        ("OTEL_SERVICE_NAME", "from-otel"),
        ("AWS_LAMBDA_FUNCTION_NAME", "from-lambda"),
    ]);
    let name = |o: OtelOptions, e: &HashMap<String, String>| o.resolve(e).service_name;
    assert_eq!(
        name(OtelOptions::default().service_name("from-option"), &all),
        "from-option"
    );
    assert_eq!(name(OtelOptions::default(), &all), "from-otel");
    assert_eq!(
        name(
            OtelOptions::default(),
            &env(&[("AWS_LAMBDA_FUNCTION_NAME", "from-lambda")])
        ),
        "from-lambda"
    );
    assert_eq!(
        name(OtelOptions::default(), &env(&[])),
        "temporal-lambda-worker"
    );
}

#[test]
fn resource_carries_the_faas_attributes() {
    let r = OtelOptions::default().resolve(&env(&[
        ("AWS_LAMBDA_FUNCTION_NAME", "orders"),
        ("AWS_LAMBDA_FUNCTION_VERSION", "7"),
        ("AWS_LAMBDA_LOG_STREAM_NAME", "2026/11/29/[7]abc"),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256"),
        ("AWS_REGION", "eu-west-1"),
    ]));
    let get = |k: &str| {
        r.resource
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(get("service.name"), Some("orders"));
    assert_eq!(get("cloud.provider"), Some("aws"));
    assert_eq!(get("cloud.region"), Some("eu-west-1"));
    assert_eq!(get("faas.name"), Some("orders"));
    assert_eq!(get("faas.version"), Some("7"));
    assert_eq!(get("faas.instance"), Some("2026/11/29/[7]abc"));
    assert_eq!(r.max_memory_bytes, Some(256 * 1024 * 1024));
    assert_eq!(r.function_name, "orders");
    assert_eq!(r.metric_export_interval, Duration::from_secs(10));
    let resource = r.otel_resource();
    assert_eq!(
        resource
            .get(&opentelemetry::Key::from("faas.max_memory"))
            .map(|v| v.to_string()),
        Some((256 * 1024 * 1024).to_string())
    );
}

#[test]
fn trace_ids_are_xray_compatible() {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let g = LambdaIdGenerator::default();
    for _ in 0..10 {
        let id = g.new_trace_id().to_bytes();
        let secs = u64::from(u32::from_be_bytes([id[0], id[1], id[2], id[3]]));
        assert!(now.abs_diff(secs) <= 2, "{id:?}");
        assert_ne!(g.new_span_id(), opentelemetry::trace::SpanId::INVALID);
    }
}

fn options() -> Options {
    Options::with_client(
        lw_options::WorkerDeploymentVersion::builder()
            .deployment_name("d")
            .build_id("b")
            .build(),
        temporalio_client::ConnectionOptions::new(
            temporalio_client::Url::parse("http://127.0.0.1:7233").unwrap(),
        )
        .build(),
        temporalio_client::ClientOptions::new("default").build(),
    )
}

#[test]
fn outside_a_runtime_is_a_clear_error() {
    let e = apply_defaults_from(&mut options(), OtelOptions::default(), &env(&[])).unwrap_err();
    assert!(matches!(e, OtelError::NoRuntime), "{e}");
    assert!(e.to_string().contains("configure callback"), "{e}");
}

#[tokio::test]
async fn bad_headers_name_the_option() {
    let e = apply_defaults_from(
        &mut options(),
        OtelOptions::default().header("bad header", "v"),
        &env(&[]),
    )
    .unwrap_err();
    assert!(matches!(e, OtelError::Invalid { .. }), "{e}");
    assert!(e.to_string().contains("`bad header`"), "{e}");
}

#[tokio::test]
async fn apply_defaults_wires_client_metrics_and_one_flush_hook() {
    let mut o = options();
    assert!(o.connection_options.metrics_meter.is_none());
    apply_defaults_from(&mut o, OtelOptions::default(), &env(&[])).unwrap();
    assert!(o.connection_options.metrics_meter.is_some());
    assert!(format!("{o:?}").contains("shutdown_hooks: 1"), "{o:?}");
}

#[test]
fn a_malformed_endpoint_is_an_error_naming_its_source() {
    for bad in [
        "collector:4317",
        "not a url",
        "grpc://collector:4317",
        "http://",
    ] {
        let r = OtelOptions::default().resolve(&env(&[("OTEL_EXPORTER_OTLP_ENDPOINT", bad)]));
        let message = r.check_endpoint().expect_err(bad).to_string();
        assert!(
            message.starts_with("environment variable OTEL_EXPORTER_OTLP_ENDPOINT: ")
                && message.contains(&format!("`{bad}` is not an http(s) URL")),
            "{message}"
        );
    }
    let r = OtelOptions::default().endpoint("nope").resolve(&env(&[]));
    let message = r.check_endpoint().expect_err("nope").to_string();
    assert!(message.starts_with("OtelOptions::endpoint: "), "{message}");
    for good in ["http://localhost:4317", "https://otel.example.com"] {
        let r = OtelOptions::default().endpoint(good).resolve(&env(&[]));
        assert!(r.check_endpoint().is_ok(), "{good}");
    }
}

#[test]
fn debug_output_shows_header_names_only() {
    let options = OtelOptions::default()
        .endpoint("http://127.0.0.1:4317")
        .header("authorization", "Bearer collector-secret");
    let shown = format!("{options:?}");
    assert!(
        shown.contains("authorization") && shown.contains("127.0.0.1:4317"),
        "{shown}"
    );
    assert!(!shown.contains("collector-secret"), "{shown}");
}
