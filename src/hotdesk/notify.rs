//! Tells a phone to fetch its config now: a SIP NOTIFY with the vendor's check-sync event, sent
//! over UDP to the address the phone last provisioned from. Off by default: many sites have the
//! PBX send these, and phones may accept them only from their registrar (Yealink
//! `sip.trust_ctrl`, Poly `voIpProt.SIP.requestValidation`).

use std::net::{IpAddr, SocketAddr};

use rand::Rng;
use rand::distr::Alphanumeric;
use tracing::{debug, warn};

use crate::app::App;
use crate::model::DeviceRecord;
use crate::vendors;

/// Sends the NOTIFY in the background when the configuration asks for it.
pub fn reload(app: &App, device: &DeviceRecord) {
    if !app.config.hotdesk.sip_notify {
        return;
    }
    let Some(address) = device
        .last_address
        .as_deref()
        .and_then(|a| a.parse::<IpAddr>().ok())
    else {
        return;
    };
    let event = device
        .vendor
        .as_deref()
        .and_then(vendors::by_id)
        .map_or("check-sync", |v| v.notify_event());
    let target = SocketAddr::new(address, app.config.hotdesk.sip_notify_port);
    let mac = device.mac;
    tokio::spawn(async move {
        match send(target, event).await {
            Ok(()) => debug!(%mac, %target, event, "SIP NOTIFY sent"),
            Err(e) => warn!(%mac, %target, error = %e, "SIP NOTIFY could not be sent"),
        }
    });
}

async fn send(target: SocketAddr, event: &str) -> std::io::Result<()> {
    let bind: SocketAddr = if target.is_ipv4() {
        "0.0.0.0:0".parse().expect("valid")
    } else {
        "[::]:0".parse().expect("valid")
    };
    let socket = tokio::net::UdpSocket::bind(bind).await?;
    socket.connect(target).await?;
    let local = socket.local_addr()?;
    socket
        .send(notify_message(target, local, event).as_bytes())
        .await?;
    Ok(())
}

/// An out-of-dialog NOTIFY as PBXs send for check-sync (Asterisk's pjsip_notify samples).
pub fn notify_message(target: SocketAddr, local: SocketAddr, event: &str) -> String {
    let host = sip_host(target);
    let me = sip_host(local);
    format!(
        "NOTIFY sip:{host} SIP/2.0\r\n\
         Via: SIP/2.0/UDP {me};branch=z9hG4bK{branch};rport\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:deskprov@{me}>;tag={tag}\r\n\
         To: <sip:{host}>\r\n\
         Call-ID: {call_id}@deskprov\r\n\
         CSeq: 1 NOTIFY\r\n\
         Contact: <sip:deskprov@{me}>\r\n\
         Event: {event}\r\n\
         Subscription-State: terminated\r\n\
         Content-Length: 0\r\n\r\n",
        branch = random(16),
        tag = random(10),
        call_id = random(20),
    )
}

fn sip_host(address: SocketAddr) -> String {
    match address.ip() {
        IpAddr::V4(ip) => format!("{ip}:{}", address.port()),
        IpAddr::V6(ip) => format!("[{ip}]:{}", address.port()),
    }
}

fn random(len: usize) -> String {
    rand::rng()
        .sample_iter(&Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}
