//! The OTLP/gRPC exporters and the two providers built on them.

use opentelemetry_otlp::{WithExportConfig, WithTonicConfig};
use opentelemetry_sdk::{
    metrics::{Aggregation, Instrument, InstrumentKind, PeriodicReader, SdkMeterProvider, Stream},
    trace::{Sampler, SdkTracerProvider},
};
use temporalio_common::telemetry::metrics::default_buckets_for;

use crate::{LambdaIdGenerator, OtelError, OtelOptions, Resolved};

fn metadata(
    headers: &[(String, String)],
) -> Result<opentelemetry_otlp::tonic_types::metadata::MetadataMap, OtelError> {
    let mut map = http::HeaderMap::new();
    for (k, v) in headers {
        let name =
            http::HeaderName::from_bytes(k.to_ascii_lowercase().as_bytes()).map_err(|_| {
                OtelError::Invalid {
                    origin: format!("OtelOptions::headers `{k}`"),
                    message: "is not a valid header name; use letters, digits and `-`".into(),
                }
            })?;
        let value = http::HeaderValue::from_str(v).map_err(|_| OtelError::Invalid {
            origin: format!("OtelOptions::headers `{k}`"),
            message: "has a value a header cannot carry; use printable ASCII".into(),
        })?;
        map.insert(name, value);
    }
    Ok(opentelemetry_otlp::tonic_types::metadata::MetadataMap::from_headers(map))
}

/// Endpoint, timeout, headers and TLS: the same for both exporters.
fn exporter_settings<B: WithExportConfig + WithTonicConfig>(
    builder: B,
    otel: &OtelOptions,
    resolved: &Resolved,
) -> Result<B, OtelError> {
    let mut builder = builder
        .with_endpoint(resolved.endpoint.clone())
        .with_timeout(resolved.export_timeout)
        .with_metadata(metadata(&otel.headers)?);
    if let Some(tls) = &otel.tls {
        builder = builder.with_tls_config(tls.clone());
    }
    Ok(builder)
}

pub(crate) fn build_meter_provider(
    otel: &OtelOptions,
    resolved: &Resolved,
) -> Result<SdkMeterProvider, OtelError> {
    let builder = opentelemetry_otlp::MetricExporter::builder().with_tonic();
    let exporter = exporter_settings(builder, otel, resolved)?
        .build()
        .map_err(|e| OtelError::Exporter {
            signal: "metrics",
            endpoint: resolved.endpoint.clone(),
            source: e,
        })?;
    let reader = PeriodicReader::builder(exporter)
        .with_interval(resolved.metric_export_interval)
        .build();
    Ok(SdkMeterProvider::builder()
        .with_reader(reader)
        .with_resource(resolved.otel_resource())
        // Temporal's latency histograms keep the SDK's own bucket boundaries.
        .with_view(|i: &Instrument| {
            if i.kind() != InstrumentKind::Histogram {
                return None;
            }
            let name = i.name().strip_prefix("temporal_").unwrap_or(i.name());
            Stream::builder()
                .with_aggregation(Aggregation::ExplicitBucketHistogram {
                    boundaries: default_buckets_for(name, false).to_vec(),
                    record_min_max: true,
                })
                .build()
                .ok()
        })
        .build())
}

pub(crate) fn build_tracer_provider(
    otel: &OtelOptions,
    resolved: &Resolved,
) -> Result<SdkTracerProvider, OtelError> {
    let builder = opentelemetry_otlp::SpanExporter::builder().with_tonic();
    let exporter = exporter_settings(builder, otel, resolved)?
        .build()
        .map_err(|e| OtelError::Exporter {
            signal: "traces",
            endpoint: resolved.endpoint.clone(),
            source: e,
        })?;
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_id_generator(LambdaIdGenerator::default())
        // Record every invocation: Lambda's header often says "not sampled" when active
        // tracing is off, and the workflow spans are the point of this crate.
        .with_sampler(Sampler::AlwaysOn)
        .with_resource(resolved.otel_resource())
        .build())
}
