//! The burst tables (`burst` and `managed` sections of `docs/performance.md`), the burst's
//! timeline chart and `target/bench/*.json`.

use std::path::Path;

use super::measure::BurstRun;
use super::runner::{MEMORY_MB, Scenario, TIMEOUT};
use crate::bench::report::{machine, update_section};

/// What was run, for the tables' preamble.
pub(super) struct Command {
    /// The command line, e.g. `cargo xtask bench --burst --workflows 200 --per-instance 8
    /// --runs 3`.
    pub(super) line: String,
    pub(super) workflows: usize,
    pub(super) runs: usize,
}

fn runs_column(runs: &[BurstRun]) -> String {
    runs.iter()
        .map(|r| format!("{:.2}", r.seconds_to_all_done))
        .collect::<Vec<_>>()
        .join(", ")
}

fn preamble(c: &Command, what: &str) -> String {
    format!(
        "`{}` on {}: {} greeting workflows started at once; the dev server's Worker \
         Controller invokes the function through `lw-local` (function timeout {} s, {} MB, \
         release build); {what} Before each burst the version has been registered for at least \
         15 s and the server is quiet. The median of {} by time to all done, from the \
         burst's start to the last workflow's close event (every run's in the last column). \
         Every workflow completed with its activity recorded once, in every run.\n\n",
        c.line,
        machine(),
        c.workflows,
        TIMEOUT.as_secs(),
        MEMORY_MB,
        if c.runs == 1 {
            "1 run".to_owned()
        } else {
            format!("{} runs", c.runs)
        }
    )
}

/// The `burst` section: the headline table, then where the time went.
pub(super) fn burst_table(c: &Command, results: &[(Scenario, BurstRun, Vec<BurstRun>)]) -> String {
    let mut t = preamble(
        c,
        "billed GB-s is Lambda's per-invocation model (billed duration × memory); for \
         Managed Instances, which bill the instance rather than the invocation, the \
         instance-seconds busy × memory is given instead (†).",
    );
    t.push_str(
        "| function | time to all done | invocations (cold) | instances | most in flight \
         | billed GB-s / 1000 workflows | peak RSS (max) | runs (s) |\n\
         |---|---|---|---|---|---|---|---|\n",
    );
    for (s, r, all) in results {
        let gb = if s.per_instance > 1 {
            format!("{:.1} †", r.instance_gb_s_per_1000)
        } else {
            format!("{:.1}", r.gb_s_per_1000)
        };
        t.push_str(&format!(
            "| {} | {:.2} s | {} ({}) | {} | {} | {gb} | {:.1} MiB | {} |\n",
            s.label,
            r.seconds_to_all_done,
            r.invocations,
            r.cold_starts,
            r.instances,
            r.most_in_flight,
            r.peak_rss_mib_max,
            runs_column(all)
        ));
    }
    let with_idle: Vec<_> = results
        .iter()
        .filter_map(|(s, r, _)| Some((s, r, &results.get(s.without_idle_exit?)?.1)))
        .collect();
    if !with_idle.is_empty() {
        t.push_str(
            "\nIdle exit against the same function without it (for the 4× row: the default \
             function without idle exit; the median runs):\n\n",
        );
        for (s, r, base) in with_idle {
            let gb = |r: &BurstRun| {
                if s.per_instance > 1 {
                    r.instance_gb_s_per_1000
                } else {
                    r.gb_s_per_1000
                }
            };
            t.push_str(&format!(
                "- {}: time to all done {:.2}× ({:.2} s against {:.2} s), billed GB-s {:.1}× \
                 lower ({:.1} against {:.1}); {} of {} invocations ended idle, {} of them \
                 before the last workflow completed.\n",
                s.label,
                r.seconds_to_all_done / base.seconds_to_all_done,
                r.seconds_to_all_done,
                base.seconds_to_all_done,
                gb(base) / gb(r).max(1e-9),
                gb(r),
                gb(base),
                r.ended_idle,
                r.invocations,
                r.ended_idle_before_done,
            ));
        }
    }
    t.push_str(
        "\nWhere the time went (the same median runs): the controller's invocations (first \
         and last after the burst's start, median gap between two), an invocation's wait for \
         an instance with room, the time from an invocation's start to the first task its \
         worker picked up (from the identities on the workflows' history events), and CPU per \
         workflow.\n\n\
         | function | first / last Invoke | gap between Invokes | wait for an instance \
         | to first task: cold / warm | invocations with no task | ended idle (before all done) \
         | server CPU / workflow | worker CPU / workflow |\n\
         |---|---|---|---|---|---|---|---|---|\n",
    );
    let seconds = |v: f64| {
        if v.is_finite() {
            format!("{:.1} s", v / 1000.0)
        } else {
            "–".into()
        }
    };
    let num = |v: f64, unit: &str| {
        if v.is_finite() {
            format!("{v:.0} {unit}")
        } else {
            "–".into()
        }
    };
    for (s, r, _) in results {
        t.push_str(&format!(
            "| {} | {} / {} | {} | {} | {} / {} | {} | {} ({}) | {:.1} ms | {:.1} ms |\n",
            s.label,
            seconds(r.first_invoke_ms),
            seconds(r.last_invoke_ms),
            num(r.invoke_gap_ms, "ms"),
            num(r.wait_for_instance_ms, "ms"),
            num(r.to_first_task_cold_ms, "ms"),
            num(r.to_first_task_warm_ms, "ms"),
            r.invocations_without_task,
            r.ended_idle,
            r.ended_idle_before_done,
            r.server_cpu_ms_per_wf,
            r.worker_cpu_ms_per_wf,
        ));
    }
    t
}

/// The `managed` section: a worker per invocation against one shared worker.
pub(super) fn managed_table(
    c: &Command,
    results: &[(Scenario, BurstRun, Vec<BurstRun>)],
) -> String {
    let mut t = preamble(c, "no idle exit.");
    t.push_str(
        "| function | time to all done | instances | invocations | most at once per instance \
         | peak RSS per instance (max / mean) | instance-seconds busy | runs (s) |\n\
         |---|---|---|---|---|---|---|---|\n",
    );
    for (s, r, all) in results {
        t.push_str(&format!(
            "| {} | {:.1} s | {} | {} | {} | {:.1} / {:.1} MiB | {:.0} | {} |\n",
            s.label,
            r.seconds_to_all_done,
            r.instances,
            r.invocations,
            r.peak_in_flight,
            r.peak_rss_mib_max,
            r.peak_rss_mib_mean,
            r.instance_busy_s,
            runs_column(all)
        ));
    }
    t
}

/// Prints `table`, writes `target/bench/<section>.json` and, when `docs`, the table into
/// its section of `docs/performance.md`.
pub(super) fn write(
    root: &Path,
    section: &str,
    table: &str,
    results: &[(Scenario, BurstRun, Vec<BurstRun>)],
    docs: bool,
) -> Result<(), String> {
    println!("\n{table}");
    let out = root.join("target").join("bench");
    std::fs::create_dir_all(&out).map_err(|e| e.to_string())?;
    let json: Vec<_> = results
        .iter()
        .map(|(s, r, all)| serde_json::json!({"scenario": s.label, "median": r, "runs": all}))
        .collect();
    std::fs::write(
        out.join(format!("{section}.json")),
        serde_json::to_string_pretty(&json).unwrap_or_default(),
    )
    .map_err(|e| e.to_string())?;
    if docs {
        update_section(&root.join("docs").join("performance.md"), section, table)?;
        eprintln!("xtask: docs/performance.md updated ({section})");
    }
    Ok(())
}
