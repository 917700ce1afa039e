//! The Temporal SDK's metrics, recorded on an OpenTelemetry meter whose provider we own.
//!
//! The SDK's own OTLP meter (`build_otlp_metric_exporter`) keeps its provider private, so it
//! can only export on its period; Lambda freezes the sandbox between invocations, so that
//! data would arrive late or never. This meter records into our provider, which the flush hook
//! force-flushes inside every invocation.

use std::{sync::Arc, time::Duration};

use opentelemetry::{KeyValue, metrics::Meter};
use temporalio_common::telemetry::metrics::{
    CoreMeter, Counter, Gauge, GaugeF64, Histogram, HistogramBase, HistogramDuration,
    HistogramDurationBase, HistogramF64, MetricAttributable, MetricAttributes, MetricParameters,
    NewAttributes, UpDownCounter,
};

/// A [`CoreMeter`] over an OpenTelemetry [`Meter`]. Durations are recorded in milliseconds
/// (the SDK's default unit); `prefix` is prepended to every instrument name (the SDK adds
/// `temporal_` to worker metrics itself; client metrics need it here).
#[derive(Debug, Clone)]
pub struct OtelMeter {
    meter: Meter,
    prefix: String,
}

impl OtelMeter {
    /// Records on `meter`, prefixing instrument names with `prefix`.
    pub fn new(meter: Meter, prefix: impl Into<String>) -> Self {
        Self {
            meter,
            prefix: prefix.into(),
        }
    }

    fn name(&self, params: &MetricParameters) -> String {
        format!("{}{}", self.prefix, params.name)
    }

    fn u64_histogram(&self, params: &MetricParameters) -> opentelemetry::metrics::Histogram<u64> {
        self.meter
            .u64_histogram(self.name(params))
            .with_unit(params.unit.to_string())
            .with_description(params.description.to_string())
            .build()
    }
}

fn kvs(attribs: NewAttributes) -> impl Iterator<Item = KeyValue> {
    attribs.attributes.into_iter().map(KeyValue::from)
}

impl CoreMeter for OtelMeter {
    fn new_attributes(&self, attribs: NewAttributes) -> MetricAttributes {
        MetricAttributes::OTel {
            kvs: Arc::new(kvs(attribs).collect()),
        }
    }

    fn extend_attributes(
        &self,
        existing: MetricAttributes,
        attribs: NewAttributes,
    ) -> MetricAttributes {
        match existing {
            MetricAttributes::OTel { mut kvs } => {
                Arc::make_mut(&mut kvs).extend(self::kvs(attribs));
                MetricAttributes::OTel { kvs }
            }
            // Attributes made by another meter: start afresh with the new ones.
            _ => self.new_attributes(attribs),
        }
    }

    fn counter(&self, params: MetricParameters) -> Counter {
        Counter::new(Arc::new(
            self.meter
                .u64_counter(self.name(&params))
                .with_unit(params.unit.to_string())
                .with_description(params.description.to_string())
                .build(),
        ))
    }

    fn histogram(&self, params: MetricParameters) -> Histogram {
        Histogram::new(Arc::new(self.u64_histogram(&params)))
    }

    fn histogram_f64(&self, params: MetricParameters) -> HistogramF64 {
        HistogramF64::new(Arc::new(
            self.meter
                .f64_histogram(self.name(&params))
                .with_unit(params.unit.to_string())
                .with_description(params.description.to_string())
                .build(),
        ))
    }

    fn histogram_duration(&self, mut params: MetricParameters) -> HistogramDuration {
        params.unit = "ms".into();
        HistogramDuration::new(Arc::new(MillisHistogram(self.u64_histogram(&params))))
    }

    fn gauge(&self, params: MetricParameters) -> Gauge {
        Gauge::new(Arc::new(
            self.meter
                .u64_gauge(self.name(&params))
                .with_unit(params.unit.to_string())
                .with_description(params.description.to_string())
                .build(),
        ))
    }

    fn gauge_f64(&self, params: MetricParameters) -> GaugeF64 {
        GaugeF64::new(Arc::new(
            self.meter
                .f64_gauge(self.name(&params))
                .with_unit(params.unit.to_string())
                .with_description(params.description.to_string())
                .build(),
        ))
    }

    fn up_down_counter(&self, params: MetricParameters) -> UpDownCounter {
        UpDownCounter::new(Arc::new(
            self.meter
                .i64_up_down_counter(self.name(&params))
                .with_unit(params.unit.to_string())
                .with_description(params.description.to_string())
                .build(),
        ))
    }
}

/// A duration histogram recorded in whole milliseconds.
struct MillisHistogram(opentelemetry::metrics::Histogram<u64>);

struct MillisRecorder(Box<dyn HistogramBase>);

impl HistogramDurationBase for MillisRecorder {
    fn records(&self, value: Duration) {
        self.0
            .records(u64::try_from(value.as_millis()).unwrap_or(u64::MAX));
    }
}

impl MetricAttributable<Box<dyn HistogramDurationBase>> for MillisHistogram {
    fn with_attributes(
        &self,
        attributes: &MetricAttributes,
    ) -> Result<Box<dyn HistogramDurationBase>, Box<dyn std::error::Error>> {
        Ok(Box::new(MillisRecorder(
            self.0.with_attributes(attributes)?,
        )))
    }
}
