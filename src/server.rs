//! Accept loops and connection handling for both listeners.
//!
//! Per connection: a slot from the listener's admission (admission.rs: per-source caps, and
//! connections still in their handshake shed first), a TLS handshake under a timeout (a banned
//! source is still handshaken: only its requests proving a device are served, provision.rs),
//! the client certificate's identity, then hyper's HTTP/1.1 with a timer so that the header-read timeout is really armed
//! (it also bounds keep-alive idle time), a bounded header buffer, and a maximum age after
//! which the connection is closed between requests. Shutdown stops accepting, lets open
//! requests finish within the grace period, then returns.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use http::StatusCode;
use http::header::HOST;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;
use tracing::{debug, info, warn};

use crate::admission::{Admission, Policy, Slot};
use crate::app::App;
use crate::audit::{Event, Kind};
use crate::client_cert::{ClientCert, Untrusted};
use crate::metrics::HandshakeFailure;
use crate::provision::{self, Peer};
use crate::tls::ServerConfigs;

/// Largest request head (request line and headers) a client may send.
const MAX_HEAD_BYTES: usize = 16 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Phone,
    Admin,
}

/// Serves both listeners until `shutdown` completes, then drains.
pub async fn run(
    app: Arc<App>,
    tls: ServerConfigs,
    phone: TcpListener,
    admin: TcpListener,
    shutdown: impl Future<Output = ()>,
) {
    let (stop, stopped) = watch::channel(false);
    let phone_task = tokio::spawn(serve(
        Role::Phone,
        phone,
        TlsAcceptor::from(tls.phone),
        app.clone(),
        stopped.clone(),
    ));
    let admin_task = tokio::spawn(serve(
        Role::Admin,
        admin,
        TlsAcceptor::from(tls.admin),
        app,
        stopped,
    ));
    shutdown.await;
    info!("shutting down: no new connections, open requests may finish");
    let _ = stop.send(true);
    let _ = tokio::join!(phone_task, admin_task);
    info!("all connections closed");
}

async fn serve(
    role: Role,
    listener: TcpListener,
    acceptor: TlsAcceptor,
    app: Arc<App>,
    mut stopped: watch::Receiver<bool>,
) {
    let admission = Admission::new(admission_policy(role, &app.config));
    loop {
        let (tcp, address) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    warn!(?role, error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = stopped.changed() => break,
        };
        let connection = || Connection {
            role,
            app: app.clone(),
            acceptor: acceptor.clone(),
            stopped: stopped.clone(),
        };
        let balancers = &app.config.server.proxy_protocol_from;
        if role == Role::Phone && crate::proxy_protocol::expected_from(balancers, address) {
            // The phone's address is in the header: admitted by it once the header is read,
            // in a task of its own so that a slow balancer holds up nobody else.
            let (connection, admission) = (connection(), admission.clone());
            tokio::spawn(async move {
                connection.serve_proxied(tcp, address, &admission).await;
            });
            continue;
        }
        let Some(slot) = admit(&admission, role, address) else {
            continue;
        };
        let connection = connection();
        tokio::spawn(async move {
            connection.serve(tcp, address, slot).await;
        });
    }
    drop(listener);
    let grace = app.config.limits.shutdown_grace();
    if tokio::time::timeout(grace, all_closed(&admission))
        .await
        .is_err()
    {
        warn!(
            ?role,
            "connections still open after the shutdown grace period; closing them"
        );
    }
}

/// A banned source is still handshaken: a phone behind its address proves itself only after the
/// handshake (certificate, credentials), and is served (provision.rs). That costs a handshake
/// per connection under attack, bounded by the admission caps.
fn admit(admission: &Arc<Admission>, role: Role, address: SocketAddr) -> Option<Slot> {
    match admission.admit(address.ip()) {
        Ok(slot) => Some(slot),
        Err(refused) => {
            debug!(?role, %address, ?refused, "connection refused by the connection caps");
            None
        }
    }
}

fn admission_policy(role: Role, config: &crate::config::Config) -> Policy {
    let limits = &config.limits;
    let (cap, per_source, loopback_reserve) = match role {
        Role::Phone => (
            limits.max_phone_connections,
            limits.max_phone_connections_per_source,
            0,
        ),
        Role::Admin => (
            limits.max_admin_connections,
            limits.max_admin_connections_per_source,
            limits.admin_loopback_reserve,
        ),
    };
    let allowed_networks = match role {
        Role::Phone => config.security.allow_networks.clone(),
        Role::Admin => Vec::new(),
    };
    Policy {
        cap,
        pre_handshake_cap: (cap * limits.pre_handshake_percent / 100).max(1),
        per_source,
        per_allowed_source: limits.max_allowed_network_connections_per_source,
        allowed_networks,
        loopback_reserve,
    }
}

async fn all_closed(admission: &Admission) {
    while admission.open() > 0 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

struct Connection {
    role: Role,
    app: Arc<App>,
    acceptor: TlsAcceptor,
    stopped: watch::Receiver<bool>,
}

impl Connection {
    /// A connection from a load balancer: its PROXY header first, then the phone behind it.
    async fn serve_proxied(
        self,
        mut tcp: TcpStream,
        balancer: SocketAddr,
        admission: &Arc<Admission>,
    ) {
        let within = self.app.config.limits.handshake_timeout();
        let address = match crate::proxy_protocol::read_source(&mut tcp, balancer, within).await {
            Ok(address) => address,
            Err(e) => {
                debug!(%balancer, error = %e, "connection from a load balancer refused");
                return;
            }
        };
        if let Some(slot) = admit(admission, self.role, address) {
            self.serve(tcp, address, slot).await;
        }
    }

    async fn serve(mut self, tcp: TcpStream, address: SocketAddr, mut slot: Slot) {
        let limits = self.app.config.limits.clone();
        let _open = self.app.metrics.connection_opened(self.role);
        let _ = tcp.set_nodelay(true);
        let Ok(local) = tcp.local_addr() else {
            return;
        };
        let handshake = tokio::time::timeout(limits.handshake_timeout(), self.acceptor.accept(tcp));
        let metrics = &self.app.metrics;
        let tls = tokio::select! {
            result = handshake => match result {
                Ok(Ok(stream)) => stream,
                Ok(Err(e)) => {
                    debug!(role = ?self.role, %address, error = %e, "TLS handshake failed");
                    metrics.handshake(self.role, Some(HandshakeFailure::Error));
                    return;
                }
                Err(_) => {
                    debug!(role = ?self.role, %address, "TLS handshake timed out");
                    metrics.handshake(self.role, Some(HandshakeFailure::Timeout));
                    return;
                }
            },
            _ = slot.shed() => {
                debug!(role = ?self.role, %address, "shed during its TLS handshake to make room");
                metrics.handshake(self.role, Some(HandshakeFailure::Shed));
                return;
            }
        };
        metrics.handshake(self.role, None);
        slot.handshake_done();
        let peer = Peer {
            address: address.ip(),
            client_cert: self.client_cert(&tls, address).await,
            listener: local,
        };
        let (role, app) = (self.role, self.app.clone());
        let service = service_fn(move |request: hyper::Request<Incoming>| {
            let app = app.clone();
            async move {
                let started = Instant::now();
                let response = if request.headers().get_all(HOST).iter().nth(1).is_some() {
                    crate::respond::text(StatusCode::BAD_REQUEST, "more than one Host header\n")
                } else {
                    match role {
                        Role::Phone => provision::handle(app.clone(), request, peer).await,
                        // Boxed: the admin API's future is large, and would otherwise make
                        // every phone request's future as large.
                        Role::Admin => {
                            Box::pin(crate::admin::handle(app.clone(), request, peer.address)).await
                        }
                    }
                };
                app.metrics.request_duration(role, started.elapsed());
                Ok::<_, Infallible>(response)
            }
        });
        let mut builder = http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            .header_read_timeout(limits.header_read_timeout())
            .max_buf_size(MAX_HEAD_BYTES)
            // Head and body handed to rustls as two slices: it seals them into one record
            // (up to 16 KiB) and one send, so hyper need not copy the body behind the head.
            .writev(true)
            .keep_alive(true);
        let connection = builder.serve_connection(TokioIo::new(tls), service);
        tokio::pin!(connection);
        let age = tokio::time::sleep(limits.max_connection_age());
        tokio::pin!(age);
        let grace = tokio::select! {
            result = connection.as_mut() => {
                if let Err(e) = result { debug!(role = ?self.role, %address, error = %e, "connection ended with an error") }
                return;
            }
            // Old age: the request in flight may be a firmware transfer, which gets its time.
            _ = &mut age => limits.max_transfer(),
            _ = self.stopped.changed() => limits.shutdown_grace(),
        };
        // Finish the request in flight, then close.
        connection.as_mut().graceful_shutdown();
        let _ = tokio::time::timeout(grace, connection).await;
    }

    /// What the phone's certificate proves; untrusted ones are recorded and then ignored.
    async fn client_cert(
        &self,
        tls: &tokio_rustls::server::TlsStream<TcpStream>,
        address: SocketAddr,
    ) -> ClientCert {
        let (Some(check), Some(chain)) =
            (&self.app.vendor_cas, tls.get_ref().1.peer_certificates())
        else {
            return ClientCert::Absent;
        };
        let verdict = check.identify(chain);
        if let ClientCert::Untrusted(why) = verdict {
            let detail = match why {
                Untrusted::Chain => {
                    "client certificate not signed by a configured vendor CA, or expired; ignored"
                }
                Untrusted::NoMac => "client certificate names no single MAC; ignored",
            };
            crate::ops::audit::record(
                &self.app,
                Event::phone(Kind::UntrustedCertificate, detail).source(address.ip()),
            )
            .await;
        }
        verdict
    }
}
