//! The PROXY protocol v2 header a load balancer in TCP mode (HAProxy `send-proxy-v2`) puts
//! before a phone's TLS bytes, read on the phone listener from `server.proxy_protocol_from`
//! only: the address in it is the phone's, which bans, claims and the event log go by. Any
//! other source sending one gets a failed handshake, and a listed source that sends none is
//! refused, so a phone cannot claim another address and a balancer cannot be bypassed.
//! Parsed by the `ppp` crate.

use std::net::SocketAddr;
use std::time::Duration;

use ppp::v2::{Addresses, Command, Header, ParseError};
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

/// The signature, version and command, family and protocol, and length: what comes first.
const FIXED: usize = 16;
/// The longest address block and TLVs accepted: two UNIX paths (216 bytes) and room for the
/// TLVs balancers add. Longer headers are refused unread.
const MAX_REST: usize = 512;

/// Why a connection from a load balancer was refused.
#[derive(Debug)]
pub enum Refused {
    Timeout,
    Io(std::io::Error),
    NotProxyV2(String),
    TooLong(usize),
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refused::Timeout => write!(f, "no PROXY header in time"),
            Refused::Io(e) => write!(f, "reading the PROXY header: {e}"),
            Refused::NotProxyV2(why) => write!(f, "not a PROXY v2 header: {why}"),
            Refused::TooLong(n) => write!(f, "PROXY header of {n} bytes is too long"),
        }
    }
}

/// Whether connections from `peer` must carry a header.
pub fn expected_from(networks: &[ipnet::IpNet], peer: SocketAddr) -> bool {
    networks.iter().any(|n| n.contains(&peer.ip()))
}

/// Reads the header off `tcp` and answers the phone's address: the header's source for a
/// proxied connection, the balancer's own for its LOCAL ones (health checks).
pub async fn read_source(
    tcp: &mut TcpStream,
    peer: SocketAddr,
    within: Duration,
) -> Result<SocketAddr, Refused> {
    let header = tokio::time::timeout(within, read_header(tcp))
        .await
        .map_err(|_| Refused::Timeout)??;
    source_of(&header, peer)
}

async fn read_header(tcp: &mut TcpStream) -> Result<Vec<u8>, Refused> {
    let mut bytes = vec![0u8; FIXED];
    tcp.read_exact(&mut bytes).await.map_err(Refused::Io)?;
    // The fixed part alone parses, or lacks only the addresses it announces.
    if let Err(e) = Header::try_from(&bytes[..])
        && !matches!(e, ParseError::Partial(..) | ParseError::Incomplete(_))
    {
        return Err(Refused::NotProxyV2(e.to_string()));
    }
    let rest = usize::from(u16::from_be_bytes([bytes[14], bytes[15]]));
    if rest > MAX_REST {
        return Err(Refused::TooLong(FIXED + rest));
    }
    bytes.resize(FIXED + rest, 0);
    tcp.read_exact(&mut bytes[FIXED..])
        .await
        .map_err(Refused::Io)?;
    Ok(bytes)
}

fn source_of(bytes: &[u8], peer: SocketAddr) -> Result<SocketAddr, Refused> {
    let header = Header::try_from(bytes).map_err(|e| Refused::NotProxyV2(e.to_string()))?;
    Ok(match (header.command, header.addresses) {
        (Command::Local, _) => peer,
        (Command::Proxy, Addresses::IPv4(a)) => SocketAddr::from((a.source_address, a.source_port)),
        (Command::Proxy, Addresses::IPv6(a)) => SocketAddr::from((a.source_address, a.source_port)),
        (Command::Proxy, _) => {
            return Err(Refused::NotProxyV2("no IP source address".into()));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ppp::v2::{Builder, Protocol, Version};

    fn proxied(source: &str, destination: &str) -> Vec<u8> {
        let addresses: (SocketAddr, SocketAddr) =
            (source.parse().unwrap(), destination.parse().unwrap());
        Builder::with_addresses(Version::Two | Command::Proxy, Protocol::Stream, addresses)
            .build()
            .unwrap()
    }

    #[test]
    fn the_source_is_the_headers_for_proxied_connections_and_the_peers_for_local_ones() {
        let peer: SocketAddr = "10.0.0.5:40000".parse().unwrap();
        let v4 = proxied("192.0.2.7:5060", "10.0.0.9:8443");
        assert_eq!(
            source_of(&v4, peer).unwrap(),
            "192.0.2.7:5060".parse().unwrap()
        );
        let v6 = proxied("[2001:db8::7]:5060", "[2001:db8::9]:8443");
        assert_eq!(
            source_of(&v6, peer).unwrap(),
            "[2001:db8::7]:5060".parse().unwrap()
        );
        let local = Builder::with_addresses(
            Version::Two | Command::Local,
            Protocol::Unspecified,
            Addresses::Unspecified,
        )
        .build()
        .unwrap();
        assert_eq!(source_of(&local, peer).unwrap(), peer);
        assert!(source_of(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03abcde", peer).is_err());
    }

    #[test]
    fn only_listed_networks_must_send_a_header() {
        let networks: Vec<ipnet::IpNet> = vec!["10.0.0.0/24".parse().unwrap()];
        assert!(expected_from(&networks, "10.0.0.5:1".parse().unwrap()));
        assert!(!expected_from(&networks, "10.0.1.5:1".parse().unwrap()));
        assert!(!expected_from(&[], "10.0.0.5:1".parse().unwrap()));
    }
}
