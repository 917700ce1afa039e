//! The README's quick start ("Your own worker in five minutes"), walked as written: its shell
//! block is read from README.md and each command is run as a user types it, in a fresh folder.
//! What a user's machine has that this one has not is stood in for: `cargo install` is this
//! build of the subcommand (the crate is not on a registry this machine reaches, so the new
//! project's `lambdaworker` is patched to this workspace), `$EDITOR temporal.toml` writes the
//! address of a dev server standing in for the Temporal Cloud namespace, "create the roles"
//! adds the invoke role to lw-local standing in for AWS, and the lines `policies` prints are
//! pasted where it says. A command the walk does not know fails the test, so a changed README
//! changes this walk with it.

use std::{
    path::{Path, PathBuf},
    process::Command,
    time::{Duration, Instant},
};

use lw_local::{DevServer, LocalLambda, RoleConfig};

use crate::{
    common::{self, target_dir, workspace},
    support::{BIN, Running, dev_address, modes, ok, patch_to_workspace, runs_under_the_emulator},
};

/// The README section the walk reads.
const SECTION: &str = "## Your own worker in five minutes";
/// The placeholder the README writes for the address `dev` prints.
const PRINTED_ADDRESS: &str = "<the printed address>";
/// Stands in for the user's AWS account in the ARNs `policies` prints.
const ACCOUNT_ID: &str = "000000000000";
/// The steps the issue asks the quick start to have; the walk fails if one goes missing.
const STEPS: [&str; 7] = [
    "install", "new", "dev", "execute", "package", "policies", "deploy",
];

/// The quick start's commands, as a shell reads them: continuation lines joined, comments
/// dropped, `&&` lists split into their commands.
fn commands(readme: &str) -> Vec<Vec<String>> {
    let (_, section) = readme.split_once(SECTION).expect("the quick start section");
    let (_, block) = section.split_once("```sh\n").expect("its shell block");
    let (block, _) = block.split_once("```").expect("the block's end");
    let placeholder = "LW_WALK_PRINTED_ADDRESS";
    block
        .replace("\\\n", " ")
        .replace(PRINTED_ADDRESS, placeholder)
        .lines()
        .flat_map(|line| {
            let words = shlex::split(line).unwrap_or_else(|| panic!("not shell: {line}"));
            words
                .split(|w| w == "&&")
                .filter(|c| !c.is_empty())
                .map(|c| {
                    c.iter()
                        .map(|w| w.replace(placeholder, PRINTED_ADDRESS))
                        .collect()
                })
                .collect::<Vec<Vec<String>>>()
        })
        .collect()
}

/// The walk's state: where the user is, what runs, what stands in for the cloud.
struct Walk {
    cwd: PathBuf,
    dev: Option<Running>,
    dev_address: Option<String>,
    /// The release builds' own target folder (`package`, then `deploy` reusing it).
    release_target: PathBuf,
    /// The project's release build, started in the background as soon as the project
    /// exists, so the walk's slowest step overlaps the dev loop (`package` then finds it
    /// built: the same profile, features and target folder).
    prebuild: Option<std::process::Child>,
    aws: LocalLambda,
    cloud: DevServer,
    done: Vec<&'static str>,
    /// Serves lw-local (its worker threads run it while the walk blocks on commands).
    _runtime: tokio::runtime::Runtime,
}

impl Walk {
    fn step(&mut self, cmd: &[String]) {
        let words: Vec<&str> = cmd.iter().map(String::as_str).collect();
        match words.as_slice() {
            ["cargo", "install", krate] => self.install(krate),
            ["cargo", "lambdaworker", sub, args @ ..] => self.subcommand(sub, args),
            ["cd", dir] => self.cwd = self.cwd.join(dir),
            ["temporal", args @ ..] => self.temporal(args),
            ["$EDITOR", file] => self.edit(file),
            other => panic!(
                "the README's quick start has a step this walk does not know: {other:?}; \
                 teach crates/cargo-lambdaworker/tests/e2e/quickstart.rs to walk it"
            ),
        }
    }

    fn install(&mut self, krate: &str) {
        assert_eq!(krate, env!("CARGO_PKG_NAME"), "the crate to install");
        assert!(Path::new(BIN).ends_with("cargo-lambdaworker"), "{BIN}");
        self.done.push("install");
    }

    /// `cargo lambdaworker <sub> <args>` as typed, in the current folder.
    fn command(&self, sub: &str, args: &[&str], target: &Path) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.arg("lambdaworker")
            .arg(sub)
            .args(args)
            .current_dir(&self.cwd)
            .env("CARGO_TARGET_DIR", target)
            .env_remove("TEMPORAL_ADDRESS")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env_remove("AWS_PROFILE");
        cmd
    }

    /// `cargo build --profile release` of the project in the release target folder.
    fn release_build(&self, dir: &Path) -> std::process::Child {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        Command::new(cargo)
            .args(["build", "--profile", "release", "--manifest-path"])
            .arg(dir.join("Cargo.toml"))
            .env("CARGO_TARGET_DIR", &self.release_target)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("cargo build --release")
    }

    fn subcommand(&mut self, sub: &str, args: &[&str]) {
        match sub {
            "new" => {
                shown(ok(self.command(sub, args, &target_dir()), "new"));
                let name = args.first().expect("new's name");
                let dir = self.cwd.join(name);
                patch_to_workspace(&dir);
                self.prebuild = Some(self.release_build(&dir));
                self.done.push("new");
            }
            "dev" => {
                let dev = Running::spawn(self.command(sub, args, &target_dir()));
                self.dev_address = Some(dev_address(&dev));
                self.dev = Some(dev);
                self.done.push("dev");
            }
            "package" => self.package(args),
            "policies" => self.policies(args),
            "deploy" => self.deploy(args),
            other => panic!("the walk does not know `cargo lambdaworker {other}`"),
        }
    }

    /// `temporal workflow execute` against what `dev` printed: Hello, World!
    fn temporal(&mut self, args: &[&str]) {
        let address = self
            .dev_address
            .clone()
            .expect("dev printed its address first");
        let args: Vec<&str> = args
            .iter()
            .map(|a| {
                if *a == PRINTED_ADDRESS {
                    address.as_str()
                } else {
                    *a
                }
            })
            .collect();
        let cli = std::env::var_os("TEMPORAL_CLI").unwrap_or_else(|| "temporal".into());
        let mut cmd = Command::new(cli);
        cmd.args(&args).current_dir(&self.cwd);
        let out = shown(finish_within(Running::spawn(cmd), Duration::from_secs(300)));
        assert!(out.contains("Hello, World!"), "{out}");
        self.done.push("execute");
    }

    /// `$EDITOR temporal.toml`: the namespace's address (here, the stand-in's).
    fn edit(&mut self, file: &str) {
        assert_eq!(file, "temporal.toml");
        let path = self.cwd.join(file);
        let text = std::fs::read_to_string(&path).expect("temporal.toml");
        let local = "address = \"localhost:7233\"";
        assert!(text.contains(local), "{text}");
        let cloud = format!("address = \"{}\"", self.cloud.address);
        std::fs::write(&path, text.replace(local, &cloud)).expect("edit");
    }

    /// `package` as typed: Ctrl-C on `dev` first (its accounting printed), then the release
    /// build within the 8 MiB budget, laid out for Lambda, reproducible, and run.
    fn package(&mut self, args: &[&str]) {
        if let Some(mut dev) = self.dev.take() {
            let status = dev.interrupt();
            assert!(status.success(), "{status}\n{}", dev.err.all());
            dev.out.wait_for("invocations", Duration::from_secs(5));
            shown(format!("{}\n{}", dev.out.all(), dev.err.all()));
        }
        let out = ok(
            self.command("package", args, &self.release_target),
            "package",
        );
        assert!(out.contains("with cargo and the release profile"), "{out}");
        let zip = self.release_target.join("lambda/my-worker/bootstrap.zip");
        let first = std::fs::read(&zip).expect("the zip where the README says");
        assert!(first.len() <= 8 * 1024 * 1024, "{} bytes", first.len());
        assert_eq!(
            modes(&first),
            [
                ("bootstrap".to_owned(), Some(0o100755)),
                ("temporal.toml".to_owned(), Some(0o100644)),
            ]
        );
        ok(
            self.command("package", args, &self.release_target),
            "package again",
        );
        let again = std::fs::read(&zip).expect("zip");
        assert!(again == first, "zip bytes differ when packaged again");
        let unpacked = tempfile::tempdir().expect("temp dir");
        zip::ZipArchive::new(std::io::Cursor::new(first))
            .expect("a zip")
            .extract(unpacked.path())
            .expect("extract");
        runs_under_the_emulator(unpacked.path(), "Hello, Zip!");
        self.done.push("package");
    }

    /// `policies`: the roles created (the invoke role in lw-local, with the ExternalId) and
    /// the printed lines pasted into `[package.metadata.lambdaworker]`.
    fn policies(&mut self, args: &[&str]) {
        let out = shown(ok(
            self.command("policies", args, &target_dir()),
            "policies",
        ));
        let paste: Vec<String> = out
            .lines()
            .skip_while(|l| !l.contains("then set these in [package.metadata.lambdaworker]"))
            .filter(|l| !l.starts_with('#') && l.contains(" = \""))
            .map(|l| l.replace("ACCOUNT_ID", ACCOUNT_ID))
            .collect();
        let value = |key: &str| -> String {
            let line = paste
                .iter()
                .find(|l| l.starts_with(&format!("{key} = ")))
                .unwrap_or_else(|| panic!("no `{key}` line to paste:\n{out}"));
            line.split('"').nth(1).expect("a quoted value").to_owned()
        };
        let external_id = value("external-id");
        assert!(external_id.len() >= 32, "{external_id}");
        self.aws.add_role(RoleConfig {
            arn: value("invoke-role"),
            external_id: Some(external_id),
        });
        let manifest = self.cwd.join("Cargo.toml");
        let text = std::fs::read_to_string(&manifest).expect("Cargo.toml");
        let table = "[package.metadata.lambdaworker]\n";
        assert!(text.contains(table), "{text}");
        let pasted = format!("{table}{}\n", paste.join("\n"));
        std::fs::write(&manifest, text.replacen(table, &pasted, 1)).expect("paste");
        self.done.push("policies");
    }

    /// `deploy --current` against lw-local and the stand-in namespace; a workflow then runs
    /// on the deployed function through the Worker Controller.
    fn deploy(&mut self, args: &[&str]) {
        let mut cmd = self.command("deploy", args, &self.release_target);
        cmd.envs(self.aws.server_env());
        let out = shown(ok(cmd, "deploy"));
        assert!(out.contains("deployed my-worker/"), "{out}");
        let id = lw_local::unique("quickstart");
        self.cloud
            .start_workflow("my-worker", "Greeting", &id, &serde_json::json!("Lambda"))
            .expect("start");
        let result = self
            .cloud
            .wait_result(&id, Duration::from_secs(180))
            .expect("a result from the deployed function");
        assert_eq!(result, serde_json::json!("Hello, Lambda!"));
        self.done.push("deploy");
    }
}

/// What a user would see of a step, for the test's log (`--nocapture`); returned as is.
fn shown(output: String) -> String {
    eprintln!("{output}");
    output
}

/// Waits for `run` to exit successfully within `limit` (killed otherwise); its output.
fn finish_within(mut run: Running, limit: Duration) -> String {
    let until = Instant::now() + limit;
    loop {
        if let Some(status) = run.child.try_wait().expect("wait") {
            // The output threads finish at the pipe's end.
            std::thread::sleep(Duration::from_millis(50));
            let text = format!("{}\n{}", run.out.all(), run.err.all());
            assert!(status.success(), "{status}:\n{text}");
            return text;
        }
        if Instant::now() >= until {
            let _ = run.child.kill();
            panic!("still running after {limit:?}:\n{}", run.err.all());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn the_readme_quick_start_runs_as_written() {
    common::yield_cpu();
    let readme = std::fs::read_to_string(workspace().join("README.md")).expect("README.md");
    let commands = commands(&readme);
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let aws = runtime.block_on(LocalLambda::start()).expect("lw-local");
    let cloud = DevServer::start_with(lw_local::worker_controller_config(), aws.server_env())
        .expect("dev server");
    let home = tempfile::tempdir().expect("temp dir");
    let mut walk = Walk {
        cwd: home.path().to_owned(),
        dev: None,
        dev_address: None,
        release_target: target_dir().join("quickstart-release"),
        prebuild: None,
        aws,
        cloud,
        done: Vec::new(),
        _runtime: runtime,
    };
    for cmd in &commands {
        eprintln!("quick start: {}", cmd.join(" "));
        walk.step(cmd);
    }
    let _ = std::fs::remove_dir_all(&walk.release_target);
    assert_eq!(walk.done, STEPS, "the quick start's steps, in order");
}

#[test]
fn the_quick_start_is_read_as_a_shell_reads_it() {
    let readme = format!(
        "x\n{SECTION}\n\ntext\n```sh\ncargo a && cd b   # comment\n# only a comment\n\
         temporal x --address {PRINTED_ADDRESS} \\\n    --input '\"World\"'\n```\n```sh\nnot me\n```"
    );
    assert_eq!(
        commands(&readme),
        [
            vec!["cargo", "a"],
            vec!["cd", "b"],
            vec![
                "temporal",
                "x",
                "--address",
                PRINTED_ADDRESS,
                "--input",
                "\"World\""
            ],
        ]
    );
}
