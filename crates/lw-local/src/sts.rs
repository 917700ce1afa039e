//! STS `AssumeRole`, the one STS call lw-local answers: session credentials (which lw-local
//! then accepts, for an hour) for a registered role, refused unless the caller sends the `ExternalId` the
//! role requires. Every call is recorded ([`crate::LocalLambda::assume_role_calls`]).

use std::collections::HashMap;

use axum::{
    body::Bytes,
    extract::State,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};

use crate::{
    auth::Session,
    server::{AppState, iso8601, lock, remember},
};

/// A role Temporal may assume.
#[derive(Debug, Clone)]
pub struct RoleConfig {
    /// The role's ARN.
    pub arn: String,
    /// The ExternalId its trust policy requires; `None` means the trust policy does not
    /// require one (Temporal rejects such a role).
    pub external_id: Option<String>,
}

/// One `AssumeRole` call as lw-local saw it ([`crate::LocalLambda::assume_role_calls`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssumeRoleCall {
    /// `RoleArn`.
    pub role_arn: String,
    /// `ExternalId`, if sent.
    pub external_id: Option<String>,
    /// Whether credentials were issued.
    pub granted: bool,
}

const STS_NS: &str = "https://sts.amazonaws.com/doc/2011-06-15/";

/// `POST /` with `Action=AssumeRole`: credentials for a registered role whose `ExternalId`
/// (if it requires one) the caller sent; `AccessDenied` otherwise.
pub(crate) async fn assume_role(State(s): State<AppState>, body: Bytes) -> Response {
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
    let role = lock(&s.roles).iter().find(|r| r.arn == role_arn).cloned();
    let granted = role.is_some_and(|r| match &r.external_id {
        None => true,
        Some(required) => external_id.as_deref() == Some(required.as_str()),
    });
    remember(
        &s.sts_calls,
        AssumeRoleCall {
            role_arn: role_arn.clone(),
            external_id,
            granted,
        },
    );
    if !granted {
        return sts_error(
            StatusCode::FORBIDDEN,
            "AccessDenied",
            &format!("User is not authorized to perform: sts:AssumeRole on resource: {role_arn}"),
        );
    }
    let session = form
        .get("RoleSessionName")
        .map_or("session", String::as_str);
    // The session name and the role come from the caller: escaped, they cannot add to the
    // XML they are written into.
    let issued = match s.keys.issue() {
        Ok(i) => i,
        Err(e) => {
            return sts_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalFailure",
                &e.to_string(),
            );
        }
    };
    let body = credentials(&issued, &xml_escape(&role_arn), &xml_escape(session));
    ([(header::CONTENT_TYPE, "text/xml")], body).into_response()
}

/// The `AssumeRoleResponse` XML: session credentials lw-local accepts (signed with them, a
/// request is let in) until they expire.
fn credentials(issued: &Session, role_arn: &str, session: &str) -> String {
    let role_name = role_arn.rsplit('/').next().unwrap_or("role");
    let account = role_arn.split(':').nth(4).unwrap_or("000000000000");
    let id = uuid::Uuid::new_v4().simple().to_string().to_uppercase();
    let expiration = iso8601(issued.expires);
    format!(
        "<AssumeRoleResponse xmlns=\"{STS_NS}\"><AssumeRoleResult><Credentials>\
         <AccessKeyId>{}</AccessKeyId><SecretAccessKey>{}</SecretAccessKey>\
         <SessionToken>{}</SessionToken><Expiration>{expiration}</Expiration></Credentials>\
         <AssumedRoleUser><AssumedRoleId>AROA{}:{session}</AssumedRoleId>\
         <Arn>arn:aws:sts::{account}:assumed-role/{role_name}/{session}</Arn></AssumedRoleUser>\
         </AssumeRoleResult><ResponseMetadata><RequestId>{}</RequestId></ResponseMetadata>\
         </AssumeRoleResponse>",
        issued.access_key_id,
        issued.secret_access_key,
        issued.session_token,
        &id[..16],
        uuid::Uuid::new_v4()
    )
}

pub(crate) fn sts_error(status: StatusCode, code: &str, message: &str) -> Response {
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
