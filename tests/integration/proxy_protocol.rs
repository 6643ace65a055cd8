//! PROXY protocol v2 on the phone listener behind a load balancer: a connection from a listed
//! balancer address starts with the header and the phone is known by the header's source; the
//! balancer's own health checks (LOCAL) are answered; a listed address without a header, and any
//! other address with one, get no TLS session at all.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use ppp::v2::{Addresses, Builder, Command, Protocol, Version};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpSocket;

use crate::api::NewDevice;
use crate::helpers::*;

const MAC: &str = "001565aabbd1";
const BALANCER: [u8; 4] = [127, 0, 0, 2];

fn proxied(source: &str, server: SocketAddr) -> Vec<u8> {
    let addresses: (SocketAddr, SocketAddr) = (source.parse().unwrap(), server);
    Builder::with_addresses(Version::Two | Command::Proxy, Protocol::Stream, addresses)
        .build()
        .unwrap()
}

fn local() -> Vec<u8> {
    let header = Builder::with_addresses(
        Version::Two | Command::Local,
        Protocol::Unspecified,
        Addresses::Unspecified,
    );
    header.build().unwrap()
}

/// Connects from `from`, sends `header` (if any) and then `request` over TLS; the answer, or
/// `None` when no TLS session came about.
async fn exchange(
    server: &TestServer,
    from: IpAddr,
    header: Option<Vec<u8>>,
    request: &str,
) -> Option<String> {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(SocketAddr::new(from, 0)).unwrap();
    let mut tcp = socket.connect(server.running().phone_addr).await.unwrap();
    if let Some(header) = header {
        tcp.write_all(&header).await.unwrap();
    }
    let config = deskprov::tls::client_config(std::slice::from_ref(&server.ca)).unwrap();
    let connector = tokio_rustls::TlsConnector::from(config);
    let handshake = connector.connect("localhost".try_into().unwrap(), tcp);
    let mut tls = tokio::time::timeout(Duration::from_secs(10), handshake)
        .await
        .expect("the server answers or closes")
        .ok()?;
    tls.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), tls.read_to_end(&mut answer)).await;
    Some(String::from_utf8_lossy(&answer).into_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_a_balancer_the_phone_is_known_by_the_headers_address_and_nobody_else_names_one() {
    let server = TestServer::start_with(|c| {
        c.server.proxy_protocol_from = vec!["127.0.0.2/32".parse().unwrap()];
    })
    .await;
    let api = server.admin_api();
    api.create_device(NewDevice::new(MAC).model("T46S"))
        .ok()
        .await;
    let (user, password) = server.credentials(MAC).await;
    let request = format!(
        "GET /{MAC}.cfg HTTP/1.1\r\nHost: localhost\r\nUser-Agent: Yealink SIP-T46S 66.86.0.15 00:15:65:aa:bb:d1\r\nAuthorization: {}\r\nConnection: close\r\n\r\n",
        basic(&user, &password)
    );
    let phone_addr = server.running().phone_addr;

    let answer = exchange(
        &server,
        BALANCER.into(),
        Some(proxied("192.0.2.7:5060", phone_addr)),
        &request,
    )
    .await
    .expect("a TLS session through the balancer");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    wait_for_sightings(&server).await;
    let device = api.show_device(MAC).ok().await;
    assert_eq!(device["last_address"], "192.0.2.7", "{device}");

    let health = "GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    let checked = exchange(&server, BALANCER.into(), Some(local()), health)
        .await
        .expect("the balancer's health check");
    assert!(checked.starts_with("HTTP/1.1 200"), "{checked}");

    assert!(
        exchange(&server, BALANCER.into(), None, &request)
            .await
            .is_none(),
        "a listed balancer without a header was served"
    );
    let forged = proxied("198.51.100.9:5060", phone_addr);
    assert!(
        exchange(&server, [127, 0, 0, 1].into(), Some(forged), &request)
            .await
            .is_none(),
        "an address not listed named another"
    );
    let direct = exchange(&server, [127, 0, 0, 1].into(), None, &request)
        .await
        .expect("a phone that reaches the listener directly");
    assert!(direct.starts_with("HTTP/1.1 200"), "{direct}");
    wait_for_sightings(&server).await;
    assert_eq!(api.show_device(MAC).ok().await["last_address"], "127.0.0.1");
}
