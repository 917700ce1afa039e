//! A function registered as a serverless worker: `lw-local` runs it and the dev server's
//! Worker Controller invokes it. Shared by the serverless loop and the bursts.

use lw_local::{FunctionConfig, LocalLambda, RoleConfig};
use lw_testkit::{DevServer, unique};

use super::BUILD_ID;

/// Adds `config`'s function to `aws` with the Temporal settings of a new task queue and
/// Worker Deployment (then `env`, which may add to them), and registers it as that
/// deployment's current version, invoked through a role of its own that the server assumes
/// with an external id (lw-local matches the first role registered under an ARN, so each
/// registration has its own). `prefix` names the task queue, deployment and role. Returns
/// the task queue.
pub(super) fn register<'a>(
    aws: &LocalLambda,
    server: &DevServer,
    prefix: &str,
    config: FunctionConfig,
    env: impl IntoIterator<Item = (&'a str, String)>,
) -> Result<String, String> {
    let (deployment, task_queue) = (unique(&format!("{prefix}-dep")), unique(prefix));
    let role = format!(
        "arn:aws:iam::000000000000:role/{}",
        unique(&format!("{prefix}-invoker"))
    );
    let external_id = unique("ext");
    aws.add_role(RoleConfig {
        arn: role.clone(),
        external_id: Some(external_id.clone()),
    });
    let mut config = config
        .env("TEMPORAL_ADDRESS", server.address.clone())
        .env("TEMPORAL_NAMESPACE", "default")
        .env("TEMPORAL_TASK_QUEUE", task_queue.clone())
        .env("LW_DEPLOYMENT_NAME", deployment.clone())
        .env("LW_BUILD_ID", BUILD_ID)
        .env("TEMPORAL_CONFIG_FILE", "");
    for (k, v) in env {
        config = config.env(k, v);
    }
    let arn = aws.add_function(config);
    server
        .create_lambda_version(&deployment, BUILD_ID, &arn, &role, &external_id)
        .map_err(|e| e.to_string())?;
    server
        .set_current_version(&deployment, BUILD_ID)
        .map_err(|e| e.to_string())?;
    Ok(task_queue)
}
