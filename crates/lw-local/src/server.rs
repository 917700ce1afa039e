//! The HTTP side: STS (query protocol, XML) and Lambda (REST-JSON) on one port, as
//! `AWS_ENDPOINT_URL` sends both there.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use axum::{
    Router,
    body::Bytes,
    extract::State,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
    routing::{any, get, post, put},
};

use crate::functions::Registry;

/// A role Temporal may assume.
#[derive(Debug, Clone)]
pub struct RoleConfig {
    /// The role's ARN.
    pub arn: String,
    /// The ExternalId its trust policy requires; `None` means the trust policy does not
    /// require one (Temporal rejects such a role).
    pub external_id: Option<String>,
}

/// One STS call as seen, for tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssumeRoleCall {
    /// `RoleArn`.
    pub role_arn: String,
    /// `ExternalId`, if sent.
    pub external_id: Option<String>,
    /// Whether credentials were issued.
    pub granted: bool,
}

#[derive(Clone)]
pub(crate) struct AppState {
    pub(crate) registry: Registry,
    pub(crate) roles: Arc<Mutex<Vec<RoleConfig>>>,
    pub(crate) sts_calls: Arc<Mutex<Vec<AssumeRoleCall>>>,
    pub(crate) unknown: Arc<Mutex<Vec<String>>>,
}

pub(crate) fn router(state: AppState) -> Router {
    use crate::lambda_api as l;
    Router::new()
        .route("/", post(sts))
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
        // A 50 MB zip (Lambda's direct-upload limit) is about 70 MB as base64 in JSON.
        .layer(axum::extract::DefaultBodyLimit::max(80 * 1024 * 1024))
        .with_state(state)
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

async fn unknown(State(s): State<AppState>, req: axum::extract::Request) -> Response {
    let what = format!("{} {}", req.method(), req.uri());
    tracing::warn!(request = %what, "lw-local: an AWS API this local service does not emulate");
    lock(&s.unknown).push(what.clone());
    crate::lambda_api::lambda_error(
        StatusCode::BAD_REQUEST,
        "InvalidRequestContentException",
        &format!("lw-local does not emulate {what}"),
    )
}

// ---- STS --------------------------------------------------------------------------------

const STS_NS: &str = "https://sts.amazonaws.com/doc/2011-06-15/";

async fn sts(State(s): State<AppState>, body: Bytes) -> Response {
    let form: HashMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
    match form.get("Action").map(String::as_str) {
        Some("AssumeRole") => {}
        other => {
            return sts_error(
                StatusCode::BAD_REQUEST,
                "InvalidAction",
                &format!(
                    "lw-local emulates only STS AssumeRole, not {}",
                    other.unwrap_or("(no Action)")
                ),
            );
        }
    }
    let role_arn = form.get("RoleArn").cloned().unwrap_or_default();
    let external_id = form.get("ExternalId").cloned().filter(|e| !e.is_empty());
    let session = form
        .get("RoleSessionName")
        .cloned()
        .unwrap_or_else(|| "session".into());
    let role = lock(&s.roles).iter().find(|r| r.arn == role_arn).cloned();
    let granted = match &role {
        None => false,
        Some(r) => match &r.external_id {
            None => true,
            Some(required) => external_id.as_deref() == Some(required.as_str()),
        },
    };
    lock(&s.sts_calls).push(AssumeRoleCall {
        role_arn: role_arn.clone(),
        external_id,
        granted,
    });
    if !granted {
        return sts_error(
            StatusCode::FORBIDDEN,
            "AccessDenied",
            &format!("User is not authorized to perform: sts:AssumeRole on resource: {role_arn}"),
        );
    }
    let role_name = role_arn.rsplit('/').next().unwrap_or("role");
    let account = role_arn.split(':').nth(4).unwrap_or("000000000000");
    let id = uuid::Uuid::new_v4().simple().to_string().to_uppercase();
    let expiration = iso8601(SystemTime::now() + Duration::from_secs(3600));
    let body = format!(
        "<AssumeRoleResponse xmlns=\"{STS_NS}\"><AssumeRoleResult><Credentials>\
         <AccessKeyId>ASIA{}</AccessKeyId><SecretAccessKey>{}</SecretAccessKey>\
         <SessionToken>{}</SessionToken><Expiration>{expiration}</Expiration></Credentials>\
         <AssumedRoleUser><AssumedRoleId>AROA{}:{session}</AssumedRoleId>\
         <Arn>arn:aws:sts::{account}:assumed-role/{role_name}/{session}</Arn></AssumedRoleUser>\
         </AssumeRoleResult><ResponseMetadata><RequestId>{}</RequestId></ResponseMetadata>\
         </AssumeRoleResponse>",
        &id[..16],
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple(),
        &id[16..],
        uuid::Uuid::new_v4()
    );
    ([(header::CONTENT_TYPE, "text/xml")], body).into_response()
}

fn sts_error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = format!(
        "<ErrorResponse xmlns=\"{STS_NS}\"><Error><Type>Sender</Type><Code>{code}</Code>\
         <Message>{}</Message></Error><RequestId>{}</RequestId></ErrorResponse>",
        xml_escape(message),
        uuid::Uuid::new_v4()
    );
    (status, [(header::CONTENT_TYPE, "text/xml")], body).into_response()
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
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
    fn iso8601_dates() {
        let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_795_970_792);
        assert_eq!(super::iso8601(t), "2026-11-29T16:46:32Z");
        assert_eq!(
            super::iso8601(std::time::UNIX_EPOCH),
            "1970-01-01T00:00:00Z"
        );
    }
}
