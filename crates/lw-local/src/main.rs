//! `lw-local`: the local AWS endpoint as a program.
//!
//! ```text
//! lw-local [--port PORT] --function NAME=BOOTSTRAP [--timeout S] [--memory MB]
//!          [--concurrency N] [--per-instance-concurrency N] [--env KEY=VALUE]...
//!          --role ARN[=EXTERNAL_ID]...
//! ```
//!
//! Serves 127.0.0.1 only, on a free port unless `--port` is given, and prints (once, on
//! stdout) the `export` lines a dev server needs: the endpoint and this run's credentials,
//! which every request must be signed with (see docs/local-serverless.md). Ctrl-C prints
//! the accounting and stops the instances.

use std::{process::ExitCode, time::Duration};

use lw_local::{FunctionConfig, LocalLambda, RoleConfig};

const USAGE: &str = "usage: lw-local [--port PORT] --function NAME=BOOTSTRAP [--timeout SECONDS] \
                     [--memory MB] [--concurrency N] [--per-instance-concurrency N] \
                     [--env KEY=VALUE]... \
                     [--role ARN[=EXTERNAL_ID]]...

Serves STS and Lambda on 127.0.0.1 (loopback only), on PORT or a free port, and prints the
lines to export where the Temporal dev server (or `cargo lambdaworker deploy`) runs:
AWS_ENDPOINT_URL and this run's AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY. Every request must
be signed (AWS SigV4) with them and sent to that address: anything else is refused (403).
The credentials are new each run; the functions get them too.";

/// What the command line asks for: the port, the functions and the roles.
type Parsed = (u16, Vec<FunctionConfig>, Vec<RoleConfig>);

/// Flags that set something on the `--function` before them.
const FUNCTION_FLAGS: [&str; 5] = [
    "--timeout",
    "--memory",
    "--concurrency",
    "--per-instance-concurrency",
    "--env",
];

fn parse(args: &[String]) -> Result<Parsed, String> {
    // 0: a free port, printed at start.
    let mut port = 0u16;
    let mut functions: Vec<FunctionConfig> = Vec::new();
    let mut roles = Vec::new();
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let flag = flag.as_str();
        match flag {
            "-h" | "--help" => return Err(USAGE.to_owned()),
            "--port" | "--function" | "--role" => {}
            f if FUNCTION_FLAGS.contains(&f) => {}
            other => return Err(format!("unknown argument {other}\n{USAGE}")),
        }
        let value = it.next().ok_or(format!("{flag} needs a value\n{USAGE}"))?;
        match flag {
            "--port" => {
                port = u16::try_from(number(flag, value)?).map_err(|_| "--port: not a port")?;
            }
            "--function" => {
                let (name, path) = value
                    .split_once('=')
                    .ok_or(format!("--function takes NAME=BOOTSTRAP, not `{value}`"))?;
                lw_local::check_function_name(name).map_err(|e| format!("--function: {e}"))?;
                functions.push(FunctionConfig::new(name, path));
            }
            "--role" => roles.push(role(value)),
            _ => {
                let f = functions
                    .pop()
                    .ok_or(format!("{flag} must follow a --function\n{USAGE}"))?;
                functions.push(set(f, flag, value)?);
            }
        }
    }
    if functions.is_empty() {
        return Err(format!("no --function given\n{USAGE}"));
    }
    Ok((port, functions, roles))
}

fn number(flag: &str, v: &str) -> Result<u64, String> {
    v.parse()
        .map_err(|_| format!("{flag} takes a number, not `{v}`"))
}

/// `--role ARN[=EXTERNAL_ID]`.
fn role(v: &str) -> RoleConfig {
    let (arn, external_id) = match v.split_once('=') {
        Some((a, e)) => (a.to_owned(), Some(e.to_owned())),
        None => (v.to_owned(), None),
    };
    RoleConfig { arn, external_id }
}

/// One of [`FUNCTION_FLAGS`] applied to `f`.
fn set(f: FunctionConfig, flag: &str, value: &str) -> Result<FunctionConfig, String> {
    Ok(match flag {
        "--timeout" => {
            let seconds = number(flag, value)?;
            if !(1..=900).contains(&seconds) {
                return Err(format!(
                    "--timeout takes 1 to 900 seconds (Lambda's range), not {seconds}"
                ));
            }
            f.timeout(Duration::from_secs(seconds))
        }
        "--memory" => {
            f.memory_mb(u32::try_from(number(flag, value)?).map_err(|_| "--memory: too large")?)
        }
        "--concurrency" => f.concurrency(number(flag, value)? as usize),
        "--per-instance-concurrency" => {
            let n = u32::try_from(number(flag, value)?)
                .ok()
                .filter(|n| (1..=1600).contains(n))
                .ok_or("--per-instance-concurrency: from 1 to 1600")?;
            f.per_instance_concurrency(n)
        }
        _ => {
            let (k, v) = value
                .split_once('=')
                .ok_or(format!("--env takes KEY=VALUE, not `{value}`"))?;
            f.env(k, v)
        }
    })
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (port, functions, roles) = match parse(&args) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("lw-local: {e}");
            return ExitCode::from(2);
        }
    };
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .init();
    match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime.block_on(serve(port, functions, roles)),
        Err(e) => {
            eprintln!("lw-local: cannot start tokio: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Serves until Ctrl-C, then prints the accounting and stops the instances.
async fn serve(port: u16, functions: Vec<FunctionConfig>, roles: Vec<RoleConfig>) -> ExitCode {
    let aws = match LocalLambda::bind(&format!("127.0.0.1:{port}")).await {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    for r in roles {
        let trust = match r.external_id {
            Some(_) => "ExternalId required",
            None => "no ExternalId: Temporal will reject it",
        };
        eprintln!("lw-local: role {} ({trust})", r.arn);
        aws.add_role(r);
    }
    for f in functions {
        eprintln!("lw-local: function {}", aws.add_function(f));
    }
    eprintln!(
        "lw-local: serving STS and Lambda at {} (loopback only); Ctrl-C to stop",
        aws.endpoint()
    );
    println!("{}", banner(&aws));
    let _ = tokio::signal::ctrl_c().await;
    println!("{}", aws.report());
    aws.stop().await;
    ExitCode::SUCCESS
}

/// The one place this run's secret is shown: the lines to export where the dev server
/// runs (stdout, once; never in the log).
fn banner(aws: &LocalLambda) -> String {
    let mut out = String::from(
        "# lw-local: every request must be signed with these credentials (new each run).\n\
         # Export them where the Temporal dev server (or `cargo lambdaworker deploy`) runs:\n",
    );
    for (k, v) in aws.server_env() {
        out.push_str(&format!("export {k}={v}\n"));
    }
    out.push_str(&format!(
        "unset {}\n",
        lw_local::CREDENTIAL_SOURCES.join(" ")
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn the_port_is_free_unless_given() {
        let (port, _, _) = parse(&args("--function a=/bin/true")).unwrap();
        assert_eq!(port, 0, "no fixed port by default");
    }

    #[tokio::test]
    async fn the_banner_has_the_lines_to_export() {
        let aws = lw_local::LocalLambda::start().await.unwrap();
        let b = super::banner(&aws);
        let c = aws.credentials();
        assert!(
            b.contains(&format!("export AWS_ENDPOINT_URL={}\n", aws.endpoint())),
            "{b}"
        );
        assert!(b.contains(&format!("export AWS_ACCESS_KEY_ID={}\n", c.access_key_id())));
        assert!(b.contains(&format!(
            "export AWS_SECRET_ACCESS_KEY={}\n",
            c.secret_access_key()
        )));
        assert!(b.contains("unset AWS_PROFILE "), "{b}");
    }

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn parses_functions_and_roles() {
        let (port, f, r) = parse(&args(
            "--port 9100 --function greeting=/x/bootstrap --timeout 30 --memory 512 \
             --concurrency 3 --env A=1 --role arn:aws:iam::1:role/r=ext",
        ))
        .unwrap();
        assert_eq!(port, 9100);
        assert_eq!(f[0].name, "greeting");
        assert_eq!(f[0].timeout.as_secs(), 30);
        assert_eq!((f[0].memory_mb, f[0].concurrency), (512, 3));
        assert_eq!(f[0].env, vec![("A".to_owned(), "1".to_owned())]);
        assert_eq!(r[0].external_id.as_deref(), Some("ext"));
    }

    #[test]
    fn bad_arguments_say_what_is_wrong() {
        assert!(parse(&args("")).unwrap_err().contains("no --function"));
        assert!(
            parse(&args("--timeout 3"))
                .unwrap_err()
                .contains("must follow a --function")
        );
        assert!(
            parse(&args("--function a=b --timeout x"))
                .unwrap_err()
                .contains("takes a number")
        );
        for bad in [
            "--function a=b --timeout 0",
            "--function a=b --timeout 18446744073709551615",
        ] {
            assert!(
                parse(&args(bad)).unwrap_err().contains("1 to 900 seconds"),
                "{bad}"
            );
        }
        assert!(
            parse(&args("--function ../x=/bin/true"))
                .unwrap_err()
                .contains("functionName")
        );
        assert!(
            parse(&args("--function ab"))
                .unwrap_err()
                .contains("NAME=BOOTSTRAP")
        );
    }
}
