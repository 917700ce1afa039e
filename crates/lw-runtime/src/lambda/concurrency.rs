//! `AWS_LAMBDA_MAX_CONCURRENCY` (Lambda Managed Instances): how many invocations one process
//! serves at once, checked where `lambda_runtime` would quietly fall back to one.

use std::collections::HashMap;

use crate::Error;

/// The variable Lambda Managed Instances set: invocations one execution environment serves
/// at once.
pub const MAX_CONCURRENCY_VAR: &str = "AWS_LAMBDA_MAX_CONCURRENCY";

/// Lambda's largest per-environment concurrency.
const MAX: u32 = 1600;

/// How many invocations this process serves at once: `AWS_LAMBDA_MAX_CONCURRENCY` in `env`,
/// 1 when unset. A value that is not a whole number from 1 to 1600 (Lambda's range) is an
/// [`Error::BadLambdaVariable`] (`lambda_runtime` would quietly run one at a time).
pub fn max_concurrency(env: &HashMap<String, String>) -> Result<u32, Error> {
    // Parsed as lambda_runtime parses it (no spaces), so both agree on the number.
    let Some(v) = env.get(MAX_CONCURRENCY_VAR).filter(|v| !v.is_empty()) else {
        return Ok(1);
    };
    v.parse::<u32>()
        .ok()
        .filter(|n| (1..=MAX).contains(n))
        .ok_or_else(|| Error::BadLambdaVariable {
            name: MAX_CONCURRENCY_VAR,
            value: v.clone(),
            expected: "a whole number of invocations from 1 to 1600 (Lambda Managed Instances \
                       set it from PerExecutionEnvironmentMaxConcurrency)",
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(v: Option<&str>) -> HashMap<String, String> {
        v.map(|v| (MAX_CONCURRENCY_VAR.to_owned(), v.to_owned()))
            .into_iter()
            .collect()
    }

    #[test]
    fn max_concurrency_is_read_and_checked() {
        assert_eq!(max_concurrency(&env(None)).unwrap(), 1);
        assert_eq!(max_concurrency(&env(Some(""))).unwrap(), 1);
        assert_eq!(max_concurrency(&env(Some("8"))).unwrap(), 8);
        assert_eq!(max_concurrency(&env(Some("1600"))).unwrap(), 1600);
        for bad in ["0", "eight", "-2", "1.5", " 4", "1601"] {
            let e = max_concurrency(&env(Some(bad))).unwrap_err();
            assert_eq!(e.kind(), "BadLambdaVariable");
            let m = e.message();
            assert!(
                m.contains("AWS_LAMBDA_MAX_CONCURRENCY") && m.contains(&format!("`{bad}`")),
                "{m}"
            );
        }
    }
}
