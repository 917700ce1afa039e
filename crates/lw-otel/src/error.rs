//! Why telemetry could not be set up.

/// Why telemetry could not be set up. Telemetry problems after setup never fail an
/// invocation: they are logged as warnings.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OtelError {
    /// An exporter could not be built.
    #[error(
        "cannot build the OTLP {signal} exporter for {endpoint}; check the endpoint and TLS settings"
    )]
    Exporter {
        /// `metrics` or `traces`.
        signal: &'static str,
        /// The endpoint.
        endpoint: String,
        /// The exporter's reason.
        #[source]
        source: opentelemetry_otlp::ExporterBuildError,
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
