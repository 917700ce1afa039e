use tracing_subscriber::{EnvFilter, fmt, prelude::*};

/// Installs structured JSON logs on stderr (CloudWatch reads them as JSON), each line
/// carrying the current invocation's `requestId`. The level comes from `RUST_LOG`, else
/// `AWS_LAMBDA_LOG_LEVEL`, else `info`. Does nothing if a subscriber is already set.
pub fn init_logging() {
    let filter = std::env::var("RUST_LOG")
        .ok()
        .or_else(|| std::env::var("AWS_LAMBDA_LOG_LEVEL").ok())
        .and_then(|f| EnvFilter::try_new(f.to_ascii_lowercase()).ok())
        .unwrap_or_else(|| EnvFilter::new("info"));
    let layer = fmt::layer()
        .json()
        .with_current_span(true)
        .with_span_list(false)
        .with_target(true)
        .with_writer(std::io::stderr);
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(layer)
        .try_init();
}
