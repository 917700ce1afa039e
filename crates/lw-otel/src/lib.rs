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

mod error;
mod meter;
mod providers;
mod settings;
mod trace;

use std::{collections::HashMap, sync::Arc, time::Duration};

use lw_options::{InvocationStart, Options, ShutdownContext};
use opentelemetry::{
    metrics::MeterProvider as _,
    trace::{TraceContextExt, TracerProvider as _},
};
use opentelemetry_sdk::{metrics::SdkMeterProvider, trace::SdkTracerProvider};
use temporalio_common::telemetry::{TaskQueueLabelStrategy, metrics::TemporalMeter};
use temporalio_sdk::opentelemetry::OpenTelemetryPlugin;

use providers::{build_meter_provider, build_tracer_provider};

pub use error::OtelError;
pub use meter::OtelMeter;
pub use settings::{OtelOptions, Resolved};
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
    let env = lw_config::env_snapshot();
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
    resolved.check_endpoint()?;
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

#[cfg(test)]
mod tests;
