//! Driving a dev server through the `temporal` CLI: Worker Deployment versions (with a
//! Lambda compute config), workflows, their histories and results.

use std::{
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use base64::Engine as _;
use serde_json::Value;

use super::DevServer;
use crate::LocalError;

impl DevServer {
    /// Runs a `temporal` CLI command against this server; returns stdout. The command is
    /// given a minute (`--command-timeout`): a server that accepts connections and then
    /// stalls is an error, not a hang.
    pub fn cli(&self, args: &[&str]) -> Result<String, LocalError> {
        let out = Command::new(&self.cli)
            .args(args)
            .args(["--address", &self.address, "--command-timeout", "60s"])
            .stdin(Stdio::null())
            .output()?;
        if !out.status.success() {
            return Err(LocalError::Command(format!(
                "temporal {}: {}{}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr),
                String::from_utf8_lossy(&out.stdout)
            )));
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Makes `build_id` the current version of `deployment` (allowed before any poller).
    pub fn set_current_version(&self, deployment: &str, build_id: &str) -> Result<(), LocalError> {
        let until = Instant::now() + Duration::from_secs(30);
        loop {
            match self.cli(&[
                "worker",
                "deployment",
                "set-current-version",
                "--deployment-name",
                deployment,
                "--build-id",
                build_id,
                "--allow-no-pollers",
                "--yes",
            ]) {
                Ok(_) => return Ok(()),
                Err(e) if Instant::now() > until => return Err(e),
                Err(_) => std::thread::sleep(Duration::from_millis(200)),
            }
        }
    }

    /// Creates `deployment` and its version `build` with a Lambda compute config: the server
    /// assumes `role_arn` (with `external_id`) and validates `function_arn` by invoking it, as
    /// `temporal worker deployment create-version --aws-lambda-*` does. Returns the CLI's
    /// output.
    pub fn create_lambda_version(
        &self,
        deployment: &str,
        build: &str,
        function_arn: &str,
        role_arn: &str,
        external_id: &str,
    ) -> Result<String, LocalError> {
        self.cli(&["worker", "deployment", "create", "--name", deployment])?;
        self.create_lambda_version_in(deployment, build, function_arn, role_arn, external_id)
    }

    /// [`DevServer::create_lambda_version`] in a deployment that already exists: another
    /// version (a new build) of the same deployment.
    pub fn create_lambda_version_in(
        &self,
        deployment: &str,
        build: &str,
        function_arn: &str,
        role_arn: &str,
        external_id: &str,
    ) -> Result<String, LocalError> {
        self.cli(&[
            "worker",
            "deployment",
            "create-version",
            "--deployment-name",
            deployment,
            "--build-id",
            build,
            "--aws-lambda-function-arn",
            function_arn,
            "--aws-lambda-assume-role-arn",
            role_arn,
            "--aws-lambda-assume-role-external-id",
            external_id,
        ])
    }

    /// Starts a workflow; `input` is JSON.
    pub fn start_workflow(
        &self,
        task_queue: &str,
        workflow_type: &str,
        workflow_id: &str,
        input: &Value,
    ) -> Result<(), LocalError> {
        self.cli(&[
            "workflow",
            "start",
            "--task-queue",
            task_queue,
            "--type",
            workflow_type,
            "--workflow-id",
            workflow_id,
            "--input",
            &input.to_string(),
        ])?;
        Ok(())
    }

    /// The workflow's history events (JSON, as the CLI prints them).
    pub fn history(&self, workflow_id: &str) -> Result<Vec<Value>, LocalError> {
        let out = self.cli(&[
            "workflow",
            "show",
            "--workflow-id",
            workflow_id,
            "-o",
            "json",
        ])?;
        let v: Value = serde_json::from_str(&out)?;
        Ok(v["events"].as_array().cloned().unwrap_or_default())
    }

    /// The result of a completed workflow, or `None` if it has not closed yet. A workflow
    /// that closed other than by completing is an error.
    pub fn result(&self, workflow_id: &str) -> Result<Option<Value>, LocalError> {
        let events = self.history(workflow_id)?;
        for e in &events {
            let t = e["eventType"].as_str().unwrap_or_default();
            if t.contains("WORKFLOW_EXECUTION_COMPLETED") || t == "WorkflowExecutionCompleted" {
                let attrs = &e["workflowExecutionCompletedEventAttributes"];
                let p = &attrs["result"]["payloads"][0];
                return Ok(Some(decode_payload(p)));
            }
            if t.contains("WORKFLOW_EXECUTION_FAILED")
                || t.contains("WORKFLOW_EXECUTION_TERMINATED")
                || t.contains("WORKFLOW_EXECUTION_TIMED_OUT")
                || t.contains("WORKFLOW_EXECUTION_CANCELED")
            {
                return Err(LocalError::Command(format!(
                    "workflow {workflow_id} closed: {e}"
                )));
            }
        }
        Ok(None)
    }

    /// Polls [`DevServer::result`] until the workflow completes or `limit` passes.
    pub fn wait_result(&self, workflow_id: &str, limit: Duration) -> Result<Value, LocalError> {
        let until = Instant::now() + limit;
        loop {
            if let Some(v) = self.result(workflow_id)? {
                return Ok(v);
            }
            if Instant::now() > until {
                return Err(LocalError::Timeout(format!(
                    "workflow {workflow_id} not completed after {limit:?}"
                )));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// Decodes a JSON payload as printed by the CLI (base64 data, or already decoded).
fn decode_payload(p: &Value) -> Value {
    match &p["data"] {
        Value::String(s) => base64::engine::general_purpose::STANDARD
            .decode(s)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_else(|| Value::String(s.clone())),
        other => other.clone(),
    }
}
