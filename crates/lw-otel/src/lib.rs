#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]
//! OpenTelemetry for Lambda workers: Temporal's worker and client metrics and its workflow
//! and activity spans, exported over OTLP/gRPC to the collector of the ADOT Lambda layer (or
//! any OTLP endpoint), and **flushed inside every invocation**.
//!
//! Lambda freezes the sandbox as soon as an invocation returns, so telemetry still buffered
//! then arrives late (at a later invocation) or never (the sandbox is reclaimed). This crate
//! owns both providers and registers one shutdown hook that force-flushes them before the
//! response is posted; it never shuts them down, so warm invocations reuse them.
//!
//! - Metrics: an OpenTelemetry meter ([`OtelMeter`]) given to the SDK runtime (worker
//!   metrics, prefixed `temporal_`) and to the client connection (client metrics).
//! - Traces: the SDK's `OpenTelemetryPlugin` (spans `RunWorkflow:<type>`,
//!   `RunActivity:<name>`, ...) under one span per invocation named after the function, with
//!   `faas.invocation_id`, parented to Lambda's X-Ray trace header when there is one. Trace
//!   ids are X-Ray-compatible (the first 4 bytes are the epoch second).
//! - Resource: `service.name`, `cloud.provider`, `cloud.region`, `faas.name`,
//!   `faas.version`, `faas.instance`, `faas.max_memory`.
//!
//! ```no_run
//! # fn configure(opts: &mut lw_options::Options) -> Result<(), lw_otel::OtelError> {
//! // Inside the configure callback of `run_worker` (a tokio runtime is running):
//! lw_otel::apply_defaults(opts, lw_otel::OtelOptions::default())?;
//! # Ok(()) }
//! ```

mod meter;
mod trace;

use std::{collections::HashMap, sync::Arc, time::Duration};

use lw_options::{InvocationStart, Options, ShutdownContext};
use opentelemetry::{
    KeyValue,
    metrics::MeterProvider as _,
    trace::{TraceContextExt, TracerProvider as _},
};
use opentelemetry_otlp::{WithExportConfig, WithTonicConfig};
use opentelemetry_sdk::{
    Resource,
    metrics::{Aggregation, Instrument, InstrumentKind, PeriodicReader, SdkMeterProvider, Stream},
    trace::{Sampler, SdkTracerProvider},
};
use temporalio_common::telemetry::{
    TaskQueueLabelStrategy,
    metrics::{TemporalMeter, default_buckets_for},
};
use temporalio_sdk::opentelemetry::OpenTelemetryPlugin;

pub use meter::OtelMeter;
pub use trace::LambdaIdGenerator;

/// The OTLP/gRPC endpoint of the ADOT Lambda layer's collector, used when neither the options
/// nor `OTEL_EXPORTER_OTLP_ENDPOINT` name one.
pub const DEFAULT_ENDPOINT: &str = "http://localhost:4317";
/// The service name when neither the options, `OTEL_SERVICE_NAME` nor
/// `AWS_LAMBDA_FUNCTION_NAME` give one.
pub const DEFAULT_SERVICE_NAME: &str = "temporal-lambda-worker";
/// How often metrics are also exported between flushes.
pub const DEFAULT_METRIC_INTERVAL: Duration = Duration::from_secs(10);
/// How long one export may take before it is abandoned.
pub const DEFAULT_EXPORT_TIMEOUT: Duration = Duration::from_secs(3);
/// The instrumentation scope of the spans and metrics this crate makes.
pub const SCOPE: &str = "lambdaworker";

/// Why telemetry could not be set up. Telemetry problems after setup never fail an
/// invocation: they are logged as warnings.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OtelError {
    /// An exporter could not be built.
    #[error("cannot build the OTLP {signal} exporter for {endpoint}: {message}")]
    Exporter {
        /// `metrics` or `traces`.
        signal: &'static str,
        /// The endpoint.
        endpoint: String,
        /// The exporter's reason.
        message: String,
    },
    /// A setting is malformed.
    #[error("{origin}: {message}")]
    Invalid {
        /// Where the value came from (option or environment variable).
        origin: String,
        /// What was wrong and what would be right.
        message: String,
    },
    /// Called outside a tokio runtime (the gRPC exporters need one).
    #[error(
        "lw-otel must be set up inside a tokio runtime: call it from the configure callback of \
         run_worker, or inside #[tokio::main]"
    )]
    NoRuntime,
}

/// Settings for [`apply_defaults`]. Every field is optional: unset ones are resolved from
/// the environment, then the ADOT defaults.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct OtelOptions {
    /// Collector endpoint → `OTEL_EXPORTER_OTLP_ENDPOINT` → [`DEFAULT_ENDPOINT`].
    pub endpoint: Option<String>,
    /// Service name → `OTEL_SERVICE_NAME` → `AWS_LAMBDA_FUNCTION_NAME` →
    /// [`DEFAULT_SERVICE_NAME`].
    pub service_name: Option<String>,
    /// Periodic metric export interval (default [`DEFAULT_METRIC_INTERVAL`]); every
    /// invocation also flushes.
    pub metric_export_interval: Option<Duration>,
    /// Timeout of one export (default [`DEFAULT_EXPORT_TIMEOUT`]).
    pub export_timeout: Option<Duration>,
    /// gRPC metadata sent with every export (e.g. an `authorization` header for a SaaS
    /// collector).
    pub headers: Vec<(String, String)>,
    /// TLS for an `https://` endpoint (system roots are used when this is unset).
    pub tls: Option<opentelemetry_otlp::tonic_types::transport::ClientTlsConfig>,
}

impl OtelOptions {
    /// Sets the collector endpoint.
    pub fn endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoint = Some(endpoint.into());
        self
    }

    /// Sets the service name.
    pub fn service_name(mut self, name: impl Into<String>) -> Self {
        self.service_name = Some(name.into());
        self
    }

    /// Sets the periodic metric export interval.
    pub fn metric_export_interval(mut self, interval: Duration) -> Self {
        self.metric_export_interval = Some(interval);
        self
    }

    /// Sets the timeout of one export.
    pub fn export_timeout(mut self, timeout: Duration) -> Self {
        self.export_timeout = Some(timeout);
        self
    }

    /// Adds a gRPC metadata header to every export.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Resolves every setting against an environment snapshot.
    ///
    /// ```
    /// use std::collections::HashMap;
    /// let env = HashMap::from([("AWS_LAMBDA_FUNCTION_NAME".to_string(), "orders".to_string())]);
    /// let r = lw_otel::OtelOptions::default().resolve(&env);
    /// assert_eq!(r.endpoint, "http://localhost:4317");
    /// assert_eq!(r.service_name, "orders");
    /// ```
    pub fn resolve(&self, env: &HashMap<String, String>) -> Resolved {
        let var = |k: &str| env.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
        let endpoint = self
            .endpoint
            .clone()
            .filter(|e| !e.trim().is_empty())
            .or_else(|| var("OTEL_EXPORTER_OTLP_ENDPOINT").map(str::to_owned))
            .unwrap_or_else(|| DEFAULT_ENDPOINT.to_owned());
        let service_name = self
            .service_name
            .clone()
            .filter(|s| !s.trim().is_empty())
            .or_else(|| var("OTEL_SERVICE_NAME").map(str::to_owned))
            .or_else(|| var("AWS_LAMBDA_FUNCTION_NAME").map(str::to_owned))
            .unwrap_or_else(|| DEFAULT_SERVICE_NAME.to_owned());
        let mut resource = vec![
            ("service.name".to_owned(), service_name.clone()),
            ("cloud.provider".to_owned(), "aws".to_owned()),
        ];
        for (key, v) in [
            ("cloud.region", "AWS_REGION"),
            ("faas.name", "AWS_LAMBDA_FUNCTION_NAME"),
            ("faas.version", "AWS_LAMBDA_FUNCTION_VERSION"),
            ("faas.instance", "AWS_LAMBDA_LOG_STREAM_NAME"),
        ] {
            if let Some(value) = var(v) {
                resource.push((key.to_owned(), value.to_owned()));
            }
        }
        let max_memory = var("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
            .and_then(|m| m.parse::<i64>().ok())
            .map(|mb| mb * 1024 * 1024);
        Resolved {
            endpoint,
            service_name,
            function_name: var("AWS_LAMBDA_FUNCTION_NAME")
                .unwrap_or(DEFAULT_SERVICE_NAME)
                .to_owned(),
            metric_export_interval: self
                .metric_export_interval
                .unwrap_or(DEFAULT_METRIC_INTERVAL),
            export_timeout: self.export_timeout.unwrap_or(DEFAULT_EXPORT_TIMEOUT),
            resource,
            max_memory_bytes: max_memory,
        }
    }
}

/// [`OtelOptions`] with every default applied.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Resolved {
    /// The collector endpoint.
    pub endpoint: String,
    /// `service.name`.
    pub service_name: String,
    /// The function's name (the invocation span's name).
    pub function_name: String,
    /// The periodic metric export interval.
    pub metric_export_interval: Duration,
    /// The timeout of one export.
    pub export_timeout: Duration,
    /// Resource attributes other than `faas.max_memory`.
    pub resource: Vec<(String, String)>,
    /// `faas.max_memory` in bytes, from `AWS_LAMBDA_FUNCTION_MEMORY_SIZE`.
    pub max_memory_bytes: Option<i64>,
}

impl Resolved {
    /// The OpenTelemetry resource every span and metric carries.
    pub fn otel_resource(&self) -> Resource {
        let mut attrs: Vec<KeyValue> = self
            .resource
            .iter()
            .map(|(k, v)| KeyValue::new(k.clone(), v.clone()))
            .collect();
        if let Some(m) = self.max_memory_bytes {
            attrs.push(KeyValue::new("faas.max_memory", m));
        }
        Resource::builder_empty().with_attributes(attrs).build()
    }
}

/// The providers this crate set up, for code that wants to record its own spans or metrics
/// (they are flushed with the rest).
#[derive(Clone, Debug)]
pub struct Telemetry {
    /// The meter provider (Temporal's metrics and yours).
    pub meter_provider: SdkMeterProvider,
    /// The tracer provider (Temporal's spans and yours).
    pub tracer_provider: SdkTracerProvider,
    /// The resolved settings.
    pub resolved: Resolved,
}

/// Sets up metrics and traces with the ADOT-layer defaults and registers the per-invocation
/// flush: what most functions want.
pub fn apply_defaults(opts: &mut Options, otel: OtelOptions) -> Result<Telemetry, OtelError> {
    let env: HashMap<String, String> = std::env::vars().collect();
    apply_defaults_from(opts, otel, &env)
}

/// [`apply_defaults`] with an injected environment (tests, custom runtimes).
pub fn apply_defaults_from(
    opts: &mut Options,
    otel: OtelOptions,
    env: &HashMap<String, String>,
) -> Result<Telemetry, OtelError> {
    if tokio::runtime::Handle::try_current().is_err() {
        return Err(OtelError::NoRuntime);
    }
    let resolved = otel.resolve(env);
    let meter_provider = build_meter_provider(&otel, &resolved)?;
    let tracer_provider = build_tracer_provider(&otel, &resolved)?;
    with_providers(
        opts,
        meter_provider.clone(),
        tracer_provider.clone(),
        &resolved,
    );
    tracing::info!(
        endpoint = %resolved.endpoint,
        service_name = %resolved.service_name,
        "OpenTelemetry metrics and traces set up; flushed at the end of every invocation"
    );
    Ok(Telemetry {
        meter_provider,
        tracer_provider,
        resolved,
    })
}

/// Uses providers you built (your exporters, processors, resource): Temporal's metrics go to
/// `meter_provider`, its spans to `tracer_provider` (under the invocation span), and one
/// shutdown hook force-flushes both at the end of every invocation. Give `tracer_provider` a
/// [`LambdaIdGenerator`] for X-Ray-compatible, replay-safe ids.
pub fn with_providers(
    opts: &mut Options,
    meter_provider: SdkMeterProvider,
    tracer_provider: SdkTracerProvider,
    resolved: &Resolved,
) {
    wire_metrics(opts, &meter_provider);
    let slot = wire_tracing(opts, &tracer_provider, &resolved.function_name);
    register_flush(opts, Some(meter_provider), Some((tracer_provider, slot)));
}

/// Sends Temporal's worker and client metrics to `meter_provider` and flushes it every
/// invocation (metrics only; [`apply_defaults`] and [`with_providers`] do both).
pub fn apply_metrics(opts: &mut Options, meter_provider: &SdkMeterProvider) {
    wire_metrics(opts, meter_provider);
    register_flush(opts, Some(meter_provider.clone()), None);
}

/// Records Temporal's workflow and activity spans on `tracer_provider`, each invocation
/// under a span named `function_name`, and flushes the provider every invocation (traces
/// only).
pub fn apply_tracing(opts: &mut Options, tracer_provider: &SdkTracerProvider, function_name: &str) {
    let slot = wire_tracing(opts, tracer_provider, function_name);
    register_flush(opts, None, Some((tracer_provider.clone(), slot)));
}

fn wire_metrics(opts: &mut Options, meter_provider: &SdkMeterProvider) {
    let meter = meter_provider.meter(SCOPE);
    // Worker metrics: the SDK runtime prefixes them with `temporal_` itself.
    opts.set_metrics_meter(Arc::new(OtelMeter::new(meter.clone(), "")));
    // Client metrics: the same meter, prefixed here.
    opts.connection_options.metrics_meter = Some(TemporalMeter::new(
        Arc::new(OtelMeter::new(meter, "temporal_")),
        Default::default(),
        TaskQueueLabelStrategy::UseNormal,
    ));
}

fn wire_tracing(
    opts: &mut Options,
    tracer_provider: &SdkTracerProvider,
    function_name: &str,
) -> trace::InvocationSlot {
    let slot = trace::InvocationSlot::default();
    let plugin = OpenTelemetryPlugin::builder()
        .tracer(tracer_provider.tracer("temporalio-sdk"))
        .propagator(opentelemetry_sdk::propagation::TraceContextPropagator::new())
        .build();
    {
        // Ours first: they fill in the parent the SDK's interceptors then read.
        let wo = &mut opts.worker_options;
        wo.activity_inbound_interceptor(trace::ActivityParent(slot.clone()));
        let wf_slot = slot.clone();
        wo.workflow_interceptor(
            temporalio_sdk::workflow_interceptors::WorkflowInterceptorConstructor::new(move |_| {
                trace::WorkflowParent(wf_slot.clone())
            }),
        );
        if let Err(e) = temporalio_sdk::WorkerPlugin::configure_worker_options(&plugin, wo) {
            tracing::warn!(error = %e, "the OpenTelemetry plugin could not configure the worker; no spans");
        }
    }
    {
        let slot = slot.clone();
        let tracer = tracer_provider.tracer(SCOPE);
        let name = function_name.to_owned();
        opts.on_invocation_start(move |start: &InvocationStart| {
            slot.set(trace::start_invocation_span(&tracer, &name, start));
        });
    }
    slot
}

fn register_flush(
    opts: &mut Options,
    meters: Option<SdkMeterProvider>,
    traces: Option<(SdkTracerProvider, trace::InvocationSlot)>,
) {
    if meters.is_none() && traces.is_none() {
        return;
    }
    opts.on_shutdown(move |ctx: ShutdownContext| {
        let meters = meters.clone();
        let traces = traces.clone();
        async move {
            let tracer_provider = traces.map(|(tp, slot)| {
                if let Some(cx) = slot.take() {
                    cx.span().end();
                }
                tp
            });
            flush(meters, tracer_provider, ctx).await;
            Ok(())
        }
    });
}

/// Force-flushes (never shuts down) both providers off the async threads, bounded by the
/// hook's budget. Failures are warnings: telemetry never fails an invocation.
async fn flush(
    meters: Option<SdkMeterProvider>,
    traces: Option<SdkTracerProvider>,
    ctx: ShutdownContext,
) {
    let started = std::time::Instant::now();
    let work = tokio::task::spawn_blocking(move || {
        let mut errors = Vec::new();
        if let Some(tp) = traces
            && let Err(e) = tp.force_flush()
        {
            errors.push(format!("traces: {e}"));
        }
        if let Some(mp) = meters
            && let Err(e) = mp.force_flush()
        {
            errors.push(format!("metrics: {e}"));
        }
        errors
    });
    match tokio::time::timeout(ctx.remaining(), work).await {
        Ok(Ok(errors)) if errors.is_empty() => {
            tracing::debug!(
                elapsed_ms = started.elapsed().as_millis() as u64,
                "telemetry flushed"
            );
        }
        Ok(Ok(errors)) => tracing::warn!(
            errors = %errors.join("; "),
            "telemetry could not be flushed (is the collector running?); the invocation goes on"
        ),
        Ok(Err(e)) => tracing::warn!(error = %e, "the telemetry flush task failed"),
        Err(_) => tracing::warn!(
            budget_ms = ctx.remaining().as_millis() as u64,
            "telemetry flush did not finish within its budget; the invocation goes on"
        ),
    }
}

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

fn build_meter_provider(
    otel: &OtelOptions,
    resolved: &Resolved,
) -> Result<SdkMeterProvider, OtelError> {
    let builder = opentelemetry_otlp::MetricExporter::builder().with_tonic();
    let exporter = exporter_settings(builder, otel, resolved)?
        .build()
        .map_err(|e| OtelError::Exporter {
            signal: "metrics",
            endpoint: resolved.endpoint.clone(),
            message: e.to_string(),
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

fn build_tracer_provider(
    otel: &OtelOptions,
    resolved: &Resolved,
) -> Result<SdkTracerProvider, OtelError> {
    let builder = opentelemetry_otlp::SpanExporter::builder().with_tonic();
    let exporter = exporter_settings(builder, otel, resolved)?
        .build()
        .map_err(|e| OtelError::Exporter {
            signal: "traces",
            endpoint: resolved.endpoint.clone(),
            message: e.to_string(),
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

#[cfg(test)]
mod tests;
