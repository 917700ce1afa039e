//! `lw-local`: the local AWS endpoint as a program.
//!
//! ```text
//! lw-local [--port 9001] --function NAME=BOOTSTRAP [--timeout S] [--memory MB]
//!          [--concurrency N] [--per-instance-concurrency N] [--env KEY=VALUE]...
//!          --role ARN[=EXTERNAL_ID]...
//! ```
//!
//! Point a dev server at it with `AWS_ENDPOINT_URL=http://127.0.0.1:9001` (see
//! docs/local-serverless.md). Ctrl-C prints the accounting and stops the instances.

use std::{process::ExitCode, time::Duration};

use lw_local::{FunctionConfig, LocalLambda, RoleConfig};

const USAGE: &str = "usage: lw-local [--port PORT] --function NAME=BOOTSTRAP [--timeout SECONDS] \
                     [--memory MB] [--concurrency N] [--per-instance-concurrency N] \
                     [--env KEY=VALUE]... \
                     [--role ARN[=EXTERNAL_ID]]...";

fn parse(args: &[String]) -> Result<(u16, Vec<FunctionConfig>, Vec<RoleConfig>), String> {
    let mut port = 9001u16;
    let mut functions: Vec<FunctionConfig> = Vec::new();
    let mut roles = Vec::new();
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let mut value = || {
            it.next()
                .cloned()
                .ok_or(format!("{flag} needs a value\n{USAGE}"))
        };
        let last = |functions: &mut Vec<FunctionConfig>| -> Result<FunctionConfig, String> {
            functions
                .pop()
                .ok_or(format!("{flag} must follow a --function\n{USAGE}"))
        };
        let number = |v: String| -> Result<u64, String> {
            v.parse()
                .map_err(|_| format!("{flag} takes a number, not `{v}`"))
        };
        match flag.as_str() {
            "--port" => {
                port = u16::try_from(number(value()?)?).map_err(|_| "--port: not a port")?;
            }
            "--function" => {
                let v = value()?;
                let (name, path) = v
                    .split_once('=')
                    .ok_or(format!("--function takes NAME=BOOTSTRAP, not `{v}`"))?;
                functions.push(FunctionConfig::new(name, path));
            }
            "--timeout" => {
                let s = number(value()?)?;
                let f = last(&mut functions)?.timeout(Duration::from_secs(s));
                functions.push(f);
            }
            "--memory" => {
                let mb = u32::try_from(number(value()?)?).map_err(|_| "--memory: too large")?;
                let f = last(&mut functions)?.memory_mb(mb);
                functions.push(f);
            }
            "--concurrency" => {
                let n = number(value()?)? as usize;
                let f = last(&mut functions)?.concurrency(n);
                functions.push(f);
            }
            "--per-instance-concurrency" => {
                let n = u32::try_from(number(value()?)?)
                    .ok()
                    .filter(|n| (1..=1600).contains(n))
                    .ok_or("--per-instance-concurrency: from 1 to 1600")?;
                let f = last(&mut functions)?.per_instance_concurrency(n);
                functions.push(f);
            }
            "--env" => {
                let v = value()?;
                let (k, val) = v
                    .split_once('=')
                    .ok_or(format!("--env takes KEY=VALUE, not `{v}`"))?;
                let f = last(&mut functions)?.env(k, val);
                functions.push(f);
            }
            "--role" => {
                let v = value()?;
                let (arn, ext) = match v.split_once('=') {
                    Some((a, e)) => (a.to_owned(), Some(e.to_owned())),
                    None => (v, None),
                };
                roles.push(RoleConfig {
                    arn,
                    external_id: ext,
                });
            }
            "-h" | "--help" => return Err(USAGE.to_owned()),
            other => return Err(format!("unknown argument {other}\n{USAGE}")),
        }
    }
    if functions.is_empty() {
        return Err(format!("no --function given\n{USAGE}"));
    }
    Ok((port, functions, roles))
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
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("lw-local: cannot start tokio: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        let aws = match LocalLambda::bind(&format!("127.0.0.1:{port}")).await {
            Ok(a) => a,
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::FAILURE;
            }
        };
        for r in roles {
            eprintln!(
                "lw-local: role {} ({})",
                r.arn,
                if r.external_id.is_some() {
                    "ExternalId required"
                } else {
                    "no ExternalId: Temporal will reject it"
                }
            );
            aws.add_role(r);
        }
        for f in functions {
            eprintln!("lw-local: function {}", aws.add_function(f));
        }
        eprintln!(
            "lw-local: serving STS and Lambda at {} (AWS_ENDPOINT_URL); Ctrl-C to stop",
            aws.endpoint()
        );
        let _ = tokio::signal::ctrl_c().await;
        println!("{}", aws.report());
        aws.stop().await;
        ExitCode::SUCCESS
    })
}

#[cfg(test)]
mod tests {
    use super::parse;

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
        assert!(
            parse(&args("--function ab"))
                .unwrap_err()
                .contains("NAME=BOOTSTRAP")
        );
    }
}
