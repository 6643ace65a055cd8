//! How the listeners read a request's framing: a doubled `Host` is refused, and old phones
//! that speak HTTP/1.0 (no `Host`, ALPN offering only `http/1.0`) are served.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::*;

/// Sends `request` raw over TLS, offering `alpn`, and reads the answer until the server closes.
async fn exchange(
    addr: std::net::SocketAddr,
    server: &TestServer,
    alpn: &[&[u8]],
    request: &str,
) -> String {
    let config = deskprov::tls::client_config(std::slice::from_ref(&server.ca)).unwrap();
    let mut config = (*config).clone();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    let connector = tokio_rustls::TlsConnector::from(std::sync::Arc::new(config));
    let tcp = TcpStream::connect(addr).await.unwrap();
    let mut tls = connector
        .connect("localhost".try_into().unwrap(), tcp)
        .await
        .expect("TLS handshake");
    tls.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), tls.read_to_end(&mut answer)).await;
    // A server that answers and then closes without close_notify is fine: the answer is read.
    let _ = read.expect("the server closes the connection");
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_host_headers_are_refused_on_both_listeners() {
    let server = TestServer::start().await;
    let doubled = "GET /y000000000066.cfg HTTP/1.1\r\nHost: localhost\r\nHost: evil.example\r\nConnection: close\r\n\r\n";
    let phone = exchange(
        server.running().phone_addr,
        &server,
        &[b"http/1.1"],
        doubled,
    )
    .await;
    assert!(phone.starts_with("HTTP/1.1 400"), "{phone}");
    assert!(!phone.contains("evil.example"), "{phone}");
    let admin_request = format!(
        "GET /api/v1/devices HTTP/1.1\r\nHost: localhost\r\nHost: evil.example\r\nAuthorization: Bearer {}\r\nConnection: close\r\n\r\n",
        server.token
    );
    let admin = exchange(
        server.running().admin_addr,
        &server,
        &[b"http/1.1"],
        &admin_request,
    )
    .await;
    assert!(admin.starts_with("HTTP/1.1 400"), "{admin}");

    let single = "GET /y000000000066.cfg HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    let served = exchange(server.running().phone_addr, &server, &[b"http/1.1"], single).await;
    assert!(served.starts_with("HTTP/1.1 200"), "{served}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_offering_only_http_1_0_completes_its_handshake() {
    let server = TestServer::start().await;
    let request = format!(
        "GET /y000000000066.cfg HTTP/1.0\r\nHost: localhost\r\nUser-Agent: {T46S_UA}\r\n\r\n"
    );
    let answer = exchange(
        server.running().phone_addr,
        &server,
        &[b"http/1.0"],
        &request,
    )
    .await;
    assert!(answer.starts_with("HTTP/1.0 200"), "{answer}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_http_1_0_phone_without_host_is_served_with_the_listeners_address() {
    let server = TestServer::start().await;
    let addr = server.running().phone_addr;
    // The Cisco bootstrap names the phone's next file by the server's URL.
    let old = "GET /8851-3PCC.xml HTTP/1.0\r\nUser-Agent: Cisco-CP-8851-3PCC/11.3.7\r\n\r\n";
    let answer = exchange(addr, &server, &[], old).await;
    assert!(answer.starts_with("HTTP/1.0 200"), "{answer}");
    assert!(answer.contains(&format!("https://{addr}/")), "{answer}");

    // HTTP/1.1 still needs its Host.
    let no_host = "GET /y000000000066.cfg HTTP/1.1\r\nConnection: close\r\n\r\n";
    let answer = exchange(addr, &server, &[], no_host).await;
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
}
