//! Parsing the idle early exit setting (`LAMBDAWORKER_IDLE_EXIT`).

use std::time::Duration;

use crate::OptionsError;

/// The shortest idle period accepted.
pub(crate) const IDLE_EXIT_MIN: Duration = Duration::from_millis(100);
/// The longest idle period accepted (Lambda's longest invocation).
pub(crate) const IDLE_EXIT_MAX: Duration = Duration::from_secs(15 * 60);

/// Parses an idle-exit setting as `LAMBDAWORKER_IDLE_EXIT` writes it: `2s`, `1.5s`, `500ms`,
/// `1m`, `2` (seconds); `off`, `false`, `0` or empty for none. `source` names where the text
/// came from, for the error.
///
/// ```
/// use std::time::Duration;
/// assert_eq!(lw_options::parse_idle_exit("500ms", "X").unwrap(), Some(Duration::from_millis(500)));
/// assert_eq!(lw_options::parse_idle_exit("1m", "X").unwrap(), Some(Duration::from_secs(60)));
/// assert_eq!(lw_options::parse_idle_exit("off", "X").unwrap(), None);
/// assert!(lw_options::parse_idle_exit("soon", "X").is_err());
/// ```
pub fn parse_idle_exit(text: &str, source: &str) -> Result<Option<Duration>, OptionsError> {
    let t = text.trim().to_ascii_lowercase();
    if t.is_empty() || t == "off" || t == "false" || t == "0" {
        return Ok(None);
    }
    let (number, scale) = if let Some(n) = t.strip_suffix("ms") {
        (n, 0.001)
    } else if let Some(n) = t.strip_suffix("min") {
        (n, 60.0)
    } else if let Some(n) = t.strip_suffix('s') {
        (n, 1.0)
    } else if let Some(n) = t.strip_suffix('m') {
        (n, 60.0)
    } else {
        (t.as_str(), 1.0)
    };
    let bad = || OptionsError::InvalidIdleExit {
        origin: source.to_owned(),
        value: text.to_owned(),
    };
    let secs: f64 = number.trim().parse().map_err(|_| bad())?;
    let d = Duration::try_from_secs_f64(secs * scale).map_err(|_| bad())?;
    if !(IDLE_EXIT_MIN..=IDLE_EXIT_MAX).contains(&d) {
        return Err(bad());
    }
    Ok(Some(d))
}
