//! A real OTLP/gRPC receiver (metrics and traces) that records what arrives.

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use opentelemetry_proto::tonic::{
    collector::{
        metrics::v1::{
            ExportMetricsServiceRequest, ExportMetricsServiceResponse,
            metrics_service_server::{MetricsService, MetricsServiceServer},
        },
        trace::v1::{
            ExportTraceServiceRequest, ExportTraceServiceResponse,
            trace_service_server::{TraceService, TraceServiceServer},
        },
    },
    common::v1::{AnyValue, KeyValue, any_value},
    metrics::v1::metric,
    resource::v1::Resource,
};
use tonic::{Request, Response, Status, transport::server::TcpIncoming};

use crate::TestkitError;

/// One metric as received.
#[derive(Debug, Clone, PartialEq)]
pub struct ReceivedMetric {
    /// Instrument name, e.g. `temporal_workflow_completed`.
    pub name: String,
    /// Data points in this export.
    pub points: usize,
    /// The resource's attributes (`service.name`, `faas.name`, ...).
    pub resource: Vec<(String, String)>,
}

/// One span as received.
#[derive(Debug, Clone, PartialEq)]
pub struct ReceivedSpan {
    /// Span name, e.g. `RunActivity:greet`.
    pub name: String,
    /// Trace id, 32 lowercase hex digits.
    pub trace_id: String,
    /// Span id, 16 hex digits.
    pub span_id: String,
    /// Parent span id (empty for a root span).
    pub parent_span_id: String,
    /// The span's attributes.
    pub attributes: Vec<(String, String)>,
    /// The resource's attributes.
    pub resource: Vec<(String, String)>,
}

/// Everything received so far.
#[derive(Debug, Clone, Default)]
pub struct Received {
    /// Metric export calls.
    pub metric_exports: usize,
    /// Trace export calls.
    pub trace_exports: usize,
    /// Every metric of every export, in arrival order.
    pub metrics: Vec<ReceivedMetric>,
    /// Every span of every export, in arrival order.
    pub spans: Vec<ReceivedSpan>,
}

impl Received {
    /// Whether a metric called `name` has arrived.
    pub fn has_metric(&self, name: &str) -> bool {
        self.metrics.iter().any(|m| m.name == name)
    }

    /// Spans called `name`.
    pub fn spans_named(&self, name: &str) -> Vec<&ReceivedSpan> {
        self.spans.iter().filter(|s| s.name == name).collect()
    }
}

#[derive(Clone, Default)]
struct Sink(Arc<Mutex<Received>>);

impl Sink {
    fn with<R>(&self, f: impl FnOnce(&mut Received) -> R) -> R {
        let mut r = self.0.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut r)
    }
}

fn text(v: &Option<AnyValue>) -> String {
    match v.as_ref().and_then(|v| v.value.as_ref()) {
        Some(any_value::Value::StringValue(s)) => s.clone(),
        Some(any_value::Value::BoolValue(b)) => b.to_string(),
        Some(any_value::Value::IntValue(i)) => i.to_string(),
        Some(any_value::Value::DoubleValue(d)) => d.to_string(),
        Some(other) => format!("{other:?}"),
        None => String::new(),
    }
}

fn pairs(kvs: &[KeyValue]) -> Vec<(String, String)> {
    kvs.iter()
        .map(|kv| (kv.key.clone(), text(&kv.value)))
        .collect()
}

fn resource(r: &Option<Resource>) -> Vec<(String, String)> {
    r.as_ref().map(|r| pairs(&r.attributes)).unwrap_or_default()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[tonic::async_trait]
impl MetricsService for Sink {
    async fn export(
        &self,
        request: Request<ExportMetricsServiceRequest>,
    ) -> Result<Response<ExportMetricsServiceResponse>, Status> {
        let req = request.into_inner();
        self.with(|r| {
            r.metric_exports += 1;
            for rm in &req.resource_metrics {
                let res = resource(&rm.resource);
                for sm in &rm.scope_metrics {
                    for m in &sm.metrics {
                        let points = match &m.data {
                            Some(metric::Data::Sum(s)) => s.data_points.len(),
                            Some(metric::Data::Gauge(g)) => g.data_points.len(),
                            Some(metric::Data::Histogram(h)) => h.data_points.len(),
                            Some(metric::Data::ExponentialHistogram(h)) => h.data_points.len(),
                            Some(metric::Data::Summary(s)) => s.data_points.len(),
                            None => 0,
                        };
                        r.metrics.push(ReceivedMetric {
                            name: m.name.clone(),
                            points,
                            resource: res.clone(),
                        });
                    }
                }
            }
        });
        Ok(Response::new(ExportMetricsServiceResponse {
            partial_success: None,
        }))
    }
}

#[tonic::async_trait]
impl TraceService for Sink {
    async fn export(
        &self,
        request: Request<ExportTraceServiceRequest>,
    ) -> Result<Response<ExportTraceServiceResponse>, Status> {
        let req = request.into_inner();
        self.with(|r| {
            r.trace_exports += 1;
            for rs in &req.resource_spans {
                let res = resource(&rs.resource);
                for ss in &rs.scope_spans {
                    for s in &ss.spans {
                        r.spans.push(ReceivedSpan {
                            name: s.name.clone(),
                            trace_id: hex(&s.trace_id),
                            span_id: hex(&s.span_id),
                            parent_span_id: hex(&s.parent_span_id),
                            attributes: pairs(&s.attributes),
                            resource: res.clone(),
                        });
                    }
                }
            }
        });
        Ok(Response::new(ExportTraceServiceResponse {
            partial_success: None,
        }))
    }
}

/// An OTLP/gRPC collector on 127.0.0.1 (free port) serving the metrics and trace services,
/// recording every export: what an ADOT layer's collector would receive.
pub struct OtlpReceiver {
    /// `http://127.0.0.1:<port>`: the value for `OTEL_EXPORTER_OTLP_ENDPOINT`.
    pub endpoint: String,
    sink: Sink,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for OtlpReceiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl OtlpReceiver {
    /// Binds a free loopback port and serves until dropped.
    pub async fn start() -> Result<Self, TestkitError> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let sink = Sink::default();
        let server = tonic::transport::Server::builder()
            .add_service(MetricsServiceServer::new(sink.clone()))
            .add_service(TraceServiceServer::new(sink.clone()));
        let task = tokio::spawn(async move {
            let _ = server
                .serve_with_incoming(TcpIncoming::from(listener))
                .await;
        });
        Ok(Self {
            endpoint: format!("http://{addr}"),
            sink,
            task,
        })
    }

    /// A snapshot of everything received so far.
    pub fn received(&self) -> Received {
        self.sink.with(|r| r.clone())
    }

    /// Polls until `done` holds for what has been received, or `limit` passes.
    pub async fn wait_for(
        &self,
        limit: Duration,
        done: impl Fn(&Received) -> bool,
    ) -> Result<Received, TestkitError> {
        let until = Instant::now() + limit;
        loop {
            let r = self.received();
            if done(&r) {
                return Ok(r);
            }
            if Instant::now() > until {
                return Err(TestkitError::Timeout(format!(
                    "OTLP receiver: condition not met after {limit:?}; received {} metric and {} \
                     trace exports",
                    r.metric_exports, r.trace_exports
                )));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}
