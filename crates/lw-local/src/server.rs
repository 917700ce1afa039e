//! The HTTP side: one router for STS (query protocol, XML; see `sts`) and Lambda
//! (REST-JSON; see `lambda_api`) on one port, as `AWS_ENDPOINT_URL` sends both there, and
//! the state every handler shares. Requests for any other API are answered with an error
//! and remembered ([`crate::LocalLambda::unknown_requests`]).

use std::{
    sync::{Arc, Mutex},
    time::{SystemTime, UNIX_EPOCH},
};

use axum::{
    Router,
    extract::State,
    http::StatusCode,
    response::Response,
    routing::{any, get, post, put},
};

use crate::{AssumeRoleCall, RoleConfig, auth::Keyring, functions::Registry};

/// What every handler reads and writes: the functions, the roles, what was asked, and who
/// may ask.
#[derive(Clone)]
pub(crate) struct AppState {
    pub(crate) registry: Registry,
    pub(crate) roles: Arc<Mutex<Vec<RoleConfig>>>,
    pub(crate) sts_calls: Arc<Mutex<Vec<AssumeRoleCall>>>,
    pub(crate) unknown: Arc<Mutex<Vec<String>>>,
    /// The keys requests may be signed with.
    pub(crate) keys: Arc<Keyring>,
    /// `127.0.0.1:<port>`: the `Host` header every request must carry.
    pub(crate) host: Arc<str>,
}

/// The most `AssumeRole` calls and unknown requests remembered (for
/// [`crate::LocalLambda::assume_role_calls`] and [`crate::LocalLambda::unknown_requests`]);
/// beyond it the oldest is dropped.
pub const MAX_REMEMBERED: usize = 1000;

/// Appends `item`, dropping the oldest beyond [`MAX_REMEMBERED`].
pub(crate) fn remember<T>(list: &Mutex<Vec<T>>, item: T) {
    push_bounded(&mut lock(list), item, MAX_REMEMBERED);
}

/// Appends `item` to a list kept to at most `cap` items: when it is full, the oldest tenth
/// is dropped (at once, so that appending stays cheap).
pub(crate) fn push_bounded<T>(list: &mut Vec<T>, item: T, cap: usize) {
    if list.len() >= cap {
        let excess = list.len() + 1 - cap;
        list.drain(..excess.max(cap / 10).min(list.len()));
    }
    list.push(item);
}

/// Every route lw-local answers; anything else goes to `unknown`.
pub(crate) fn router(state: AppState) -> Router {
    use crate::lambda_api as l;
    Router::new()
        .route("/", post(crate::sts::assume_role))
        .route("/2015-03-31/functions", post(l::create_function))
        .route("/2015-03-31/functions/{id}", get(l::get_function))
        .route(
            "/2015-03-31/functions/{id}/configuration",
            get(l::get_configuration).put(l::update_configuration),
        )
        .route("/2015-03-31/functions/{id}/code", put(l::update_code))
        .route(
            "/2015-03-31/functions/{id}/versions",
            get(l::list_versions).post(l::publish_version),
        )
        .route("/2015-03-31/functions/{id}/invocations", post(l::invoke))
        .fallback(any(unknown))
        .layer(axum::extract::DefaultBodyLimit::max(crate::auth::MAX_BODY))
        // Outermost: nothing runs for a request that is not signed with this run's key.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::auth::guard,
        ))
        .with_state(state)
}

/// Locks `m`, taking the data of a holder that panicked.
pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

async fn unknown(State(s): State<AppState>, req: axum::extract::Request) -> Response {
    let what = format!("{} {}", req.method(), req.uri());
    tracing::warn!(request = %what, "lw-local: an AWS API this local service does not emulate");
    remember(&s.unknown, what.clone());
    crate::lambda_api::lambda_error(
        StatusCode::BAD_REQUEST,
        "InvalidRequestContentException",
        &format!("lw-local does not emulate {what}"),
    )
}

/// `2026-11-29T17:00:00Z`.
pub(crate) fn iso8601(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn remembered_lists_are_bounded() {
        let list = std::sync::Mutex::new(Vec::new());
        for i in 0..super::MAX_REMEMBERED + 5 {
            super::remember(&list, i);
        }
        let list = super::lock(&list);
        assert!(list.len() <= super::MAX_REMEMBERED, "{}", list.len());
        assert!(
            list.len() >= super::MAX_REMEMBERED * 9 / 10,
            "{}",
            list.len()
        );
        assert_eq!(list[list.len() - 1], super::MAX_REMEMBERED + 4);
        assert!(
            list.windows(2).all(|w| w[1] == w[0] + 1),
            "the newest, in order"
        );
    }

    #[test]
    fn iso8601_dates() {
        let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_795_970_792);
        assert_eq!(super::iso8601(t), "2026-11-29T16:46:32Z");
        assert_eq!(
            super::iso8601(std::time::UNIX_EPOCH),
            "1970-01-01T00:00:00Z"
        );
    }
}
