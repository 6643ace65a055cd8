//! The notifications that keep every node's memory of the database true: a dedicated
//! connection LISTENs on the channel; what it hears updates the revision, drops decoded device
//! records (and keeps their MACs among the registered ones, registered.rs) and raises the
//! latest ban end. When the connection breaks, decoded records stop
//! being trusted until it is back; then the revision is read again and moved past every render
//! cached before (a notification missed meanwhile cannot leave a stale file behind).

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use deadpool_postgres::{GenericClient, Pool};
use tokio_postgres::AsyncMessage;
use tracing::{info, warn};

use super::connect::DatabaseUrl;
use super::{CHANNEL, Shared, registered};
use crate::domain::Mac;
use crate::store::Result;

/// What a committed write tells the other nodes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Message {
    /// The revision of what configs depend on is now this.
    Revision(u64),
    /// This device's record changed.
    Device(Mac),
    /// These devices' records changed (one transaction's, in notifications of at most
    /// `MACS_PER_NOTIFICATION`).
    Devices(Vec<Mac>),
    /// Many devices' records changed, unnamed: what earlier builds sent for a bulk write,
    /// still understood, so that such a node beside this one is heard.
    AllDevices,
    /// A source is banned until this time.
    BanEnd(i64),
    /// The site's templates and CA are now those of this digest.
    SiteFiles(String),
}

impl std::fmt::Display for Message {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Message::Revision(revision) => write!(f, "r{revision}"),
            Message::Device(mac) => write!(f, "d{mac}"),
            Message::Devices(macs) => {
                f.write_str("m")?;
                macs.iter().try_for_each(|mac| write!(f, "{mac}"))
            }
            Message::AllDevices => f.write_str("D"),
            Message::BanEnd(until) => write!(f, "b{until}"),
            Message::SiteFiles(digest) => write!(f, "f{digest}"),
        }
    }
}

impl Message {
    fn parse(payload: &str) -> Option<Message> {
        let (kind, rest) = payload.split_at_checked(1)?;
        match kind {
            "r" => rest.parse().ok().map(Message::Revision),
            "d" => Mac::parse(rest).ok().map(Message::Device),
            "m" if !rest.is_empty() && rest.len().is_multiple_of(12) => {
                let macs: Option<Vec<Mac>> = (0..rest.len() / 12)
                    .map(|i| {
                        rest.get(12 * i..12 * i + 12)
                            .and_then(|m| Mac::parse(m).ok())
                    })
                    .collect();
                macs.map(Message::Devices)
            }
            "D" if rest.is_empty() => Some(Message::AllDevices),
            "b" => rest.parse().ok().map(Message::BanEnd),
            "f" if !rest.is_empty() => Some(Message::SiteFiles(rest.to_string())),
            _ => None,
        }
    }
}

pub(super) async fn read_revision(client: &impl GenericClient) -> Result<u64> {
    let revision: i64 = client
        .query_one("SELECT value FROM revision", &[])
        .await?
        .get(0);
    Ok(revision as u64)
}

/// Listens for as long as the backend lives, connecting again after every break.
pub(super) async fn run(url: DatabaseUrl, pool: Pool, shared: Arc<Shared>) {
    let mut pause = Duration::from_millis(100);
    let mut was_broken = false;
    loop {
        match listen(&url, &pool, &shared, was_broken).await {
            Ok(()) => pause = Duration::from_millis(100),
            Err(e) => {
                warn!(error = %e, retry_in_ms = pause.as_millis() as u64, "listening for other nodes' changes failed")
            }
        }
        shared.listening.store(false, Ordering::SeqCst);
        was_broken = true;
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_secs(2));
    }
}

/// One connection's life: LISTEN, catch up, then apply what it hears until it breaks.
async fn listen(url: &DatabaseUrl, pool: &Pool, shared: &Shared, after_break: bool) -> Result<()> {
    let (client, mut connection) = url.config().connect(url.tls()?).await?;
    let (heard, mut messages) = tokio::sync::mpsc::unbounded_channel();
    let driver = tokio::spawn(async move {
        let mut stream = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
        use futures_util::StreamExt;
        while let Some(message) = stream.next().await {
            match message {
                Ok(message) => {
                    if heard.send(Ok(message)).is_err() {
                        return;
                    }
                }
                Err(e) => {
                    let _ = heard.send(Err(e));
                    return;
                }
            }
        }
    });
    let outcome = async {
        client.batch_execute(&format!("LISTEN {CHANNEL}")).await?;
        catch_up(pool, shared, after_break).await?;
        shared.listening.store(true, Ordering::SeqCst);
        if after_break {
            info!("listening for other nodes' changes again");
        }
        let mut macs_unread = false;
        while let Some(message) = messages.recv().await {
            if let AsyncMessage::Notification(note) = message? {
                macs_unread |= apply(shared, note.payload()) == Heard::UnnamedDevices;
            }
            // Once for the notifications heard together; until then, and when it fails, a MAC
            // outside the set is asked of the database.
            if macs_unread && messages.is_empty() {
                macs_unread = false;
                if let Err(e) = read_macs(pool, shared).await {
                    warn!(error = %e, "reading the site's MACs after a change of many devices failed; unknown MACs are asked of the database until the next");
                }
            }
        }
        Ok(())
    }
    .await;
    driver.abort();
    outcome
}

async fn read_macs(pool: &Pool, shared: &Shared) -> Result<()> {
    let client = pool.get().await.map_err(super::connect::pool_error)?;
    registered::read_macs(&client, shared).await
}

/// What may have been missed before the LISTEN: the revision as stored, moved on by one for
/// the gap, and the devices read again (every MAC, and records ahead).
async fn catch_up(pool: &Pool, shared: &Shared, after_break: bool) -> Result<()> {
    let client = pool.get().await.map_err(super::connect::pool_error)?;
    let stored = read_revision(&client).await?;
    shared.heard_revision(stored);
    if after_break {
        shared.revision.fetch_add(1, Ordering::SeqCst);
    }
    shared.forget_all_devices();
    registered::read_macs(&client, shared).await?;
    registered::read_ahead(&client, shared).await?;
    let latest: Option<i64> = client
        .query_one("SELECT max(sort) FROM records WHERE tree = 'sources'", &[])
        .await?
        .get(0);
    shared
        .latest_ban_end
        .fetch_max(latest.unwrap_or(0), Ordering::SeqCst);
    let site_files = client
        .query_opt(
            "SELECT value FROM records WHERE tree = 'meta' AND key = $1",
            &[&super::SITE_FILES_KEY],
        )
        .await?;
    if let Some(row) = site_files {
        shared.heard_site_files(&String::from_utf8_lossy(row.get::<_, &[u8]>(0)));
    }
    Ok(())
}

/// Whether the message told of devices changed without naming them: then their MACs are to
/// be read again.
#[derive(PartialEq, Eq)]
enum Heard {
    UnnamedDevices,
    Other,
}

fn apply(shared: &Shared, payload: &str) -> Heard {
    match Message::parse(payload) {
        Some(Message::AllDevices) => {
            shared.forget_all_devices();
            shared.registered.many_changed();
            return Heard::UnnamedDevices;
        }
        Some(Message::Revision(revision)) => shared.heard_revision(revision),
        Some(Message::Device(mac)) => shared.forget_device(mac),
        Some(Message::Devices(macs)) => macs.into_iter().for_each(|mac| shared.forget_device(mac)),
        Some(Message::SiteFiles(digest)) => shared.heard_site_files(&digest),
        Some(Message::BanEnd(until)) => {
            shared.latest_ban_end.fetch_max(until, Ordering::SeqCst);
        }
        None => warn!(payload, "an unknown notification on the deskprov channel"),
    }
    Heard::Other
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_read_back_as_written() {
        let mac = Mac::parse("001565aabbcc").unwrap();
        for message in [
            Message::Revision(42),
            Message::Device(mac),
            Message::Devices(vec![mac, Mac::parse("0004f2aabbcc").unwrap()]),
            Message::AllDevices,
            Message::BanEnd(1_700_000_000),
            Message::SiteFiles("ab12".into()),
        ] {
            assert_eq!(Message::parse(&message.to_string()), Some(message));
        }
        assert_eq!(Message::parse("x1"), None);
        assert_eq!(Message::parse("m001565aabbc"), None);
        assert_eq!(Message::parse("m"), None);
        assert_eq!(Message::parse(""), None);
    }
}
