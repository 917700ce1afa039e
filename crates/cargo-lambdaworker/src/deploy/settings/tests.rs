//! Deploy settings from metadata and flags, and their refusals.

use serde_json::Value;

use super::*;

fn project(metadata: Value) -> Project {
    Project {
        workspace_root: "/w".into(),
        target_dir: "/w/target".into(),
        package: "orders".into(),
        package_dir: "/w".into(),
        package_manifest: "/w/Cargo.toml".into(),
        version: "0.1.0".into(),
        metadata,
        name: "orders".into(),
        example: false,
    }
}

const ROLE: &str = "arn:aws:iam::123456789012:role/temporal-invoker";
/// An ExternalId long enough for deploy (16 characters or more).
const ID: &str = "ext-0123456789abcdef";
const PROVIDER: &str = "arn:aws:lambda:us-east-1:123456789012:capacity-provider:workers";

#[test]
fn managed_instances_from_metadata_or_flags() {
    let meta = serde_json::json!({"lambdaworker": {
        "invoke-role": ROLE, "external-id": ID, "capacity-provider": PROVIDER,
        "per-instance-concurrency": 8}});
    let s = Settings::resolve(&project(meta.clone()), Flags::default()).unwrap();
    let expected = ManagedInstances {
        capacity_provider: PROVIDER.into(),
        per_instance_concurrency: Some(8),
    };
    assert_eq!(s.managed_instances.as_ref(), Some(&expected));
    let flags = Flags {
        per_instance_concurrency: Some(4),
        ..Flags::default()
    };
    let s = Settings::resolve(&project(meta), flags).unwrap();
    assert_eq!(
        s.managed_instances.and_then(|m| m.per_instance_concurrency),
        Some(4)
    );
    let plain = serde_json::json!({"lambdaworker": {"invoke-role": ROLE, "external-id": ID}});
    let s = Settings::resolve(&project(plain), Flags::default()).unwrap();
    assert_eq!(s.managed_instances, None);
}

#[test]
fn flags_win_over_metadata_and_names_default_to_the_binary() {
    let meta = serde_json::json!({"lambdaworker": {
        "invoke-role": ROLE, "external-id": "from-meta-0123456789", "memory": 512,
        "env": {"A": "meta", "B": "meta"}, "include": ["temporal.toml"]}});
    let flags = Flags {
        function: FunctionFlags {
            external_id: Some("from-flag-0123456789".into()),
            ..FunctionFlags::default()
        },
        env: vec![("A".into(), "flag".into())],
        ..Flags::default()
    };
    let s = Settings::resolve(&project(meta), flags).unwrap();
    assert_eq!(s.external_id, "from-flag-0123456789");
    assert_eq!(s.invoke_role, ROLE);
    assert_eq!(s.memory_mb, Some(512));
    assert_eq!(s.function, "orders");
    assert_eq!(s.deployment, "orders");
    assert!(s.env.contains(&("A".into(), "flag".into())));
    assert!(s.env.contains(&("B".into(), "meta".into())));
    assert_eq!(
        s.includes,
        [(
            PathBuf::from("/w/temporal.toml"),
            "temporal.toml".to_owned()
        )]
    );
}

#[test]
fn each_refusal_names_the_flag_and_the_metadata_key() {
    let cases = [
        (
            serde_json::json!({}),
            "set --invoke-role ARN or `invoke-role` in [package.metadata.lambdaworker] of /w/Cargo.toml",
        ),
        (
            serde_json::json!({"lambdaworker": {"invoke-role": ROLE}}),
            "set --external-id ID or `external-id`",
        ),
        (
            serde_json::json!({"lambdaworker": {"invoke-role": "temporal-invoker", "external-id": ID}}),
            "give --invoke-role (or `invoke-role` in",
        ),
        (
            serde_json::json!({"lambdaworker": {"invoke-role": ROLE, "external-id": "has space"}}),
            "give --external-id",
        ),
        (
            serde_json::json!({"lambdaworker": {"invoke-role": ROLE, "external-id": ID, "memory": 64}}),
            "set --memory or `memory` in",
        ),
        (
            serde_json::json!({"lambdaworker": {"invoke-role": ROLE, "external-id": ID, "timeout": "long"}}),
            "make `timeout` in",
        ),
        (
            serde_json::json!({"lambdaworker": {"invoke-role": ROLE, "external-id": ID, "env": {"LW_BUILD_ID": "x"}}}),
            "remove LW_BUILD_ID",
        ),
        (
            serde_json::json!({"lambdaworker": {"invoke-role": ROLE, "external-id": ID, "arch": "sparc"}}),
            "make `arch` in [package.metadata.lambdaworker] of /w/Cargo.toml x86_64 or arm64, not `\"sparc\"`",
        ),
        (
            serde_json::json!({"lambdaworker": {"invoke-role": ROLE, "external-id": ID, "include": ["certs", 3]}}),
            "make `include[1]` in [package.metadata.lambdaworker] of /w/Cargo.toml a file or folder",
        ),
        (
            serde_json::json!({"lambdaworker": {"invoke-role": ROLE, "external-id": ID, "include": ["certs="]}}),
            "make `include[0]` in [package.metadata.lambdaworker] of /w/Cargo.toml a file or folder, as PATH or PATH=ARCHIVE_PATH, not `\"certs=\"`",
        ),
        (
            serde_json::json!({"lambdaworker": {"invoke-role": ROLE, "external-id": ID, "include": ["certs", "x=../../f"]}}),
            "write `x=f` instead of `x=../../f` in `include[1]` in [package.metadata.lambdaworker] of /w/Cargo.toml: its archive path climbs out of the zip's root",
        ),
        (
            serde_json::json!({"lambdaworker": {"invoke-role": ROLE, "external-id": ID, "include": ["x=./bootstrap"]}}),
            "write `x=files/bootstrap` instead of `x=./bootstrap` in `include[0]` in [package.metadata.lambdaworker] of /w/Cargo.toml: its archive path is `bootstrap`, the binary's place",
        ),
        (
            serde_json::json!({"lambdaworker": {"invoke-role": ROLE, "external-id": ID, "per-instance-concurrency": 8}}),
            "set --capacity-provider ARN or `capacity-provider` in",
        ),
        (
            serde_json::json!({"lambdaworker": {"invoke-role": ROLE, "external-id": ID, "capacity-provider": "workers"}}),
            "give --capacity-provider (or `capacity-provider` in",
        ),
        (
            serde_json::json!({"lambdaworker": {"invoke-role": ROLE, "external-id": ID,
                "capacity-provider": PROVIDER, "per-instance-concurrency": 0}}),
            "set --per-instance-concurrency or `per-instance-concurrency` in",
        ),
    ];
    for (meta, expected) in cases {
        let e = Settings::resolve(&project(meta.clone()), Flags::default())
            .expect_err(&meta.to_string())
            .to_string();
        assert!(e.contains(expected), "{meta}: {e}");
    }
}

#[test]
fn the_rollout_flags_parse_into_a_rollout() {
    use clap::{Args, FromArgMatches};
    let parse = |args: &[&str]| {
        let command = Flags::augment_args(clap::Command::new("deploy").no_binary_name(true));
        let matches = command.try_get_matches_from(args)?;
        Flags::from_arg_matches(&matches).map(|f| f.rollout)
    };
    assert_eq!(parse(&[]).unwrap(), Rollout::Register);
    assert_eq!(parse(&["--current"]).unwrap(), Rollout::Current);
    assert_eq!(parse(&["--ramp", "25"]).unwrap(), Rollout::Ramp(25.0));
    assert!(parse(&["--current", "--ramp", "25"]).is_err());
    let e = Settings::resolve(
        &project(serde_json::json!({"lambdaworker": {"invoke-role": ROLE, "external-id": ID}})),
        Flags {
            rollout: Rollout::Ramp(150.0),
            ..Flags::default()
        },
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "give --ramp a percentage between 0 and 100, not 150"
    );
}

#[test]
fn deploy_refuses_an_external_id_under_16_characters_naming_its_source() {
    let with_id =
        |id: &str| serde_json::json!({"lambdaworker": {"invoke-role": ROLE, "external-id": id}});
    let short = "a".repeat(15);
    let e = Settings::resolve(&project(with_id(&short)), Flags::default()).unwrap_err();
    assert!(
        matches!(
            e,
            Error::ExternalIdTooShort {
                len: 15,
                min: 16,
                ..
            }
        ),
        "{e}"
    );
    let e = e.to_string();
    assert!(
        e.starts_with("run `cargo lambdaworker policies` to generate"),
        "{e}"
    );
    assert!(
        e.contains("set it as `external-id` in [package.metadata.lambdaworker] of /w/Cargo.toml"),
        "{e}"
    );
    assert!(e.contains("other Temporal Cloud tenants"), "{e}");
    let flags = Flags {
        function: FunctionFlags {
            external_id: Some(short.clone()),
            ..FunctionFlags::default()
        },
        ..Flags::default()
    };
    let e = Settings::resolve(&project(with_id(ID)), flags)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("set it as --external-id: the ExternalId set there now has 15"),
        "{e}"
    );
    let ok = "a".repeat(16);
    let s = Settings::resolve(&project(with_id(&ok)), Flags::default()).unwrap();
    assert_eq!(s.external_id, ok);
}

#[test]
fn policies_need_no_settings_and_replace_a_short_external_id() {
    let s =
        PolicySubject::resolve(&project(serde_json::json!({})), FunctionFlags::default()).unwrap();
    assert_eq!(s.new_external_id, Some(NewExternalId::Missing));
    assert_eq!((s.invoke_role, s.execution_role), (None, None));
    assert!(s.external_id.len() >= 32, "{}", s.external_id);
    assert!(s.in_metadata.is_empty());
    let meta = serde_json::json!({"lambdaworker": {"invoke-role": ROLE, "external-id": "short"}});
    let s = PolicySubject::resolve(&project(meta), FunctionFlags::default()).unwrap();
    assert_eq!(s.new_external_id, Some(NewExternalId::TooShort(5)));
    assert_eq!(s.invoke_role.as_deref(), Some(ROLE));
    assert_eq!(s.in_metadata, ["invoke-role", "external-id"]);
    let meta = serde_json::json!({"lambdaworker": {"invoke-role": ROLE, "external-id": ID}});
    let s = PolicySubject::resolve(&project(meta), FunctionFlags::default()).unwrap();
    assert_eq!((s.external_id.as_str(), s.new_external_id), (ID, None));
}
