//! Connection limits: header timeout really armed, handshake timeout, graceful stop.

use std::time::{Duration, Instant};

use http::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::*;

async fn tls_connect(server: &TestServer) -> tokio_rustls::client::TlsStream<TcpStream> {
    let config = deskprov::tls::client_config(std::slice::from_ref(&server.ca)).unwrap();
    let connector = tokio_rustls::TlsConnector::from(config);
    let tcp = TcpStream::connect(server.running().phone_addr)
        .await
        .unwrap();
    connector
        .connect("localhost".try_into().unwrap(), tcp)
        .await
        .unwrap()
}

/// Reads until the server closes; how long that took.
async fn time_until_closed<S: tokio::io::AsyncRead + Unpin>(
    stream: &mut S,
    limit: Duration,
) -> Duration {
    let start = Instant::now();
    let mut buf = [0u8; 1024];
    loop {
        match tokio::time::timeout(limit, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return start.elapsed(),
            Ok(Ok(_)) => continue,
            Err(_) => panic!("connection still open after {limit:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_and_trickling_clients_are_cut_while_phones_are_served() {
    let server = TestServer::start_with(|c| {
        c.limits.header_read_timeout_secs = 1;
        c.limits.tls_handshake_timeout_secs = 1;
    })
    .await;
    // TLS done, then silence.
    let mut silent = tls_connect(&server).await;
    // Headers trickled byte by byte, never finished.
    let mut trickle = tls_connect(&server).await;
    trickle
        .write_all(b"GET /y000000000066.cfg HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let trickler = tokio::spawn(async move {
        for _ in 0..20 {
            if trickle.write_all(b"X").await.is_err() {
                return true;
            }
            let _ = trickle.flush().await;
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        false
    });
    // Raw TCP, no ClientHello.
    let mut raw = TcpStream::connect(server.running().phone_addr)
        .await
        .unwrap();

    let phone = server.phone_get("/y000000000066.cfg", T46S_UA).await;
    assert_eq!(phone.status, StatusCode::OK);

    assert!(time_until_closed(&mut silent, Duration::from_secs(5)).await < Duration::from_secs(4));
    assert!(time_until_closed(&mut raw, Duration::from_secs(5)).await < Duration::from_secs(4));
    assert!(trickler.await.unwrap(), "trickling connection was not cut");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_request_heads_are_refused() {
    let server = TestServer::start().await;
    let huge = "a".repeat(64 * 1024);
    // hyper answers 431 and closes; the close can overtake the answer while the client is still
    // writing, so a reset connection is the other acceptable outcome. Never a served file.
    let result = server
        .phone
        .get("/y000000000066.cfg", &[("x-filler", &huge)])
        .await;
    crate::helpers::refused_by_http(result, StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
    assert_eq!(
        server.phone_get("/y000000000066.cfg", T46S_UA).await.status,
        StatusCode::OK
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_cap_refuses_beyond_the_limit() {
    let server = TestServer::start_with(|c| c.limits.max_phone_connections = 2).await;
    let _a = tls_connect(&server).await;
    let _b = tls_connect(&server).await;
    assert!(
        server.phone.get("/y000000000066.cfg", &[]).await.is_err(),
        "third connection should be refused"
    );
    drop(_a);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        server
            .phone
            .get("/y000000000066.cfg", &[])
            .await
            .unwrap()
            .status,
        StatusCode::OK
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_closes_idle_keep_alive_connections() {
    let mut server = TestServer::start().await;
    let mut idle = tls_connect(&server).await;
    idle.write_all(b"GET /y000000000066.cfg HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    let mut buf = vec![0u8; 4096];
    let n = idle.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    let started = Instant::now();
    server.stop().await;
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(time_until_closed(&mut idle, Duration::from_secs(2)).await < Duration::from_secs(2));
}
