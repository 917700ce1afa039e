//! The dev server against a real `temporal` CLI: a restart brings back the server's state
//! even when its port is held for a moment while it is down; the Web UI only when asked for,
//! on loopback.

use std::time::{Duration, Instant};

use lw_local::{DevServer, unique};

/// Starts a workflow nobody will run, by the CLI; returns its id.
fn start_workflow(server: &DevServer) -> String {
    let id = unique("restart");
    server
        .cli(&[
            "workflow",
            "start",
            "--type",
            "Nobody",
            "--task-queue",
            &unique("q"),
            "--workflow-id",
            &id,
        ])
        .unwrap();
    id
}

/// A client connection whose local address is `addr` (what a client reconnecting to a
/// stopped server gets when the kernel hands it the server's own port): the server cannot
/// bind `addr` while it lives. The bind is retried while the stopped server's closed
/// connections linger on the port (TIME_WAIT, up to a minute); it sets no SO_REUSEADDR,
/// so the server could not listen beside it either.
async fn hold(addr: std::net::SocketAddr) -> (tokio::net::TcpStream, tokio::net::TcpListener) {
    let peer = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let until = Instant::now() + Duration::from_secs(65);
    let socket = loop {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        match socket.bind(addr) {
            Ok(()) => break socket,
            Err(_) if Instant::now() < until => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("cannot hold {addr}: {e}"),
        }
    };
    let stream = socket.connect(peer.local_addr().unwrap()).await.unwrap();
    (stream, peer)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_waits_out_a_port_held_for_a_moment_and_keeps_the_state() {
    let dir = tempfile::tempdir().unwrap();
    let server: &'static DevServer = Box::leak(Box::new(
        DevServer::start_persistent(&dir.path().join("temporal.db")).unwrap(),
    ));
    let id = start_workflow(server);
    let addr: std::net::SocketAddr = server.address.parse().unwrap();

    server.stop();
    assert_eq!(server.pid(), 0, "a stopped server has no process");
    let held = hold(addr).await;
    // Longer than a restart takes when its port is free (~1.5 s here).
    let released = Instant::now() + Duration::from_secs(4);
    let releaser = tokio::spawn(async move {
        tokio::time::sleep_until(released.into()).await;
        drop(held);
    });
    let result = tokio::task::spawn_blocking(move || server.restart())
        .await
        .unwrap();
    let answered = Instant::now();
    releaser.await.unwrap();
    result.unwrap();
    assert!(
        answered >= released,
        "the restart answered {:?} before the port was released",
        released - answered
    );
    assert_ne!(server.pid(), 0);

    let described = server
        .cli(&["workflow", "describe", "--workflow-id", &id, "-o", "json"])
        .unwrap();
    assert!(
        described.contains(&id) && described.contains("RUNNING"),
        "the workflow started before the restart is still there: {described}"
    );
    server.stop();
    server.stop(); // a second stop signals nobody
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_web_ui_is_served_on_loopback_only_when_asked_for() {
    let headless = tokio::task::spawn_blocking(|| DevServer::start_with(Vec::new(), Vec::new()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(headless.ui, None);
    headless.stop();
    let server = tokio::task::spawn_blocking(|| DevServer::start_with_ui(Vec::new(), Vec::new()))
        .await
        .unwrap()
        .unwrap();
    let ui = server.ui.clone().expect("the UI's address");
    assert!(ui.starts_with("http://127.0.0.1:"), "{ui}");
    let until = Instant::now() + Duration::from_secs(30);
    let page = loop {
        match reqwest::get(&ui).await {
            Ok(r) if r.status().is_success() => break r.text().await.unwrap(),
            other => {
                assert!(
                    Instant::now() < until,
                    "the UI at {ui} did not answer: {other:?}"
                );
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    };
    server.stop();
    assert!(page.to_lowercase().contains("<html"), "{page}");
}
