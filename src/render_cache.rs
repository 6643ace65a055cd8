//! Rendered files kept between requests, so a phone polling or a building booting costs a
//! lookup, not a template render (BENCHMARKS.md).
//!
//! A file is served from the cache only when nothing it was rendered from has changed:
//! - the store's revision: every write of users, site settings, profiles or model settings
//!   bumps it ([`Store::revision`]);
//! - the templates' revision: bumped at every reload;
//! - for a device file, the device record itself, by its [`DeviceRecord::render_fingerprint`]:
//!   last-seen and the other facts phones write do not count, so polling does not re-render;
//! - the time: a live hot-desk login makes the file valid only until the login ends.
//!
//! The company phonebook is cached the same way, per vendor format (and, where the vendor pages
//! it, per page and device: the page links to the next by the device's URL), from one list of
//! entries read once per store revision and shared by every format.
//!
//! The revision is read before the inputs are, so a write racing a render leaves an entry
//! that is already stale, never a stale entry that looks current. Memory is bounded by
//! `limits.render_cache_bytes`; the least useful entries are evicted first.

use std::sync::Arc;

use quick_cache::Weighter;
use quick_cache::sync::Cache;

use crate::app::App;
use crate::domain::Mac;
use crate::render::{self, CommonRequest, RenderFailure, Rendered};
use crate::store::DeviceSnapshot;
use crate::vendors::Vendor;

/// What a rendered file was made from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    store: u64,
    templates: u64,
    /// The device record's fingerprint; 0 for common files.
    device: u64,
}

struct Entry {
    rendered: Arc<Rendered>,
    stamp: Stamp,
}

/// What a phonebook document about to be rendered is made from, and until when it holds.
struct Made {
    stamp: Stamp,
    valid_until: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Device {
        mac: Mac,
        vendor: &'static str,
        base_url: String,
    },
    /// Everything the request contributes to a common file, joined.
    Common(String),
    Phonebook {
        template: &'static str,
        page: crate::phonebook::PageRequest,
        /// The device whose own directory this is (its speed dials in it); `None`: shared.
        device: Option<Mac>,
    },
}

impl Key {
    fn bytes(&self) -> usize {
        match self {
            Key::Device { base_url, .. } => base_url.len(),
            Key::Common(text) => text.len(),
            Key::Phonebook { page, .. } => page.url.as_ref().map_or(0, String::len),
        }
    }
}

/// Weighs an entry by what it holds: body, validator and key, plus the bookkeeping.
#[derive(Clone)]
struct ByBytes;

/// What an entry holds beyond its body, validator and key text, as allocated: the entry and
/// the file in their own `Arc`s, the key's string, the validator's header value, the cache's
/// slot and table.
const ENTRY_OVERHEAD: u64 = 320;

impl Weighter<Key, Arc<Entry>> for ByBytes {
    fn weight(&self, key: &Key, entry: &Arc<Entry>) -> u64 {
        (entry.rendered.body.len() + entry.rendered.etag.len() + key.bytes()) as u64
            + ENTRY_OVERHEAD
    }
}

pub struct RenderCache {
    /// `None` when the budget is 0.
    entries: Option<Cache<Key, Arc<Entry>, ByBytes>>,
    /// The phonebook's entries and the store revision they were read at. Behind an async lock
    /// so that a change followed by every phone asking reads the store once, not once a phone.
    phonebook: tokio::sync::Mutex<Option<(u64, Arc<Vec<crate::phonebook::Entry>>)>>,
}

impl RenderCache {
    /// A cache holding at most `budget_bytes` of files; 0 turns caching off.
    pub fn new(budget_bytes: u64) -> RenderCache {
        // A typical file is a few kilobytes; the estimate only sizes the table up front.
        let estimated_items = (budget_bytes / 4096).clamp(16, 1 << 20) as usize;
        RenderCache {
            entries: (budget_bytes > 0)
                .then(|| Cache::with_weighter(estimated_items, budget_bytes, ByBytes)),
            phonebook: tokio::sync::Mutex::new(None),
        }
    }

    /// The device's own file as last rendered, if nothing it depends on changed since.
    pub fn cached_device_file(
        &self,
        app: &App,
        vendor: &dyn Vendor,
        device: &DeviceSnapshot,
        base_url: &str,
    ) -> Option<Arc<Rendered>> {
        let key = device_key(vendor, device, base_url);
        self.lookup(app, &key, stamp(app, device.fingerprint))
    }

    /// The device's own file rendered now, and kept for [`RenderCache::cached_device_file`].
    pub async fn render_device_file(
        &self,
        app: &App,
        vendor: &dyn Vendor,
        device: &DeviceSnapshot,
        base_url: &str,
    ) -> Result<Arc<Rendered>, RenderFailure> {
        let stamp = stamp(app, device.fingerprint);
        // Boxed: the render's state stays out of every request's future, hits included.
        let rendered = Box::pin(render::device_file(app, vendor, &device.record, base_url)).await?;
        Ok(self.keep(device_key(vendor, device, base_url), stamp, rendered))
    }

    /// A vendor's common file for what the request tells about the phone.
    pub async fn common_file(
        &self,
        app: &App,
        vendor: &dyn Vendor,
        request: &CommonRequest<'_>,
    ) -> Result<Arc<Rendered>, RenderFailure> {
        let key = Key::Common(format!(
            "{}\0{}\0{:?}\0{:?}\0{:?}\0{}",
            vendor.id(),
            request.template,
            request.hints,
            request.model,
            request.firmware,
            request.base_url
        ));
        let stamp = stamp(app, 0);
        if let Some(hit) = self.lookup(app, &key, stamp) {
            return Ok(hit);
        }
        let rendered = Box::pin(render::common_file(app, vendor, request)).await?;
        Ok(self.keep(key, stamp, rendered))
    }

    /// The company phonebook (or the requested page of it) in `vendor`'s format; `None` when the
    /// vendor's phones get none, or the page is past the end.
    pub async fn phonebook(
        &self,
        app: &App,
        vendor: &dyn Vendor,
        page: crate::phonebook::PageRequest,
    ) -> Option<Result<Arc<Rendered>, RenderFailure>> {
        let template = vendor.phonebook_template()?;
        let key = Key::Phonebook {
            template,
            page,
            device: None,
        };
        let stamp = stamp(app, 0);
        if let Some(hit) = self.lookup(app, &key, stamp) {
            return Some(Ok(hit));
        }
        let entries = match self.phonebook_entries(app, stamp.store).await {
            Ok(entries) => entries,
            Err(e) => return Some(Err(e.into())),
        };
        let made = Made {
            stamp,
            valid_until: None,
        };
        self.render_phonebook(app, vendor, key, made, &entries, &[])
    }

    /// The local directory a device fetches as a file of its own (Poly's `{mac}-directory.xml`):
    /// its speed-dial keys, then the company phonebook while `with_phonebook`. A device without
    /// speed dials shares the vendor's phonebook; `None` when it has neither, or its vendor's
    /// phones take no directory file.
    pub async fn device_directory(
        &self,
        app: &App,
        vendor: &dyn Vendor,
        device: &DeviceSnapshot,
        page: crate::phonebook::PageRequest,
        with_phonebook: bool,
    ) -> Option<Result<Arc<Rendered>, RenderFailure>> {
        let template = vendor.phonebook_template()?;
        let key = Key::Phonebook {
            template,
            page,
            device: Some(device.record.mac),
        };
        let stamp = stamp(app, device.fingerprint);
        if let Some(hit) = self.lookup(app, &key, stamp) {
            return Some(Ok(hit));
        }
        let (speed_dials, valid_until) =
            match render::speed_dials(app, vendor, &device.record).await {
                Ok(found) => found,
                Err(e) => return Some(Err(e.into())),
            };
        let Key::Phonebook { page, .. } = key else {
            unreachable!("built above")
        };
        if speed_dials.is_empty() {
            return match with_phonebook {
                true => self.phonebook(app, vendor, page).await,
                false => None,
            };
        }
        let entries = match with_phonebook {
            true => match self.phonebook_entries(app, stamp.store).await {
                Ok(entries) => entries,
                Err(e) => return Some(Err(e.into())),
            },
            false => Arc::default(),
        };
        let key = Key::Phonebook {
            template,
            page,
            device: Some(device.record.mac),
        };
        let made = Made { stamp, valid_until };
        self.render_phonebook(app, vendor, key, made, &entries, &speed_dials)
    }

    fn render_phonebook(
        &self,
        app: &App,
        vendor: &dyn Vendor,
        key: Key,
        made: Made,
        entries: &[crate::phonebook::Entry],
        speed_dials: &[crate::phonebook::SpeedDial],
    ) -> Option<Result<Arc<Rendered>, RenderFailure>> {
        let Key::Phonebook { page, .. } = &key else {
            unreachable!("only phonebook keys")
        };
        let templates = app.templates.current();
        match crate::phonebook::render(&templates, vendor, entries, page, speed_dials)?? {
            Ok(mut rendered) => {
                rendered.valid_until = made.valid_until;
                Some(Ok(self.keep(key, made.stamp, rendered)))
            }
            Err(e) => Some(Err(e)),
        }
    }

    /// The entries as of `revision` (read before them, as for any render), shared while the
    /// store does not change; read afresh otherwise.
    async fn phonebook_entries(
        &self,
        app: &App,
        revision: u64,
    ) -> Result<Arc<Vec<crate::phonebook::Entry>>, crate::store::StoreError> {
        if self.entries.is_none() {
            return Ok(Arc::new(
                crate::phonebook::entries(app.store.reads()).await?,
            ));
        }
        let mut held = self.phonebook.lock().await;
        if let Some((at, entries)) = held.as_ref()
            && *at == revision
        {
            return Ok(entries.clone());
        }
        let entries = Arc::new(crate::phonebook::entries(app.store.reads()).await?);
        *held = Some((revision, entries.clone()));
        Ok(entries)
    }

    /// The file cached under `key`, if it was made from what `stamp` says and is still in time.
    fn lookup(&self, app: &App, key: &Key, stamp: Stamp) -> Option<Arc<Rendered>> {
        let hit = self.valid_entry(app, key, stamp);
        app.metrics.render_cache_lookup(hit.is_some());
        hit
    }

    fn valid_entry(&self, app: &App, key: &Key, stamp: Stamp) -> Option<Arc<Rendered>> {
        let entry = self.entries.as_ref()?.get(key)?;
        let now = app.clock.now();
        (entry.stamp == stamp && entry.rendered.valid_until.is_none_or(|until| now < until))
            .then(|| entry.rendered.clone())
    }

    /// Keeps a file just rendered (when the cache has room at all).
    fn keep(&self, key: Key, stamp: Stamp, rendered: Rendered) -> Arc<Rendered> {
        let rendered = Arc::new(rendered);
        if let Some(entries) = &self.entries {
            let entry = Entry {
                rendered: rendered.clone(),
                stamp,
            };
            entries.insert(key, Arc::new(entry));
        }
        rendered
    }

    /// Files cached now and the bytes they weigh.
    pub fn usage(&self) -> (usize, u64) {
        self.entries
            .as_ref()
            .map_or((0, 0), |entries| (entries.len(), entries.weight()))
    }
}

/// Read before the inputs: see the module comment.
fn stamp(app: &App, device: u64) -> Stamp {
    Stamp {
        store: app.store.revision(),
        templates: app.templates.revision(),
        device,
    }
}

fn device_key(vendor: &dyn Vendor, device: &DeviceSnapshot, base_url: &str) -> Key {
    Key::Device {
        mac: device.record.mac,
        vendor: vendor.id(),
        base_url: base_url.to_string(),
    }
}
