//! `cargo lambdaworker dev`: the local serverless loop. A Temporal dev server with its Worker
//! Controller on, local STS and Lambda ([`lw_local`]) for it, the user's binary as the
//! function, registered as a Worker Deployment Version made current; one line per finished
//! invocation, and the accounting at the end. With `--watch`, every change to the package is
//! rebuilt and registered as a new version made current, as `cargo lambda watch` reloads.

use std::{
    collections::HashMap,
    time::{Duration, Instant, SystemTime},
};

use lw_local::{Code, DevServer, FunctionConfig, LocalLambda, RoleConfig, unique};

use crate::{Error, Project, progress, project::changed_since};

mod options;
mod output;

pub use options::{DevArgs, DevOptions};
pub use output::format_log_line;

/// The running loop.
pub struct Dev {
    project: Project,
    options: DevOptions,
    aws: LocalLambda,
    server: DevServer,
    deployment: String,
    role: String,
    external_id: String,
    /// The function's published versions (`name:N`), oldest first.
    versions: Vec<String>,
    printed: HashMap<String, usize>,
    logged: HashMap<(String, usize), usize>,
    built_at: SystemTime,
    /// The task queue the function last reported polling (its start line).
    reported_task_queue: Option<String>,
    /// The workflow types the function last reported registering (its start line).
    reported_workflow_types: Vec<String>,
    /// The task queue the last start hint showed.
    hinted: Option<String>,
    /// When the loop started: the hint waits [`TASK_QUEUE_WAIT`] for the task queue.
    started: Instant,
}

/// How long the start hint waits for the function to report its task queue (the server's
/// validation invocation starts it as soon as the version is registered).
const TASK_QUEUE_WAIT: Duration = Duration::from_secs(15);

const ROLE: &str = "arn:aws:iam::000000000000:role/temporal-worker-invoker";

impl Dev {
    /// Builds the binary, starts (or attaches to) the server and the local AWS, and registers
    /// the first version, made current.
    pub async fn start(project: Project, options: DevOptions) -> Result<Dev, Error> {
        let built_at = SystemTime::now();
        build(&project)?;
        let addr = format!("127.0.0.1:{}", options.aws_port.unwrap_or(0));
        let aws = LocalLambda::bind(&addr).await?;
        progress(&format!("local AWS (STS + Lambda) at {}", aws.endpoint()));
        // The CLI goes to the server's constructor: no process-wide environment is changed.
        let cli = options.temporal.as_deref();
        let server = match &options.address {
            Some(a) => {
                // Someone else's server: it signs with what its own environment holds.
                println!("{}", attached_server_env(&aws));
                DevServer::attach_using(cli, a)?
            }
            None => {
                progress("starting a Temporal dev server with the Worker Controller");
                let (config, env) = (lw_local::worker_controller_config(), aws.server_env());
                DevServer::start_using(cli, config, env, options.ui)?
            }
        };
        let deployment = options
            .deployment
            .clone()
            .unwrap_or_else(|| project.name.clone());
        let mut dev = Dev {
            deployment,
            role: ROLE.into(),
            external_id: unique("external-id"),
            versions: Vec::new(),
            printed: HashMap::new(),
            logged: HashMap::new(),
            built_at,
            reported_task_queue: None,
            reported_workflow_types: Vec::new(),
            hinted: None,
            started: Instant::now(),
            project,
            options,
            aws,
            server,
        };
        dev.aws.add_role(RoleConfig {
            arn: dev.role.clone(),
            external_id: Some(dev.external_id.clone()),
        });
        dev.register()?;
        Ok(dev)
    }

    /// The server's address, to start workflows against.
    pub fn address(&self) -> &str {
        &self.server.address
    }

    /// The server (to start workflows and read results).
    pub fn server(&self) -> &DevServer {
        &self.server
    }

    /// The local AWS.
    pub fn aws(&self) -> &LocalLambda {
        &self.aws
    }

    /// The current version's function name (in [`Dev::aws`]'s accounting).
    pub fn current_function(&self) -> &str {
        self.versions.last().map_or("", String::as_str)
    }

    /// The current version's build id.
    pub fn build_id(&self) -> String {
        format!("build-{}", self.versions.len())
    }

    /// Registers the freshly built binary as the function's next published Lambda version
    /// (as `deploy` does: new code for `$LATEST`, then an immutable version) and makes its
    /// qualified ARN the current Worker Deployment Version.
    fn register(&mut self) -> Result<(), Error> {
        let n = self.versions.len() + 1;
        let build = format!("build-{n}");
        let name = self.project.name.clone();
        let built = self.project.binary("debug", None);
        let mut config = FunctionConfig::new(&name, &built)
            .timeout(self.options.timeout)
            .memory_mb(self.options.memory_mb)
            .per_instance_concurrency(self.options.per_instance_concurrency)
            .env("TEMPORAL_ADDRESS", self.server.address.clone())
            .env("LW_DEPLOYMENT_NAME", self.deployment.clone())
            .env("LW_BUILD_ID", build.clone());
        if let Some(q) = &self.options.task_queue {
            config = config.env("TEMPORAL_TASK_QUEUE", q.clone());
        }
        for (k, v) in &self.options.env {
            config = config.env(k.clone(), v.clone());
        }
        if n == 1 {
            self.aws.create_function(config, Code::File(built))?;
        } else {
            // The build id is part of the version's configuration, as deploy sets it.
            self.aws
                .update_function_environment(&name, config.env.clone())?;
            self.aws.update_function_code(&name, Code::File(built))?;
        }
        let version = self.aws.publish_version(
            &name,
            &format!(
                "lambdaworker: deployment {}, build {build}",
                self.deployment
            ),
        )?;
        let arn = version.arn;
        let create = if n == 1 {
            DevServer::create_lambda_version
        } else {
            DevServer::create_lambda_version_in
        };
        create(
            &self.server,
            &self.deployment,
            &build,
            &arn,
            &self.role,
            &self.external_id,
        )?;
        self.server.set_current_version(&self.deployment, &build)?;
        self.versions.push(format!("{name}:{}", version.version));
        progress(&format!(
            "version {}/{build} (function {arn}) is current",
            self.deployment
        ));
        Ok(())
    }

    /// Rebuilds and registers a new version if the package changed since the last build.
    /// A failed build keeps the running version and is reported.
    pub fn reload_if_changed(&mut self) -> Result<bool, Error> {
        if !changed_since(&self.project.package_dir, self.built_at) {
            return Ok(false);
        }
        self.built_at = SystemTime::now();
        progress("change detected: rebuilding");
        build(&self.project)?;
        self.register()?;
        Ok(true)
    }

    /// One line per invocation that finished since the last call.
    pub fn new_invocation_lines(&mut self) -> Vec<String> {
        let mut lines = Vec::new();
        for name in &self.versions {
            let Some(a) = self.aws.accounting(name) else {
                continue;
            };
            let seen = self.printed.entry(name.clone()).or_default();
            // `records` keeps the last ones only; `invocations` counts them all.
            let new = usize::try_from(a.invocations)
                .unwrap_or(usize::MAX)
                .saturating_sub(*seen);
            for r in a.records.iter().skip(a.records.len().saturating_sub(new)) {
                let report = r.response.clone().unwrap_or_default();
                let count = |k: &str| report[k].as_u64().unwrap_or(0);
                if r.outcome == "crashed" {
                    lines.push(format!(
                        "invocation {name}: the process exited without answering; does its \
                         main call lambdaworker::run_worker? (its output is in the lines above)"
                    ));
                    continue;
                }
                let ended = report["ended"].as_str().unwrap_or(&r.outcome).to_owned();
                lines.push(format!(
                    "invocation {name} {} billed {} ms: {} workflow task(s), {} activit{}, \
                     ended {ended}{}",
                    if r.cold { "cold" } else { "warm" },
                    r.billed_ms,
                    count("workflow_activations"),
                    count("activities"),
                    if count("activities") == 1 { "y" } else { "ies" },
                    report["error"]
                        .as_str()
                        .map(|e| format!(" ({e})"))
                        .unwrap_or_default(),
                ));
            }
            *seen = usize::try_from(a.invocations).unwrap_or(usize::MAX);
        }
        lines
    }

    /// The function's output since the last call, each line prefixed with the function
    /// version and instance, readable (or raw with `--raw-logs`: [`format_log_line`]). Notes
    /// the task queue the function reports.
    pub async fn new_log_lines(&mut self) -> Vec<String> {
        let mut lines = Vec::new();
        for name in &self.versions {
            for (i, log) in self.aws.instance_logs(name).await.iter().enumerate() {
                let seen = self.logged.entry((name.clone(), i)).or_default();
                let new = log.get(*seen..).unwrap_or_default();
                // Whole lines only: the rest comes next time.
                let Some(end) = new.rfind('\n') else {
                    continue;
                };
                for line in new[..end].lines() {
                    if let Some(queue) = output::task_queue(line) {
                        self.reported_task_queue = Some(queue);
                    }
                    if let Some(types) = output::workflow_types(line) {
                        self.reported_workflow_types = types;
                    }
                    let source = format!("{name}#{i}");
                    lines.extend(format_log_line(&source, line, self.options.raw_logs));
                }
                *seen += end + 1;
            }
        }
        lines
    }

    /// The task queue the function polls: the one it reported, else the one dev sets
    /// (`--task-queue`, or `TEMPORAL_TASK_QUEUE` in `--env`).
    pub fn task_queue(&self) -> Option<&str> {
        let from_env = self.options.env.iter().rev();
        let set = self.options.task_queue.as_deref().or_else(|| {
            from_env
                .filter(|(k, _)| k == "TEMPORAL_TASK_QUEUE")
                .map(|(_, v)| v.as_str())
                .next()
        });
        self.reported_task_queue.as_deref().or(set)
    }

    /// The command that starts a workflow, when there is a new one to show: the task queue
    /// became known or changed, or it is still unknown after [`TASK_QUEUE_WAIT`].
    fn new_start_hint(&mut self) -> Option<String> {
        let queue = match self.task_queue() {
            Some(q) => q.to_owned(),
            None if self.hinted.is_none() && self.started.elapsed() > TASK_QUEUE_WAIT => {
                output::UNKNOWN_TASK_QUEUE.to_owned()
            }
            None => return None,
        };
        if self.hinted.as_ref() == Some(&queue) {
            return None;
        }
        self.hinted = Some(queue.clone());
        Some(output::start_hint(
            self.address(),
            &queue,
            &self.reported_workflow_types,
        ))
    }

    /// The accounting table: invocations, cold starts, billed ms, GB-s per version.
    pub fn report(&self) -> String {
        self.aws.report()
    }

    /// Stops every function instance and the server (if it was started here).
    pub async fn stop(self) {
        self.aws.stop().await;
        self.server.stop();
    }
}

/// What a server started elsewhere (`--address`) needs to call this run's local AWS: the
/// lines to export where it runs (the one place `dev` shows the run's secret; new each run).
fn attached_server_env(aws: &LocalLambda) -> String {
    let mut out = String::from(
        "# The local AWS refuses requests not signed with this run's credentials. Start the \
         server at --address\n# with these (and its Worker Controller on):\n",
    );
    for (k, v) in aws.server_env() {
        out.push_str(&format!("export {k}={v}\n"));
    }
    out.push_str(&format!("unset {}", lw_local::CREDENTIAL_SOURCES.join(" ")));
    out
}

/// `cargo build` of the function's binary (the dev profile).
fn build(project: &Project) -> Result<(), Error> {
    progress(&format!("building {}", project.name));
    let mut cmd = crate::cargo();
    cmd.arg("build")
        .arg("--manifest-path")
        .arg(project.manifest())
        .args(project.build_args());
    crate::run_build(cmd)
}

/// The command: starts the loop, prints the address and a line per invocation, reloads on
/// changes with `--watch`, and on Ctrl-C (or SIGTERM) prints the accounting and stops
/// everything it started.
pub async fn run(project: Project, options: DevOptions) -> Result<(), Error> {
    let watch = options.watch;
    let mut dev = Dev::start(project, options).await?;
    println!(
        "Temporal dev server at {} (namespace default). Ctrl-C stops everything and prints \
         the accounting.",
        dev.address()
    );
    match (&dev.server.ui, dev.options.ui) {
        (Some(ui), _) => println!("Temporal Web UI at {ui}"),
        (None, true) => progress("--ui: the dev server at --address is not ours; open its own UI"),
        (None, false) => {}
    }
    let outcome = serve(&mut dev, watch).await;
    for line in dev.new_invocation_lines() {
        println!("{line}");
    }
    println!("\n{}", dev.report());
    dev.stop().await;
    progress("stopped the function instances and the dev server");
    outcome
}

async fn serve(dev: &mut Dev, watch: bool) -> Result<(), Error> {
    let mut tick = tokio::time::interval(Duration::from_millis(300));
    let stop = lw_runtime::stop_signal();
    tokio::pin!(stop);
    loop {
        tokio::select! {
            () = &mut stop => return Ok(()),
            _ = tick.tick() => {}
        }
        let logs = dev.new_log_lines().await;
        if dev.options.show_logs {
            for line in logs {
                eprintln!("{line}");
            }
        }
        if let Some(hint) = dev.new_start_hint() {
            println!("{hint}");
        }
        for line in dev.new_invocation_lines() {
            println!("{line}");
        }
        if watch && let Err(e) = dev.reload_if_changed() {
            progress(&format!(
                "{}; still serving the previous version",
                crate::error_chain(&e)
            ));
        }
    }
}
