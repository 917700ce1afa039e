//! `cargo lambdaworker <new|dev|package|deploy|status|promote|ramp|policies>`: see the
//! library's documentation. Each command's flags and `run` live beside its code.

use std::process::ExitCode;

use cargo_lambdaworker::{
    Error,
    deploy::Rollout,
    deploy::cli::{DeployArgs, PoliciesArgs, RampArgs, RouteArgs, StatusArgs},
    dev::DevArgs,
    new::NewArgs,
    package::PackageArgs,
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
    New(NewArgs),
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
        Command::New(a) => a.run(),
        Command::Dev(a) => a.run(),
        Command::Package(a) => a.run().map(drop),
        Command::Deploy(a) => a.run(),
        Command::Status(a) => a.run(),
        Command::Promote(a) => a.run(Rollout::Current),
        Command::Ramp(a) => a.run(),
        Command::Policies(a) => a.run(),
    }
}
