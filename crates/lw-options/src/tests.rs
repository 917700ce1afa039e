#![allow(dead_code)] // the #[activities] macro generates constants only tests read
use super::*;
use temporalio_macros::{activities, workflow, workflow_methods};
use temporalio_sdk::{
    WorkflowContext, WorkflowResult,
    activities::{ActivityContext, ActivityError},
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
    o.worker.max_concurrent_activities = 7;
    o.worker.max_concurrent_workflow_tasks = 3;
    o.worker.activity_task_pollers = 4;
    o.default_versioning_behavior = Some(VersioningBehavior::Pinned);
    o.register_workflow::<Alpha>().unwrap();
    o.customize_worker(|w| {
        w.max_eager_activity_reservations_per_workflow_task = 3;
        w.max_heartbeat_throttle_interval = Duration::from_secs(9);
    });
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
fn buffer_follows_stop_timeout_unless_set() {
    let mut o = opts();
    o.register_activities(Acts);
    o.worker.stop_timeout = Duration::from_secs(10);
    assert_eq!(
        o.validate().unwrap().shutdown_deadline_buffer(),
        Duration::from_secs(12)
    );

    let mut o = opts();
    o.register_activities(Acts);
    o.worker.stop_timeout = Duration::from_secs(10);
    o.shutdown_deadline_buffer = Duration::from_secs(15);
    assert_eq!(
        o.validate().unwrap().shutdown_deadline_buffer(),
        Duration::from_secs(15)
    );

    let mut o = opts();
    o.register_activities(Acts);
    o.shutdown_deadline_buffer = Duration::from_secs(3);
    assert_eq!(
        o.validate().unwrap().shutdown_deadline_buffer(),
        Duration::from_secs(3)
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
    o.worker.identity = Some("mine".into());
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
    o.worker.workflow_task_pollers = 1;
    assert!(matches!(
        o.validate(),
        Err(OptionsError::InvalidLimit {
            field: "workflow_task_pollers",
            ..
        })
    ));

    let mut o = opts();
    o.default_versioning_behavior = Some(VersioningBehavior::Pinned);
    o.register_workflow::<Alpha>().unwrap();
    assert!(matches!(
        o.register_workflow::<Alpha>(),
        Err(OptionsError::Registration(_))
    ));
}
