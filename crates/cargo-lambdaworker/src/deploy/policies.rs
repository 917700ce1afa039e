//! The IAM setup a deployment needs, filled in with its names: the function's execution role,
//! the role Temporal assumes to invoke it (trust policy with the ExternalId condition, and
//! its permissions on every published version), and what the deploying identity needs.

use serde_json::{Value, json};

use super::settings::{NewExternalId, PolicySubject};

/// The roles Temporal Cloud's Worker Controller invokes Lambda from (docs.temporal.io,
/// "Serverless Workers on AWS Lambda"); a self-hosted server assumes with its own role.
pub const TEMPORAL_CLOUD_PRINCIPALS: &[&str] = &[
    "arn:aws:iam::902542641901:role/wci-lambda-invoke",
    "arn:aws:iam::160190466495:role/wci-lambda-invoke",
    "arn:aws:iam::819232936619:role/wci-lambda-invoke",
    "arn:aws:iam::829909441867:role/wci-lambda-invoke",
    "arn:aws:iam::354116250941:role/wci-lambda-invoke",
];

/// The account in an ARN (`arn:aws:iam::123456789012:role/x` → `123456789012`).
fn account(arn: &str) -> &str {
    arn.split(':').nth(4).unwrap_or("ACCOUNT_ID")
}

fn role_name(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

/// The role ARNs the documents name: the ones set, else placeholders in the same account.
struct Roles {
    account: String,
    invoke: String,
    execution: String,
}

impl Roles {
    fn of(s: &PolicySubject) -> Roles {
        let set = s.invoke_role.as_deref().or(s.execution_role.as_deref());
        let account = set.map_or("ACCOUNT_ID", account).to_owned();
        let placeholder =
            |suffix: &str| format!("arn:aws:iam::{account}:role/{}-{suffix}", s.function);
        Roles {
            invoke: s
                .invoke_role
                .clone()
                .unwrap_or_else(|| placeholder("temporal-invoker")),
            execution: s
                .execution_role
                .clone()
                .unwrap_or_else(|| placeholder("execution")),
            account,
        }
    }
}

/// The policies, as text to print: one titled JSON document each, then the
/// `[package.metadata.lambdaworker]` lines to add for what is not there yet.
pub fn render(s: &PolicySubject, region: &str, temporal_principals: &[String]) -> String {
    let roles = Roles::of(s);
    let mut out = String::new();
    for (title, doc) in documents(s, &roles, region, temporal_principals) {
        out.push_str(&format!("# {title}\n"));
        out.push_str(&serde_json::to_string_pretty(&doc).unwrap_or_default());
        out.push_str("\n\n");
    }
    out.push_str(&settings_lines(s, &roles));
    out
}

/// The lines to add to `[package.metadata.lambdaworker]`: each of `invoke-role`,
/// `execution-role` and `external-id` not there yet, and a generated ExternalId; empty when
/// there is nothing to add.
fn settings_lines(s: &PolicySubject, roles: &Roles) -> String {
    let missing = |key| !s.in_metadata.contains(&key);
    let mut lines = Vec::new();
    if missing("invoke-role") {
        lines.push(format!("invoke-role = {}", json!(roles.invoke)));
    }
    if missing("execution-role") {
        lines.push(format!("execution-role = {}", json!(roles.execution)));
    }
    match s.new_external_id {
        Some(NewExternalId::Missing) => lines.push(
            "# generated now, and in the trust policy above: each run generates another, \
             so save this one"
                .to_owned(),
        ),
        Some(NewExternalId::TooShort(len)) => lines.push(format!(
            "# replaces the external-id of {len} characters (deploy requires at least {}); \
             update the invoke role's trust policy to the one above",
            super::external_id::MIN_LEN
        )),
        None => {}
    }
    if s.new_external_id.is_some() || missing("external-id") {
        lines.push(format!("external-id = {}", json!(s.external_id)));
    }
    if lines.is_empty() {
        return String::new();
    }
    let account = if roles.account == "ACCOUNT_ID" {
        "\n# (replace ACCOUNT_ID with your AWS account's 12-digit ID)"
    } else {
        ""
    };
    format!(
        "# Create the roles above, then set these in [package.metadata.lambdaworker] of {}:\
         {account}\n{}\n",
        s.manifest.display(),
        lines.join("\n")
    )
}

/// The four documents, titled.
fn documents(
    s: &PolicySubject,
    roles: &Roles,
    region: &str,
    temporal_principals: &[String],
) -> [(String, Value); 4] {
    let function_arn = format!(
        "arn:aws:lambda:{region}:{}:function:{}",
        roles.account, s.function
    );
    let principals: Vec<Value> = if temporal_principals.is_empty() {
        TEMPORAL_CLOUD_PRINCIPALS.iter().map(|p| json!(p)).collect()
    } else {
        temporal_principals.iter().map(|p| json!(p)).collect()
    };
    let invoke_name = role_name(&roles.invoke);
    [
        (
            format!(
                "Execution role {} — trust policy (attach the managed policy \
                 AWSLambdaBasicExecutionRole for logs)",
                role_name(&roles.execution)
            ),
            json!({
                "Version": "2012-10-17",
                "Statement": [{
                    "Effect": "Allow",
                    "Principal": { "Service": "lambda.amazonaws.com" },
                    "Action": "sts:AssumeRole"
                }]
            }),
        ),
        (
            format!(
                "Invoke role {invoke_name} — trust policy (Temporal assumes it with the ExternalId)"
            ),
            json!({
                "Version": "2012-10-17",
                "Statement": [{
                    "Effect": "Allow",
                    "Principal": { "AWS": principals },
                    "Action": "sts:AssumeRole",
                    "Condition": { "StringEquals": { "sts:ExternalId": s.external_id } }
                }]
            }),
        ),
        (
            format!(
                "Invoke role {invoke_name} — permissions (the published versions of {}; \
                 GetFunction is what the server's check at registration calls, and it also \
                 returns the version's environment and a link to its code: keep secrets \
                 KMS-encrypted, see docs/security.md)",
                s.function
            ),
            invoke_permissions(&function_arn),
        ),
        (
            "The identity that runs `cargo lambdaworker deploy` — permissions".to_owned(),
            json!({
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": [
                            "lambda:CreateFunction", "lambda:GetFunction",
                            "lambda:GetFunctionConfiguration", "lambda:UpdateFunctionCode",
                            "lambda:UpdateFunctionConfiguration", "lambda:PublishVersion",
                            "lambda:ListVersionsByFunction"
                        ],
                        "Resource": [function_arn, format!("{function_arn}:*")]
                    },
                    {
                        "Effect": "Allow",
                        "Action": "iam:PassRole",
                        "Resource": roles.execution
                    }
                ]
            }),
        ),
    ]
}

/// What the invoke role may do: invoke the published versions (`function:NAME:N`, the
/// qualified ARNs `deploy` registers; not the unqualified ARN, which runs whatever code was
/// uploaded last), and `GetFunction` on them, which the Worker Controller calls with the
/// role when it validates a compute config (registration fails without it). Nothing else:
/// no listing, no configuration, no code or policy changes.
fn invoke_permissions(function_arn: &str) -> Value {
    let versions = format!("{function_arn}:*");
    json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "InvokePublishedVersions",
                "Effect": "Allow",
                "Action": "lambda:InvokeFunction",
                "Resource": versions
            },
            {
                "Sid": "ReadVersionWhenRegistering",
                "Effect": "Allow",
                "Action": "lambda:GetFunction",
                "Resource": versions
            }
        ]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subject(invoke_role: Option<&str>, external_id: Option<&str>) -> PolicySubject {
        PolicySubject {
            function: "orders".into(),
            execution_role: None,
            invoke_role: invoke_role.map(Into::into),
            external_id: external_id
                .unwrap_or("GeneratedGeneratedGeneratedGenerated")
                .into(),
            new_external_id: external_id.is_none().then_some(NewExternalId::Missing),
            manifest: "/w/Cargo.toml".into(),
            in_metadata: [
                invoke_role.map(|_| "invoke-role"),
                external_id.map(|_| "external-id"),
            ]
            .into_iter()
            .flatten()
            .collect(),
        }
    }

    #[test]
    fn the_policies_name_the_function_its_versions_and_the_external_id() {
        let id = "ext-42-0123456789abcdef";
        let s = subject(
            Some("arn:aws:iam::123456789012:role/temporal-invoker"),
            Some(id),
        );
        let text = render(&s, "eu-west-1", &[]);
        assert!(
            text.contains(&format!("\"sts:ExternalId\": \"{id}\"")),
            "{text}"
        );
        assert!(
            text.contains("arn:aws:lambda:eu-west-1:123456789012:function:orders:*"),
            "{text}"
        );
        assert!(text.contains("wci-lambda-invoke"), "{text}");
        assert!(
            text.contains("arn:aws:iam::123456789012:role/orders-execution"),
            "{text}"
        );
        // Only the execution role is left to add.
        assert!(
            text.contains("execution-role = \"arn:aws:iam::123456789012:role/orders-execution\""),
            "{text}"
        );
        assert!(
            !text.contains("invoke-role =") && !text.contains("external-id ="),
            "{text}"
        );
        let own = render(
            &s,
            "eu-west-1",
            &["arn:aws:iam::111122223333:role/temporal".into()],
        );
        assert!(
            own.contains("111122223333:role/temporal") && !own.contains("wci-"),
            "{own}"
        );
    }

    /// Every (action, resource) an Allow statement grants, actions and resources each a
    /// string or a list.
    fn grants(doc: &Value) -> Vec<(String, String)> {
        let list = |v: &Value| match v {
            Value::Array(items) => items
                .iter()
                .map(|i| i.as_str().unwrap().to_owned())
                .collect(),
            other => vec![other.as_str().unwrap().to_owned()],
        };
        let mut out = Vec::new();
        for st in doc["Statement"].as_array().unwrap() {
            assert_eq!(st["Effect"], "Allow", "{st}");
            for action in list(&st["Action"]) {
                for resource in list(&st["Resource"]) {
                    out.push((action.clone(), resource));
                }
            }
        }
        out.sort();
        out
    }

    #[test]
    fn the_invoke_role_may_only_invoke_and_validate_the_published_versions() {
        let s = subject(
            Some("arn:aws:iam::123456789012:role/temporal-invoker"),
            Some("ext-42-0123456789abcdef"),
        );
        let roles = Roles::of(&s);
        let [_, _, (title, doc), _] = documents(&s, &roles, "eu-west-1", &[]);
        assert!(
            title.starts_with("Invoke role temporal-invoker — permissions"),
            "{title}"
        );
        let versions = "arn:aws:lambda:eu-west-1:123456789012:function:orders:*".to_owned();
        // GetFunction returns the environment and a link to the code: granted only because
        // the Worker Controller's check at registration calls it, and the title says so.
        assert_eq!(
            grants(&doc),
            [
                ("lambda:GetFunction".to_owned(), versions.clone()),
                ("lambda:InvokeFunction".to_owned(), versions),
            ]
        );
        assert!(
            title.contains("environment") && title.contains("KMS"),
            "{title}"
        );
    }

    #[test]
    fn without_settings_the_policies_carry_the_lines_to_paste() {
        let s = subject(None, None);
        let text = render(&s, "REGION", &[]);
        let id = &s.external_id;
        assert!(
            text.contains(&format!("\"sts:ExternalId\": \"{id}\"")),
            "{text}"
        );
        assert!(
            text.contains("then set these in [package.metadata.lambdaworker] of /w/Cargo.toml:"),
            "{text}"
        );
        for line in [
            "invoke-role = \"arn:aws:iam::ACCOUNT_ID:role/orders-temporal-invoker\"".to_owned(),
            "execution-role = \"arn:aws:iam::ACCOUNT_ID:role/orders-execution\"".to_owned(),
            format!("external-id = \"{id}\""),
        ] {
            assert!(text.lines().any(|l| l == line), "{line} in {text}");
        }
        assert!(text.contains("replace ACCOUNT_ID"), "{text}");
    }
}
