//! The IAM setup a deployment needs, filled in with its names: the function's execution role,
//! the role Temporal assumes to invoke it (trust policy with the ExternalId condition, and
//! its permissions on every published version), and what the deploying identity needs.

use serde_json::{Value, json};

use super::settings::Settings;

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

/// The policies, as text to print: one titled JSON document each.
pub fn render(s: &Settings, region: &str, temporal_principals: &[String]) -> String {
    let account = account(&s.invoke_role);
    let function_arn = format!("arn:aws:lambda:{region}:{account}:function:{}", s.function);
    let principals: Vec<Value> = if temporal_principals.is_empty() {
        TEMPORAL_CLOUD_PRINCIPALS.iter().map(|p| json!(p)).collect()
    } else {
        temporal_principals.iter().map(|p| json!(p)).collect()
    };
    let execution_role = s
        .execution_role
        .clone()
        .unwrap_or_else(|| format!("arn:aws:iam::{account}:role/{}-execution", s.function));
    let docs = [
        (
            format!(
                "Execution role {} — trust policy (attach the managed policy \
                 AWSLambdaBasicExecutionRole for logs)",
                role_name(&execution_role)
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
                "Invoke role {} — trust policy (Temporal assumes it with the ExternalId)",
                role_name(&s.invoke_role)
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
                "Invoke role {} — permissions (every published version of {})",
                role_name(&s.invoke_role),
                s.function
            ),
            json!({
                "Version": "2012-10-17",
                "Statement": [{
                    "Effect": "Allow",
                    "Action": ["lambda:InvokeFunction", "lambda:GetFunction"],
                    "Resource": [function_arn, format!("{function_arn}:*")]
                }]
            }),
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
                        "Resource": execution_role
                    }
                ]
            }),
        ),
    ];
    let mut out = String::new();
    for (title, doc) in docs {
        out.push_str(&format!("# {title}\n"));
        out.push_str(&serde_json::to_string_pretty(&doc).unwrap_or_default());
        out.push_str("\n\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::package::Arch;

    #[test]
    fn the_policies_name_the_function_its_versions_and_the_external_id() {
        let s = Settings {
            function: "orders".into(),
            execution_role: None,
            invoke_role: "arn:aws:iam::123456789012:role/temporal-invoker".into(),
            external_id: "ext-42".into(),
            deployment: "orders".into(),
            build_id: None,
            memory_mb: None,
            timeout_s: None,
            env: Vec::new(),
            includes: Vec::new(),
            arch: Arch::X86_64,
            managed_instances: None,
            profile: None,
            zip: None,
            rollout: Default::default(),
        };
        let text = render(&s, "eu-west-1", &[]);
        assert!(text.contains("\"sts:ExternalId\": \"ext-42\""), "{text}");
        assert!(
            text.contains("arn:aws:lambda:eu-west-1:123456789012:function:orders:*"),
            "{text}"
        );
        assert!(text.contains("wci-lambda-invoke"), "{text}");
        assert!(
            text.contains("arn:aws:iam::123456789012:role/orders-execution"),
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
}
