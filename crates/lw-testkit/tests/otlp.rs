//! The OTLP receiver answers real OTLP/gRPC export calls and records them.

use std::time::Duration;

use lw_testkit::OtlpReceiver;
use opentelemetry_proto::tonic::{
    collector::{
        metrics::v1::{ExportMetricsServiceRequest, metrics_service_client::MetricsServiceClient},
        trace::v1::{ExportTraceServiceRequest, trace_service_client::TraceServiceClient},
    },
    common::v1::{AnyValue, KeyValue, any_value},
    metrics::v1::{Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum, metric},
    resource::v1::Resource,
    trace::v1::{ResourceSpans, ScopeSpans, Span},
};

fn service(name: &str) -> Option<Resource> {
    Some(Resource {
        attributes: vec![KeyValue {
            key: "service.name".into(),
            value: Some(AnyValue {
                value: Some(any_value::Value::StringValue(name.into())),
            }),
            ..Default::default()
        }],
        ..Default::default()
    })
}

#[tokio::test]
async fn records_metric_and_trace_exports() {
    let receiver = OtlpReceiver::start().await.unwrap();
    let mut metrics = MetricsServiceClient::connect(receiver.endpoint.clone())
        .await
        .unwrap();
    metrics
        .export(ExportMetricsServiceRequest {
            resource_metrics: vec![ResourceMetrics {
                resource: service("svc-a"),
                scope_metrics: vec![ScopeMetrics {
                    metrics: vec![Metric {
                        name: "temporal_workflow_completed".into(),
                        data: Some(metric::Data::Sum(Sum {
                            data_points: vec![NumberDataPoint::default(); 2],
                            ..Default::default()
                        })),
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        })
        .await
        .unwrap();
    let mut traces = TraceServiceClient::connect(receiver.endpoint.clone())
        .await
        .unwrap();
    traces
        .export(ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                resource: service("svc-a"),
                scope_spans: vec![ScopeSpans {
                    spans: vec![Span {
                        name: "RunActivity:greet".into(),
                        trace_id: vec![
                            0x5f, 0x00, 0x00, 0x01, 0xab, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
                        ],
                        span_id: vec![1, 2, 3, 4, 5, 6, 7, 8],
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        })
        .await
        .unwrap();
    let got = receiver
        .wait_for(Duration::from_secs(5), |r| {
            r.metric_exports == 1 && r.trace_exports == 1
        })
        .await
        .unwrap();
    assert!(got.has_metric("temporal_workflow_completed"));
    assert_eq!(got.metrics[0].points, 2);
    assert_eq!(
        got.metrics[0].resource,
        vec![("service.name".to_owned(), "svc-a".to_owned())]
    );
    let spans = got.spans_named("RunActivity:greet");
    assert_eq!(spans.len(), 1);
    assert_eq!(spans[0].trace_id, "5f000001ab0000000000000000000001");
    assert_eq!(spans[0].span_id, "0102030405060708");
    assert!(spans[0].parent_span_id.is_empty());
}
