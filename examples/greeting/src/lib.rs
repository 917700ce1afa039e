//! The workflow and activity of the Go SDK's serverless-worker example, in Rust: a `Greeting`
//! workflow calling a `greet` activity. `main.rs` serves them as a Lambda function.

use std::time::Duration;

use temporalio_macros::{activities, workflow, workflow_methods};
use temporalio_sdk::{
    ActivityOptions, WorkflowContext, WorkflowResult,
    activities::{ActivityContext, ActivityError},
};

/// Greets a name through the `greet` activity.
#[workflow]
#[derive(Default)]
pub struct Greeting;

#[workflow_methods]
impl Greeting {
    /// Returns `Hello, <name>!`.
    #[run(name = "Greeting")]
    pub async fn run(ctx: &mut WorkflowContext<Self>, name: String) -> WorkflowResult<String> {
        let greeting = ctx
            .execute_activity(
                GreetingActivities::greet,
                name,
                ActivityOptions::start_to_close_timeout(Duration::from_secs(10)),
            )
            .await?;
        Ok(greeting)
    }
}

/// The activities.
pub struct GreetingActivities;

#[activities]
impl GreetingActivities {
    /// `Hello, <name>!`.
    #[activity(name = "greet")]
    pub async fn greet(_ctx: ActivityContext, name: String) -> Result<String, ActivityError> {
        Ok(format!("Hello, {name}!"))
    }
}
