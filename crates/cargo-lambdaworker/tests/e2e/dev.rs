//! `new`, the starter project's own test, and `dev --watch` as a user runs them.

use std::{
    process::Command,
    time::{Duration, Instant},
};

use crate::{
    common::{self, target_dir},
    support::{NAME, alive, descendants, dev_address, greet, new_project, ok, start_dev},
};

#[test]
fn new_and_dev_watch_as_a_user_runs_them() {
    common::yield_cpu();
    let parent = tempfile::tempdir().expect("temp dir");
    let dir = new_project(parent.path());
    // The starter project builds and passes its own test.
    let mut test = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    test.arg("test")
        .current_dir(&dir)
        .env("CARGO_TARGET_DIR", target_dir());
    let out = ok(test, "cargo test in the new project");
    assert!(out.contains("greets_by_name ... ok"), "{out}");

    let mut dev = start_dev(&dir);
    let address = dev_address(&dev);
    let first = greet(&address, "e2e-1");
    assert!(first.contains("Hello, World!"), "{first}");
    dev.out.wait_for(
        &format!("invocation {NAME}:1 cold"),
        Duration::from_secs(60),
    );
    // The start hint names the task queue and the type the function reported registering.
    dev.out.wait_for(
        &format!("--task-queue {NAME} --type Greeting --input"),
        Duration::from_secs(10),
    );

    // --watch: an edit is rebuilt and becomes the current version.
    let lib = dir.join("src/lib.rs");
    let text = std::fs::read_to_string(&lib).expect("lib.rs");
    std::fs::write(&lib, text.replace("Hello, {name}!", "Howdy, {name}!")).expect("edit");
    dev.err
        .wait_for(&format!("version {NAME}/build-2"), Duration::from_secs(600));
    let second = greet(&address, "e2e-2");
    assert!(second.contains("Howdy, World!"), "{second}");

    // Ctrl-C: the accounting, and nothing left running.
    let pid = dev.child.id();
    let children = descendants(pid);
    assert!(!children.is_empty(), "dev started no process?");
    let status = dev.interrupt();
    assert!(status.success(), "{status}\n{}", dev.err.all());
    dev.out.wait_for("invocations", Duration::from_secs(5));
    let report = dev.out.all();
    assert!(
        report.contains(&format!("{NAME}:1")) && report.contains(&format!("{NAME}:2")),
        "{report}"
    );
    let until = Instant::now() + Duration::from_secs(10);
    while children.iter().any(|p| alive(*p)) {
        assert!(
            Instant::now() < until,
            "left running: {:?}",
            children.iter().filter(|p| alive(**p)).collect::<Vec<_>>()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}
