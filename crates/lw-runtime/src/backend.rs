//! The seam between the lifecycle and the Temporal SDK ([`Backend`]), and the real one over
//! the SDK ([`TemporalBackend`]): connect, check the task queue, create a worker, close.

use std::sync::Arc;
use temporalio_client::{Client, ClientOptions, ConnectionOptions, tonic};

use lw_options::CoreMeter;
use temporalio_common::telemetry::TelemetryOptions;
use temporalio_sdk::{Runtime, Worker, WorkerOptions, runtime::RuntimeOptions};

use crate::BoxError;

/// The seam between the lifecycle and the Temporal SDK: connect, create, close.
///
/// [`TemporalBackend`] is the real one; tests inject fakes to check the lifecycle's order,
/// counts and deadlines without a server.
pub trait Backend {
    /// A connected client.
    type Client;
    /// A created, not yet running, worker.
    type Worker: WorkerRunner;

    /// Connects a new client.
    fn connect(
        &self,
        connection: ConnectionOptions,
        client: ClientOptions,
    ) -> impl Future<Output = Result<Self::Client, BoxError>>;

    /// Creates a worker on `client`.
    fn create_worker(
        &self,
        client: &Self::Client,
        options: WorkerOptions,
    ) -> Result<Self::Worker, BoxError>;

    /// Releases the worker (if one was created) and closes the client. Called after the
    /// shutdown hooks.
    fn close(&self, client: Self::Client, worker: Option<Self::Worker>);

    /// Asks the server whether `task_queue` in `namespace` can be polled (its name, the
    /// namespace, read access), so a rejection is an error naming the server's reason instead
    /// of polls retried in silence. Default: nothing to check.
    fn check_task_queue(
        &self,
        client: &Self::Client,
        namespace: &str,
        task_queue: &str,
    ) -> impl Future<Output = Result<(), TaskQueueRejected>> {
        let _ = (client, namespace, task_queue);
        async { Ok(()) }
    }

    /// The SDK client the shutdown hooks get ([`lw_options::ShutdownContext::client`]), if
    /// this backend has one. Default: none.
    fn sdk_client(client: &Self::Client) -> Option<Client> {
        let _ = client;
        None
    }
}

/// The server's answer when asked about a task queue: a gRPC code and its message.
#[derive(Debug, Clone)]
pub struct TaskQueueRejected {
    /// The gRPC code.
    pub code: tonic::Code,
    /// The server's message.
    pub reason: String,
}

impl TaskQueueRejected {
    /// Whether the answer is a verdict on the task queue, namespace or credentials (rather
    /// than the server being busy or unreachable, which polling would retry).
    pub fn is_verdict(&self) -> bool {
        matches!(
            self.code,
            tonic::Code::InvalidArgument
                | tonic::Code::NotFound
                | tonic::Code::PermissionDenied
                | tonic::Code::Unauthenticated
                | tonic::Code::FailedPrecondition
        )
    }
}

/// A worker the engine can run and stop.
pub trait WorkerRunner {
    /// A function that asks the running worker to stop polling and drain.
    fn shutdown_handle(&self) -> Box<dyn Fn() + Send + Sync>;
    /// Runs until shut down or failed.
    fn run(&mut self) -> impl Future<Output = Result<(), BoxError>>;
}

/// The real backend: the Temporal Rust SDK, with one SDK [`Runtime`] per process.
pub struct TemporalBackend {
    runtime: Runtime,
}

impl TemporalBackend {
    /// Creates the process's SDK runtime on the current tokio runtime, sending worker metrics
    /// to `metrics` when given.
    pub fn new(metrics: Option<Arc<dyn CoreMeter>>) -> Result<Self, crate::Error> {
        let options = match metrics {
            None => RuntimeOptions::default(),
            Some(meter) => RuntimeOptions::builder()
                .telemetry_options(TelemetryOptions::builder().metrics(meter).build())
                .build()
                .map_err(|e| crate::Error::Runtime(e.into()))?,
        };
        let runtime =
            Runtime::from_current_tokio(options).map_err(|e| crate::Error::Runtime(e.into()))?;
        Ok(Self { runtime })
    }
}

impl Backend for TemporalBackend {
    type Client = Client;
    type Worker = Worker;

    async fn connect(
        &self,
        connection: ConnectionOptions,
        client: ClientOptions,
    ) -> Result<Client, BoxError> {
        crate::connect::temporal_client(connection, client).await
    }

    fn create_worker(&self, client: &Client, options: WorkerOptions) -> Result<Worker, BoxError> {
        Ok(Worker::new(&self.runtime, client.clone(), options)?)
    }

    async fn check_task_queue(
        &self,
        client: &Client,
        namespace: &str,
        task_queue: &str,
    ) -> Result<(), TaskQueueRejected> {
        use temporalio_common::protos::temporal::api::{
            taskqueue::v1::TaskQueue, workflowservice::v1::DescribeTaskQueueRequest,
        };
        let request = DescribeTaskQueueRequest {
            namespace: namespace.to_owned(),
            task_queue: Some(TaskQueue {
                name: task_queue.to_owned(),
                ..Default::default()
            }),
            ..Default::default()
        };
        match client
            .connection()
            .workflow_service()
            .describe_task_queue(tonic::Request::new(request))
            .await
        {
            Ok(_) => Ok(()),
            Err(status) => Err(TaskQueueRejected {
                code: status.code(),
                reason: status.message().to_owned(),
            }),
        }
    }

    fn sdk_client(client: &Client) -> Option<Client> {
        Some(client.clone())
    }

    fn close(&self, client: Client, worker: Option<Worker>) {
        if let Some(worker) = worker {
            // The SDK does not finish unregistering a stopped worker from its client; without
            // this, every invocation leaks the worker's connection (a socket).
            let key = worker.worker_instance_key();
            let workers = client.connection().workers();
            if let Err(e) = workers.unregister_slot_provider(key) {
                tracing::debug!(error = %e, "unregister_slot_provider");
            }
            if let Err(e) = workers.finalize_unregister(key) {
                tracing::debug!(error = %e, "finalize_unregister");
            }
            drop(worker);
        }
        drop(client);
    }
}

impl WorkerRunner for Worker {
    fn shutdown_handle(&self) -> Box<dyn Fn() + Send + Sync> {
        Box::new(Worker::shutdown_handle(self))
    }

    async fn run(&mut self) -> Result<(), BoxError> {
        Ok(Worker::run(self).await?)
    }
}
