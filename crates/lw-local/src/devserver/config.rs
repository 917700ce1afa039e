//! The dev server's configuration for the serverless loop.

/// The dev server's `--dynamic-config-value` entries that enable the Worker Controller with
/// the AWS Lambda compute provider (`temporal server start-dev`, CLI 1.9.1): pass them to
/// [`crate::DevServer::start_with`] with [`crate::LocalLambda::server_env`].
pub fn worker_controller_config() -> Vec<String> {
    vec![
        "workercontroller.enabled=true".into(),
        "workercontroller.compute_providers.enabled=[\"aws-lambda\"]".into(),
        "workercontroller.scaling_algorithms.enabled=[\"no-sync\"]".into(),
    ]
}
