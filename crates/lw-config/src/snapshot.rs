//! One UTF-8-safe read of the process environment, for every crate of the workspace:
//! a variable whose name or value is not UTF-8 is left out with a warning, never a panic.

use std::{collections::HashMap, ffi::OsString};

/// The process environment as UTF-8 text: every variable of [`std::env::vars_os`] whose name
/// and value are both UTF-8. One that is not is left out, with a `tracing` warning naming it
/// (lossily); [`std::env::vars`] would panic on it.
///
/// Read it once and pass the map down: every entry point of the workspace that needs the
/// environment takes it from here.
///
/// ```
/// let env = lw_config::env_snapshot();
/// let _address = env.get("TEMPORAL_ADDRESS");
/// ```
pub fn env_snapshot() -> HashMap<String, String> {
    utf8_vars(std::env::vars_os())
}

/// The UTF-8 pairs of `vars`; the others are skipped with a warning naming the variable.
fn utf8_vars(vars: impl IntoIterator<Item = (OsString, OsString)>) -> HashMap<String, String> {
    vars.into_iter()
        .filter_map(
            |(name, value)| match (name.into_string(), value.into_string()) {
                (Ok(name), Ok(value)) => Some((name, value)),
                (Ok(name), Err(_)) => {
                    warn_skipped(&name);
                    None
                }
                (Err(name), _) => {
                    warn_skipped(&name.to_string_lossy());
                    None
                }
            },
        )
        .collect()
}

fn warn_skipped(name: &str) {
    tracing::warn!(
        variable = %name,
        "an environment variable is not UTF-8 text; it is ignored"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    fn not_utf8(prefix: &str) -> OsString {
        use std::os::unix::ffi::OsStringExt;
        let mut bytes = prefix.as_bytes().to_vec();
        bytes.push(0xff);
        OsString::from_vec(bytes)
    }

    #[cfg(unix)]
    #[test]
    fn variables_that_are_not_utf8_are_skipped_not_fatal() {
        let vars = vec![
            (OsString::from("TEMPORAL_ADDRESS"), OsString::from("h:7233")),
            (OsString::from("BAD_VALUE"), not_utf8("x")),
            (not_utf8("BAD_NAME"), OsString::from("y")),
            (OsString::from("EMPTY"), OsString::new()),
        ];
        let mut env = None;
        let logs = crate::tests::logged(|| env = Some(utf8_vars(vars)));
        let env = env.unwrap_or_default();
        assert_eq!(env.len(), 2, "{env:?}");
        assert_eq!(env["TEMPORAL_ADDRESS"], "h:7233");
        assert_eq!(env["EMPTY"], "");
        assert_eq!(logs.matches("WARN").count(), 2, "{logs}");
        assert!(logs.contains("variable=BAD_VALUE"), "{logs}");
        assert!(logs.contains("variable=BAD_NAME\u{fffd}"), "{logs}");
    }

    #[test]
    fn the_process_environment_is_read() {
        // PATH or HOME is set wherever tests run; the snapshot must not panic either way.
        let env = env_snapshot();
        assert!(
            std::env::vars_os().count() >= env.len(),
            "the snapshot only ever leaves variables out"
        );
    }
}
