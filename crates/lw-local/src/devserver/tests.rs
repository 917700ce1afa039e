//! Where a dev server's output goes.

use std::{os::unix::fs::PermissionsExt, path::PathBuf};

use super::{DevServer, log_dir};

#[test]
fn the_log_is_private_and_a_link_at_the_old_path_is_not_followed() {
    let port = crate::process::free_port().unwrap();
    // What a local attacker could plant at the path the log used to have.
    let victim_dir = tempfile::tempdir().unwrap();
    let victim = victim_dir.path().join("precious");
    std::fs::write(&victim, "precious").unwrap();
    let planted = std::env::temp_dir().join(format!("lw-local-devserver-{port}.log"));
    let _ = std::fs::remove_file(&planted);
    std::os::unix::fs::symlink(&victim, &planted).unwrap();
    let server = DevServer {
        address: format!("127.0.0.1:{port}"),
        namespace: "default".into(),
        ui: None,
        cli: PathBuf::from("/bin/true"),
        pid: 0.into(),
        attached: false,
        args: Vec::new(),
        env: Vec::new(),
        logs: log_dir().unwrap(),
    };
    let pid = server.run().unwrap();
    assert!(pid > 0);
    let _ = std::fs::remove_file(&planted);
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
    let log = server.log_path();
    assert!(log.is_file(), "{}", log.display());
    assert_ne!(log, planted);
    let dir = std::fs::metadata(log.parent().unwrap()).unwrap();
    assert_eq!(dir.permissions().mode() & 0o777, 0o700);
}
