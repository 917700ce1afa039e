//! The burst's flags and scenario selection.

use super::*;

#[test]
fn burst_flags_take_their_values_and_refuse_bad_ones_by_name() {
    let mut b = BurstArgs::default();
    b.set("--workflows", Some("50")).unwrap();
    b.set("--per-instance", Some("4")).unwrap();
    b.set("--idle-exit", Some("2s")).unwrap();
    b.set("--only", Some("python")).unwrap();
    b.set("--server-setting", Some("a.b=false")).unwrap();
    assert_eq!(b.server_settings, ["a.b=false"]);
    assert!(command_line(&b).ends_with(" --server-setting a.b=false"));
    assert_eq!((b.workflows, b.per_instance), (50, 4));
    assert_eq!(
        (b.idle_exit.as_str(), b.only.as_deref()),
        ("2s", Some("python"))
    );
    for (flag, value, says) in [
        (
            "--workflows",
            Some("0"),
            "--workflows takes a number (at least 1)",
        ),
        ("--runs", Some("x"), "--runs takes a number"),
        ("--per-instance", Some("1601"), "from 1 to 1600"),
        (
            "--idle-exit",
            Some("5"),
            "--idle-exit takes a duration such as 500ms",
        ),
        ("--only", None, "--only takes a value"),
        (
            "--server-setting",
            Some("=true"),
            "--server-setting takes KEY=VALUE",
        ),
    ] {
        let e = b.set(flag, value).unwrap_err();
        assert!(e.contains(says), "{flag} {value:?}: {e}");
    }
}

#[test]
fn only_keeps_idle_exit_pairs_that_are_both_kept() {
    let scenario = |label: &str, without_idle_exit| runner::Scenario {
        label: label.into(),
        program: "p".into(),
        task_root: None,
        per_instance: 1,
        env: Vec::new(),
        without_idle_exit,
    };
    let all = vec![
        scenario("python", None),
        scenario("rust", None),
        scenario("rust, idle exit 500ms", Some(1)),
    ];
    let kept = select(all.clone(), "rust").unwrap();
    assert_eq!(kept.len(), 2);
    assert_eq!(kept[1].without_idle_exit, Some(0));
    let kept = select(all.clone(), "idle").unwrap();
    assert_eq!(
        kept[0].without_idle_exit, None,
        "its counterpart is not run"
    );
    let e = select(all, "java").unwrap_err();
    assert!(e.contains("--only java"), "{e}");
}
