//! The Temporal side: Worker Deployment Versions whose compute config points at a Lambda
//! version's qualified ARN (what `temporal worker deployment create-version --aws-lambda-*`
//! sends), and the routing (current, ramping) between them.

use std::time::{Duration, Instant};

use temporalio_client::{grpc::WorkflowService, tonic};
use temporalio_common::protos::temporal::api::{
    common::v1::Payload,
    compute::v1::{ComputeConfig, ComputeConfigScalingGroup, ComputeProvider, ComputeScaler},
    deployment::v1::WorkerDeploymentVersion,
    enums::v1::{VersionDrainageStatus, WorkerDeploymentVersionStatus},
    workflowservice::v1::{
        CreateWorkerDeploymentRequest, CreateWorkerDeploymentVersionRequest,
        DescribeWorkerDeploymentRequest, DescribeWorkerDeploymentVersionRequest,
        SetWorkerDeploymentCurrentVersionRequest, SetWorkerDeploymentRampingVersionRequest,
    },
};

use crate::{Error, Project};

/// The compute provider the Worker Controller runs Lambda functions with.
const PROVIDER: &str = "aws-lambda";
/// The scaling group `create-version` writes (the only one: all task types).
const GROUP: &str = "default";
/// How long decrypting `kms:` values may take: longer than a function's 5 s, as the
/// credential chain may first have to refresh an SSO token or run a `credential_process`.
const KMS_TIMEOUT: Duration = Duration::from_secs(30);

/// A connection to the namespace's Worker Deployments.
pub struct Temporal {
    service: Box<dyn WorkflowService>,
    /// The namespace.
    pub namespace: String,
    /// The server's address, as resolved.
    pub address: String,
    identity: String,
}

/// One version as `status` shows it.
#[derive(Debug, Clone)]
pub struct VersionRow {
    /// The build id.
    pub build_id: String,
    /// `current`, `ramping`, `draining`, `drained`, `inactive`.
    pub status: String,
    /// The Lambda ARN of its compute config, if it has one.
    pub arn: Option<String>,
    /// `draining` / `drained`, when reported.
    pub drainage: Option<String>,
}

/// A deployment's routing and versions.
#[derive(Debug, Clone, Default)]
pub struct DeploymentStatus {
    /// The current version's build id.
    pub current: Option<String>,
    /// The ramping version's build id and its percentage.
    pub ramping: Option<(String, f32)>,
    /// Every version, oldest first.
    pub versions: Vec<VersionRow>,
}

fn temporal_error(step: &str, status: tonic::Status) -> Error {
    let fix = match status.code() {
        tonic::Code::PermissionDenied | tonic::Code::Unauthenticated => {
            "use credentials allowed to manage Worker Deployments in this namespace (an API key \
             or certificate with the namespace's admin or developer role)"
        }
        tonic::Code::InvalidArgument => {
            "fix what the server names below (for a compute config: the invoke role's trust \
             policy and ExternalId, and that Temporal can reach the function)"
        }
        tonic::Code::NotFound => "check the namespace and the deployment name",
        tonic::Code::ResourceExhausted => {
            "delete versions you no longer need (`temporal worker deployment delete-version`): \
             the deployment is at its version limit"
        }
        tonic::Code::Unimplemented => {
            "use a Temporal server with Worker Deployments and the Worker Controller (Temporal \
             Cloud, or a dev server started with the Worker Controller enabled)"
        }
        _ => "see the server's answer below",
    };
    Error::Temporal {
        fix: fix.into(),
        step: step.to_owned(),
        code: format!("{:?}", status.code()),
        message: status.message().to_owned(),
    }
}

fn version(deployment: &str, build_id: &str) -> Option<WorkerDeploymentVersion> {
    Some(WorkerDeploymentVersion {
        deployment_name: deployment.to_owned(),
        build_id: build_id.to_owned(),
    })
}

/// The Lambda compute config: the function ARN, the role to assume and its ExternalId, as
/// JSON the server reads (the SDKs' default converter's `json/plain`).
fn compute_config(arn: &str, role: &str, external_id: &str) -> ComputeConfig {
    let details = serde_json::json!({
        "arn": arn,
        "role": role,
        "role_external_id": external_id,
    });
    let payload = Payload {
        metadata: [("encoding".to_owned(), b"json/plain".to_vec())].into(),
        data: details.to_string().into_bytes(),
        ..Default::default()
    };
    let group = ComputeConfigScalingGroup {
        provider: Some(ComputeProvider {
            r#type: PROVIDER.into(),
            details: Some(payload),
            ..Default::default()
        }),
        scaler: Some(ComputeScaler {
            r#type: "no-sync".into(),
            details: None,
        }),
        ..Default::default()
    };
    ComputeConfig {
        scaling_groups: [(GROUP.to_owned(), group)].into(),
    }
}

/// The Lambda ARN in a compute config, if it has the Lambda provider.
fn lambda_arn(config: &ComputeConfig) -> Option<String> {
    config
        .scaling_groups
        .values()
        .filter_map(|g| g.provider.as_ref())
        .filter(|p| p.r#type == PROVIDER)
        .filter_map(|p| p.details.as_ref())
        .filter_map(|d| serde_json::from_slice::<serde_json::Value>(&d.data).ok())
        .find_map(|v| v["arn"].as_str().map(str::to_owned))
}

fn status_name(code: i32) -> String {
    WorkerDeploymentVersionStatus::try_from(code)
        .map(|s| {
            s.as_str_name()
                .trim_start_matches("WORKER_DEPLOYMENT_VERSION_STATUS_")
                .to_lowercase()
        })
        .unwrap_or_else(|_| "unknown".into())
}

fn drainage_name(code: i32) -> Option<String> {
    match VersionDrainageStatus::try_from(code) {
        Ok(VersionDrainageStatus::Draining) => Some("draining".into()),
        Ok(VersionDrainageStatus::Drained) => Some("drained".into()),
        _ => None,
    }
}

impl Temporal {
    /// Connects as the worker would: `temporal.toml` (the package's own, unless
    /// `TEMPORAL_CONFIG_FILE` names another) and the `TEMPORAL_*` variables, with API key,
    /// mTLS and KMS-encrypted secrets, decrypted with the AWS credentials of the standard
    /// chain (profiles, SSO, `credential_process`, environment, web identity, instance and
    /// container roles), as the rest of `deploy` uses.
    pub async fn connect(project: &Project) -> Result<Temporal, Error> {
        let aws = super::lambda::sdk_config().await;
        let mut loader = lw_config::Loader::new()
            .kms(lw_config::Kms::from_client(aws_sdk_kms::Client::new(&aws)))
            .kms_timeout(KMS_TIMEOUT);
        let local = project.package_dir.join("temporal.toml");
        if std::env::var_os("TEMPORAL_CONFIG_FILE").is_none() && local.is_file() {
            loader = loader.config_file(&local);
        }
        let config = loader.load_async().await.map_err(lw_runtime::Error::from)?;
        let identity = format!(
            "cargo-lambdaworker@{}",
            std::env::var("HOSTNAME").unwrap_or_else(|_| "localhost".into())
        );
        let client =
            lw_runtime::connect_client(&config, &identity, Duration::from_secs(20)).await?;
        Ok(Temporal {
            service: client.connection().workflow_service(),
            namespace: config.namespace.clone(),
            address: config.address.clone(),
            identity,
        })
    }

    /// The Lambda ARN a registered version points at; `None` when the version does not
    /// exist.
    pub async fn version_arn(
        &mut self,
        deployment: &str,
        build_id: &str,
    ) -> Result<Option<Option<String>>, Error> {
        let request = DescribeWorkerDeploymentVersionRequest {
            namespace: self.namespace.clone(),
            deployment_version: version(deployment, build_id),
            ..Default::default()
        };
        match self
            .service
            .describe_worker_deployment_version(tonic::Request::new(request))
            .await
        {
            Ok(r) => Ok(Some(
                r.into_inner()
                    .worker_deployment_version_info
                    .and_then(|i| i.compute_config)
                    .as_ref()
                    .and_then(lambda_arn),
            )),
            Err(s) if s.code() == tonic::Code::NotFound => Ok(None),
            Err(s) => Err(temporal_error("reading the Worker Deployment Version", s)),
        }
    }

    /// Creates the version (and the deployment, the first time) with its Lambda compute
    /// config. The server validates it: it reads the function and checks that the role
    /// requires the ExternalId.
    pub async fn register(
        &mut self,
        deployment: &str,
        build_id: &str,
        arn: &str,
        role: &str,
        external_id: &str,
    ) -> Result<(), Error> {
        let request = CreateWorkerDeploymentVersionRequest {
            namespace: self.namespace.clone(),
            deployment_version: version(deployment, build_id),
            compute_config: Some(compute_config(arn, role, external_id)),
            identity: self.identity.clone(),
            request_id: uuid::Uuid::new_v4().to_string(),
        };
        let first = self
            .service
            .create_worker_deployment_version(tonic::Request::new(request.clone()))
            .await;
        match first {
            Ok(_) => return Ok(()),
            Err(s) if s.code() == tonic::Code::NotFound => {}
            Err(s) => return Err(temporal_error("creating the Worker Deployment Version", s)),
        }
        let create = CreateWorkerDeploymentRequest {
            namespace: self.namespace.clone(),
            deployment_name: deployment.to_owned(),
            identity: self.identity.clone(),
            request_id: uuid::Uuid::new_v4().to_string(),
        };
        match self
            .service
            .create_worker_deployment(tonic::Request::new(create))
            .await
        {
            Ok(_) => {}
            Err(s) if s.code() == tonic::Code::AlreadyExists => {}
            Err(s) => return Err(temporal_error("creating the Worker Deployment", s)),
        }
        self.service
            .create_worker_deployment_version(tonic::Request::new(request))
            .await
            .map_err(|s| temporal_error("creating the Worker Deployment Version", s))?;
        Ok(())
    }

    /// Makes the version current (it may have no pollers yet: the controller starts them).
    pub async fn set_current(&mut self, deployment: &str, build_id: &str) -> Result<(), Error> {
        let request = SetWorkerDeploymentCurrentVersionRequest {
            namespace: self.namespace.clone(),
            deployment_name: deployment.to_owned(),
            build_id: build_id.to_owned(),
            identity: self.identity.clone(),
            allow_no_pollers: true,
            ..Default::default()
        };
        self.retrying("making the version current", |mut svc| {
            let request = request.clone();
            async move {
                svc.set_worker_deployment_current_version(tonic::Request::new(request))
                    .await
                    .map(|_| ())
            }
        })
        .await
    }

    /// Ramps the version to `percentage` of new workflows (0 with an empty build id: no
    /// ramp).
    pub async fn set_ramping(
        &mut self,
        deployment: &str,
        build_id: &str,
        percentage: f32,
    ) -> Result<(), Error> {
        let request = SetWorkerDeploymentRampingVersionRequest {
            namespace: self.namespace.clone(),
            deployment_name: deployment.to_owned(),
            build_id: build_id.to_owned(),
            percentage,
            identity: self.identity.clone(),
            allow_no_pollers: true,
            ..Default::default()
        };
        self.retrying("ramping the version", |mut svc| {
            let request = request.clone();
            async move {
                svc.set_worker_deployment_ramping_version(tonic::Request::new(request))
                    .await
                    .map(|_| ())
            }
        })
        .await
    }

    /// A routing change right after a version was created can meet the deployment still
    /// settling (FailedPrecondition, Aborted): retried for up to 30 s.
    async fn retrying<F, Fut>(&mut self, step: &str, mut call: F) -> Result<(), Error>
    where
        F: FnMut(Box<dyn WorkflowService>) -> Fut,
        Fut: std::future::Future<Output = Result<(), tonic::Status>>,
    {
        let until = Instant::now() + Duration::from_secs(30);
        loop {
            match call(self.service.clone()).await {
                Ok(()) => return Ok(()),
                Err(s)
                    if matches!(
                        s.code(),
                        tonic::Code::FailedPrecondition | tonic::Code::Aborted
                    ) && Instant::now() < until =>
                {
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
                Err(s) => return Err(temporal_error(step, s)),
            }
        }
    }

    /// The deployment's routing and each version with its Lambda ARN.
    pub async fn status(&mut self, deployment: &str) -> Result<DeploymentStatus, Error> {
        let request = DescribeWorkerDeploymentRequest {
            namespace: self.namespace.clone(),
            deployment_name: deployment.to_owned(),
        };
        let info = self
            .service
            .describe_worker_deployment(tonic::Request::new(request))
            .await
            .map_err(|s| temporal_error("reading the Worker Deployment", s))?
            .into_inner()
            .worker_deployment_info
            .unwrap_or_default();
        let routing = info.routing_config.unwrap_or_default();
        let mut status = DeploymentStatus {
            current: routing.current_deployment_version.map(|v| v.build_id),
            ramping: routing
                .ramping_deployment_version
                .map(|v| (v.build_id, routing.ramping_version_percentage)),
            versions: Vec::new(),
        };
        let mut summaries = info.version_summaries;
        summaries.sort_by_key(|s| s.create_time.as_ref().map(|t| (t.seconds, t.nanos)));
        for s in summaries {
            let build_id = s.deployment_version.map(|v| v.build_id).unwrap_or_default();
            let arn = self.version_arn(deployment, &build_id).await?.flatten();
            status.versions.push(VersionRow {
                status: status_name(s.status),
                drainage: drainage_name(s.drainage_status),
                build_id,
                arn,
            });
        }
        Ok(status)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_compute_config_reads_back_its_arn() {
        let arn = "arn:aws:lambda:us-east-1:123456789012:function:orders:7";
        let c = compute_config(arn, "arn:aws:iam::123456789012:role/r", "ext-1");
        assert_eq!(lambda_arn(&c).as_deref(), Some(arn));
        let group = &c.scaling_groups[GROUP];
        let provider = group.provider.as_ref().unwrap();
        assert_eq!(provider.r#type, "aws-lambda");
        let details = provider.details.as_ref().unwrap();
        assert_eq!(details.metadata["encoding"], b"json/plain");
        let v: serde_json::Value = serde_json::from_slice(&details.data).unwrap();
        assert_eq!(v["role_external_id"], "ext-1");
        assert_eq!(group.scaler.as_ref().unwrap().r#type, "no-sync");
    }
}
