//! `dev`'s flags ([`DevArgs`]) and the options of the loop they set ([`DevOptions`]).

use std::{path::PathBuf, time::Duration};

use clap::builder::TypedValueParser;

use super::run;
use crate::{Error, Project, Selection};

/// `dev`'s flags: the project, and how to run the loop.
#[derive(Debug, Clone, clap::Args)]
pub struct DevArgs {
    /// Which project and binary.
    #[command(flatten)]
    pub select: Selection,
    /// How to run the loop.
    #[command(flatten)]
    pub options: DevOptions,
}

impl DevArgs {
    /// The command: [`dev::run`](super::run) on the selected binary.
    pub fn run(self) -> Result<(), Error> {
        let project = Project::locate(&self.select)?;
        crate::block_on(run(project, self.options))
    }
}

/// How to run the loop: `dev`'s flags (each field's doc is its `--help` line). Given
/// `address`, the server must run with the Worker Controller on and the environment `dev`
/// prints (`AWS_ENDPOINT_URL` of the local AWS, see `aws_port`, and the run's credentials,
/// which the local AWS requires); without `temporal`, the CLI is `$TEMPORAL_CLI` or
/// `temporal` from `PATH`; without `aws_port`, a free port; without `task_queue`, the
/// binary's own default.
#[derive(Debug, Clone, clap::Args)]
pub struct DevOptions {
    /// Rebuild on every change and register the build as a new version, made current.
    #[arg(long)]
    pub watch: bool,
    /// Use this running server (host:port) instead of starting one; it must sign with the
    /// local AWS credentials `dev` prints (new each run).
    #[arg(long)]
    pub address: Option<String>,
    /// The `temporal` CLI to use.
    #[arg(long)]
    pub temporal: Option<PathBuf>,
    /// The port of the local AWS endpoint (STS + Lambda, on 127.0.0.1); a free one by
    /// default.
    #[arg(long)]
    pub aws_port: Option<u16>,
    /// The task queue the function polls (TEMPORAL_TASK_QUEUE).
    #[arg(long)]
    pub task_queue: Option<String>,
    /// The Worker Deployment name (LW_DEPLOYMENT_NAME); the binary's name by default.
    #[arg(long)]
    pub deployment: Option<String>,
    /// The function timeout, in seconds.
    #[arg(
        long,
        default_value = "30",
        value_parser = clap::value_parser!(u64).range(5..=900).map(Duration::from_secs)
    )]
    pub timeout: Duration,
    /// The function memory, in MB.
    #[arg(long = "memory", value_name = "MEMORY", default_value_t = 256)]
    pub memory_mb: u32,
    /// Invocations one instance serves at once, as on Lambda Managed Instances
    /// (PerExecutionEnvironmentMaxConcurrency; the function gets AWS_LAMBDA_MAX_CONCURRENCY).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1600))]
    pub per_instance_concurrency: u32,
    /// More environment for the function: NAME=VALUE.
    #[arg(long = "env", value_parser = crate::parse_env)]
    pub env: Vec<(String, String)>,
    /// Print the function's own log lines (stderr), prefixed with version and instance;
    /// `--no-logs` turns them off.
    #[arg(
        long = "no-logs",
        action = clap::ArgAction::SetFalse,
        help = "Do not print the function's own log lines"
    )]
    pub show_logs: bool,
    /// Print the function's log lines as the JSON it writes, instead of readable lines.
    #[arg(long)]
    pub raw_logs: bool,
    /// Start the dev server's Web UI too (on a free loopback port; its address is printed).
    #[arg(long)]
    pub ui: bool,
}

impl Default for DevOptions {
    fn default() -> Self {
        Self {
            watch: false,
            address: None,
            temporal: None,
            aws_port: None,
            task_queue: None,
            deployment: None,
            timeout: Duration::from_secs(30),
            memory_mb: 256,
            per_instance_concurrency: 1,
            env: Vec::new(),
            show_logs: true,
            raw_logs: false,
            ui: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::{Args, FromArgMatches};

    use super::*;

    fn parse(args: &[&str]) -> Result<DevOptions, clap::Error> {
        let command = DevOptions::augment_args(clap::Command::new("dev").no_binary_name(true));
        DevOptions::from_arg_matches(&command.try_get_matches_from(args)?)
    }

    #[test]
    fn no_flags_give_the_defaults_and_flags_set_the_options() {
        let (none, default) = (parse(&[]).unwrap(), DevOptions::default());
        assert_eq!(format!("{none:?}"), format!("{default:?}"));
        let o = parse(&[
            "--no-logs",
            "--raw-logs",
            "--ui",
            "--timeout",
            "60",
            "--memory",
            "512",
            "--env",
            "A=b=c",
        ])
        .unwrap();
        assert!(!o.show_logs && o.raw_logs && o.ui);
        assert_eq!(o.timeout, Duration::from_secs(60));
        assert_eq!(o.memory_mb, 512);
        assert_eq!(o.env, [("A".to_owned(), "b=c".to_owned())]);
        assert!(parse(&["--timeout", "3"]).is_err());
        assert!(parse(&["--per-instance-concurrency", "0"]).is_err());
    }
}
