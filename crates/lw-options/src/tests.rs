#![allow(dead_code)] // the #[activities] macro generates constants only tests read
use super::*;
use std::time::Duration;
use temporalio_macros::{activities, workflow, workflow_methods};
use temporalio_sdk::{
    WorkflowContext, WorkflowResult,
    activities::{ActivityContext, ActivityError},
    runtime::PollerBehavior,
    runtime::worker_tuner::{SlotSupplier, WorkerTuner},
};

#[workflow]
#[derive(Default)]
struct Alpha;
#[workflow_methods]
impl Alpha {
    #[run]
    async fn run(_ctx: &mut WorkflowContext<Self>, name: String) -> WorkflowResult<String> {
        Ok(name)
    }
}

#[workflow]
#[derive(Default)]
struct Beta;
#[workflow_methods]
impl Beta {
    #[run]
    async fn run(_ctx: &mut WorkflowContext<Self>, name: String) -> WorkflowResult<String> {
        Ok(name)
    }
}

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

fn opts() -> Options {
    let cfg = lw_config::ClientConfig::load_from(&Default::default()).unwrap();
    let mut o = Options::from_config(version("app", "b1"), &cfg, Some("q".into())).unwrap();
    o.task_queue = "q".into();
    o
}

fn slots(t: &WorkerTuner) -> [usize; 4] {
    let WorkerTuner::TunerHolder(h) = t else {
        panic!("fixed tuner expected")
    };
    let n = |s: &SlotSupplier| match s {
        SlotSupplier::FixedSize(f) => f.num_slots,
        _ => panic!("fixed"),
    };
    [
        n(&h.workflow_task_slot_supplier),
        n(&h.activity_task_slot_supplier),
        n(&h.local_activity_task_slot_supplier),
        n(&h.nexus_task_slot_supplier),
    ]
}

#[test]
fn lambda_defaults_are_applied() {
    let mut o = opts();
    o.register_workflow_with_options::<Alpha>(RegisterOptions::versioning_behavior(
        VersioningBehavior::AutoUpgrade,
    ))
    .unwrap();
    o.register_activities(Acts);
    let v = o.validate().unwrap();
    let wo = v.worker_options(Some("rid@arn"));
    assert_eq!(slots(&wo.tuner), [10, 2, 2, 5]);
    assert_eq!(
        wo.workflow_task_poller_behavior,
        Some(PollerBehavior::SimpleMaximum(2))
    );
    assert_eq!(
        wo.activity_task_poller_behavior,
        Some(PollerBehavior::SimpleMaximum(1))
    );
    assert_eq!(
        wo.nexus_task_poller_behavior,
        Some(PollerBehavior::SimpleMaximum(1))
    );
    assert_eq!(wo.max_cached_workflows, 100);
    assert_eq!(
        wo.sticky_queue_schedule_to_start_timeout,
        Duration::from_secs(2)
    );
    assert_eq!(wo.graceful_shutdown_period, Some(Duration::from_secs(5)));
    assert_eq!(wo.max_eager_activity_reservations_per_workflow_task, 0);
    assert_eq!(v.shutdown_deadline_buffer(), Duration::from_secs(7));
    assert!(wo.deployment_options.use_worker_versioning);
    assert_eq!(wo.deployment_options.version, version("app", "b1"));
    assert_eq!(
        wo.deployment_options.default_versioning_behavior,
        Some(VersioningBehavior::AutoUpgrade)
    );
    assert_eq!(wo.client_identity_override.as_deref(), Some("rid@arn"));
    assert_eq!(wo.task_queue, "q");
    assert!(wo.to_core_options("ns".into(), String::new()).is_ok());
}

#[test]
fn user_overrides_win_and_eager_stays_off() {
    let mut o = opts();
    o.task_queue = "custom".into();
    o.client_options.namespace = "ns2".into();
    o.worker_options.tuner = crate::defaults::SlotLimits {
        activities: 7,
        workflow_tasks: 3,
        ..Default::default()
    }
    .into();
    o.worker_options.activity_task_poller_behavior = Some(PollerBehavior::SimpleMaximum(4));
    o.worker_options
        .max_eager_activity_reservations_per_workflow_task = 3;
    o.worker_options.max_heartbeat_throttle_interval = Duration::from_secs(9);
    o.worker_options.task_queue = "ignored".into();
    o.default_versioning_behavior = Some(VersioningBehavior::Pinned);
    o.register_workflow::<Alpha>().unwrap();
    let v = o.validate().unwrap();
    let wo = v.worker_options(None);
    assert_eq!(slots(&wo.tuner), [3, 7, 2, 5]);
    assert_eq!(
        wo.activity_task_poller_behavior,
        Some(PollerBehavior::SimpleMaximum(4))
    );
    assert_eq!(wo.task_queue, "custom");
    assert_eq!(v.client_options().namespace, "ns2");
    assert_eq!(wo.max_eager_activity_reservations_per_workflow_task, 0);
    assert_eq!(wo.max_heartbeat_throttle_interval, Duration::from_secs(9));
    assert_eq!(v.versioning_behavior(), Some(VersioningBehavior::Pinned));
}

#[test]
fn buffer_is_derived_only_when_unset() {
    let mut o = opts();
    o.register_activities(Acts);
    o.worker_options.graceful_shutdown_period = Some(Duration::from_secs(10));
    assert_eq!(
        o.validate().unwrap().shutdown_deadline_buffer(),
        Duration::from_secs(12)
    );

    // An explicit buffer equal to the default (7 s) stays 7 s, whatever the stop timeout.
    let mut o = opts();
    o.register_activities(Acts);
    o.worker_options.graceful_shutdown_period = Some(Duration::from_secs(6));
    o.shutdown_deadline_buffer = Some(Duration::from_secs(7));
    let v = o.validate().unwrap();
    assert_eq!(v.shutdown_deadline_buffer(), Duration::from_secs(7));
    assert_eq!(v.stop_timeout(), Duration::from_secs(6));

    let mut o = opts();
    o.register_activities(Acts);
    o.shutdown_deadline_buffer = Some(Duration::from_secs(5));
    assert_eq!(
        o.validate().unwrap().shutdown_deadline_buffer(),
        Duration::from_secs(5)
    );
}

#[test]
fn a_buffer_shorter_than_the_stop_timeout_names_both() {
    let mut o = opts();
    o.register_activities(Acts);
    o.worker_options.graceful_shutdown_period = Some(Duration::from_secs(10));
    o.shutdown_deadline_buffer = Some(Duration::from_secs(7));
    let e = o.validate().unwrap_err();
    assert!(
        matches!(e, OptionsError::BufferShorterThanStopTimeout { .. }),
        "{e}"
    );
    let m = e.to_string();
    assert!(m.starts_with("raise opts.shutdown_deadline_buffer"), "{m}");
    assert!(m.contains("(7s)") && m.contains("(10s)"), "{m}");
    assert!(m.contains("graceful_shutdown_period"), "{m}");

    let mut o = opts();
    o.register_activities(Acts);
    o.worker_options.graceful_shutdown_period = None;
    let e = o.validate().unwrap_err();
    assert!(
        e.to_string()
            .contains("graceful_shutdown_period must be set"),
        "{e}"
    );
}

#[test]
fn identity_rules() {
    let mut o = opts();
    o.register_activities(Acts);
    let v = o.validate().unwrap();
    assert_eq!(
        v.identity(Some(("r1", "arn:x"))).as_deref(),
        Some("r1@arn:x")
    );
    assert_eq!(
        v.identity(Some(("", ""))).as_deref(),
        Some("unknown@unknown")
    );
    assert_eq!(v.identity(None), None);
    assert_eq!(v.connection_options(Some("r1@arn:x")).identity, "r1@arn:x");

    let mut o = opts();
    o.register_activities(Acts);
    o.worker_options.client_identity_override = Some("mine".into());
    let v = o.validate().unwrap();
    assert_eq!(v.identity(Some(("r1", "arn"))).as_deref(), Some("mine"));
}

#[test]
fn versioning_is_checked() {
    let mut o = opts();
    o.register_workflow::<Alpha>().unwrap();
    let e = o.validate().unwrap_err();
    assert!(matches!(e, OptionsError::UnspecifiedBehavior { .. }), "{e}");
    assert!(e.to_string().contains("Alpha"), "{e}");

    let mut o = opts();
    o.register_workflow_with_options::<Alpha>(RegisterOptions::versioning_behavior(
        VersioningBehavior::Unspecified,
    ))
    .unwrap();
    assert!(matches!(
        o.validate(),
        Err(OptionsError::UnspecifiedBehavior { .. })
    ));

    let mut o = opts();
    o.register_workflow_with_options::<Alpha>(RegisterOptions::versioning_behavior(
        VersioningBehavior::Pinned,
    ))
    .unwrap();
    o.register_workflow_with_options::<Beta>(RegisterOptions::versioning_behavior(
        VersioningBehavior::AutoUpgrade,
    ))
    .unwrap();
    let e = o.validate().unwrap_err();
    assert!(matches!(e, OptionsError::MixedBehaviors { .. }), "{e}");
    assert!(e.to_string().contains("split"), "{e}");

    let mut o = opts();
    o.default_versioning_behavior = Some(VersioningBehavior::AutoUpgrade);
    o.register_workflow::<Alpha>().unwrap();
    o.register_workflow_with_options::<Beta>(RegisterOptions::versioning_behavior(
        VersioningBehavior::AutoUpgrade,
    ))
    .unwrap();
    assert!(o.validate().is_ok());
}

#[test]
fn fatal_init_errors() {
    let mut o = opts();
    o.register_activities(Acts);
    o.task_queue = " ".into();
    assert!(matches!(o.validate(), Err(OptionsError::MissingTaskQueue)));

    let mut o = opts();
    o.register_activities(Acts);
    o.deployment_version = version("app", "");
    let e = o.validate().unwrap_err();
    assert!(matches!(e, OptionsError::BlankVersion { .. }), "{e}");

    let o = opts();
    assert!(matches!(o.validate(), Err(OptionsError::NothingRegistered)));

    let mut o = opts();
    o.register_activities(Acts);
    o.worker_options.workflow_task_poller_behavior = Some(PollerBehavior::SimpleMaximum(1));
    assert!(matches!(
        o.validate(),
        Err(OptionsError::InvalidLimit {
            field: "workflow_task_poller_behavior",
            ..
        })
    ));

    let mut o = opts();
    o.register_activities(Acts);
    o.worker_options.tuner = crate::defaults::SlotLimits {
        activities: 0,
        ..Default::default()
    }
    .into();
    let e = o.validate().unwrap_err();
    assert_eq!(
        e.to_string(),
        "opts.worker_options.tuner (activity_task_slot_supplier) must give at least 1 slot"
    );

    let e = parse_idle_exit("soon", "LAMBDAWORKER_IDLE_EXIT").unwrap_err();
    assert!(
        e.to_string()
            .starts_with("LAMBDAWORKER_IDLE_EXIT is \"soon\""),
        "{e}"
    );
    // Every form the message suggests is accepted.
    for suggested in ["2s", "1.5s", "500ms", "1min", "off"] {
        assert!(parse_idle_exit(suggested, "X").is_ok(), "{suggested}");
    }

    let mut o = opts();
    o.default_versioning_behavior = Some(VersioningBehavior::Pinned);
    o.register_workflow::<Alpha>().unwrap();
    assert!(matches!(
        o.register_workflow::<Alpha>(),
        Err(OptionsError::Registration(_))
    ));
}

#[test]
fn report_warnings_serialise_to_the_stable_strings() {
    let mut r = InvocationReport::new("rid", true);
    r.warnings = vec![
        Warning::LittleWorkTime,
        Warning::StartHookPanicked,
        Warning::DrainError,
        Warning::ForcedStop,
        Warning::ShutdownRequested,
        Warning::NoDeadline,
    ];
    let line: serde_json::Value = serde_json::from_str(&r.to_json_line()).unwrap();
    assert_eq!(
        line["warnings"],
        serde_json::json!([
            "little_work_time",
            "start_hook_panicked",
            "drain_error",
            "forced_stop",
            "shutdown_requested",
            "no_deadline"
        ])
    );
    assert_eq!(line["lambdaworker"], "invocation");
}

#[test]
fn an_api_key_or_header_set_in_code_that_cannot_be_sent_is_refused() {
    let mut o = opts();
    o.connection_options.api_key = Some("s3cr3t\n".into());
    let Err(e) = o.validate() else {
        panic!("refused")
    };
    assert!(matches!(&e, OptionsError::UnsendableHeader { field } if field == "api_key"));
    assert!(
        e.to_string()
            .starts_with("opts.connection_options.api_key: holds characters")
            && !e.to_string().contains("s3cr3t"),
        "{e}"
    );

    let mut o = opts();
    o.connection_options.headers = Some(
        [("x-team".to_owned(), "caf\u{e9}".to_owned())]
            .into_iter()
            .collect(),
    );
    let Err(e) = o.validate() else {
        panic!("refused")
    };
    assert!(e.to_string().contains(r#"headers["x-team"]"#), "{e}");

    let mut o = opts();
    o.register_activities(Acts);
    o.connection_options.api_key = Some("key-123".into());
    o.validate().expect("a sendable key");
}

#[test]
fn an_invocation_config_debug_shows_no_secret() {
    use crate::{InvocationConfig, InvocationStart};
    let mut connection = temporalio_client::ConnectionOptions::new(
        temporalio_client::Url::parse("http://localhost:7233").unwrap(),
    )
    .build();
    connection.api_key = Some("sekrit-key".into());
    connection.headers = Some([("x-tenant-token".to_owned(), "sekrit-header".to_owned())].into());
    let start = InvocationStart::new("rid", "arn", None, tokio::time::Instant::now(), true);
    let config = InvocationConfig::new(
        start,
        serde_json::Value::Null,
        Some("me".into()),
        connection,
        temporalio_sdk::WorkerOptions::new("q").build(),
    );
    let shown = format!("{config:?}");
    assert!(shown.contains("rid") && shown.contains("me"), "{shown}");
    assert!(!shown.contains("sekrit"), "{shown}");
}
