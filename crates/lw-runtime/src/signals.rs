//! The process's stop signals: SIGTERM (Lambda's shutdown phase, a container stop) and SIGINT
//! (Ctrl-C), as one future that [`crate::lambda::serve`] and [`crate::run_local`] race their
//! work against.

/// Resolves on the first SIGTERM or SIGINT after it is first polled; never, with a warning,
/// when the handlers cannot be installed (then there is no graceful shutdown, but the work
/// goes on).
///
/// ```no_run
/// # async fn work() {}
/// # async fn f() {
/// tokio::select! {
///     () = work() => {}
///     () = lw_runtime::stop_signal() => eprintln!("stopping"),
/// }
/// # }
/// ```
pub async fn stop_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) {
        (Ok(mut term), Ok(mut int)) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
        }
        (Err(e), _) | (_, Err(e)) => {
            tracing::warn!(error = %e, "cannot listen for SIGTERM or SIGINT; no graceful shutdown");
            std::future::pending::<()>().await;
        }
    }
}
