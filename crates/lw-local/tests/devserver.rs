//! The dev server fixture against a real `temporal` CLI: a restart brings back the server's
//! state even when its port is held for a moment while it is down.

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
/// bind `addr` while it lives.
async fn hold(addr: std::net::SocketAddr) -> (tokio::net::TcpStream, tokio::net::TcpListener) {
    let peer = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind(addr).unwrap();
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
    let released = Instant::now() + Duration::from_millis(1500);
    let releaser = tokio::spawn(async move {
        tokio::time::sleep_until(released.into()).await;
        drop(held);
    });
    let restart = tokio::task::spawn_blocking(move || server.restart());
    let result = restart.await.unwrap();
    releaser.await.unwrap();
    result.unwrap();
    assert!(
        Instant::now() >= released,
        "the restart cannot have bound the port before it was released"
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
