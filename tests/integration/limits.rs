//! Connection limits: header timeout really armed, handshake timeout, graceful stop.

use std::net::SocketAddr;
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

/// A keep-alive connection that had one request answered, so the server is done with its
/// handshake (a client may finish its side of TLS 1.3 before the server does).
async fn answered_connection(server: &TestServer) -> tokio_rustls::client::TlsStream<TcpStream> {
    let mut tls = tls_connect(server).await;
    tls.write_all(b"GET /y000000000066.cfg HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    let mut buf = vec![0u8; 4096];
    let n = tls.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    tls
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
    let _a = answered_connection(&server).await;
    let _b = answered_connection(&server).await;
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

// ---- connection floods (findings #3 and #7) ----

/// How long a flood lasts; every flooding loop stops by then.
const FLOOD_TIME: Duration = Duration::from_secs(8);

fn loopback(last: u8) -> std::net::IpAddr {
    std::net::IpAddr::from([127, 0, 0, last])
}

async fn raw_connect(server: SocketAddr, source: std::net::IpAddr) -> std::io::Result<TcpStream> {
    let socket = tokio::net::TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(source, 0))?;
    socket.connect(server).await
}

/// The report's `capdos.py`: `slots` raw TCP connections from `source` that never send a
/// byte, each re-opened (at most once a second, at most 10 times) when the server closes it.
/// Dropping the set ends the flood.
fn flood(server: SocketAddr, source: std::net::IpAddr, slots: usize) -> tokio::task::JoinSet<()> {
    let until = Instant::now() + FLOOD_TIME;
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..slots {
        set.spawn(async move {
            for _ in 0..10 {
                let opened = Instant::now();
                if opened >= until {
                    return;
                }
                if let Ok(mut tcp) = raw_connect(server, source).await {
                    let mut buf = [0u8; 64];
                    let left = until.saturating_duration_since(Instant::now());
                    let _ = tokio::time::timeout(left, tcp.read(&mut buf)).await;
                }
                tokio::time::sleep_until((opened + Duration::from_secs(1)).into()).await;
            }
        });
    }
    set
}

/// Whether the server closed `tcp` within `limit` (a refused connection is closed at once).
async fn closed_within(tcp: &mut TcpStream, limit: Duration) -> bool {
    let mut buf = [0u8; 64];
    matches!(
        tokio::time::timeout(limit, tcp.read(&mut buf)).await,
        Ok(Ok(0)) | Ok(Err(_))
    )
}

fn small_phone_caps(c: &mut deskprov::config::Config) {
    // The default ratio of the report's attack: four sources flooding up to the global cap.
    c.limits.max_phone_connections = 64;
    c.limits.max_phone_connections_per_source = 16;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_flooding_sources_do_not_shut_phones_out() {
    let _one_at_a_time = FLOODS.lock().await;
    allow_many_files();
    let server = TestServer::start_with(small_phone_caps).await;
    let address = server.running().phone_addr;
    // Four sources, each trying to hold the whole cap with idle connections.
    let _floods: Vec<_> = (0x60..0x64)
        .map(|n| flood(address, loopback(n), 64))
        .collect();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let phone = server.phone.clone().from_source(loopback(30));
    for _ in 0..3 {
        let reply = tokio::time::timeout(
            Duration::from_secs(5),
            phone.get("/y000000000066.cfg", &[("user-agent", T46S_UA)]),
        )
        .await
        .expect("the phone's request timed out during the flood")
        .expect("the phone's request failed during the flood");
        assert_eq!(reply.status, StatusCode::OK);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_from_one_address_stops_at_its_share() {
    let _one_at_a_time = FLOODS.lock().await;
    let server = TestServer::start_with(|c| {
        small_phone_caps(c);
        c.security.allow_networks = vec!["127.0.0.77/32".parse().unwrap()];
        c.limits.max_allowed_network_connections_per_source = 24;
    })
    .await;
    let address = server.running().phone_addr;
    let mut held = Vec::new();
    for _ in 0..16 {
        held.push(raw_connect(address, loopback(66)).await.unwrap());
    }
    // The handshake timeout is 10 s, so only a refusal closes the 17th this soon.
    let mut one_more = raw_connect(address, loopback(66)).await.unwrap();
    assert!(
        closed_within(&mut one_more, Duration::from_secs(2)).await,
        "the 17th idle connection from one address was kept"
    );
    for tcp in &mut held {
        assert!(!closed_within(tcp, Duration::from_millis(10)).await);
    }
    let other = server.phone.clone().from_source(loopback(67));
    let reply = other
        .get("/y000000000066.cfg", &[("user-agent", T46S_UA)])
        .await
        .expect("another source connects");
    assert_eq!(reply.status, StatusCode::OK);
    // An allowed network (an office NAT) has a share of its own.
    let mut office = Vec::new();
    for _ in 0..20 {
        office.push(raw_connect(address, loopback(77)).await.unwrap());
    }
    assert!(!closed_within(office.last_mut().unwrap(), Duration::from_millis(500)).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_flood_does_not_lock_the_admin_out() {
    let _one_at_a_time = FLOODS.lock().await;
    // Default admin limits: the report's 64 idle connections fill the whole cap of 64.
    let server = TestServer::start().await;
    // Both sources are loopback (all of 127/8 is), so the loopback reserve does not tell them
    // apart: what lets the CLI's call from 127.0.0.1 in is the per-source cap on 127.0.0.62
    // (and shedding of connections stuck before their handshake). The reserve is for an
    // exposed admin listener flooded from other machines; the admission unit tests cover it.
    let _flood = flood(server.running().admin_addr, loopback(62), 64);
    tokio::time::sleep(Duration::from_secs(1)).await;
    for _ in 0..3 {
        let reply = tokio::time::timeout(
            Duration::from_secs(5),
            server.admin_api().settings().try_send(),
        )
        .await
        .expect("the admin call timed out during the flood")
        .expect("the admin call failed during the flood");
        assert_eq!(reply.status, StatusCode::OK);
    }
}
