//! The ceiling of deskprov's stack on this machine, for `make bench`: hyper and rustls with
//! deskprov's own TLS configuration and certificate, answering every request with one file held
//! in memory, and nothing else (no routing, no authentication, no rendering, no logging).
//!
//! Usage: `bare-responder CERTS_DIR PORT FILE`; it serves until killed.

use std::convert::Infallible;
use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Response, header};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

fn main() -> Result<(), String> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: bare-responder CERTS_DIR PORT FILE";
    let certs = PathBuf::from(args.next().ok_or(usage)?);
    let port: u16 = args.next().and_then(|p| p.parse().ok()).ok_or(usage)?;
    let file = std::fs::read(args.next().ok_or(usage)?).map_err(|e| e.to_string())?;
    tokio::runtime::Runtime::new()
        .map_err(|e| e.to_string())?
        .block_on(serve(certs, port, Bytes::from(file)))
}

async fn serve(certs: PathBuf, port: u16, file: Bytes) -> Result<(), String> {
    let paths = deskprov::tls::ensure_certificate(&certs, 0).map_err(|e| e.to_string())?;
    let certificates =
        Arc::new(deskprov::tls::ServerCertificates::load(paths).map_err(|e| e.to_string())?);
    let configs = deskprov::tls::server_configs(certificates, None).map_err(|e| e.to_string())?;
    let acceptor = TlsAcceptor::from(configs.phone);
    let listener = TcpListener::bind(("127.0.0.1", port))
        .await
        .map_err(|e| e.to_string())?;
    loop {
        let Ok((tcp, _)) = listener.accept().await else {
            continue;
        };
        let _ = tcp.set_nodelay(true);
        let (acceptor, file) = (acceptor.clone(), file.clone());
        tokio::spawn(async move {
            let Ok(tls) = acceptor.accept(tcp).await else {
                return;
            };
            let answer = service_fn(move |_request| {
                let body = Full::new(file.clone());
                async move {
                    Ok::<_, Infallible>(
                        Response::builder()
                            .header(header::CONTENT_TYPE, "text/plain")
                            .body(body)
                            .expect("a valid response"),
                    )
                }
            });
            let _ = http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(tls), answer)
                .await;
        });
    }
}
