//! Tells a phone to fetch its config now, or to reboot: a SIP NOTIFY with its vendor's event,
//! sent over UDP to the address the phone last fetched its own file from with proof (never
//! one any request could set), at the port its config fixes
//! (`hotdesk.sip_notify_port`). A phone that challenges the NOTIFY (Cisco's
//! `Auth_Resync-Reboot`, Snom's `challenge_checksync`, Poly's request validation) gets the
//! NOTIFY again with a Digest answer made with the credentials of the account on its line 1,
//! which is what the phone checks it against.
//!
//! Automatic NOTIFYs after a change (hot-desk login and logout, an admin change) are sent only
//! when `hotdesk.sip_notify` is on, as many sites have the PBX send them; the resync and reboot
//! actions of the API and the CLI always send, and report what the phone answered.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use rand::Rng;
use rand::distr::Alphanumeric;
use serde::Serialize;
use tokio::net::UdpSocket;
use tracing::{debug, warn};

use crate::app::App;
use crate::digest::Challenge;
use crate::model::DeviceRecord;
use crate::render::DeviceInputs;
use crate::store::Store;
use crate::vendors::{self, Vendor};

/// How long to wait for each answer of the phone.
const ANSWER_WAIT: Duration = Duration::from_secs(2);
/// NOTIFYs in flight at once, all callers together: each holds a socket for seconds, and a
/// bulk import with `sip_notify` on must not use up file descriptors the listeners need.
const AT_ONCE: usize = 64;
static IN_FLIGHT: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(AT_ONCE);
/// A SIP answer over UDP fits in one datagram.
const MAX_DATAGRAM: usize = 8 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Fetch the config again (and apply it; some phones restart when it changed).
    Resync,
    Reboot,
}

impl Action {
    pub fn name(self) -> &'static str {
        match self {
            Action::Resync => "resync",
            Action::Reboot => "reboot",
        }
    }
}

/// What came of a NOTIFY.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The phone answered 2xx.
    Accepted,
    /// The phone challenged it, and accepted the answer made with line 1's credentials.
    AcceptedWithCredentials,
    /// The phone answered with an error, or challenged the answer too.
    Refused,
    /// No answer: the phone is off, unreachable, or drops NOTIFYs from this address.
    NoAnswer,
    /// deskprov has no address for the phone yet: it has never fetched its own file with
    /// proof (its claim, its credentials or its certificate).
    NeverSeen,
    /// The phone's vendor cannot be told this by NOTIFY (or is not known yet).
    Unsupported,
    /// The NOTIFY could not be sent (no route, socket error).
    SendFailed,
}

impl Outcome {
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Accepted => "accepted",
            Outcome::AcceptedWithCredentials => "accepted with credentials",
            Outcome::Refused => "refused",
            Outcome::NoAnswer => "no answer",
            Outcome::NeverSeen => "never seen",
            Outcome::Unsupported => "unsupported",
            Outcome::SendFailed => "send failed",
        }
    }
}

/// After a change: tells the phone to fetch its config, in the background, when the
/// configuration asks for it.
pub fn reload(app: &App, device: &DeviceRecord) {
    if !app.config.hotdesk.sip_notify {
        return;
    }
    let Some(target) = target(app, device) else {
        return;
    };
    let Some(event) = event(device, Action::Resync) else {
        return;
    };
    let (store, now, device) = (app.store.clone(), app.clock.now(), device.clone());
    app.device_events.record(
        device.mac,
        now,
        crate::device_events::EventKind::ResyncSent,
        "after a change",
    );
    tokio::spawn(async move {
        let credentials = line_one_credentials(&store, &device, now).await;
        let notice = Notice {
            target,
            event,
            credentials,
        };
        let outcome = deliver(notice).await;
        debug!(mac = %device.mac, ?outcome, "SIP NOTIFY after a change");
    });
}

/// The SIP user and password of the account on the phone's line 1, as its config carries it
/// (a hot-desk login or the lobby account included): what a phone checks a challenged NOTIFY
/// against. None when line 1 is vacant or cannot be read.
pub async fn line_one_credentials(
    store: &Store,
    device: &DeviceRecord,
    now: i64,
) -> Option<(String, String)> {
    let vendor = device.vendor.as_deref().and_then(vendors::by_id)?;
    let inputs = match DeviceInputs::load_from(store, vendor, device, now).await {
        Ok(inputs) => inputs,
        Err(e) => {
            warn!(mac = %device.mac, error = %e, "reading line 1 for a NOTIFY failed");
            return None;
        }
    };
    let user = inputs.users.get(&1)?;
    Some((
        user.sip_user.to_string(),
        user.sip_password.expose().to_string(),
    ))
}

/// A NOTIFY ready to go: where, which event, and line 1's SIP user and password for a phone
/// that challenges it. Owns everything, so many can be sent at once.
#[derive(Clone)]
pub struct Notice {
    target: SocketAddr,
    event: &'static str,
    credentials: Option<(String, String)>,
}

/// The NOTIFY that tells `device` to do `action`, or why none can.
pub fn notice(
    app: &App,
    device: &DeviceRecord,
    action: Action,
    credentials: Option<(String, String)>,
) -> Result<Notice, Outcome> {
    let target = target(app, device).ok_or(Outcome::NeverSeen)?;
    let event = event(device, action).ok_or(Outcome::Unsupported)?;
    Ok(Notice {
        target,
        event,
        credentials,
    })
}

/// Sends each notice (at most [`AT_ONCE`] in flight, with every other NOTIFY) and waits for
/// the phones' answers.
pub async fn deliver_all<K: Send + 'static>(
    notices: Vec<(K, Result<Notice, Outcome>)>,
) -> Vec<(K, Outcome)> {
    let mut sending = tokio::task::JoinSet::new();
    for (index, (key, notice)) in notices.into_iter().enumerate() {
        sending.spawn(async move {
            let outcome = match notice {
                Ok(notice) => deliver(notice).await,
                Err(outcome) => outcome,
            };
            (index, key, outcome)
        });
    }
    let mut outcomes = Vec::new();
    while let Some(done) = sending.join_next().await {
        if let Ok(done) = done {
            outcomes.push(done);
        }
    }
    outcomes.sort_by_key(|(index, _, _)| *index);
    outcomes
        .into_iter()
        .map(|(_, key, outcome)| (key, outcome))
        .collect()
}

async fn deliver(notice: Notice) -> Outcome {
    let _permit = IN_FLIGHT.acquire().await;
    let Notice {
        target,
        event,
        credentials,
    } = notice;
    match send(target, event, credentials).await {
        Ok(outcome) => {
            debug!(%target, event, ?outcome, "SIP NOTIFY sent");
            outcome
        }
        Err(e) => {
            warn!(%target, error = %e, "SIP NOTIFY could not be sent");
            Outcome::SendFailed
        }
    }
}

fn target(app: &App, device: &DeviceRecord) -> Option<SocketAddr> {
    let address = device.proven_address.as_deref()?.parse::<IpAddr>().ok()?;
    Some(SocketAddr::new(address, app.config.hotdesk.sip_notify_port))
}

fn event(device: &DeviceRecord, action: Action) -> Option<&'static str> {
    let vendor: &dyn Vendor = device.vendor.as_deref().and_then(vendors::by_id)?;
    match action {
        Action::Resync => Some(vendor.notify_event()),
        Action::Reboot => vendor.reboot_event(),
    }
}

async fn send(
    target: SocketAddr,
    event: &str,
    credentials: Option<(String, String)>,
) -> std::io::Result<Outcome> {
    let bind: SocketAddr = if target.is_ipv4() {
        "0.0.0.0:0".parse().expect("valid")
    } else {
        "[::]:0".parse().expect("valid")
    };
    let socket = UdpSocket::bind(bind).await?;
    socket.connect(target).await?;
    let dialog = Dialog::new(target, socket.local_addr()?, event);
    socket.send(dialog.request(1, None).as_bytes()).await?;
    let Some(answer) = answer_to(&socket, &dialog, 1).await else {
        return Ok(Outcome::NoAnswer);
    };
    if answer.is_success() {
        return Ok(Outcome::Accepted);
    }
    let (Some(challenge), Some((user, password))) = (answer.challenge(), credentials) else {
        return Ok(Outcome::Refused);
    };
    let authorization = challenge.answer("NOTIFY", &dialog.uri, &user, &password);
    let header = (answer.status == 407, authorization);
    socket
        .send(dialog.request(2, Some(&header)).as_bytes())
        .await?;
    Ok(match answer_to(&socket, &dialog, 2).await {
        Some(second) if second.is_success() => Outcome::AcceptedWithCredentials,
        Some(_) => Outcome::Refused,
        None => Outcome::NoAnswer,
    })
}

/// The final answer to request `cseq`, skipping provisional ones and strays.
async fn answer_to(socket: &UdpSocket, dialog: &Dialog, cseq: u32) -> Option<Answer> {
    let deadline = tokio::time::Instant::now() + ANSWER_WAIT;
    let mut buffer = vec![0u8; MAX_DATAGRAM];
    loop {
        let received = tokio::time::timeout_at(deadline, socket.recv(&mut buffer)).await;
        let length = match received {
            Ok(Ok(length)) => length,
            Ok(Err(_)) | Err(_) => return None,
        };
        let Some(answer) = Answer::parse(&buffer[..length]) else {
            continue;
        };
        if answer.call_id == dialog.call_id && answer.cseq == cseq && answer.status >= 200 {
            return Some(answer);
        }
    }
}

/// The fixed parts of the NOTIFY and its authenticated repeat.
struct Dialog {
    uri: String,
    me: String,
    tag: String,
    call_id: String,
    event: String,
}

impl Dialog {
    fn new(target: SocketAddr, local: SocketAddr, event: &str) -> Dialog {
        Dialog {
            uri: format!("sip:{}", sip_host(target)),
            me: sip_host(local),
            tag: random(10),
            call_id: format!("{}@deskprov", random(20)),
            event: event.to_string(),
        }
    }

    /// An out-of-dialog NOTIFY as PBXs send for check-sync (Asterisk's pjsip_notify samples);
    /// `authorization` is (for a proxy, value).
    fn request(&self, cseq: u32, authorization: Option<&(bool, String)>) -> String {
        let authorization = match authorization {
            Some((true, value)) => format!("Proxy-Authorization: {value}\r\n"),
            Some((false, value)) => format!("Authorization: {value}\r\n"),
            None => String::new(),
        };
        format!(
            "NOTIFY {uri} SIP/2.0\r\n\
             Via: SIP/2.0/UDP {me};branch=z9hG4bK{branch};rport\r\n\
             Max-Forwards: 70\r\n\
             From: <sip:deskprov@{me}>;tag={tag}\r\n\
             To: <{uri}>\r\n\
             Call-ID: {call_id}\r\n\
             CSeq: {cseq} NOTIFY\r\n\
             Contact: <sip:deskprov@{me}>\r\n\
             {authorization}\
             Event: {event}\r\n\
             Subscription-State: terminated\r\n\
             Content-Length: 0\r\n\r\n",
            uri = self.uri,
            me = self.me,
            branch = random(16),
            tag = self.tag,
            call_id = self.call_id,
            event = self.event,
        )
    }
}

/// The parts of a SIP answer that matter here.
#[derive(Debug)]
struct Answer {
    status: u16,
    call_id: String,
    cseq: u32,
    challenge: Option<String>,
}

impl Answer {
    fn parse(datagram: &[u8]) -> Option<Answer> {
        let text = std::str::from_utf8(datagram).ok()?;
        let mut lines = text.split("\r\n");
        let status = lines
            .next()?
            .strip_prefix("SIP/2.0 ")?
            .get(..3)?
            .parse()
            .ok()?;
        let mut answer = Answer {
            status,
            call_id: String::new(),
            cseq: 0,
            challenge: None,
        };
        for line in lines.take_while(|l| !l.is_empty()) {
            let Some((name, value)) = line.split_once(':') else {
                continue;
            };
            let value = value.trim();
            match name.trim().to_ascii_lowercase().as_str() {
                "call-id" | "i" => answer.call_id = value.to_string(),
                "cseq" => {
                    answer.cseq = value.split_whitespace().next()?.parse().ok()?;
                }
                // The first challenge we can answer (MD5), of those offered.
                "www-authenticate" | "proxy-authenticate"
                    if answer.challenge.is_none() && Challenge::parse(value).is_some() =>
                {
                    answer.challenge = Some(value.to_string());
                }
                _ => {}
            }
        }
        Some(answer)
    }

    fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    fn challenge(&self) -> Option<Challenge> {
        if self.status != 401 && self.status != 407 {
            return None;
        }
        Challenge::parse(self.challenge.as_deref()?)
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_read_by_call_id_cseq_and_challenge() {
        let text = "SIP/2.0 401 Unauthorized\r\nVia: x\r\ni: abc@deskprov\r\nCSeq: 1 NOTIFY\r\n\
                    WWW-Authenticate: Digest realm=\"phone\", nonce=\"n1\", qop=\"auth\"\r\n\r\n";
        let answer = Answer::parse(text.as_bytes()).unwrap();
        assert_eq!(answer.status, 401);
        assert_eq!(answer.call_id, "abc@deskprov");
        assert_eq!(answer.cseq, 1);
        assert_eq!(answer.challenge().unwrap().realm, "phone");
        assert!(Answer::parse(b"NOTIFY sip:x SIP/2.0\r\n\r\n").is_none());
        assert!(Answer::parse(&[0xff, 0xfe]).is_none());
    }
}
