//! `deploy`, `status`, `promote`, `ramp` and `policies`: each build on its own published
//! Lambda version, registered as a Worker Deployment Version whose compute config points at
//! that version's qualified ARN, so a Pinned workflow keeps running the code it started on.
//!
//! A deploy, in order: package (or take `--zip`); connect to Temporal as the worker would;
//! look for a Lambda version already published for this code and build id (same code hash:
//! nothing new is published); otherwise create or update the function, wait for the update
//! and publish; register the Worker Deployment Version (the server validates the function
//! and the role); then make it current, ramp it, or leave it for `promote`.

pub mod cli;
pub mod external_id;
pub mod lambda;
pub mod policies;
pub mod settings;
pub mod temporal;

use std::path::PathBuf;

use base64::Engine;
use sha2::Digest;

pub use settings::{Flags, FunctionFlags, PolicySubject, Rollout, Settings};
pub use temporal::{DeploymentStatus, Temporal};

use crate::{
    Error, Project,
    package::{self, Request},
    progress,
};

/// The largest zip Lambda takes as a direct upload.
const DIRECT_UPLOAD_LIMIT: usize = 50 * 1024 * 1024;

/// A deployment package and its identity.
#[derive(Debug, Clone)]
pub struct Package {
    /// Where it is.
    pub path: PathBuf,
    /// The zip.
    pub bytes: Vec<u8>,
    /// Base64 of its SHA-256: Lambda's `CodeSha256`.
    pub sha256: String,
    /// Hex of its SHA-256.
    pub sha256_hex: String,
}

impl Package {
    /// Reads a package.
    pub fn read(path: PathBuf) -> Result<Package, Error> {
        let bytes = std::fs::read(&path).map_err(Error::io(&path, "cannot read the package"))?;
        let digest = sha2::Sha256::digest(&bytes);
        Ok(Package {
            sha256: base64::engine::general_purpose::STANDARD.encode(digest),
            sha256_hex: digest.iter().map(|b| format!("{b:02x}")).collect(),
            path,
            bytes,
        })
    }
}

/// What a deploy did.
#[derive(Debug, Clone)]
pub struct Deployed {
    /// The build id.
    pub build_id: String,
    /// The Lambda version's qualified ARN.
    pub arn: String,
    /// Its number.
    pub version: String,
    /// Whether this run published the Lambda version.
    pub published: bool,
    /// Whether this run registered the Worker Deployment Version.
    pub registered: bool,
}

/// The build id of a package: the crate's version and the start of the package's hash, so
/// a changed build never reuses an id (a Pinned workflow's id must keep meaning its code).
pub fn default_build_id(project: &Project, package: &Package) -> String {
    format!("{}-{}", project.version, &package.sha256_hex[..12])
}

/// Builds (or reads) the package.
fn package_for(project: &Project, s: &Settings) -> Result<Package, Error> {
    let path = match &s.zip {
        Some(zip) => zip.clone(),
        None => package::package(
            project,
            &Request {
                includes: s.includes.clone(),
                arch: s.arch,
                profile: s.profile.clone(),
                ..Request::default()
            },
        )?,
    };
    let package = Package::read(path)?;
    if package.bytes.len() > DIRECT_UPLOAD_LIMIT {
        progress(&format!(
            "warning: the package is {:.1} MiB; AWS Lambda takes at most 50 MiB as a direct \
             upload (build with the release profile)",
            package.bytes.len() as f64 / 1024.0 / 1024.0
        ));
    }
    Ok(package)
}

/// The whole `deploy`.
pub async fn deploy(project: &Project, s: &Settings) -> Result<Deployed, Error> {
    for warning in package::secrets::env_warnings(&s.env) {
        progress(&format!("warning: {warning}"));
    }
    let package = package_for(project, s)?;
    let build_id = s
        .build_id
        .clone()
        .unwrap_or_else(|| default_build_id(project, &package));
    progress(&format!(
        "connecting to Temporal for {}/{build_id}",
        s.deployment
    ));
    let mut temporal = Temporal::connect(project).await?;
    let registered_arn = temporal.version_arn(&s.deployment, &build_id).await?;
    let aws = lambda::client().await;
    let found = lambda::find_published(&aws, &s.function, &package, &build_id).await?;
    check_build_id(s, &build_id, registered_arn.as_ref(), found.as_ref())?;
    let published = match found {
        Some(f) => {
            progress(&format!(
                "{} version {} already runs build {build_id} (same code hash): nothing to \
                 publish",
                s.function, f.version
            ));
            f
        }
        None => lambda::publish(&aws, s, &package, &build_id).await?,
    };
    let registered = registered_arn.is_none();
    if registered {
        progress(&format!(
            "registering {}/{build_id} with {} in namespace {}",
            s.deployment, published.arn, temporal.namespace
        ));
        temporal
            .register(
                &s.deployment,
                &build_id,
                &published.arn,
                &s.invoke_role,
                &s.external_id,
            )
            .await?;
    }
    route(&mut temporal, &s.deployment, &build_id, s.rollout).await?;
    let deployed = Deployed {
        build_id,
        arn: published.arn,
        version: published.version,
        published: published.new,
        registered,
    };
    report(s, &deployed);
    Ok(deployed)
}

/// Refuses a build id that already names something else: a version without a Lambda compute
/// config (`registered` is `Some(None)`), or one registered with a Lambda version that does
/// not run this package.
fn check_build_id(
    s: &Settings,
    build_id: &str,
    registered: Option<&Option<String>>,
    found: Option<&lambda::Published>,
) -> Result<(), Error> {
    match registered {
        Some(None) => Err(Error::BuildIdPolled {
            deployment: s.deployment.clone(),
            build_id: build_id.to_owned(),
        }),
        Some(Some(arn)) if found.is_none_or(|f| &f.arn != arn) => Err(Error::BuildIdTaken {
            deployment: s.deployment.clone(),
            build_id: build_id.to_owned(),
            arn: arn.clone(),
        }),
        _ => Ok(()),
    }
}

/// What the deploy did, and how to route the version if it was not.
fn report(s: &Settings, d: &Deployed) {
    let build_id = &d.build_id;
    println!(
        "deployed {}/{build_id}: {} ({}; {})",
        s.deployment,
        d.arn,
        if d.published {
            "published now"
        } else {
            "already published"
        },
        if d.registered {
            "registered now"
        } else {
            "already registered"
        },
    );
    match s.rollout {
        Rollout::Current => println!("  current: new workflows start on it"),
        Rollout::Ramp(p) => println!("  ramping: {p}% of new workflows start on it"),
        Rollout::Register => println!(
            "  not routed yet: `cargo lambdaworker promote --build-id {build_id}` makes it \
             current, `cargo lambdaworker ramp --build-id {build_id} --percent 10` ramps it"
        ),
    }
}

/// Applies a rollout to a registered version.
pub async fn route(
    temporal: &mut Temporal,
    deployment: &str,
    build_id: &str,
    rollout: Rollout,
) -> Result<(), Error> {
    match rollout {
        Rollout::Register => Ok(()),
        Rollout::Current => temporal.set_current(deployment, build_id).await,
        Rollout::Ramp(p) if (0.0..=100.0).contains(&p) => {
            temporal.set_ramping(deployment, build_id, p).await
        }
        Rollout::Ramp(value) => Err(Error::Percent {
            flag: "--percent",
            value,
        }),
    }
}

/// `promote` / `ramp`: routes a registered version.
pub async fn promote(
    project: &Project,
    deployment: &str,
    build_id: &str,
    rollout: Rollout,
) -> Result<(), Error> {
    let mut temporal = Temporal::connect(project).await?;
    if temporal.version_arn(deployment, build_id).await?.is_none() {
        return Err(Error::NoSuchVersion {
            deployment: deployment.to_owned(),
            build_id: build_id.to_owned(),
            namespace: temporal.namespace.clone(),
        });
    }
    route(&mut temporal, deployment, build_id, rollout).await?;
    match rollout {
        Rollout::Current => println!("{deployment}/{build_id} is current"),
        Rollout::Ramp(p) => println!("{deployment}/{build_id} is ramping at {p}%"),
        Rollout::Register => {}
    }
    Ok(())
}

/// `status`: the deployment's versions, their Lambda ARNs, routing and drainage, as a table.
pub async fn status(project: &Project, deployment: &str) -> Result<String, Error> {
    let mut temporal = Temporal::connect(project).await?;
    let st = temporal.status(deployment).await?;
    Ok(format_status(deployment, &temporal.namespace, &st))
}

fn format_status(deployment: &str, namespace: &str, st: &DeploymentStatus) -> String {
    let mut out = format!("Worker Deployment {deployment} (namespace {namespace})\n");
    out.push_str(&format!(
        "  current: {}\n",
        st.current.as_deref().unwrap_or("(none)")
    ));
    if let Some((b, p)) = &st.ramping {
        out.push_str(&format!("  ramping: {b} at {p}%\n"));
    }
    let width = st
        .versions
        .iter()
        .map(|v| v.build_id.len())
        .max()
        .unwrap_or(8)
        .max(8);
    out.push_str(&format!(
        "  {:<width$}  {:<9} {:<9} lambda version\n",
        "build id", "status", "drainage"
    ));
    for v in &st.versions {
        out.push_str(&format!(
            "  {:<width$}  {:<9} {:<9} {}\n",
            v.build_id,
            v.status,
            v.drainage.as_deref().unwrap_or("-"),
            v.arn.as_deref().unwrap_or("(no compute config)")
        ));
    }
    out
}

/// `policies`: the IAM documents, filled in (the region from the AWS configuration), and the
/// settings to add for what the project does not set yet.
pub async fn policies(s: &PolicySubject, temporal_principals: &[String]) -> String {
    let config = lambda::sdk_config().await;
    let region = config
        .region()
        .map(|r| r.to_string())
        .unwrap_or_else(|| "REGION".into());
    policies::render(s, &region, temporal_principals)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_build_id_naming_other_code_is_refused() {
        let project = Project {
            workspace_root: "/w".into(),
            target_dir: "/w/target".into(),
            package: "orders".into(),
            package_dir: "/w".into(),
            package_manifest: "/w/Cargo.toml".into(),
            version: "0.1.0".into(),
            metadata: serde_json::json!({"lambdaworker": {
                "invoke-role": "arn:aws:iam::123456789012:role/r", "external-id": "ext-0123456789abcdef"}}),
            name: "orders".into(),
            example: false,
        };
        let s = Settings::resolve(&project, Flags::default()).unwrap();
        let ours = lambda::Published {
            arn: "arn:aws:lambda:r:1:function:orders:3".into(),
            version: "3".into(),
            new: false,
        };
        let check = |registered: Option<Option<String>>, found| {
            check_build_id(&s, "b1", registered.as_ref(), found)
        };
        assert!(check(None, None).is_ok());
        assert!(check(Some(Some(ours.arn.clone())), Some(&ours)).is_ok());
        let e = check(Some(None), None).unwrap_err();
        assert!(matches!(e, Error::BuildIdPolled { .. }), "{e}");
        let e = check(Some(Some("arn:other".into())), Some(&ours)).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("give this build another --build-id: orders/b1 is already"),
            "{e}"
        );
    }
}
