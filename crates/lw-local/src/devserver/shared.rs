//! [`DevServer::shared`] (feature `testing`): one dev server for a whole test process.

use std::sync::OnceLock;

use super::DevServer;
use crate::LocalError;

static SHARED: OnceLock<Result<DevServer, String>> = OnceLock::new();

impl DevServer {
    /// The one server of this test process, started on free ports on first use (a failed
    /// start is remembered and returned to every caller). It is killed when the process
    /// exits.
    ///
    /// Only with the `testing` feature: test binaries share it so that each test does not
    /// pay for a server start.
    pub fn shared() -> Result<&'static DevServer, LocalError> {
        SHARED
            .get_or_init(|| Self::start(&[]).map_err(|e| e.to_string()))
            .as_ref()
            .map_err(|e| LocalError::Command(e.clone()))
    }
}
