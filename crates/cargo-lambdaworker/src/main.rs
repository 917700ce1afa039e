//! `cargo lambdaworker <new|dev|package|deploy|status|promote|ramp|policies>`: see the
//! library's documentation.

use std::{path::PathBuf, process::ExitCode, time::Duration};

use cargo_lambdaworker::{
    Error, Project, Selection,
    deploy::{self, Flags, Rollout, Settings},
    dev::{self, DevOptions},
    new,
    package::{self, Arch, Request},
    progress,
};
use clap::{Args, Parser, Subcommand};

/// Cargo runs `cargo-lambdaworker lambdaworker <args>`.
#[derive(Parser)]
#[command(name = "cargo", bin_name = "cargo")]
enum Cargo {
    /// Serverless Temporal workers on AWS Lambda.
    #[command(version, about)]
    Lambdaworker(Cli),
}

#[derive(Args)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create a new worker project (a workflow, an activity, temporal.toml, a README).
    New {
        /// The package name (and folder).
        name: String,
    },
    /// Run the function locally: a Temporal dev server invokes it as Lambda would.
    Dev(DevArgs),
    /// Build a deployable, reproducible target/lambda/<name>/bootstrap.zip.
    Package(PackageArgs),
    /// Package, publish as a new Lambda version, register it as a Worker Deployment Version.
    Deploy(DeployArgs),
    /// The deployment's versions, their Lambda versions, routing and drainage.
    Status(StatusArgs),
    /// Make a deployed version current.
    Promote(RouteArgs),
    /// Ramp a deployed version to a percentage of new workflows.
    Ramp(RampArgs),
    /// Print the IAM policies the deployment needs, filled in.
    Policies(PoliciesArgs),
}

/// Where the function goes and how Temporal invokes it (each also read from
/// `[package.metadata.lambdaworker]`: function-name, execution-role, invoke-role,
/// external-id, deployment, memory, timeout, env, include, arch).
#[derive(Args)]
struct Target {
    /// The Lambda function's name (the binary's by default).
    #[arg(long)]
    function_name: Option<String>,
    /// The role the function runs as (needed to create it).
    #[arg(long)]
    execution_role: Option<String>,
    /// The role Temporal assumes to invoke the function.
    #[arg(long)]
    invoke_role: Option<String>,
    /// The ExternalId the invoke role's trust policy requires.
    #[arg(long)]
    external_id: Option<String>,
    /// The Worker Deployment name (the binary's by default).
    #[arg(long)]
    deployment: Option<String>,
}

#[derive(Args)]
struct DeployArgs {
    #[command(flatten)]
    select: Select,
    #[command(flatten)]
    target: Target,
    /// The Build ID (default: the crate's version and the package's hash).
    #[arg(long)]
    build_id: Option<String>,
    /// Make the new version current.
    #[arg(long, conflicts_with = "ramp")]
    current: bool,
    /// Ramp the new version to this percentage of new workflows.
    #[arg(long, value_name = "PERCENT")]
    ramp: Option<f32>,
    /// The function memory, in MB.
    #[arg(long)]
    memory: Option<u32>,
    /// The function timeout, in seconds.
    #[arg(long)]
    timeout: Option<u64>,
    /// Environment for the function: NAME=VALUE.
    #[arg(long = "env", value_parser = parse_env)]
    env: Vec<(String, String)>,
    /// A file or folder to add: PATH or PATH=ARCHIVE_PATH.
    #[arg(long, value_parser = package::parse_include)]
    include: Vec<(PathBuf, String)>,
    /// x86_64 or arm64.
    #[arg(long = "target")]
    arch: Option<Arch>,
    /// Run on Lambda Managed Instances: the capacity provider's ARN (at creation).
    #[arg(long, value_name = "ARN")]
    capacity_provider: Option<String>,
    /// Invocations one Managed Instances execution environment serves at once.
    #[arg(long, value_name = "N")]
    per_instance_concurrency: Option<u32>,
    /// The cargo profile to build with (release by default).
    #[arg(long)]
    profile: Option<String>,
    /// Deploy this package instead of building one.
    #[arg(long)]
    zip: Option<PathBuf>,
}

#[derive(Args)]
struct StatusArgs {
    #[command(flatten)]
    select: Select,
    /// The Worker Deployment name (the binary's by default).
    #[arg(long)]
    deployment: Option<String>,
}

#[derive(Args)]
struct RouteArgs {
    #[command(flatten)]
    select: Select,
    /// The Worker Deployment name (the binary's by default).
    #[arg(long)]
    deployment: Option<String>,
    /// The version's Build ID.
    #[arg(long)]
    build_id: String,
}

#[derive(Args)]
struct RampArgs {
    #[command(flatten)]
    route: RouteArgs,
    /// The percentage of new workflows (0 to 100).
    #[arg(long)]
    percent: f32,
}

#[derive(Args)]
struct PoliciesArgs {
    #[command(flatten)]
    select: Select,
    #[command(flatten)]
    target: Target,
    /// The role a self-hosted Temporal server assumes from (default: Temporal Cloud's).
    #[arg(long)]
    temporal_principal: Vec<String>,
}

#[derive(Args)]
struct Select {
    /// The project's (or workspace's) Cargo.toml.
    #[arg(long)]
    manifest_path: Option<PathBuf>,
    /// The package holding the function's binary.
    #[arg(long, short)]
    package: Option<String>,
    /// The function's binary.
    #[arg(long)]
    bin: Option<String>,
    /// An example as the function.
    #[arg(long, conflicts_with = "bin")]
    example: Option<String>,
}

impl Select {
    fn project(self) -> Result<Project, Error> {
        Project::locate(&Selection {
            manifest_path: self.manifest_path,
            package: self.package,
            bin: self.bin,
            example: self.example,
        })
    }
}

#[derive(Args)]
struct DevArgs {
    #[command(flatten)]
    select: Select,
    /// Rebuild on every change and register the build as a new version, made current.
    #[arg(long)]
    watch: bool,
    /// Use this running server (host:port) instead of starting one.
    #[arg(long)]
    address: Option<String>,
    /// The `temporal` CLI to use.
    #[arg(long)]
    temporal: Option<PathBuf>,
    /// The port of the local AWS endpoint (STS + Lambda).
    #[arg(long)]
    aws_port: Option<u16>,
    /// The task queue the function polls (TEMPORAL_TASK_QUEUE).
    #[arg(long)]
    task_queue: Option<String>,
    /// The Worker Deployment name (LW_DEPLOYMENT_NAME); the binary's name by default.
    #[arg(long)]
    deployment: Option<String>,
    /// The function timeout, in seconds.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(5..=900))]
    timeout: u64,
    /// The function memory, in MB.
    #[arg(long, default_value_t = 256)]
    memory: u32,
    /// Invocations one instance serves at once, as on Lambda Managed Instances
    /// (PerExecutionEnvironmentMaxConcurrency; the function gets AWS_LAMBDA_MAX_CONCURRENCY).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1600))]
    per_instance_concurrency: u32,
    /// More environment for the function: NAME=VALUE.
    #[arg(long = "env", value_parser = parse_env)]
    env: Vec<(String, String)>,
    /// Do not print the function's own log lines.
    #[arg(long)]
    no_logs: bool,
}

#[derive(Args)]
struct PackageArgs {
    #[command(flatten)]
    select: Select,
    /// A file or folder to add: PATH or PATH=ARCHIVE_PATH (e.g. temporal.toml, certs=certs);
    /// added to `include` in [package.metadata.lambdaworker].
    #[arg(long, value_parser = package::parse_include)]
    include: Vec<(PathBuf, String)>,
    /// x86_64 or arm64 (arm64 builds with cargo-zigbuild).
    #[arg(long, default_value = "x86_64")]
    target: Arch,
    /// Fail when the zip is larger than this many MiB.
    #[arg(long)]
    max_size: Option<f64>,
}

fn parse_env(v: &str) -> Result<(String, String), String> {
    v.split_once('=')
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .ok_or_else(|| format!("write NAME=VALUE, not `{v}`"))
}

fn main() -> ExitCode {
    let Cargo::Lambdaworker(cli) = Cargo::parse();
    match run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", cargo_lambdaworker::error_chain(&e));
            ExitCode::FAILURE
        }
    }
}

fn run(command: Command) -> Result<(), Error> {
    match command {
        Command::New { name } => {
            let here = std::env::current_dir().map_err(|e| Error::Io {
                path: ".".into(),
                action: "cannot read the current folder",
                source: e,
            })?;
            let dir = new::create(&here, &name)?;
            progress(&format!("created {}", dir.display()));
            println!(
                "Next:\n  cd {name}\n  cargo lambdaworker dev --watch\n  temporal workflow \
                 execute --address <the address dev prints> --task-queue {name} --type Greeting \
                 --input '\"World\"'"
            );
            Ok(())
        }
        Command::Dev(a) => {
            let project = a.select.project()?;
            let options = DevOptions {
                address: a.address,
                temporal: a.temporal,
                aws_port: a.aws_port,
                task_queue: a.task_queue,
                deployment: a.deployment,
                timeout: Duration::from_secs(a.timeout),
                memory_mb: a.memory,
                per_instance_concurrency: a.per_instance_concurrency,
                env: a.env,
                watch: a.watch,
                show_logs: !a.no_logs,
            };
            block_on(dev::run(project, options))
        }
        Command::Package(a) => {
            let project = a.select.project()?;
            let request = Request {
                includes: deploy::settings::package_includes(&project, a.include)?,
                arch: a.target,
                max_zip_bytes: a.max_size.map(|mib| (mib * 1024.0 * 1024.0) as u64),
                profile: None,
            };
            package::package(&project, &request).map(|_| ())
        }
        Command::Deploy(a) => {
            let project = a.select.project()?;
            let rollout = match (a.current, a.ramp) {
                (true, _) => Rollout::Current,
                (false, Some(p)) => Rollout::Ramp(p),
                (false, None) => Rollout::Register,
            };
            let flags = Flags {
                build_id: a.build_id,
                memory_mb: a.memory,
                timeout_s: a.timeout,
                env: a.env,
                includes: a.include,
                arch: a.arch,
                capacity_provider: a.capacity_provider,
                per_instance_concurrency: a.per_instance_concurrency,
                profile: a.profile,
                zip: a.zip,
                rollout,
                ..a.target.flags()
            };
            let settings = Settings::resolve(&project, flags)?;
            block_on(async { deploy::deploy(&project, &settings).await.map(|_| ()) })
        }
        Command::Status(a) => {
            let project = a.select.project()?;
            let deployment = a.deployment.unwrap_or_else(|| project.name.clone());
            let text = block_on(deploy::status(&project, &deployment))?;
            print!("{text}");
            Ok(())
        }
        Command::Promote(a) => route(a, Rollout::Current),
        Command::Ramp(a) => route(a.route, Rollout::Ramp(a.percent)),
        Command::Policies(a) => {
            let project = a.select.project()?;
            let settings = Settings::resolve(&project, a.target.flags())?;
            let text =
                block_on(async { Ok(deploy::policies(&settings, &a.temporal_principal).await) })?;
            print!("{text}");
            Ok(())
        }
    }
}

impl Target {
    fn flags(self) -> Flags {
        Flags {
            function: self.function_name,
            execution_role: self.execution_role,
            invoke_role: self.invoke_role,
            external_id: self.external_id,
            deployment: self.deployment,
            ..Flags::default()
        }
    }
}

fn route(a: RouteArgs, rollout: Rollout) -> Result<(), Error> {
    let project = a.select.project()?;
    let deployment = a.deployment.unwrap_or_else(|| project.name.clone());
    block_on(deploy::promote(&project, &deployment, &a.build_id, rollout))
}

fn block_on<T>(f: impl std::future::Future<Output = Result<T, Error>>) -> Result<T, Error> {
    let runtime = tokio::runtime::Runtime::new().map_err(|e| Error::Io {
        path: ".".into(),
        action: "cannot start the async runtime",
        source: e,
    })?;
    runtime.block_on(f)
}
