//! The error's diagnostics, chain and errorType names.

use super::*;

/// One error of each variant.
fn one_of_each() -> Vec<Error> {
    let sources = lw_config::Sources::default();
    let attempt = crate::connect_error::Attempt {
        address: "http://h:7233/".into(),
        tls_on: false,
        namespace: "default",
        sources: &sources,
    };
    vec![
        Error::Config(lw_config::ConfigError::Invalid {
            origin: "test".into(),
            message: "x".into(),
        }),
        Error::Options(lw_options::OptionsError::NothingRegistered),
        Error::Configure("x".into()),
        Error::ConfigureTimeout {
            budget: Duration::ZERO,
        },
        Error::VersionMismatch {
            environment: vec![],
            deployment_name: String::new(),
            build_id: String::new(),
        },
        Error::TaskQueueMismatch {
            value: String::new(),
            task_queue: String::new(),
        },
        Error::Runtime("x".into()),
        Error::NotInLambda { missing: vec![] },
        Error::BadLambdaVariable {
            name: "V",
            value: String::new(),
            expected: "x",
        },
        Error::RuntimeApi {
            api: String::new(),
            reason: String::new(),
        },
        Error::ShuttingDown,
        Error::NotEnoughTime {
            remaining: Duration::ZERO,
            buffer: Duration::ZERO,
            work: Duration::ZERO,
        },
        Error::ConnectTimeout {
            address: String::new(),
            address_source: String::new(),
            window: Duration::ZERO,
        },
        crate::connect_error::failed(&attempt, "x".into()),
        Error::TaskQueueRejected {
            task_queue: String::new(),
            namespace: String::new(),
            code: temporalio_client::tonic::Code::NotFound,
            reason: String::new(),
        },
        Error::InvocationConfigure("x".into()),
        Error::InvocationConfigureTimeout {
            took: Duration::ZERO,
        },
        Error::InvocationOptions(lw_options::OptionsError::NothingRegistered),
        Error::WorkerStart("x".into()),
        Error::WorkerRun("x".into()),
        Error::WorkerStopped,
        Error::Panicked {
            reason: String::new(),
        },
        Error::Lambda("x".into()),
    ]
}

/// The variant names declared in `pub enum Error`, read from this file's source.
fn declared_variants() -> Vec<String> {
    let source = include_str!("mod.rs");
    let body = source
        .split_once("pub enum Error {\n")
        .and_then(|(_, rest)| rest.split_once("\n}\n"))
        .map(|(body, _)| body)
        .unwrap_or_default();
    body.lines()
        .filter_map(|l| l.strip_prefix("    "))
        .filter(|l| l.starts_with(|c: char| c.is_ascii_uppercase()))
        .map(|l| {
            l.split(['(', ' ', ',', '{'])
                .next()
                .unwrap_or_default()
                .to_owned()
        })
        .collect()
}

#[test]
fn the_error_type_is_the_variant_name_for_every_variant() {
    let declared = declared_variants();
    assert!(declared.len() > 10, "{declared:?}");
    let kinds: Vec<&str> = one_of_each().iter().map(Error::kind).collect();
    assert_eq!(
        kinds, declared,
        "one error of each variant, in declaration order"
    );
}

#[test]
fn errors_become_diagnostics_named_after_the_variant() {
    for e in one_of_each() {
        let kind = e.kind();
        let message = e.message();
        let d: lambda_runtime::Diagnostic = e.into();
        assert_eq!(d.error_type, kind);
        assert_eq!(d.error_message, message);
    }
}

#[test]
fn the_chain_joins_causes_without_repeating_them() {
    #[derive(Debug, thiserror::Error)]
    #[error("outer: {0}")]
    struct Repeats(#[source] std::io::Error);
    let e = Repeats(std::io::Error::other("inner"));
    assert_eq!(error_chain(&e), "outer: inner");
    let e = Error::WorkerRun(Box::new(std::io::Error::other("poll failed")));
    assert_eq!(
        error_chain(&e),
        "the worker failed while polling: poll failed"
    );
}
