//! The workflow and activity of {{name}}; `main.rs` serves them on AWS Lambda.

use std::time::Duration;

use temporalio_macros::{activities, workflow, workflow_methods};
use temporalio_sdk::{
    ActivityOptions, WorkflowContext, WorkflowResult,
    activities::{ActivityContext, ActivityError},
};

/// The task queue the worker polls (unless `TEMPORAL_TASK_QUEUE` says otherwise).
pub const TASK_QUEUE: &str = "{{name}}";

/// What the activity does, as a plain function: tested without a server.
pub fn greeting(name: &str) -> String {
    format!("Hello, {name}!")
}

/// Greets a name through the `greet` activity.
#[workflow]
#[derive(Default)]
pub struct Greeting;

#[workflow_methods]
impl Greeting {
    /// Returns the activity's greeting.
    #[run(name = "Greeting")]
    pub async fn run(ctx: &mut WorkflowContext<Self>, name: String) -> WorkflowResult<String> {
        let greeting = ctx
            .execute_activity(
                Activities::greet,
                name,
                ActivityOptions::start_to_close_timeout(Duration::from_secs(10)),
            )
            .await?;
        Ok(greeting)
    }
}

/// The activities.
pub struct Activities;

#[activities]
impl Activities {
    /// Greets `name`.
    #[activity(name = "greet")]
    pub async fn greet(_ctx: ActivityContext, name: String) -> Result<String, ActivityError> {
        Ok(greeting(&name))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn greets_by_name() {
        assert_eq!(super::greeting("World"), "Hello, World!");
    }
}
