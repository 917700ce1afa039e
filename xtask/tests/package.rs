//! `cargo xtask package` end to end: the zip is built (with `--profile dev`: the suite's release
//! build, its LTO and its 8 MiB budget are `cargo lambdaworker package`'s test in
//! crates/cargo-lambdaworker/tests/e2e.rs, through the same library), unpacked into a fresh
//! folder and run from there, as Lambda runs it.

use std::{io::Read, path::Path, process::Command, time::Duration};

mod common;
use common::yield_cpu;
use lw_testkit::{DevServer, FunctionSpec, LocalFunction, unique};
use serde_json::json;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap()
}

fn xtask(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(args)
        .current_dir(root())
        .output()
        .unwrap()
}

fn unzip(zip: &[u8], into: &Path) -> Vec<(String, Option<u32>)> {
    let mut z = zip::ZipArchive::new(std::io::Cursor::new(zip)).unwrap();
    let mut seen = Vec::new();
    for i in 0..z.len() {
        let mut f = z.by_index(i).unwrap();
        let name = f.name().unwrap().into_owned();
        let path = into.join(&name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let mut bytes = Vec::new();
        f.read_to_end(&mut bytes).unwrap();
        std::fs::write(&path, bytes).unwrap();
        if let Some(mode) = f.unix_mode() {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode & 0o777)).unwrap();
        }
        seen.push((name, f.unix_mode()));
    }
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_greeting_zip_runs_from_a_fresh_folder_and_rebuilds_identically() {
    yield_cpu();
    let server = DevServer::shared().unwrap();
    let src = tempfile::tempdir().unwrap();
    std::fs::write(
        src.path().join("temporal.toml"),
        format!(
            "[profile.default]\naddress = \"{}\"\nnamespace = \"default\"\n",
            server.address
        ),
    )
    .unwrap();
    let include = format!("{}", src.path().join("temporal.toml").display());
    let args = [
        "package",
        "--bin",
        "greeting",
        "--include",
        &include,
        "--profile",
        "dev",
        "--max-size",
        "100",
    ];
    let out = xtask(&args);
    let report = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{report}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    println!("{report}");
    let zip_path = root().join("target/lambda/greeting/bootstrap.zip");
    let first = std::fs::read(&zip_path).unwrap();

    // Layout and modes.
    let dir = tempfile::tempdir().unwrap();
    let entries = unzip(&first, dir.path());
    assert_eq!(
        entries,
        [
            ("bootstrap".to_owned(), Some(0o100755)),
            ("temporal.toml".to_owned(), Some(0o100644)),
        ]
    );

    // Run it as Lambda would: from the unpacked folder, LAMBDA_TASK_ROOT set, the address
    // only in the bundled temporal.toml.
    let (tq, deployment) = (unique("tq"), unique("dep"));
    server.set_current_version(&deployment, "b1").unwrap();
    let mut spec = FunctionSpec::new(dir.path().join("bootstrap"), "greeting")
        .timeout(Duration::from_secs(10))
        .env("TEMPORAL_TASK_QUEUE", tq.clone())
        .env("LW_DEPLOYMENT_NAME", deployment)
        .env("LW_BUILD_ID", "b1");
    spec.task_root = Some(dir.path().to_path_buf());
    let function = LocalFunction::new(spec).await.unwrap();
    let id = unique("wf");
    server
        .start_workflow(&tq, "Greeting", &id, &json!("Zip"))
        .unwrap();
    let r = function.invoke(json!({})).await.unwrap();
    assert!(
        r.response().is_some(),
        "{:?}\n{}",
        r.outcome,
        function.logs()
    );
    assert_eq!(server.result(&id).unwrap(), Some(json!("Hello, Zip!")));

    // Reproducible: the same inputs give the same bytes.
    let out = xtask(&args);
    assert!(out.status.success());
    assert_eq!(
        std::fs::read(&zip_path).unwrap(),
        first,
        "zip bytes differ on rebuild"
    );
}

#[test]
fn a_referenced_file_missing_from_the_package_is_refused_and_nothing_is_written() {
    let src = tempfile::tempdir().unwrap();
    let toml = src.path().join("temporal.toml");
    std::fs::write(
        &toml,
        "[profile.default]\naddress = \"h:7233\"\n[profile.default.tls]\n\
         client_cert_path = \"certs/client.pem\"\nclient_key_path = \"certs/client.key\"\n",
    )
    .unwrap();
    // A worker binary other than the one the other test packages (they run in parallel).
    let name = "greeting-faults";
    let zip_path = root().join(format!("target/lambda/{name}/bootstrap.zip"));
    let _ = std::fs::remove_file(&zip_path);
    let out = xtask(&[
        "package",
        "--bin",
        name,
        "--include",
        &toml.display().to_string(),
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("`profile.default.tls.client_cert_path` = `certs/client.pem`")
            && err.contains("/var/task/certs/client.pem, which is not in the package"),
        "{err}"
    );
    assert!(!zip_path.exists(), "a zip was written despite the refusal");
}
