//! A small HTTPS client: what the CLI uses to talk to the admin API, and what the integration
//! tests use to talk to the server as a phone would. One connection per request.

use std::net::{IpAddr, SocketAddr};
use std::path::Path;

use bytes::Bytes;
use http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio::net::{TcpSocket, TcpStream};
use tokio_rustls::TlsConnector;

use crate::tls::{self, TlsError};

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("connecting to {address}: {source}")]
    Connect {
        address: SocketAddr,
        source: std::io::Error,
    },
    #[error("TLS with {address}: {source}")]
    Tls {
        address: SocketAddr,
        source: std::io::Error,
    },
    #[error("HTTP: {0}")]
    Http(#[from] hyper::Error),
    #[error("request: {0}")]
    Request(#[from] http::Error),
    #[error(transparent)]
    Trust(#[from] TlsError),
    #[error("server name {0:?} is not valid")]
    ServerName(String),
}

#[derive(Clone)]
pub struct Client {
    address: SocketAddr,
    server_name: ServerName<'static>,
    connector: TlsConnector,
    /// The local address to connect from (tests play phones on 127.0.0.x).
    source: Option<IpAddr>,
}

#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Reply {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Every `WWW-Authenticate` challenge, in order.
    pub fn challenges(&self) -> Vec<&str> {
        self.headers
            .get_all("www-authenticate")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect()
    }
}

impl Client {
    /// A client for `address` that trusts exactly the certificates in `trust`.
    pub fn new(
        address: SocketAddr,
        server_name: &str,
        trust: &[CertificateDer<'static>],
    ) -> Result<Client, ClientError> {
        let server_name = ServerName::try_from(server_name.to_string())
            .map_err(|_| ClientError::ServerName(server_name.into()))?;
        Ok(Client {
            address,
            server_name,
            connector: TlsConnector::from(tls::client_config(trust)?),
            source: None,
        })
    }

    /// A client that presents a client certificate, as phones with factory certificates do.
    pub fn with_identity(
        address: SocketAddr,
        server_name: &str,
        trust: &[CertificateDer<'static>],
        chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
    ) -> Result<Client, ClientError> {
        let mut client = Client::new(address, server_name, trust)?;
        client.connector = TlsConnector::from(tls::client_config_with_identity(trust, chain, key)?);
        Ok(client)
    }

    /// The same client, connecting from `source`.
    pub fn from_source(mut self, source: IpAddr) -> Client {
        self.source = Some(source);
        self
    }

    async fn connect_tcp(&self) -> std::io::Result<TcpStream> {
        let Some(source) = self.source else {
            return TcpStream::connect(self.address).await;
        };
        let socket = match source {
            IpAddr::V4(_) => TcpSocket::new_v4()?,
            IpAddr::V6(_) => TcpSocket::new_v6()?,
        };
        socket.bind(SocketAddr::new(source, 0))?;
        socket.connect(self.address).await
    }

    pub fn trusting_file(
        address: SocketAddr,
        server_name: &str,
        cert: &Path,
    ) -> Result<Client, ClientError> {
        Client::new(address, server_name, &tls::load_certs(cert)?)
    }

    /// Sends one request on a new connection and reads the whole answer.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Vec<u8>>,
    ) -> Result<Reply, ClientError> {
        let address = self.address;
        let tcp = self
            .connect_tcp()
            .await
            .map_err(|source| ClientError::Connect { address, source })?;
        let tls = self
            .connector
            .connect(self.server_name.clone(), tcp)
            .await
            .map_err(|source| ClientError::Tls { address, source })?;
        let (mut sender, connection) =
            hyper::client::conn::http1::handshake(TokioIo::new(tls)).await?;
        tokio::spawn(connection);
        let mut request = Request::builder()
            .method(method)
            .uri(path)
            .header("host", self.host_header());
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request.body(Full::new(Bytes::from(body.unwrap_or_default())))?;
        let response = sender.send_request(request).await?;
        let (parts, body) = response.into_parts();
        let body = body.collect().await?.to_bytes();
        Ok(Reply {
            status: parts.status,
            headers: parts.headers,
            body,
        })
    }

    pub async fn get(&self, path: &str, headers: &[(&str, &str)]) -> Result<Reply, ClientError> {
        self.send(Method::GET, path, headers, None).await
    }

    fn host_header(&self) -> String {
        match &self.server_name {
            ServerName::DnsName(name) => format!("{}:{}", name.as_ref(), self.address.port()),
            _ => self.address.to_string(),
        }
    }
}
