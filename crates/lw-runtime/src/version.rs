//! The Worker Deployment Version (and task queue) the function's environment names, and the
//! init check that the code serves the same one.
//!
//! `cargo lambdaworker dev` and `deploy` (and a deployment of your own) register a version,
//! route its tasks to the function, and set [`DEPLOYMENT_NAME_VAR`] and [`BUILD_ID_VAR`] (and
//! [`TASK_QUEUE_VAR`]) in its environment. A worker polling any other version or queue would
//! get no task, and nothing would say why; [`version_from_env_or`] reads the variables, and
//! init fails when the code serves something else ([`Error::VersionMismatch`],
//! [`Error::TaskQueueMismatch`]).

use std::collections::HashMap;

use lw_options::{Options, WorkerDeploymentVersion};

use crate::Error;

/// The Worker Deployment name the function serves, set by `cargo lambdaworker dev` and
/// `deploy`; read by [`version_from_env_or`] and checked at init.
pub const DEPLOYMENT_NAME_VAR: &str = "LW_DEPLOYMENT_NAME";
/// The build id the function serves, set by `cargo lambdaworker dev` and `deploy`; read by
/// [`version_from_env_or`] and checked at init.
pub const BUILD_ID_VAR: &str = "LW_BUILD_ID";
/// The task queue the function polls: `run_worker` pre-fills `opts.task_queue` from it and
/// checks at init that the configure callback kept it.
pub const TASK_QUEUE_VAR: &str = "TEMPORAL_TASK_QUEUE";

/// The Worker Deployment Version from [`DEPLOYMENT_NAME_VAR`] (`LW_DEPLOYMENT_NAME`) and
/// [`BUILD_ID_VAR`] (`LW_BUILD_ID`), each falling back to the value given when the variable is
/// unset, empty or not UTF-8.
///
/// Build the version passed to [`crate::run_worker`] with it: under `cargo lambdaworker dev`
/// and `deploy` the function then serves the version they registered (and route tasks to),
/// and elsewhere (`cargo run`, tests) the fallback. A worker given another version than the
/// variables name fails init ([`Error::VersionMismatch`]).
///
/// ```
/// let version = lw_runtime::version_from_env_or("my-app", "build-1");
/// # if std::env::var_os("LW_DEPLOYMENT_NAME").is_none() {
/// assert_eq!(version.deployment_name, "my-app");
/// # }
/// ```
pub fn version_from_env_or(
    deployment_name: impl Into<String>,
    build_id: impl Into<String>,
) -> WorkerDeploymentVersion {
    version_in(&lw_config::env_snapshot(), deployment_name, build_id)
}

/// [`version_from_env_or`] over an environment snapshot.
pub(crate) fn version_in(
    env: &HashMap<String, String>,
    deployment_name: impl Into<String>,
    build_id: impl Into<String>,
) -> WorkerDeploymentVersion {
    let deployment_name =
        set(env, DEPLOYMENT_NAME_VAR).map_or_else(|| deployment_name.into(), str::to_owned);
    let build_id = set(env, BUILD_ID_VAR).map_or_else(|| build_id.into(), str::to_owned);
    WorkerDeploymentVersion::builder()
        .deployment_name(deployment_name)
        .build_id(build_id)
        .build()
}

/// `name`'s value when it is set and not empty.
fn set<'a>(env: &'a HashMap<String, String>, name: &str) -> Option<&'a str> {
    env.get(name).map(String::as_str).filter(|v| !v.is_empty())
}

/// Fails when the environment names a version or task queue other than the options': an
/// error, not a warning, because such a worker polls what nobody routes to and does nothing
/// at all, silently; an init error is shown by Lambda (and the Worker Controller) and logged,
/// so the first invocation says what to fix.
pub(crate) fn check_environment(
    options: &Options,
    env: &HashMap<String, String>,
) -> Result<(), Error> {
    let version = &options.deployment_version;
    let environment: Vec<(&'static str, String)> = [
        (DEPLOYMENT_NAME_VAR, &version.deployment_name),
        (BUILD_ID_VAR, &version.build_id),
    ]
    .into_iter()
    .filter_map(|(name, in_code)| {
        set(env, name)
            .filter(|value| value != in_code)
            .map(|value| (name, value.to_owned()))
    })
    .collect();
    if !environment.is_empty() {
        return Err(Error::VersionMismatch {
            environment,
            deployment_name: version.deployment_name.clone(),
            build_id: version.build_id.clone(),
        });
    }
    if let Some(value) = set(env, TASK_QUEUE_VAR)
        && value != options.task_queue
    {
        return Err(Error::TaskQueueMismatch {
            value: value.to_owned(),
            task_queue: options.task_queue.clone(),
        });
    }
    Ok(())
}

/// The `temporal` command that makes `options`' version its deployment's current version,
/// with `--address` and `--namespace` when they are not the defaults (and `--tls` when TLS is
/// on): what a worker outside Lambda prints at start.
pub(crate) fn set_current_command(options: &Options) -> String {
    let version = &options.deployment_version;
    let mut command = format!(
        "temporal worker deployment set-current-version --deployment-name {} --build-id {} \
         --allow-no-pollers --yes",
        shell_word(&version.deployment_name),
        shell_word(&version.build_id)
    );
    let target = &options.connection_options.target;
    if let Some(host) = target.host_str() {
        let address = match target.port_or_known_default() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_owned(),
        };
        if address != lw_config::DEFAULT_ADDRESS {
            command.push_str(&format!(" --address {}", shell_word(&address)));
        }
    }
    let namespace = &options.client_options.namespace;
    if namespace != lw_config::DEFAULT_NAMESPACE {
        command.push_str(&format!(" --namespace {}", shell_word(namespace)));
    }
    if target.scheme() == "https" {
        command.push_str(" --tls");
    }
    command
}

/// `word` as one shell word: as is when it holds only safe characters, else single-quoted.
fn shell_word(word: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "-_.:/@+=,".contains(c);
    if !word.is_empty() && word.chars().all(safe) {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn options(deployment: &str, build: &str, task_queue: &str) -> Options {
        let version = WorkerDeploymentVersion::builder()
            .deployment_name(deployment)
            .build_id(build)
            .build();
        let config = lw_config::ClientConfig::load_from(&HashMap::new()).expect("defaults");
        let mut o = Options::from_config(version, &config, None).expect("options");
        o.task_queue = task_queue.into();
        o
    }

    #[test]
    fn the_version_comes_from_the_environment_else_the_fallback() {
        let v = version_in(&env(&[]), "my-app", "build-1");
        assert_eq!(
            (v.deployment_name.as_str(), v.build_id.as_str()),
            ("my-app", "build-1")
        );
        let v = version_in(
            &env(&[(DEPLOYMENT_NAME_VAR, "dep"), (BUILD_ID_VAR, "b7")]),
            "my-app",
            "build-1",
        );
        assert_eq!(
            (v.deployment_name.as_str(), v.build_id.as_str()),
            ("dep", "b7")
        );
        // Empty counts as unset, each variable on its own.
        let v = version_in(
            &env(&[(DEPLOYMENT_NAME_VAR, ""), (BUILD_ID_VAR, "b7")]),
            "my-app",
            String::from("build-1"),
        );
        assert_eq!(
            (v.deployment_name.as_str(), v.build_id.as_str()),
            ("my-app", "b7")
        );
    }

    #[test]
    fn a_version_other_than_the_environments_fails_naming_both() {
        let o = options("my-app", "build-1", "q");
        let e = check_environment(
            &o,
            &env(&[(DEPLOYMENT_NAME_VAR, "dep-1"), (BUILD_ID_VAR, "b1")]),
        )
        .unwrap_err();
        assert_eq!(e.kind(), "VersionMismatch");
        let m = e.message();
        assert!(
            m.starts_with(r#"use lambdaworker::version_from_env_or("my-app", "build-1")"#),
            "{m}"
        );
        for part in [
            "LW_DEPLOYMENT_NAME is `dep-1`",
            "LW_BUILD_ID is `b1`",
            "`my-app`",
            "`build-1`",
        ] {
            assert!(m.contains(part), "{part}: {m}");
        }

        // Only the variable that differs is named.
        let e = check_environment(
            &o,
            &env(&[(BUILD_ID_VAR, "b2"), (DEPLOYMENT_NAME_VAR, "my-app")]),
        )
        .unwrap_err();
        let m = e.message();
        assert!(
            m.contains("LW_BUILD_ID is `b2`") && !m.contains("LW_DEPLOYMENT_NAME"),
            "{m}"
        );
    }

    #[test]
    fn the_same_or_no_version_in_the_environment_passes() {
        let o = options("my-app", "build-1", "q");
        check_environment(&o, &env(&[])).unwrap();
        check_environment(&o, &env(&[(DEPLOYMENT_NAME_VAR, ""), (BUILD_ID_VAR, "")])).unwrap();
        check_environment(
            &o,
            &env(&[
                (DEPLOYMENT_NAME_VAR, "my-app"),
                (BUILD_ID_VAR, "build-1"),
                (TASK_QUEUE_VAR, "q"),
            ]),
        )
        .unwrap();
    }

    #[test]
    fn a_task_queue_other_than_the_environments_fails_naming_both() {
        let o = options("my-app", "build-1", "my-task-queue");
        let e = check_environment(&o, &env(&[(TASK_QUEUE_VAR, "tq-1")])).unwrap_err();
        assert_eq!(e.kind(), "TaskQueueMismatch");
        let m = e.message();
        assert!(
            m.starts_with("set opts.task_queue only when it is empty"),
            "{m}"
        );
        assert!(
            m.contains("TEMPORAL_TASK_QUEUE is `tq-1`") && m.contains("`my-task-queue`"),
            "{m}"
        );
        check_environment(&o, &env(&[(TASK_QUEUE_VAR, "")])).unwrap();
    }

    #[test]
    fn the_set_current_command_names_only_what_is_not_the_default() {
        let o = options("my-app", "build-1", "q");
        assert_eq!(
            set_current_command(&o),
            "temporal worker deployment set-current-version --deployment-name my-app \
             --build-id build-1 --allow-no-pollers --yes"
        );
        let version = WorkerDeploymentVersion::builder()
            .deployment_name("it's")
            .build_id("b 1")
            .build();
        let config = lw_config::ClientConfig::load_from(&env(&[
            ("TEMPORAL_ADDRESS", "temporal.internal:7234"),
            ("TEMPORAL_NAMESPACE", "orders"),
        ]))
        .expect("config");
        let o = Options::from_config(version, &config, None).expect("options");
        assert_eq!(
            set_current_command(&o),
            r#"temporal worker deployment set-current-version --deployment-name 'it'\''s' --build-id 'b 1' --allow-no-pollers --yes --address temporal.internal:7234 --namespace orders"#
        );
    }
}
