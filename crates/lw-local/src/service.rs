//! [`LocalLambda`]: the running service (one loopback port serving STS and Lambda) and what
//! a program embedding it can do besides the HTTP API: register functions and roles
//! directly, call the control-plane operations, and read what happened.

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
};

use crate::{
    Accounting, AssumeRoleCall, Code, Credentials, FunctionConfig, FunctionInfo, LocalError,
    RoleConfig, auth::Keyring, functions, server,
};

/// The running local service.
pub struct LocalLambda {
    addr: SocketAddr,
    state: server::AppState,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for LocalLambda {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl LocalLambda {
    /// Serves on a free loopback port.
    pub async fn start() -> Result<Self, LocalError> {
        Self::bind("127.0.0.1:0").await
    }

    /// Serves on `addr` (e.g. `127.0.0.1:9001`), a loopback address only (anything else is
    /// refused: lw-local runs code for whoever can sign a request, and serves this machine
    /// alone); a taken port is an error saying so. The run's credentials are made here
    /// ([`LocalLambda::credentials`]).
    pub async fn bind(addr: &str) -> Result<Self, LocalError> {
        let resolved: Vec<SocketAddr> = tokio::net::lookup_host(addr)
            .await
            .map_err(|e| {
                LocalError::InvalidParameter(format!(
                    "give lw-local a loopback address such as 127.0.0.1:0, not `{addr}`: {e}"
                ))
            })?
            .collect();
        if resolved.is_empty() || resolved.iter().any(|a| !a.ip().is_loopback()) {
            return Err(LocalError::InvalidParameter(format!(
                "give lw-local a loopback address such as 127.0.0.1:0, not `{addr}`: it serves \
                 this machine only"
            )));
        }
        let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| {
            LocalError::Io(std::io::Error::new(
                e.kind(),
                format!("cannot listen on {addr}: {e} (is the port taken? pick another)"),
            ))
        })?;
        let addr = listener.local_addr()?;
        let credentials = Credentials::generate()?;
        let state = server::AppState {
            registry: functions::Registry::new(credentials.clone())?,
            roles: Arc::new(Mutex::new(Vec::new())),
            sts_calls: Arc::new(Mutex::new(Vec::new())),
            unknown: Arc::new(Mutex::new(Vec::new())),
            keys: Arc::new(Keyring::new(credentials)),
            host: addr.to_string().into(),
        };
        let app = server::router(state.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self { addr, state, task })
    }

    /// `http://127.0.0.1:<port>`: the value for `AWS_ENDPOINT_URL`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// This run's credentials: every request must be signed with them (or with session
    /// credentials this service's `AssumeRole` handed out).
    pub fn credentials(&self) -> &Credentials {
        &self.state.keys.run
    }

    /// The environment a program (a Temporal server, `cargo lambdaworker deploy`) needs to
    /// use this service as AWS through an AWS SDK: the endpoint, this run's credentials
    /// ([`LocalLambda::credentials`]) and the region. They replace the developer's own AWS
    /// credentials in that process; remove [`CREDENTIAL_SOURCES`](crate::CREDENTIAL_SOURCES)
    /// from its environment too (as [`crate::DevServer::start_with`] does), or an SDK may
    /// sign with a profile or session token instead.
    pub fn server_env(&self) -> Vec<(String, String)> {
        let mut env = vec![("AWS_ENDPOINT_URL".to_owned(), self.endpoint())];
        env.extend(self.credentials().env());
        env.push(("AWS_REGION".to_owned(), "us-east-1".to_owned()));
        env
    }

    /// Registers (or replaces) a function that runs `config.bootstrap` in place, and
    /// returns its ARN.
    pub fn add_function(&self, config: FunctionConfig) -> String {
        let arn = config.arn();
        self.state.registry.insert(config);
        arn
    }

    /// `CreateFunction`: registers `config.name` with its own copy of `code` (the
    /// configuration's `bootstrap` and `task_root` are replaced by the stored code's).
    pub fn create_function(
        &self,
        config: FunctionConfig,
        code: Code,
    ) -> Result<FunctionInfo, LocalError> {
        self.state.registry.create(config, code)
    }

    /// `UpdateFunctionCode`: new code for `$LATEST` (a name or ARN); published versions keep
    /// theirs.
    pub fn update_function_code(
        &self,
        function: &str,
        code: Code,
    ) -> Result<FunctionInfo, LocalError> {
        self.state.registry.update_code(function, code, None)
    }

    /// `UpdateFunctionConfiguration` of the environment alone: `$LATEST`'s variables become
    /// `env`.
    pub fn update_function_environment(
        &self,
        function: &str,
        env: Vec<(String, String)>,
    ) -> Result<FunctionInfo, LocalError> {
        self.state
            .registry
            .update_configuration(function, None, |c| c.env = env)
    }

    /// `PublishVersion`: freezes `$LATEST` as the next version (or returns the last one when
    /// nothing changed since it was published). The returned ARN is qualified.
    pub fn publish_version(
        &self,
        function: &str,
        description: &str,
    ) -> Result<FunctionInfo, LocalError> {
        self.state
            .registry
            .publish(function, Some(description), None, None)
    }

    /// `GetFunctionConfiguration` of a function or version (`name`, `name:3`, or an ARN).
    pub fn function_info(&self, function: &str) -> Result<FunctionInfo, LocalError> {
        self.state.registry.info(function, None)
    }

    /// `ListVersionsByFunction`: `$LATEST`, then every published version.
    pub fn versions(&self, function: &str) -> Result<Vec<FunctionInfo>, LocalError> {
        self.state.registry.versions(function)
    }

    /// Registers a role Temporal may assume.
    pub fn add_role(&self, role: RoleConfig) {
        server::lock(&self.state.roles).push(role);
    }

    /// The accounting of a function (a name or ARN; `name:3` or a qualified ARN for a
    /// published version).
    pub fn accounting(&self, function: &str) -> Option<Accounting> {
        self.state.registry.find(function).map(|f| f.accounting())
    }

    /// The output (stdout and stderr) of each instance of `function` so far, in instance
    /// order.
    pub async fn instance_logs(&self, function: &str) -> Vec<String> {
        match self.state.registry.find(function) {
            Some(f) => f.logs().await,
            None => Vec::new(),
        }
    }

    /// The process id of each instance of `function` (`None` while an instance has no live
    /// process), in instance order.
    pub async fn instance_pids(&self, function: &str) -> Vec<Option<u32>> {
        match self.state.registry.find(function) {
            Some(f) => f.pids().await,
            None => Vec::new(),
        }
    }

    /// The `AssumeRole` calls so far (the last [`MAX_REMEMBERED`](crate::MAX_REMEMBERED)).
    pub fn assume_role_calls(&self) -> Vec<AssumeRoleCall> {
        self.state
            .sts_calls
            .lock()
            .map(|c| c.clone())
            .unwrap_or_default()
    }

    /// Requests for APIs this service does not emulate (method and path), the last
    /// [`MAX_REMEMBERED`](crate::MAX_REMEMBERED).
    pub fn unknown_requests(&self) -> Vec<String> {
        self.state
            .unknown
            .lock()
            .map(|c| c.clone())
            .unwrap_or_default()
    }

    /// A table of every function's accounting, for printing: one row per function (and
    /// per published version, and per replaced `$LATEST` that ran something).
    pub fn report(&self) -> String {
        let rows = self.state.registry.all();
        crate::accounting::report(rows.iter().map(|(label, a)| (label.as_str(), a.clone())))
    }

    /// Kills every function instance.
    pub async fn stop(&self) {
        for f in self.state.registry.pools() {
            f.stop().await;
        }
    }
}
