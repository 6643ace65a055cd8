//! The storage interface's promises, written once against the traits and run against every
//! backend: the embedded sled store, the in-memory one and PostgreSQL (a real server, see
//! postgres.rs); and what only the shared backend promises: nodes on one database see each
//! other's writes, a newer schema is refused.

use deskprov::domain::{Extension, Mac, Role, Secret};
use deskprov::model::{
    AccountRecord, AuditRecord, ConsoleSession, DeviceRecord, ImportRecord, ImportState,
    LinkPurpose, MailRecord, MailState, TokenRecord, UnregisteredLimits, UnregisteredRecord,
    UserRecord,
};
use deskprov::store::memory::MemoryBackend;
use deskprov::store::sled::SledBackend;
use deskprov::store::{Backend, Reads, StoreError, Writes};

fn device(mac: &str) -> DeviceRecord {
    DeviceRecord::blank(Mac::parse(mac).unwrap(), 0, Secret::generate(8))
}

pub(crate) fn user(extension: &str) -> UserRecord {
    UserRecord {
        extension: Extension::parse(extension).unwrap(),
        display_name: deskprov::domain::DisplayName::parse("Storage Suite").unwrap(),
        sip_user: deskprov::domain::SipUser::parse(extension).unwrap(),
        sip_password: Secret::generate(20),
        created_at: 0,
        email: None,
        pin_hash: None,
        pin_change_required: false,
        may_hotdesk: true,
        locked: false,
        hotdesk_at: None,
        first_name: None,
        last_name: None,
        language: None,
        keys: Default::default(),
        phonebook_hidden: false,
        portal_password_hash: None,
        password_change_required: false,
        portal_link_sha256: None,
    }
}

/// Every rule of the interface, against one backend.
async fn suite(b: &dyn Backend) {
    insert_is_once_and_update_is_atomic(b).await;
    pages_are_in_key_order_and_say_whether_more_remain(b).await;
    a_page_with_the_text_its_filter_holds_keeps_the_same_devices(b).await;
    a_needle_page_follows_its_cursor_past_skipped_records(b).await;
    the_revision_grows_with_what_configs_depend_on(b).await;
    unregistered_is_bounded_and_evicts_the_stalest(b).await;
    a_source_beyond_its_quota_evicts_only_its_own_entries(b).await;
    pruning_keeps_a_banned_source_until_its_bans_are_old(b).await;
    the_audit_trail_pages_newest_first_and_trims_phone_events_first(b).await;
    trimming_removes_floodable_records_before_one_off_security_records(b).await;
    login_tokens_find_their_device(b).await;
    devices_with_sessions_follow_every_kind_of_device_write(b).await;
    a_revoked_admin_token_stays_revoked_when_its_use_is_noted(b).await;
    accounts_are_unique_by_name_and_sessions_are_found_by_hash_and_holder(b).await;
    uploads_are_bounded_per_device(b).await;
    import_jobs_page_newest_first_keep_the_newest_and_go_with_their_rows(b).await;
    the_outbox_grows_in_queueing_order_and_trims_only_what_is_done(b).await;
}

pub(crate) fn mail(state: MailState, created_at: i64) -> MailRecord {
    MailRecord {
        id: 0,
        message_id: format!("<{created_at}@example.com>"),
        recipient: "someone@example.com".into(),
        user: Some(Extension::parse("1001").unwrap()),
        kind: "welcome".into(),
        language: "en".into(),
        subject: "s".into(),
        text: "t {link}".into(),
        html: "<p>{link}</p>".into(),
        link: Some(LinkPurpose::Welcome),
        state,
        attempts: 0,
        last_answer: None,
        next_attempt_at: created_at,
        created_at,
        sent_at: None,
    }
}

async fn the_outbox_grows_in_queueing_order_and_trims_only_what_is_done(b: &dyn Backend) {
    let old_sent = b.queue_mail(&mail(MailState::Sent, 100)).await.unwrap();
    let old_queued = b.queue_mail(&mail(MailState::Queued, 100)).await.unwrap();
    let old_failed = b.queue_mail(&mail(MailState::Failed, 100)).await.unwrap();
    let new_sent = b.queue_mail(&mail(MailState::Sent, 900)).await.unwrap();
    assert!(old_sent < old_queued && old_queued < old_failed && old_failed < new_sent);
    let due = b.mails_due(1000, 10).await.unwrap();
    assert_eq!(due.iter().map(|m| m.id).collect::<Vec<_>>(), [old_queued]);
    assert_eq!(
        due[0].link,
        Some(LinkPurpose::Welcome),
        "the link's purpose is kept"
    );
    let later = MailRecord {
        next_attempt_at: 2000,
        ..due[0].clone()
    };
    assert!(b.replace_mail(&later).await.unwrap());
    assert!(
        b.mails_due(1000, 10).await.unwrap().is_empty(),
        "not due before its time"
    );
    assert_eq!(b.mails_due(2000, 10).await.unwrap().len(), 1);
    assert_eq!(
        b.trim_mails(500).await.unwrap(),
        2,
        "the old sent and failed mails"
    );
    let (left, more) = b.mails_page(None, 10, None).await.unwrap();
    assert_eq!(
        left.iter().map(|m| m.id).collect::<Vec<_>>(),
        [new_sent, old_queued]
    );
    assert!(!more);
    assert_eq!(b.trim_mails(500).await.unwrap(), 0);
    let sent = MailRecord {
        state: MailState::Sent,
        ..b.mail(old_queued).await.unwrap().unwrap()
    };
    assert!(b.replace_mail(&sent).await.unwrap());
    assert!(
        b.mails_due(i64::MAX, 10).await.unwrap().is_empty(),
        "a sent mail is not due"
    );
}

async fn insert_is_once_and_update_is_atomic(b: &dyn Backend) {
    let d = device("001565000001");
    assert!(b.insert_device(&d).await.unwrap());
    assert!(!b.insert_device(&d).await.unwrap());
    let updated = b
        .update_device(d.mac, &mut |r| r.firmware = Some("1.2".into()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(updated.firmware.as_deref(), Some("1.2"));
    let stored = b.device(d.mac).await.unwrap().unwrap();
    assert_eq!(stored.firmware.as_deref(), Some("1.2"));
    let snapshot = b.device_snapshot(d.mac).await.unwrap().unwrap();
    assert_eq!(snapshot.record, stored);
    assert_eq!(snapshot.fingerprint, stored.render_fingerprint());
    let missing = Mac::parse("001565000002").unwrap();
    assert!(
        b.update_device(missing, &mut |_| ())
            .await
            .unwrap()
            .is_none()
    );
    assert!(b.remove_device(d.mac).await.unwrap());
    assert!(!b.remove_device(d.mac).await.unwrap());
    assert!(b.device_snapshot(d.mac).await.unwrap().is_none());
}

/// The list's filters name the text their devices hold, for a backend to skip the others
/// undecoded: a model in any case (stored upper-case), a profile, a line's extension.
async fn a_page_with_the_text_its_filter_holds_keeps_the_same_devices(b: &dyn Backend) {
    use deskprov::domain::{ModelId, ProfileName};
    use deskprov::ops::device_list::DeviceFilter;
    let with = |mac: &str, model: &str, profile: &str, extension: &str| {
        let mut d = device(mac);
        d.model = Some(ModelId::parse(model).unwrap());
        d.profile = Some(ProfileName::parse(profile).unwrap());
        d.lines.insert(1, Extension::parse(extension).unwrap());
        d
    };
    let mut label_only = with("001565000023", "VVX450", "Empfang", "2001");
    label_only.label = Some(deskprov::domain::Label::parse("T54W-Ersatz am Empfang").unwrap());
    let records = [
        with("001565000021", "t54w", "Lager", "1001"),
        with("001565000022", "VVX450", "Lager", "10010"),
        label_only,
        with("001565000024", "T54W", "Empfang", "1002"),
    ];
    b.put_devices(&records).await.unwrap();
    let macs =
        |page: &[DeviceRecord]| -> Vec<String> { page.iter().map(|d| d.mac.to_string()).collect() };
    let (mut by_model, mut by_profile) = (DeviceFilter::default(), DeviceFilter::default());
    by_model.model = Some("t54W".into());
    by_profile.profile = Some("Lager".into());
    for filter in [by_model, by_profile] {
        let keep = |d: &DeviceRecord| filter.keeps(d, 0, None);
        let held = filter.held_text().unwrap();
        let needle = deskprov::store::Needle::new(&held);
        assert!(needle.is_some(), "{held} qualifies");
        let (skipping, _) = b.devices_page(None, 10, needle, &keep).await.unwrap();
        let (decoding, _) = b.devices_page(None, 10, None, &keep).await.unwrap();
        assert_eq!(macs(&skipping), macs(&decoding), "{filter:?}");
        assert_eq!(decoding.len(), 2, "{filter:?}");
    }
    let on_1001 = |d: &DeviceRecord| d.lines.values().any(|e| e.as_str() == "1001");
    let needle = deskprov::store::Needle::new("1001");
    let (phones, _) = b.devices_page(None, 10, needle, &on_1001).await.unwrap();
    assert_eq!(macs(&phones), ["001565000021"]);
    for record in &records {
        b.remove_device(record.mac).await.unwrap();
    }
}

/// Pages of 5 through 150 devices, one in ten of the model: more than a database batch is
/// passed over between two kept ones.
async fn a_needle_page_follows_its_cursor_past_skipped_records(b: &dyn Backend) {
    use deskprov::domain::ModelId;
    let records: Vec<DeviceRecord> = (0..150)
        .map(|i| {
            let mut d = device(&format!("0015651{i:05}"));
            let model = if i % 10 == 9 { "T54W" } else { "VVX450" };
            d.model = Some(ModelId::parse(model).unwrap());
            d
        })
        .collect();
    b.put_devices(&records).await.unwrap();
    let is_t54w = |d: &DeviceRecord| d.model.as_ref().is_some_and(|m| m.as_str() == "T54W");
    let (mut kept, mut after, mut pages) = (Vec::new(), None, 0);
    loop {
        let needle = deskprov::store::Needle::new("T54W");
        let (page, more) = b.devices_page(after, 5, needle, &is_t54w).await.unwrap();
        pages += 1;
        after = page.last().map(|d| d.mac);
        kept.extend(page.into_iter().map(|d| d.mac));
        if !more {
            break;
        }
    }
    let expected: Vec<Mac> = records
        .iter()
        .filter(|d| is_t54w(d))
        .map(|d| d.mac)
        .collect();
    assert_eq!(kept, expected);
    assert_eq!(
        pages, 3,
        "15 devices, 5 a page, the last one says no more remain"
    );
    for record in &records {
        b.remove_device(record.mac).await.unwrap();
    }
}

async fn pages_are_in_key_order_and_say_whether_more_remain(b: &dyn Backend) {
    let macs = ["001565000013", "001565000011", "001565000012"];
    let records: Vec<DeviceRecord> = macs.iter().map(|m| device(m)).collect();
    b.put_devices(&records).await.unwrap();
    let (first, more) = b.devices_page(None, 2, None, &|_| true).await.unwrap();
    let seen: Vec<String> = first.iter().map(|d| d.mac.to_string()).collect();
    assert_eq!(seen, ["001565000011", "001565000012"]);
    assert!(more);
    let after = Some(first[1].mac);
    let (rest, more) = b.devices_page(after, 2, None, &|_| true).await.unwrap();
    assert_eq!(rest.len(), 1);
    assert!(!more);
    let (odd, _) = b
        .devices_page(None, 10, None, &|d| d.mac.octets()[5] % 2 == 1)
        .await
        .unwrap();
    assert_eq!(odd.len(), 2);
    for mac in macs {
        b.remove_device(Mac::parse(mac).unwrap()).await.unwrap();
    }
    b.put_users(&[user("1002"), user("1001"), user("1003")])
        .await
        .unwrap();
    let (users, more) = b.users_page(None, 2, &|_| true).await.unwrap();
    assert_eq!(users[0].extension.as_str(), "1001");
    assert!(more);
    let (users, more) = b
        .users_page(Some(&users[1].extension), 2, &|_| true)
        .await
        .unwrap();
    assert_eq!(users[0].extension.as_str(), "1003");
    assert!(!more);
    let (odd, more) = b
        .users_page(None, 1, &|u| u.extension.as_str() != "1002")
        .await
        .unwrap();
    assert_eq!(odd[0].extension.as_str(), "1001");
    assert!(more, "1003 remains after 1002 was passed over");
}

async fn the_revision_grows_with_what_configs_depend_on(b: &dyn Backend) {
    let before = b.revision();
    let extension = Extension::parse("1001").unwrap();
    b.update_user(&extension, &mut |u| u.pin_change_required = true)
        .await
        .unwrap();
    assert_eq!(b.revision(), before, "a PIN flag changes no config");
    b.update_user(&extension, &mut |u| {
        u.display_name = deskprov::domain::DisplayName::parse("Renamed").unwrap()
    })
    .await
    .unwrap();
    assert!(b.revision() > before, "a name is on the phone's display");
    let before = b.revision();
    let mut settings = b.settings().await.unwrap();
    settings.sip_server = Some("pbx.example.com".into());
    b.put_settings(&settings).await.unwrap();
    assert!(b.revision() > before);
    assert_eq!(
        b.settings().await.unwrap().sip_server.as_deref(),
        Some("pbx.example.com")
    );
    shared_key_layers_round_trip_and_count_as_config(b).await;
}

async fn shared_key_layers_round_trip_and_count_as_config(b: &dyn Backend) {
    use deskprov::keys::{KeyLayer, SharedKeys};
    let keys: KeyLayer = serde_json::from_value(serde_json::json!([
        {"position": 3, "type": "blf", "value": "1002"},
    ]))
    .unwrap();
    for layer in [SharedKeys::Site, SharedKeys::Model("T46S")] {
        assert!(b.shared_keys(&layer).await.unwrap().is_empty());
        let before = b.revision();
        b.put_shared_keys(&layer, &keys).await.unwrap();
        assert!(b.revision() > before, "keys are in the configs");
        assert_eq!(b.shared_keys(&layer).await.unwrap(), keys);
    }
    assert!(
        b.shared_keys(&SharedKeys::Model("T48S"))
            .await
            .unwrap()
            .is_empty(),
        "each model has its own layer"
    );
    b.put_shared_keys(&SharedKeys::Site, &KeyLayer::default())
        .await
        .unwrap();
    assert!(b.shared_keys(&SharedKeys::Site).await.unwrap().is_empty());
}

fn sighting(i: u8, seen: i64, source: &str) -> UnregisteredRecord {
    UnregisteredRecord {
        mac: Mac::from_octets([0, 0x15, 0x65, 0, 1, i]),
        vendor: None,
        model: None,
        firmware: None,
        first_seen: seen,
        last_seen: seen,
        last_address: None,
        requests: 1,
        source: Some(source.into()),
    }
}

async fn kept_unregistered(b: &dyn Backend) -> Vec<u8> {
    let mut kept: Vec<u8> = b
        .unregistered()
        .await
        .unwrap()
        .iter()
        .map(|r| r.mac.octets()[5])
        .collect();
    kept.sort();
    kept
}

async fn unregistered_is_bounded_and_evicts_the_stalest(b: &dyn Backend) {
    let limits = UnregisteredLimits {
        total: 4,
        per_source: 4,
    };
    for i in 0..10u8 {
        let fresh = sighting(i, i as i64, "192.0.2.1");
        b.note_unregistered(&fresh, &mut |_| {}, limits)
            .await
            .unwrap();
    }
    assert_eq!(kept_unregistered(b).await, vec![6, 7, 8, 9]);
    // Seen again: no longer the stalest; the change applies to the stored entry.
    let again = sighting(6, 20, "192.0.2.1");
    b.note_unregistered(&again, &mut |r| r.last_seen = 20, limits)
        .await
        .unwrap();
    b.note_unregistered(&sighting(10, 21, "192.0.2.1"), &mut |_| {}, limits)
        .await
        .unwrap();
    assert_eq!(kept_unregistered(b).await, vec![6, 8, 9, 10]);
    assert!(
        b.remove_unregistered(Mac::from_octets([0, 0x15, 0x65, 0, 1, 8]))
            .await
            .unwrap()
    );
    b.note_unregistered(&sighting(11, 22, "192.0.2.1"), &mut |_| {}, limits)
        .await
        .unwrap();
    assert_eq!(kept_unregistered(b).await, vec![6, 9, 10, 11]);
}

async fn a_source_beyond_its_quota_evicts_only_its_own_entries(b: &dyn Backend) {
    for left in b.unregistered().await.unwrap() {
        b.remove_unregistered(left.mac).await.unwrap();
    }
    let limits = UnregisteredLimits {
        total: 10,
        per_source: 3,
    };
    let phone = sighting(0, 0, "192.0.2.9");
    b.note_unregistered(&phone, &mut |_| {}, limits)
        .await
        .unwrap();
    for i in 1..50u8 {
        let flood = sighting(i, i as i64, "192.0.2.66");
        b.note_unregistered(&flood, &mut |_| {}, limits)
            .await
            .unwrap();
    }
    assert_eq!(kept_unregistered(b).await, vec![0, 47, 48, 49]);
    // A restore notes every entry without bounds (usize::MAX): none is evicted.
    let unbounded = UnregisteredLimits {
        total: usize::MAX,
        per_source: usize::MAX,
    };
    for i in 50..60u8 {
        let restored = sighting(i, i as i64, "192.0.2.66");
        b.note_unregistered(&restored, &mut |_| {}, unbounded)
            .await
            .unwrap();
    }
    let expected: Vec<u8> = [0, 47, 48, 49].into_iter().chain(50..60).collect();
    assert_eq!(kept_unregistered(b).await, expected);
}

async fn pruning_keeps_a_banned_source_until_its_bans_are_old(b: &dyn Backend) {
    assert!(!b.any_ban_reaches(4000));
    b.update_source("192.0.2.7", &mut |r| {
        r.bans = 1;
        r.last_ban_at = 1000;
        r.banned_until = 4600;
    })
    .await
    .unwrap();
    assert!(b.any_ban_reaches(4000), "the ban is noted");
    assert!(!b.any_ban_reaches(4600));
    b.update_source("192.0.2.8", &mut |r| {
        r.refused_macs
            .push((Mac::parse("001565000001").unwrap(), 1000))
    })
    .await
    .unwrap();
    // The ban is over and nothing is counting, but a new ban must still double.
    assert_eq!(b.prune_sources(5000, 300, 86_400).await.unwrap(), 1);
    assert!(b.source("192.0.2.7").await.unwrap().is_some());
    assert!(b.source("192.0.2.8").await.unwrap().is_none());
    assert_eq!(
        b.prune_sources(1000 + 86_400, 300, 86_400).await.unwrap(),
        1
    );
    assert!(b.source("192.0.2.7").await.unwrap().is_none());
}

fn event(kind: &str, at: i64) -> AuditRecord {
    AuditRecord {
        id: 0,
        at,
        kind: kind.into(),
        actor: "suite".into(),
        actor_kind: None,
        actor_role: None,
        source: None,
        subject: Some("001565000001".into()),
        detail: format!("{kind} at {at}"),
    }
}

async fn the_audit_trail_pages_newest_first_and_trims_phone_events_first(b: &dyn Backend) {
    let mut ids = Vec::new();
    for (i, kind) in [
        "admin_change",
        "config_refused",
        "config_refused",
        "admin_change",
    ]
    .iter()
    .enumerate()
    {
        ids.push(b.append_audit(event(kind, i as i64)).await.unwrap().id);
    }
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "ids grow: {ids:?}");
    let (newest, more) = b.audit(None, 3, &|_| true).await.unwrap();
    assert_eq!(newest[0].id, ids[3]);
    assert!(more);
    let (older, more) = b.audit(Some(newest[2].id), 3, &|_| true).await.unwrap();
    assert_eq!(older.len(), 1);
    assert!(!more);
    let (changes, _) = b
        .audit(None, 10, &|r| r.kind == "admin_change")
        .await
        .unwrap();
    assert_eq!(changes.len(), 2);
    assert_eq!(b.trim_audit(2, &rank).await.unwrap(), 2);
    let (left, _) = b.audit(None, 10, &|_| true).await.unwrap();
    assert!(left.iter().all(|r| r.kind == "admin_change"), "{left:?}");
}

/// Floodable kinds first, then one-off security events, admin changes last.
fn rank(kind: &str) -> u8 {
    match kind {
        "config_refused" | "unknown_login_token" => 0,
        "admin_change" => 2,
        _ => 1,
    }
}

async fn trimming_removes_floodable_records_before_one_off_security_records(b: &dyn Backend) {
    b.trim_audit(0, &rank).await.unwrap();
    let claimed = b.append_audit(event("device_claimed", 0)).await.unwrap().id;
    let change = b.append_audit(event("admin_change", 1)).await.unwrap().id;
    for at in 2..8 {
        b.append_audit(event("unknown_login_token", at))
            .await
            .unwrap();
    }
    let newest_flood = b.append_audit(event("config_refused", 8)).await.unwrap().id;
    assert_eq!(b.trim_audit(3, &rank).await.unwrap(), 6);
    let (left, _) = b.audit(None, 10, &|_| true).await.unwrap();
    let mut kept: Vec<u64> = left.iter().map(|r| r.id).collect();
    kept.sort();
    assert_eq!(kept, vec![claimed, change, newest_flood], "{left:?}");
    assert_eq!(b.trim_audit(1, &rank).await.unwrap(), 2);
    let (left, _) = b.audit(None, 10, &|_| true).await.unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].kind, "admin_change");
}

async fn a_revoked_admin_token_stays_revoked_when_its_use_is_noted(b: &dyn Backend) {
    let token = TokenRecord {
        name: "suite".into(),
        sha256: "ab".repeat(32),
        created_at: 1,
        role: Role::Helpdesk,
        reads_secrets: false,
        expires_at: Some(100),
        last_used_at: None,
    };
    assert!(b.insert_token(&token).await.unwrap());
    b.touch_token("suite", 50).await.unwrap();
    let stored = b.tokens().await.unwrap();
    assert_eq!(
        stored,
        vec![TokenRecord {
            last_used_at: Some(50),
            ..token
        }]
    );
    assert!(b.remove_token("suite").await.unwrap());
    b.touch_token("suite", 60).await.unwrap();
    assert!(b.tokens().await.unwrap().is_empty());
}

async fn accounts_are_unique_by_name_and_sessions_are_found_by_hash_and_holder(b: &dyn Backend) {
    let name = |n: &str| deskprov::domain::Username::parse(n).unwrap();
    let account = AccountRecord {
        username: name("anna"),
        password_hash: Secret::from_trusted("$argon2id$v=19$stub".into()),
        role: Role::Helpdesk,
        reads_secrets: false,
        disabled: false,
        password_change_required: true,
        language: None,
        created_at: 1,
        password_changed_at: 1,
        totp_secret: None,
        totp_pending: None,
        totp_last_step: 0,
        totp_required: false,
    };
    assert!(b.insert_account(&account).await.unwrap());
    assert!(!b.insert_account(&account).await.unwrap());
    let changed = AccountRecord {
        language: Some("de".into()),
        ..account.clone()
    };
    assert!(b.replace_account(&changed).await.unwrap());
    let stranger = AccountRecord {
        username: name("nobody"),
        ..account.clone()
    };
    assert!(!b.replace_account(&stranger).await.unwrap());
    assert_eq!(
        b.account(&name("anna")).await.unwrap(),
        Some(changed.clone())
    );
    assert_eq!(b.accounts().await.unwrap(), vec![changed]);

    let session = |id: &str, holder: &str, at: i64| ConsoleSession {
        id_sha256: id.into(),
        username: name(holder),
        csrf: Secret::from_trusted(format!("csrf-{id}")),
        created_at: at,
        last_seen_at: at,
    };
    for s in [
        session("b2", "anna", 20),
        session("a1", "anna", 10),
        session("c3", "otto", 5),
    ] {
        b.put_console_session(&s).await.unwrap();
    }
    assert_eq!(
        b.console_session("a1").await.unwrap(),
        Some(session("a1", "anna", 10))
    );
    let held: Vec<String> = b
        .console_sessions_of(&name("anna"))
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.id_sha256)
        .collect();
    assert_eq!(held, ["a1", "b2"], "oldest first, only anna's");
    assert!(b.remove_console_session("a1").await.unwrap());
    assert!(!b.remove_console_session("a1").await.unwrap());
    assert_eq!(b.console_session("a1").await.unwrap(), None);
}

async fn login_tokens_find_their_device(b: &dyn Backend) {
    let mut d = device("001565000021");
    let token = Secret::generate(32);
    d.login_token = Some(token.clone());
    b.insert_device(&d).await.unwrap();
    b.index_login_token(&token, d.mac).await.unwrap();
    let found = b.device_by_login_token(token.expose()).await.unwrap();
    assert_eq!(found.map(|f| f.mac), Some(d.mac));
    b.unindex_login_token(&token).await.unwrap();
    assert!(
        b.device_by_login_token(token.expose())
            .await
            .unwrap()
            .is_none()
    );
}

fn logged_in(mut device: DeviceRecord, extension: &str) -> DeviceRecord {
    let session = deskprov::model::Session {
        extension: Extension::parse(extension).unwrap(),
        since: 1_000,
    };
    device.sessions.insert(1, session);
    device
}

async fn with_sessions(b: &dyn Backend) -> Vec<Mac> {
    let found = b.devices_with_sessions().await.unwrap();
    found.iter().map(|d| d.mac).collect()
}

fn macs<const N: usize>(macs: [&str; N]) -> Vec<Mac> {
    macs.map(|m| Mac::parse(m).unwrap()).to_vec()
}

/// The hot-desk sweeper's list: exactly the devices someone is logged in at, in MAC order,
/// whichever write gave or took their sessions (the suite's other devices have none).
async fn devices_with_sessions_follow_every_kind_of_device_write(b: &dyn Backend) {
    let (a, c, d, e) = (
        "0015650000a1",
        "0015650000a3",
        "0015650000a4",
        "0015650000a5",
    );
    assert!(b.insert_device(&device(a)).await.unwrap());
    assert!(
        b.insert_device(&logged_in(device(c), "1001"))
            .await
            .unwrap()
    );
    assert_eq!(with_sessions(b).await, macs([c]));

    let login = |d: &mut DeviceRecord| *d = logged_in(d.clone(), "1002");
    b.update_device(Mac::parse(a).unwrap(), &mut { login })
        .await
        .unwrap();
    let logout = |d: &mut DeviceRecord| d.sessions.clear();
    b.update_device(Mac::parse(c).unwrap(), &mut { logout })
        .await
        .unwrap();
    assert_eq!(with_sessions(b).await, macs([a]), "a login and a logout");

    b.put_devices(&[logged_in(device(d), "1003")])
        .await
        .unwrap();
    let keep_stored_sessions =
        |stored: &mut DeviceRecord, given: &DeviceRecord| stored.label.clone_from(&given.label);
    let merged = [device(a), logged_in(device(e), "1004")];
    b.merge_devices(&merged, keep_stored_sessions)
        .await
        .unwrap();
    assert_eq!(
        with_sessions(b).await,
        macs([a, d, e]),
        "records put as given, a merge that keeps the stored sessions, a new one merged in"
    );

    assert!(b.remove_device(Mac::parse(a).unwrap()).await.unwrap());
    assert_eq!(with_sessions(b).await, macs([d, e]), "a removed device");
}

async fn uploads_are_bounded_per_device(b: &dyn Backend) {
    let mac = Mac::parse("0004f2000001").unwrap();
    b.put_upload(mac, "a.log", &[b'a'; 60], 1, 100)
        .await
        .unwrap();
    b.put_upload(mac, "b.log", &[b'b'; 60], 2, 100)
        .await
        .unwrap();
    let names: Vec<String> = b
        .uploads(mac)
        .await
        .unwrap()
        .into_iter()
        .map(|(n, _, _)| n)
        .collect();
    assert_eq!(names, ["b.log"], "the oldest file went");
    assert_eq!(b.upload(mac, "b.log").await.unwrap().unwrap().len(), 60);
    b.remove_uploads(mac).await.unwrap();
    assert!(b.uploads(mac).await.unwrap().is_empty());
}

#[tokio::test]
async fn the_sled_store_keeps_the_storage_rules() {
    let dir = tempfile::tempdir().unwrap();
    suite(&SledBackend::open(dir.path()).unwrap()).await;
}

/// The sled backend keeps its index of devices with sessions in memory: a store opened again
/// finds them by reading its devices once.
#[tokio::test]
async fn a_reopened_sled_store_still_finds_the_devices_with_sessions() {
    let dir = tempfile::tempdir().unwrap();
    let (a, c) = ("0015650000b1", "0015650000b2");
    {
        let store = SledBackend::open(dir.path()).unwrap();
        store.insert_device(&device(a)).await.unwrap();
        store.insert_device(&device(c)).await.unwrap();
        let login = |d: &mut DeviceRecord| *d = logged_in(d.clone(), "1001");
        store
            .update_device(Mac::parse(c).unwrap(), &mut { login })
            .await
            .unwrap();
        store.flush().await.unwrap();
    }
    let store = reopen_sled(dir.path()).unwrap();
    assert_eq!(with_sessions(&store).await, macs([c]));
}

#[tokio::test]
async fn the_memory_store_keeps_the_storage_rules() {
    suite(&MemoryBackend::new()).await;
}

#[tokio::test]
async fn the_postgres_store_keeps_the_storage_rules() {
    let (backend, _) = crate::postgres::backend().await;
    suite(&backend).await;
}

/// Two nodes on one database: what one writes, the other reads, and what the other keeps in
/// memory (the revision, decoded devices, the latest ban) follows.
#[tokio::test]
async fn two_postgres_nodes_see_each_others_writes() {
    use deskprov::store::postgres::{DatabaseUrl, PgBackend};
    let (a, url) = crate::postgres::backend().await;
    let b = PgBackend::connect(&DatabaseUrl::parse(&url, None, None).unwrap())
        .await
        .unwrap();
    assert_eq!(
        a.nonce_key(),
        b.nonce_key(),
        "one Digest nonce key for the site"
    );
    let record = device("001565000001");
    assert!(a.insert_device(&record).await.unwrap());
    // B knows a new MAC once it hears of it (registered.rs), as it hears of every change.
    let known = eventually(|| async { b.device_snapshot(record.mac).await.unwrap().is_some() });
    assert!(known.await, "B hears of A's new device");
    let seen = b.device_snapshot(record.mac).await.unwrap().unwrap();
    assert_eq!(seen.record.label, None);
    let label = deskprov::domain::Label::parse("Reception").unwrap();
    a.update_device(record.mac, &mut |d| d.label = Some(label.clone()))
        .await
        .unwrap();
    let heard = eventually(|| async {
        let snapshot = b.device_snapshot(record.mac).await.unwrap().unwrap();
        snapshot.record.label.is_some()
    })
    .await;
    assert!(heard, "B's decoded device follows A's write");
    let before = b.revision();
    a.put_settings(&Default::default()).await.unwrap();
    assert!(
        eventually(|| async { b.revision() > before }).await,
        "B's revision grows with A's settings write"
    );
    assert!(!b.any_ban_reaches(100));
    a.update_source("198.51.100.7", &mut |s| s.banned_until = 1_000)
        .await
        .unwrap();
    assert!(
        eventually(|| async { b.any_ban_reaches(100) }).await,
        "B hears of A's ban"
    );
}

/// True once `check` is, within 5 s.
async fn eventually<F, Fut>(check: F) -> bool
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..100 {
        if check().await {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    false
}

/// Migration 2 tags the devices with sessions that an older deskprov wrote untagged.
#[tokio::test]
async fn a_postgres_database_of_schema_1_finds_its_devices_with_sessions_once_migrated() {
    use deskprov::store::postgres::{DatabaseUrl, PgBackend};
    let (backend, url) = crate::postgres::backend().await;
    let (a, c) = ("0015650000c1", "0015650000c2");
    backend.insert_device(&device(a)).await.unwrap();
    backend
        .insert_device(&logged_in(device(c), "1001"))
        .await
        .unwrap();
    drop(backend);
    let client = crate::postgres::client(&url).await;
    client
        .batch_execute(
            "UPDATE records SET tag = NULL WHERE tree = 'devices';
             DELETE FROM schema_migrations WHERE version > 1;",
        )
        .await
        .unwrap();
    let migrated = PgBackend::connect(&DatabaseUrl::parse(&url, None, None).unwrap())
        .await
        .unwrap();
    assert_eq!(with_sessions(&migrated).await, macs([c]));
}

#[tokio::test]
async fn a_postgres_schema_newer_than_this_deskprov_is_refused() {
    use deskprov::store::postgres::{DatabaseUrl, PgBackend};
    let (backend, url) = crate::postgres::backend().await;
    drop(backend);
    let client = crate::postgres::client(&url).await;
    let newer = deskprov::store::postgres::schema::LATEST + 1;
    client
        .execute(
            "INSERT INTO schema_migrations (version) VALUES ($1)",
            &[&newer],
        )
        .await
        .unwrap();
    let refused = PgBackend::connect(&DatabaseUrl::parse(&url, None, None).unwrap()).await;
    let error = refused.err().expect("a newer schema is refused");
    assert!(
        matches!(error, StoreError::DatabaseSchemaTooNew { found, .. } if found == newer),
        "{error}"
    );
    assert!(error.to_string().contains("upgrade deskprov"), "{error}");
}

/// Opens the sled store in `dir` again: sled's flusher thread may hold the file lock for a
/// moment after the last handle drops.
fn reopen_sled(dir: &std::path::Path) -> Result<SledBackend, StoreError> {
    let mut reopened = SledBackend::open(dir);
    for _ in 0..40 {
        match &reopened {
            Err(StoreError::Database(e)) if e.contains("lock") => {
                std::thread::sleep(std::time::Duration::from_millis(50));
                reopened = SledBackend::open(dir);
            }
            _ => break,
        }
    }
    reopened
}

#[tokio::test]
async fn a_sled_store_of_a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    {
        let db = sled::open(dir.path()).unwrap();
        let meta = db.open_tree("meta").unwrap();
        let newer = serde_json::to_vec(&(deskprov::store::SCHEMA_VERSION + 1)).unwrap();
        meta.insert("schema_version", newer).unwrap();
        db.flush().unwrap();
    }
    let reopened = reopen_sled(dir.path());
    assert!(
        matches!(reopened, Err(StoreError::SchemaTooNew { .. })),
        "{:?}",
        reopened.err()
    );
}

async fn import_jobs_page_newest_first_keep_the_newest_and_go_with_their_rows(b: &dyn Backend) {
    let job = |id: u64| ImportRecord::running(id, "users", false, 1, id as i64);
    for id in 1..=5 {
        b.put_import_job(&job(id), 4).await.unwrap();
    }
    let ids = |jobs: &[ImportRecord]| jobs.iter().map(|j| j.id).collect::<Vec<_>>();
    let (first, more) = b.import_jobs(None, 2).await.unwrap();
    assert_eq!((ids(&first), more), (vec![5, 4], true));
    let (rest, more) = b.import_jobs(Some(4), 10).await.unwrap();
    assert_eq!((ids(&rest), more), (vec![3, 2], false), "job 1 was dropped");
    assert!(b.import_job(1).await.unwrap().is_none());

    let done = ImportRecord {
        state: ImportState::Done,
        created: 1,
        ..job(5)
    };
    b.put_users_imported(&[user("7001")], &done, 4)
        .await
        .unwrap();
    assert_eq!(b.import_job(5).await.unwrap(), Some(done));
    assert!(
        b.user(&Extension::parse("7001").unwrap())
            .await
            .unwrap()
            .is_some()
    );
    let mac = "00156577aa01";
    let placed = job(6);
    b.merge_devices_imported(&[device(mac)], |_, _| {}, &placed, 4)
        .await
        .unwrap();
    assert!(b.device(Mac::parse(mac).unwrap()).await.unwrap().is_some());
    assert_eq!(ids(&b.import_jobs(None, 10).await.unwrap().0), [6, 5, 4, 3]);
}
