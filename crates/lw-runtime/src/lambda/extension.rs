//! The no-op internal extension (`lambdaworker-shutdown`) that makes Lambda send SIGTERM in
//! its shutdown phase: Lambda signals only functions with an extension registered.

use tokio::task::JoinHandle;

/// The extension's name in the Extensions API.
const NAME: &str = "lambdaworker-shutdown";

/// Registers the extension, subscribed to no events, and returns the task holding its
/// Extensions API call (it ends when that connection does). A failure only means no graceful
/// shutdown: logged, never fatal.
pub(super) async fn register_shutdown_extension() -> Option<JoinHandle<()>> {
    let registered = lambda_extension::Extension::new()
        .with_events(&[])
        .with_extension_name(NAME)
        .register()
        .await;
    match registered {
        // Waits on the Extensions API for events that never come; costs nothing.
        Ok(extension) => Some(tokio::spawn(async move {
            let _ = extension.run().await;
        })),
        Err(e) => {
            tracing::warn!(
                error = %e,
                "could not register the shutdown extension; SIGTERM will not be delivered by \
                 Lambda"
            );
            None
        }
    }
}
