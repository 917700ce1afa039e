//! Turning samples into the results table, the machine line and the block of
//! `docs/performance.md` between its bench markers.

use super::*;

pub(super) fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// The median of every field, per peer.
pub(crate) fn medians(samples: &Samples) -> Vec<(&'static str, Sample)> {
    samples
        .iter()
        .map(|(p, ss)| {
            let m = |f: fn(&Sample) -> f64| median(ss.iter().map(f).collect());
            (
                *p,
                Sample {
                    init_ms: m(|s| s.init_ms),
                    first_workflow_ms: m(|s| s.first_workflow_ms),
                    new_version_first_ms: m(|s| s.new_version_first_ms),
                    cold_busy_ms: m(|s| s.cold_busy_ms),
                    cold_billed_ms: m(|s| s.cold_billed_ms),
                    batch_per_s: m(|s| s.batch_per_s),
                    warm_busy_ms: m(|s| s.warm_busy_ms),
                    warm_billed_ms: m(|s| s.warm_billed_ms),
                    to_polling_ms: m(|s| s.to_polling_ms),
                    stop_to_response_ms: m(|s| s.stop_to_response_ms),
                    peak_rss_mib: m(|s| s.peak_rss_mib),
                    worker_cpu_ms_per_wf: m(|s| s.worker_cpu_ms_per_wf),
                    server_cpu_ms_per_wf: m(|s| s.server_cpu_ms_per_wf),
                },
            )
        })
        .collect()
}

pub(super) fn table(args: &Args, samples: &Samples, loops: &Loops) -> String {
    let med = medians(samples);
    let get = |peer: &str| med.iter().find(|(p, _)| *p == peer).map(|(_, s)| s.clone());
    let (Some(r), Some(p)) = (get("rust"), get("python")) else {
        return String::new();
    };
    let ratio = |a: f64, b: f64| {
        if b > 0.0 {
            format!("{:.2}×", a / b)
        } else {
            "–".into()
        }
    };
    let mut t = String::new();
    t.push_str(&format!(
        "Medians of {} cold starts each (after one unmeasured warm-up each), interleaved \
         rust, python, rust, python…; function timeout {} s, buffer 7 s on both; machine: {}.\n\
         Command: `cargo xtask bench --samples {} --batch {} --loop-workflows {} --loop-runs {}`.\n\n",
        args.samples,
        args.timeout.as_secs(),
        machine(),
        args.samples,
        args.batch,
        args.loop_workflows,
        args.loop_runs
    ));
    t.push_str("| figure | target | Rust | Python peer | Rust / Python |\n|---|---|---|---|---|\n");
    let mut row = |name: &str, target: &str, a: f64, b: f64, unit: &str, digits: usize| {
        t.push_str(&format!(
            "| {name} | {target} | {a:.digits$} {unit} | {b:.digits$} {unit} | {} |\n",
            ratio(a, b)
        ));
    };
    row(
        "init: exec → first `/next`",
        "≤ 20 ms",
        r.init_ms,
        p.init_ms,
        "ms",
        1,
    );
    row(
        "cold: handed out → first pre-started workflow completed",
        "≤ 100 ms",
        r.first_workflow_ms,
        p.first_workflow_ms,
        "ms",
        1,
    );
    row(
        "the same, a new version's first invocation (the server registers the task queue)",
        "–",
        r.new_version_first_ms,
        p.new_version_first_ms,
        "ms",
        1,
    );
    row(
        &format!("warm: {} pre-started workflows drained", args.batch),
        "ahead of the peer",
        r.batch_per_s,
        p.batch_per_s,
        "workflows/s",
        1,
    );
    row(
        "warm batch: worker CPU per workflow (user + system)",
        "lower",
        r.worker_cpu_ms_per_wf,
        p.worker_cpu_ms_per_wf,
        "ms",
        1,
    );
    row(
        "warm batch: the dev server's CPU per workflow (the same server)",
        "–",
        r.server_cpu_ms_per_wf,
        p.server_cpu_ms_per_wf,
        "ms",
        1,
    );
    row(
        "peak RSS",
        "≤ 16 MiB",
        r.peak_rss_mib,
        p.peak_rss_mib,
        "MiB",
        1,
    );
    row(
        "warm: handed out → polling",
        "≤ 10 ms",
        r.to_polling_ms,
        p.to_polling_ms,
        "ms",
        1,
    );
    row(
        "warm: stop requested → response posted (nothing in flight)",
        "≤ 10 ms",
        r.stop_to_response_ms,
        p.stop_to_response_ms,
        "ms",
        1,
    );
    let li = loops
        .iter()
        .find(|(n, _)| *n == "rust-idle")
        .map(|(_, l)| l);
    let lr = loops.iter().find(|(n, _)| *n == "rust").map(|(_, l)| l);
    let lp = loops.iter().find(|(n, _)| *n == "python").map(|(_, l)| l);
    if let (Some(lr), Some(lp)) = (lr, lp) {
        row(
            &format!(
                "local serverless loop, {} workflows, 60 s timeout, 256 MB: billed GB-s per 1000 workflows (median of {} runs)",
                lr.workflows, args.loop_runs
            ),
            "lower",
            lr.gb_s_per_1000,
            lp.gb_s_per_1000,
            "GB-s",
            1,
        );
        if let Some(li) = li {
            row(
                "the same loop, Rust with `LAMBDAWORKER_IDLE_EXIT=500ms`: GB-s per 1000 workflows",
                "≥ 10× lower than without",
                li.gb_s_per_1000,
                lp.gb_s_per_1000,
                "GB-s",
                1,
            );
        }
        t.push_str(&format!("\nLoop detail ({} workflows started at once; start → completion from the server's history). The Worker Controller decides how many invocations to make; without idle exit each is billed to deadline − buffer whatever the work:\n\n| run (the median one) | invocations (cold) | billed | billed per invocation | median workflow start → completion | every run: invocations, GB-s per 1000 workflows |\n|---|---|---|---|---|---|\n", lr.workflows));
        for (name, l) in loops {
            t.push_str(&format!(
                "| {name} | {} ({}) | {:.1} s | {:.1} s | {:.0} ms | {} |\n",
                l.invocations,
                l.cold_starts,
                l.billed_ms as f64 / 1000.0,
                l.billed_ms as f64 / 1000.0 / l.invocations.max(1) as f64,
                l.median_latency_ms,
                l.runs
                    .iter()
                    .map(|(n, g)| format!("{n}, {g:.0}"))
                    .collect::<Vec<_>>()
                    .join("; ")
            ));
        }
    }
    t
}

pub(super) fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|l| l.trim_start_matches([' ', '\t', ':']).to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!("{cores} × {cpu}, {}", std::env::consts::ARCH)
}

/// Replaces the text between the bench markers: the table, then the chart.
pub(super) fn update_performance_md(path: &Path, table: &str) -> Result<(), String> {
    update_section(
        path,
        "bench",
        &format!("{table}\n![Rust vs Python peer](bench.svg)"),
    )
}

/// For the chart: `(peer, GB-s per 1000 workflows)`.
pub(crate) type LoopRows = Vec<(&'static str, f64)>;

pub(super) fn loop_rows(loops: &Loops) -> LoopRows {
    loops.iter().map(|(p, l)| (*p, l.gb_s_per_1000)).collect()
}

/// Replaces the text between `<!-- NAME:begin -->` and `<!-- NAME:end -->`.
pub(super) fn update_section(path: &Path, name: &str, content: &str) -> Result<(), String> {
    let (begin, end) = (
        format!("<!-- {name}:begin -->"),
        format!("<!-- {name}:end -->"),
    );
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let (Some(a), Some(b)) = (text.find(&begin), text.find(&end)) else {
        return Err(format!(
            "{}: add the lines {begin} and {end} where the table goes",
            path.display()
        ));
    };
    let new = format!("{}{begin}\n{content}\n{}", &text[..a], &text[b..]);
    std::fs::write(path, new).map_err(|e| e.to_string())
}
