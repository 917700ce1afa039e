//! Many greeting workflows at once, through the Temporal Rust client: starting hundreds with
//! the CLI would cost a process each.

use std::time::{Duration, SystemTime};

use futures::{StreamExt, stream};
use temporalio_client::{
    Client, ClientOptions, Connection, ConnectionOptions, WorkflowDescribeOptions,
    WorkflowExecutionStatus, WorkflowFetchHistoryOptions, WorkflowStartOptions,
};
use temporalio_common::{
    HasWorkflowDefinition, WorkflowDefinition,
    protos::temporal::api::{
        enums::v1::EventType,
        history::v1::{HistoryEvent, history_event::Attributes},
    },
};

use crate::{DevServer, TestkitError};

/// The greeting example's workflow, as the client sees it: `Greeting(String) -> String`.
pub struct GreetingWorkflow;

impl WorkflowDefinition for GreetingWorkflow {
    type Input = String;
    type Output = String;
    fn name(&self) -> &str {
        "Greeting"
    }
}

impl HasWorkflowDefinition for GreetingWorkflow {
    type Run = Self;
}

/// What happened to one workflow, read from its history.
#[derive(Debug, Clone)]
pub struct WorkflowOutcome {
    /// The workflow id.
    pub id: String,
    /// The result, once completed.
    pub result: Option<String>,
    /// `ActivityTaskCompleted` events: a result is recorded once, so 1 when completed.
    pub activity_completions: usize,
    /// `ActivityTaskStarted` events (the last attempt's; earlier attempts that timed out
    /// show as a higher `attempt` on it).
    pub activity_attempt: Option<i32>,
    /// When the workflow started.
    pub started_at: Option<SystemTime>,
    /// When the workflow completed.
    pub closed_at: Option<SystemTime>,
    /// Every event, in order: its type (`EventType::as_str_name`, e.g.
    /// `EVENT_TYPE_WORKFLOW_TASK_STARTED`) and the server's time for it.
    pub timeline: Vec<(&'static str, SystemTime)>,
    /// Each workflow or activity task a worker picked up: the worker's identity (a Lambda
    /// worker's is `<requestId>@<function ARN>`) and when the server handed it out.
    pub task_starts: Vec<(String, SystemTime)>,
}

/// The first task each worker picked up over `outcomes`, by the request id in its identity
/// (a Lambda worker's identity is `<requestId>@<function ARN>`; another identity counts whole).
pub fn first_task_by_request(
    outcomes: &[WorkflowOutcome],
) -> std::collections::HashMap<String, SystemTime> {
    let mut first = std::collections::HashMap::new();
    for (identity, at) in outcomes.iter().flat_map(|o| &o.task_starts) {
        let id = identity.split('@').next().unwrap_or_default().to_owned();
        let e = first.entry(id).or_insert(*at);
        *e = (*e).min(*at);
    }
    first
}

/// Greeting workflows on one task queue of a dev server.
pub struct Greetings {
    client: Client,
    /// The task queue the workflows are started on.
    pub task_queue: String,
}

/// How many requests are in flight at once.
const PARALLEL: usize = 16;

impl Greetings {
    /// Connects to `server`.
    pub async fn connect(server: &DevServer, task_queue: &str) -> Result<Self, TestkitError> {
        let url = format!("http://{}", server.address)
            .parse::<temporalio_client::Url>()
            .map_err(|e| TestkitError::Command(format!("address: {e}")))?;
        let connection = Connection::connect(ConnectionOptions::new(url).build())
            .await
            .map_err(|e| TestkitError::Command(format!("connect: {e}")))?;
        let client = Client::new(connection, ClientOptions::new("default").build())
            .map_err(|e| TestkitError::Command(format!("client: {e}")))?;
        Ok(Self {
            client,
            task_queue: task_queue.to_owned(),
        })
    }

    /// Starts one workflow per name; returns their ids, in order.
    pub async fn start(&self, names: &[String]) -> Result<Vec<String>, TestkitError> {
        let started: Vec<Result<String, TestkitError>> = stream::iter(names.iter().cloned())
            .map(|name| async move {
                let id = crate::unique("wf");
                self.client
                    .start_workflow(
                        GreetingWorkflow,
                        name,
                        WorkflowStartOptions::new(self.task_queue.clone(), id.clone()).build(),
                    )
                    .await
                    .map_err(|e| TestkitError::Command(format!("start {id}: {e}")))?;
                Ok(id)
            })
            .buffered(PARALLEL)
            .collect()
            .await;
        started.into_iter().collect()
    }

    /// How many of `ids` have completed.
    pub async fn completed(&self, ids: &[String]) -> Result<usize, TestkitError> {
        let statuses: Vec<Result<bool, TestkitError>> = stream::iter(ids.iter().cloned())
            .map(|id| async move {
                let d = self
                    .client
                    .get_workflow_handle::<GreetingWorkflow>(id.clone())
                    .describe(WorkflowDescribeOptions::default())
                    .await
                    .map_err(|e| TestkitError::Command(format!("describe {id}: {e}")))?;
                Ok(d.status() == WorkflowExecutionStatus::Completed)
            })
            .buffer_unordered(PARALLEL)
            .collect()
            .await;
        let mut n = 0;
        for s in statuses {
            n += usize::from(s?);
        }
        Ok(n)
    }

    /// Polls until every one of `ids` has completed, or `limit` passes (then an error naming
    /// how many did).
    pub async fn wait_all(&self, ids: &[String], limit: Duration) -> Result<(), TestkitError> {
        let until = tokio::time::Instant::now() + limit;
        loop {
            let done = self.completed(ids).await?;
            if done == ids.len() {
                return Ok(());
            }
            if tokio::time::Instant::now() >= until {
                return Err(TestkitError::Timeout(format!(
                    "{done} of {} workflows completed within {limit:?}",
                    ids.len()
                )));
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// Reads each workflow's history.
    pub async fn outcomes(&self, ids: &[String]) -> Result<Vec<WorkflowOutcome>, TestkitError> {
        let all: Vec<Result<WorkflowOutcome, TestkitError>> = stream::iter(ids.iter().cloned())
            .map(|id| async move { self.outcome(&id).await })
            .buffered(PARALLEL)
            .collect()
            .await;
        all.into_iter().collect()
    }

    /// Reads one workflow's history.
    pub async fn outcome(&self, id: &str) -> Result<WorkflowOutcome, TestkitError> {
        let events = self
            .client
            .get_workflow_handle::<GreetingWorkflow>(id.to_owned())
            .fetch_history(WorkflowFetchHistoryOptions::default())
            .into_events()
            .await
            .map_err(|e| TestkitError::Command(format!("history of {id}: {e}")))?;
        let mut out = WorkflowOutcome {
            id: id.to_owned(),
            result: None,
            activity_completions: 0,
            activity_attempt: None,
            started_at: None,
            closed_at: None,
            timeline: Vec::with_capacity(events.len()),
            task_starts: Vec::new(),
        };
        for e in &events {
            out.add(e);
        }
        Ok(out)
    }
}

impl WorkflowOutcome {
    /// Takes in one history event.
    fn add(&mut self, e: &HistoryEvent) {
        let at = e.event_time.and_then(|t| {
            let secs = u64::try_from(t.seconds).ok()?;
            let nanos = u32::try_from(t.nanos).ok()?;
            Some(SystemTime::UNIX_EPOCH + Duration::new(secs, nanos))
        });
        if let Some(at) = at {
            self.timeline.push((e.event_type().as_str_name(), at));
        }
        let identity = match &e.attributes {
            Some(Attributes::WorkflowTaskStartedEventAttributes(a)) => Some(&a.identity),
            Some(Attributes::ActivityTaskStartedEventAttributes(a)) => Some(&a.identity),
            _ => None,
        };
        if let (Some(identity), Some(at)) = (identity, at) {
            self.task_starts.push((identity.clone(), at));
        }
        match (e.event_type(), &e.attributes) {
            (EventType::WorkflowExecutionStarted, _) => self.started_at = at,
            (EventType::ActivityTaskCompleted, _) => self.activity_completions += 1,
            (
                EventType::ActivityTaskStarted,
                Some(Attributes::ActivityTaskStartedEventAttributes(a)),
            ) => self.activity_attempt = Some(a.attempt),
            (EventType::WorkflowExecutionCompleted, attributes) => {
                self.closed_at = at;
                if let Some(Attributes::WorkflowExecutionCompletedEventAttributes(a)) = attributes {
                    self.result = a
                        .result
                        .as_ref()
                        .and_then(|p| p.payloads.first())
                        .and_then(|p| serde_json::from_slice::<String>(&p.data).ok());
                }
            }
            _ => {}
        }
    }
}
