//! What `dev` prints for a human: the function's JSON log lines made readable, the task queue
//! the function reports polling, and the command that starts a workflow.

use serde_json::{Map, Value};

/// What the hint shows until the task queue is known.
pub(super) const UNKNOWN_TASK_QUEUE: &str = "<your task queue>";

/// What the hint shows until the workflow types are known.
pub(super) const UNKNOWN_WORKFLOW_TYPE: &str = "<your workflow type>";

/// The command that starts a workflow on the dev server, with the first workflow type the
/// function reported registering (the others listed after it).
pub(super) fn start_hint(address: &str, task_queue: &str, workflow_types: &[String]) -> String {
    let (first, others) = match workflow_types.split_first() {
        Some((first, others)) => (first.as_str(), others),
        None => (UNKNOWN_WORKFLOW_TYPE, &[][..]),
    };
    let mut hint = format!(
        "Start a workflow:\n  temporal workflow start --address {address} --task-queue \
         {task_queue} --type {first} --input '...'"
    );
    if !others.is_empty() {
        hint.push_str(&format!("\n  (also registered: {})", others.join(", ")));
    }
    hint
}

/// A line of the function's output as `dev` prints it, after `[source]` (the function
/// version and instance, `orders:1#0`). Raw: the line as it is. Otherwise a JSON log line of
/// `lambdaworker::init_logging` becomes `[source request] time LEVEL message key=value ...`
/// (the request id's first 8 characters, the time of day to the millisecond); any other line
/// is printed as it is. `None`: nothing to print, for the JSON report each invocation ends
/// with (`"lambdaworker":"invocation"`), which `dev`'s line per invocation summarises.
pub fn format_log_line(source: &str, line: &str, raw: bool) -> Option<String> {
    if !raw && is_invocation_report(line) {
        return None;
    }
    let event = if raw { None } else { parse(line) };
    let Some(event) = event else {
        return Some(format!("[{source}] {line}"));
    };
    let fields = event.get("fields").and_then(Value::as_object);
    let text = |key: &str| event.get(key).and_then(Value::as_str).unwrap_or_default();
    let request = request_id(&event, fields)
        .map(|id| format!(" {}", id.chars().take(8).collect::<String>()))
        .unwrap_or_default();
    let message = fields
        .and_then(|f| f.get("message"))
        .or_else(|| event.get("message"))
        .and_then(Value::as_str)
        .unwrap_or_default();
    let mut out = format!(
        "[{source}{request}] {} {:<5} {message}",
        time_of_day(text("timestamp")),
        text("level")
    );
    for (key, value) in fields.into_iter().flatten() {
        if key != "message" && key != "requestId" && !key.starts_with("log.") {
            out.push_str(&format!("  {key}={}", show(value)));
        }
    }
    Some(out)
}

/// The invocation report `lw-runtime` writes at the end of each invocation.
fn is_invocation_report(line: &str) -> bool {
    line.starts_with('{')
        && serde_json::from_str::<Value>(line)
            .is_ok_and(|v| v.get("lambdaworker").and_then(Value::as_str) == Some("invocation"))
}

/// The task queue a JSON log line reports (`lambda worker initialised` carries it).
pub fn task_queue(line: &str) -> Option<String> {
    let event = parse(line)?;
    let queue = event.get("fields")?.get("task_queue")?.as_str()?;
    Some(queue.to_owned())
}

/// The workflow types a JSON log line reports (`lambda worker initialised` carries them,
/// comma-separated).
pub fn workflow_types(line: &str) -> Option<Vec<String>> {
    let event = parse(line)?;
    let types = event.get("fields")?.get("workflow_types")?.as_str()?;
    Some(
        types
            .split(',')
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
            .collect(),
    )
}

/// A tracing JSON event: an object with a level.
fn parse(line: &str) -> Option<Map<String, Value>> {
    let trimmed = line.trim_start();
    if !trimmed.starts_with('{') {
        return None;
    }
    match serde_json::from_str(trimmed).ok()? {
        Value::Object(event) if event.get("level").is_some_and(Value::is_string) => Some(event),
        _ => None,
    }
}

/// The invocation's request id: the Lambda runtime's span carries it.
fn request_id<'a>(
    event: &'a Map<String, Value>,
    fields: Option<&'a Map<String, Value>>,
) -> Option<&'a str> {
    let span = event.get("span").and_then(Value::as_object);
    [span, Some(event), fields]
        .into_iter()
        .flatten()
        .find_map(|m| m.get("requestId").and_then(Value::as_str))
}

/// `2026-01-02T03:04:05.678901Z` → `03:04:05.678`; anything else as it is.
fn time_of_day(timestamp: &str) -> &str {
    match timestamp.split_once('T') {
        Some((_, time)) => {
            let time = time.trim_end_matches('Z');
            time.get(..12).unwrap_or(time)
        }
        None => timestamp,
    }
}

/// A field's value: a plain word as it is, anything else as JSON.
fn show(value: &Value) -> String {
    match value {
        Value::String(s)
            if !s.is_empty() && !s.contains(|c: char| c.is_whitespace() || c == '"') =>
        {
            s.clone()
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const INIT: &str = r#"{"timestamp":"2026-12-06T02:45:18.123456Z","level":"INFO","fields":{"message":"lambda worker initialised","task_queue":"orders","workflow_types":"Greeting,Refund","concurrency":1},"target":"lw_runtime::entry","span":{"requestId":"8f3c1a2b-1111-2222-3333-444455556666","name":"Lambda runtime invoke"}}"#;

    #[test]
    fn a_json_log_line_becomes_readable() {
        let line = format_log_line("orders:1#0", INIT, false).unwrap();
        assert!(
            line.starts_with(
                "[orders:1#0 8f3c1a2b] 02:45:18.123 INFO  lambda worker initialised  "
            ),
            "{line}"
        );
        assert!(
            line.contains("  concurrency=1") && line.contains("  task_queue=orders"),
            "{line}"
        );
        assert!(
            !line.contains("lw_runtime") && !line.contains('{'),
            "{line}"
        );
        let warn = r#"{"timestamp":"2026-12-06T02:45:19.5Z","level":"WARN","fields":{"message":"could not check","reason":"two words"},"target":"x"}"#;
        assert_eq!(
            format_log_line("orders:2#1", warn, false).unwrap(),
            "[orders:2#1] 02:45:19.5 WARN  could not check  reason=\"two words\""
        );
    }

    #[test]
    fn other_lines_and_raw_mode_pass_through() {
        for line in [
            "thread 'main' panicked at src/main.rs:3:5",
            "{not json",
            "[1, 2]",
            "",
        ] {
            let shown = format_log_line("f:1#0", line, false);
            assert_eq!(shown, Some(format!("[f:1#0] {line}")));
        }
        let raw = format_log_line("f:1#0", INIT, true);
        assert_eq!(raw, Some(format!("[f:1#0] {INIT}")));
        // The invocation report: summarised by dev's invocation line, shown raw on request.
        let report = r#"{"activities":0,"billed_ms":23020,"lambdaworker":"invocation"}"#;
        assert_eq!(format_log_line("f:1#0", report, false), None);
        let raw = format_log_line("f:1#0", report, true);
        assert_eq!(raw, Some(format!("[f:1#0] {report}")));
    }

    #[test]
    fn a_lossily_decoded_line_passes_and_the_next_follows() {
        // Output decoded with replacement characters: each line is printed on its own.
        let bytes = b"bad \xff byte\n{\"level\":\"INFO\",\"fields\":{\"message\":\"next\"}}\n";
        let text = String::from_utf8_lossy(bytes);
        let shown: Vec<_> = text
            .lines()
            .filter_map(|l| format_log_line("f:1#0", l, false))
            .collect();
        assert_eq!(shown.len(), 2, "{shown:?}");
        assert!(shown[1].ends_with("INFO  next"), "{shown:?}");
    }

    #[test]
    fn the_task_queue_comes_from_the_start_line() {
        assert_eq!(task_queue(INIT).as_deref(), Some("orders"));
        assert_eq!(task_queue("task_queue=orders"), None);
        let types = workflow_types(INIT).expect("types");
        assert_eq!(types, ["Greeting", "Refund"]);
        let hint = start_hint("127.0.0.1:7233", "orders", &types);
        assert!(
            hint.contains("--task-queue orders --type Greeting --input")
                && hint.contains("(also registered: Refund)"),
            "{hint}"
        );
        let hint = start_hint("127.0.0.1:7233", "orders", &[]);
        assert!(
            hint.contains("--task-queue orders --type <your workflow type>"),
            "{hint}"
        );
    }
}
