//! Shared by the integration tests.

use lw_config::ConfigError;

/// The message and its causes, joined with `": "` as lw-runtime prints them (a text already
/// shown is skipped: the AWS SDK's errors repeat their own code).
pub fn report(e: &ConfigError) -> String {
    let mut shown = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        let text = cause.to_string();
        if !shown.contains(&text) {
            shown = format!("{shown}: {text}");
        }
        source = cause.source();
    }
    shown
}
