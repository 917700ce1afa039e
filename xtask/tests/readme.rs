//! The README's "Your own worker", taken literally: a new Cargo project outside this workspace
//! made of exactly the README's `[dependencies]` and `src/main.rs` (with `lambdaworker`
//! pointed at this checkout, as crates.io would serve it), built, and run outside Lambda
//! against a dev server until a workflow started through the server completes.

use std::{
    path::Path,
    process::{Command, Stdio},
    time::Duration,
};

mod common;
use common::yield_cpu;
use lw_testkit::{DevServer, unique};
use serde_json::json;

/// The workspace's own dev profile, so the shared target directory reuses the dependencies
/// the workspace built instead of a second copy with full debug info (disk on CI is finite).
const SAME_PROFILE: &str = "\n[profile.dev]\ndebug = false\n";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap()
}

/// The body of the first fenced block whose opening line is `fence` and whose first line
/// starts with `first`.
fn block<'a>(readme: &'a str, fence: &str, first: &str) -> &'a str {
    let opening = format!("```{fence}\n");
    let mut rest = readme;
    while let Some(i) = rest.find(&opening) {
        let body = &rest[i + opening.len()..];
        let end = body.find("\n```").expect("a closed block");
        if body.starts_with(first) {
            return &body[..=end];
        }
        rest = &body[end..];
    }
    panic!("README.md has no ```{fence} block starting with {first:?}")
}

#[test]
fn the_readme_worker_builds_outside_the_workspace_and_serves_a_workflow() {
    yield_cpu();
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let dependencies = block(&readme, "toml", "[dependencies]");
    let main_rs = block(&readme, "rust,no_run", "");
    assert!(
        main_rs.contains("lambdaworker::run_worker(") && main_rs.contains(".await"),
        "the README's worker uses the async entry point"
    );

    let project = tempfile::tempdir().unwrap();
    let dir = project.path();
    std::fs::create_dir(dir.join("src")).unwrap();
    std::fs::write(dir.join("src/main.rs"), main_rs).unwrap();
    std::fs::write(
        dir.join("Cargo.toml"),
        format!(
            "[package]\nname = \"readme-worker\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n\
             [workspace]\n\n{dependencies}\n[patch.crates-io]\nlambdaworker = {{ path = {:?} }}\n{SAME_PROFILE}",
            root().join("crates/lambdaworker")
        ),
    )
    .unwrap();
    // The workspace's lock keeps the versions (and the compiled dependencies in the shared
    // target directory) the same; cargo adds the new project's own entry.
    std::fs::copy(root().join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| root().join("target"));
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let build = Command::new(&cargo)
        .args(["build", "--quiet"])
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", &target)
        .output()
        .unwrap();
    assert!(
        build.status.success(),
        "the README's project does not build:\n{}",
        String::from_utf8_lossy(&build.stderr)
    );

    // Outside Lambda the same binary is an ordinary worker.
    let server = DevServer::shared().unwrap();
    server.set_current_version("my-app", "build-1").unwrap();
    let mut worker = Command::new(target.join("debug/readme-worker"))
        .env("TEMPORAL_ADDRESS", &server.address)
        .env("TEMPORAL_CONFIG_FILE", "")
        .env_remove("AWS_LAMBDA_RUNTIME_API")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let id = unique("readme");
    server
        .start_workflow("my-task-queue", "Greeting", &id, &json!("README"))
        .unwrap();
    let result = server.wait_result(&id, Duration::from_secs(60));
    let _ = worker.kill();
    let _ = worker.wait();
    assert_eq!(result.unwrap(), json!("Hello, README!"));
}
