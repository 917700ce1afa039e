//! The flags of `deploy`, `status`, `promote`, `ramp` and `policies`, and each command's
//! `run`: the project located, the flags resolved, the library function called, its answer
//! printed.

use super::{Flags, FunctionFlags, PolicySubject, Rollout, Settings};
use crate::{Error, Project, Selection, block_on};

/// `deploy`'s flags.
#[derive(Debug, Clone, clap::Args)]
pub struct DeployArgs {
    /// Which project and binary.
    #[command(flatten)]
    pub select: Selection,
    /// Everything else.
    #[command(flatten)]
    pub flags: Flags,
}

impl DeployArgs {
    /// Packages (or takes `--zip`), publishes and registers: [`super::deploy`].
    pub fn run(self) -> Result<(), Error> {
        let project = Project::locate(&self.select)?;
        let settings = Settings::resolve(&project, self.flags)?;
        block_on(super::deploy(&project, &settings)).map(drop)
    }
}

/// `status`'s flags.
#[derive(Debug, Clone, clap::Args)]
pub struct StatusArgs {
    /// Which project and binary.
    #[command(flatten)]
    pub select: Selection,
    /// The Worker Deployment name (the binary's by default).
    #[arg(long)]
    pub deployment: Option<String>,
}

impl StatusArgs {
    /// Prints the deployment's versions: [`super::status`].
    pub fn run(self) -> Result<(), Error> {
        let project = Project::locate(&self.select)?;
        let deployment = self.deployment.unwrap_or_else(|| project.name.clone());
        print!("{}", block_on(super::status(&project, &deployment))?);
        Ok(())
    }
}

/// `promote`'s flags, and the version `ramp` ramps.
#[derive(Debug, Clone, clap::Args)]
pub struct RouteArgs {
    /// Which project and binary.
    #[command(flatten)]
    pub select: Selection,
    /// The Worker Deployment name (the binary's by default).
    #[arg(long)]
    pub deployment: Option<String>,
    /// The version's Build ID.
    #[arg(long)]
    pub build_id: String,
}

impl RouteArgs {
    /// Applies `rollout` to the version: [`super::promote`].
    pub fn run(self, rollout: Rollout) -> Result<(), Error> {
        let project = Project::locate(&self.select)?;
        let deployment = self.deployment.unwrap_or_else(|| project.name.clone());
        block_on(super::promote(
            &project,
            &deployment,
            &self.build_id,
            rollout,
        ))
    }
}

/// `ramp`'s flags.
#[derive(Debug, Clone, clap::Args)]
pub struct RampArgs {
    /// The version.
    #[command(flatten)]
    pub route: RouteArgs,
    /// The percentage of new workflows (0 to 100).
    #[arg(long)]
    pub percent: f32,
}

impl RampArgs {
    /// Ramps the version to the percentage.
    pub fn run(self) -> Result<(), Error> {
        self.route.run(Rollout::Ramp(self.percent))
    }
}

/// `policies`' flags.
#[derive(Debug, Clone, clap::Args)]
pub struct PoliciesArgs {
    /// Which project and binary.
    #[command(flatten)]
    pub select: Selection,
    /// The function, its roles and its deployment.
    #[command(flatten)]
    pub function: FunctionFlags,
    /// The role a self-hosted Temporal server assumes from (default: Temporal Cloud's).
    #[arg(long)]
    pub temporal_principal: Vec<String>,
}

impl PoliciesArgs {
    /// Prints the IAM documents, filled in: [`policies`](super::policies()). Needs no
    /// settings: what is not set gets a placeholder or, for the ExternalId, a generated one.
    pub fn run(self) -> Result<(), Error> {
        let project = Project::locate(&self.select)?;
        let subject = PolicySubject::resolve(&project, self.function)?;
        let text =
            block_on(async { Ok(super::policies(&subject, &self.temporal_principal).await) })?;
        print!("{text}");
        Ok(())
    }
}
