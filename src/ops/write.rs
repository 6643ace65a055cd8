//! The write unit of admin changes: [`WriteTx`] holds the write lock, collects what the change
//! must also do (audit records, phones to tell), and [`WriteTx::commit`] does it in order:
//! audit records appended, one flush, so the change and its record are durable together before
//! anyone is told; then the log lines and SIP NOTIFY.

use std::fmt::Display;
use std::ops::{Deref, DerefMut};

use super::Actor;
use crate::app::App;
use crate::audit::{Event, Kind};
use crate::model::DeviceRecord;
use crate::store::{StoreError, Writer};

/// Proof that a write comes from the operations layer: [`crate::store::Store::begin`] and
/// [`crate::store::Store::single_writes`] take one, and only `ops` can make one.
///
/// ```compile_fail
/// // Outside the operations layer there is no way to get a writer:
/// let permit = deskprov::ops::Permit(());
/// ```
pub struct Permit(());

impl Permit {
    pub(in crate::ops) fn new() -> Permit {
        Permit(())
    }
}

pub struct WriteTx<'a> {
    app: &'a App,
    actor: &'a Actor,
    writer: Writer<'a>,
    events: Vec<Event>,
    /// Admin changes of many subjects by detail (an import's rows), kept as their subjects
    /// until the commit makes an event of each: 100,000 events held whole took 25 MB.
    changes: Vec<(&'static str, Vec<String>)>,
    /// By MAC: a bulk change tells each phone once, in MAC order.
    reload: std::collections::BTreeMap<crate::domain::Mac, DeviceRecord>,
}

impl<'a> WriteTx<'a> {
    /// Waits for the write lock.
    pub(in crate::ops) async fn begin(app: &'a App, actor: &'a Actor) -> WriteTx<'a> {
        WriteTx {
            app,
            actor,
            writer: app.store.begin(Permit::new()).await,
            events: Vec::new(),
            changes: Vec::new(),
            reload: Default::default(),
        }
    }

    pub fn app(&self) -> &'a App {
        self.app
    }

    pub fn actor(&self) -> &'a Actor {
        self.actor
    }

    /// An admin change of `subject` (a MAC as 12 hex digits, an extension, a profile name...),
    /// recorded when the change commits.
    pub fn changed(&mut self, subject: impl Display, detail: impl Into<String>) {
        self.record(Kind::AdminChange, subject, detail);
    }

    /// An admin change of `subject` among many with the same `detail`, as [`Self::changed`]
    /// records it.
    pub fn changed_one_of(&mut self, subject: impl Display, detail: &'static str) {
        match self.changes.last_mut() {
            Some((last, subjects)) if *last == detail => subjects.push(subject.to_string()),
            _ => self.changes.push((detail, vec![subject.to_string()])),
        }
    }

    /// An event of another kind (a logout the change caused), recorded when it commits.
    pub fn record(&mut self, kind: Kind, subject: impl Display, detail: impl Into<String>) {
        let event = Event::of(kind, self.actor, detail).subject(subject);
        self.events.push(event);
    }

    /// A phone whose config changed, told to fetch it (SIP NOTIFY) once the change commits.
    /// Give the record as the phone has it now (before the change): the NOTIFY goes to its
    /// address, and a challenge is answered with the account on its line 1 until then.
    pub fn reload(&mut self, device: DeviceRecord) {
        self.reload.entry(device.mac).or_insert(device);
    }

    /// Makes the change and its audit records durable, then logs them and notifies phones.
    pub async fn commit(self) -> Result<(), StoreError> {
        let WriteTx {
            app,
            actor,
            writer,
            events,
            changes,
            reload,
        } = self;
        let now = app.clock.now();
        let change = |detail: &'static str, subject: &String| {
            Event::of(Kind::AdminChange, actor, detail).subject(subject)
        };
        for event in &events {
            writer.append_audit(event.to_record(now)).await?;
        }
        for (detail, subjects) in &changes {
            for subject in subjects {
                let record = change(detail, subject).to_record(now);
                writer.append_audit(record).await?;
            }
        }
        writer.flush().await?;
        drop(writer);
        for event in events.iter() {
            event.log();
            app.metrics.audit_event(event.kind());
            note_session_event(app, event, now);
        }
        for (detail, subjects) in &changes {
            for subject in subjects {
                change(detail, subject).log();
                app.metrics.audit_event(Kind::AdminChange);
            }
        }
        reload.values().for_each(|d| crate::notify::reload(app, d));
        Ok(())
    }
}

/// A hot-desk login or logout, in the device's event log.
fn note_session_event(app: &App, event: &Event, now: i64) {
    use crate::device_events::EventKind;
    let kind = match event.kind() {
        Kind::HotdeskLogin => EventKind::Login,
        Kind::HotdeskLogout => EventKind::Logout,
        _ => return,
    };
    if let Some(mac) = event
        .subject_text()
        .and_then(|s| crate::domain::Mac::parse(s).ok())
    {
        app.device_events.record(mac, now, kind, event.detail());
    }
}

impl<'a> Deref for WriteTx<'a> {
    type Target = Writer<'a>;

    fn deref(&self) -> &Writer<'a> {
        &self.writer
    }
}

impl<'a> DerefMut for WriteTx<'a> {
    fn deref_mut(&mut self) -> &mut Writer<'a> {
        &mut self.writer
    }
}

/// A writer without the lock, for the single-record writes of the phone path and counters.
pub(in crate::ops) fn single_writes(app: &App) -> Writer<'_> {
    app.store.single_writes(Permit::new())
}
