//! The sites the benchmark serves, written straight into a deskprov database with deskprov's
//! own store and record types: the records are what the admin API writes, without spending
//! minutes in the API for 100,000 of them.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::path::Path;

use deskprov::domain::{DisplayName, Extension, Mac, ModelId, Pin, Secret, SipPassword, SipUser};
use deskprov::hotdesk::hashing::Hasher;
use deskprov::model::{DeviceRecord, UserRecord};
use deskprov::ops::restore::put_records;
use deskprov::settings::Settings;
use deskprov::store::Store;

/// A phone model as it asks for its files: its User-Agent (with `{mac}`/`{MAC}`/`{mac:}` for
/// the MAC in lower hex, upper hex, or lower hex with colons), the common file it fetches
/// first and its own file (with the same placeholders).
pub struct Model {
    pub vendor: &'static str,
    pub model: &'static str,
    pub oui: [u8; 3],
    pub user_agent: &'static str,
    pub common_file: &'static str,
    pub device_file: &'static str,
}

/// One desk phone per vendor, in the forms the integration tests confirm (tests/integration/
/// vendors.rs); the User-Agents are real ones (fixtures/user-agents.tsv).
pub const MODELS: &[Model] = &[
    Model {
        vendor: "yealink",
        model: "T54W",
        oui: [0x00, 0x15, 0x65],
        user_agent: "Yealink SIP-T54W 96.86.0.100 {mac:}",
        common_file: "/y000000000096.cfg",
        device_file: "/{mac}.cfg",
    },
    Model {
        vendor: "polycom",
        model: "VVX450",
        oui: [0x64, 0x16, 0x7f],
        user_agent: "FileTransport PolycomVVX-VVX_450-UA/6.4.6.2648 Type/Application",
        common_file: "/polycom-common.cfg",
        device_file: "/{mac}-deskprov.cfg",
    },
    Model {
        vendor: "cisco",
        model: "CP-8851-3PCC",
        oui: [0xd0, 0xec, 0x35],
        user_agent: "Cisco-CP-8851-3PCC/11.3.7 ({mac})",
        common_file: "/8851-3PCC.xml",
        device_file: "/cisco-{mac}.xml",
    },
    Model {
        vendor: "snom",
        model: "D785",
        oui: [0x00, 0x04, 0x13],
        user_agent: "Mozilla/4.0 (compatible; snomD785-SIP 10.1.73.16 2010.12-00004-g9ba52f5 {MAC} SXM:0 UXM:0)",
        common_file: "/snomD785.htm",
        device_file: "/snomD785-{MAC}.htm",
    },
    Model {
        vendor: "grandstream",
        model: "GRP2614",
        oui: [0xc0, 0x74, 0xad],
        user_agent: "Grandstream Model HW GRP2614 SW 1.0.5.15 DevId {mac}",
        common_file: "/cfg.xml",
        device_file: "/cfg{mac}.xml",
    },
    Model {
        vendor: "fanvil",
        model: "X4U",
        oui: [0x0c, 0x38, 0x3e],
        user_agent: "Fanvil X4U 2.12.16.17 {mac}",
        common_file: "/f0X4hw1.100.cfg",
        device_file: "/{mac}.cfg",
    },
];

/// The hot-desk phones of the login storm are Yealinks (the first model).
pub const HOTDESK_MODEL: usize = 0;
/// Every hot-desk user's PIN.
pub const PIN: &str = "739164";
/// Source addresses phones connect from: device `i` always from `home_address(i)`, as a real
/// phone keeps its address, so deskprov's last-address record does not churn.
pub const HOME_ADDRESSES: u32 = 64;

pub fn home_address(index: usize) -> Ipv4Addr {
    Ipv4Addr::new(127, 1, 0, 1 + (index as u32 % HOME_ADDRESSES) as u8)
}

/// One seeded phone, with what the load generator needs to play it.
#[derive(Clone)]
pub struct Phone {
    pub index: usize,
    pub user_agent: String,
    pub common_path: String,
    pub device_path: String,
    /// The device's company phonebook, in its vendor's format.
    pub phonebook_path: String,
    /// `Basic ...` with the device's provisioning credentials.
    pub authorization: String,
    /// Set on hot-desk phones: the extension that logs in there.
    pub hotdesk_extension: Option<String>,
}

pub struct Site {
    pub phones: Vec<Phone>,
}

fn fill(template: &str, mac: Mac) -> String {
    let hex = mac.to_hex();
    let colons: Vec<String> = hex
        .as_bytes()
        .chunks(2)
        .map(|pair| String::from_utf8_lossy(pair).into_owned())
        .collect();
    template
        .replace("{mac:}", &colons.join(":"))
        .replace("{mac}", &hex)
        .replace("{MAC}", &mac.to_hex_upper())
}

fn mac_of(model: &Model, index: usize) -> Mac {
    let i = index as u32;
    let [a, b, c] = model.oui;
    let text = format!(
        "{a:02x}{b:02x}{c:02x}{:02x}{:02x}{:02x}",
        0xa0 | (i >> 16) as u8,
        (i >> 8) as u8,
        i as u8
    );
    Mac::parse(&text).expect("a 12-digit hex MAC")
}

/// Writes `devices` registered devices and as many users into a new database at `dir`: each
/// device but the hot-desk ones has its user on line 1; `hotdesk` Yealinks have no fixed user
/// and as many users with a PIN log in there.
pub async fn seed(dir: &Path, devices: usize, hotdesk: usize) -> Result<Site, String> {
    let store = Store::open(dir).map_err(|e| format!("opening {}: {e}", dir.display()))?;
    let now = now();
    let settings = Settings {
        sip_server: Some("pbx.example.com".into()),
        ntp_server: Some("pool.ntp.org".into()),
        time_zone: Some("Europe/Berlin".into()),
        language: Some("en".into()),
        ..Settings::default()
    };
    put_records(&store, Some(&settings), &[], &[])
        .await
        .map_err(|e| e.to_string())?;
    let pin = Pin::parse(PIN).map_err(|e| e.to_string())?;
    let pin_hash = Hasher::new(1).hash(&pin).await.map_err(|e| e.to_string())?;

    let mut phones = Vec::with_capacity(devices);
    let mut batch_users = Vec::new();
    let mut batch_devices = Vec::new();
    for index in 0..devices {
        let is_hotdesk = index < hotdesk;
        let model = if is_hotdesk {
            &MODELS[HOTDESK_MODEL]
        } else {
            &MODELS[index % MODELS.len()]
        };
        let mac = mac_of(model, index);
        let extension = format!("{}", 100_000 + index);
        let user = user(&extension, index, now, is_hotdesk.then(|| pin_hash.clone()))?;
        let password = Secret::generate(20);
        let mut device = DeviceRecord::blank(mac, now, password.clone());
        device.vendor = Some(model.vendor.into());
        device.model = Some(ModelId::parse(model.model).map_err(|e| e.to_string())?);
        // Claimed long ago: from now on only its credentials get the config.
        device.claimed_at = Some(now);
        device.hotdesk = is_hotdesk;
        if !is_hotdesk {
            device.lines = BTreeMap::from([(1, user.extension.clone())]);
        }
        let credentials = format!("{}:{}", device.provisioning_user, password.expose());
        phones.push(Phone {
            index,
            user_agent: fill(model.user_agent, mac),
            common_path: fill(model.common_file, mac),
            device_path: fill(model.device_file, mac),
            phonebook_path: format!("/phonebook/{}.xml", mac.to_hex()),
            authorization: format!("Basic {}", base64_encode(credentials.as_bytes())),
            hotdesk_extension: is_hotdesk.then(|| extension.clone()),
        });
        batch_users.push(user);
        batch_devices.push(device);
        if batch_devices.len() == 5000 || index + 1 == devices {
            put_records(&store, None, &batch_users, &batch_devices)
                .await
                .map_err(|e| e.to_string())?;
            batch_users.clear();
            batch_devices.clear();
        }
    }
    Ok(Site { phones })
}

fn user(
    extension: &str,
    index: usize,
    now: i64,
    pin_hash: Option<Secret>,
) -> Result<UserRecord, String> {
    let err = |e: deskprov::domain::InvalidInput| e.to_string();
    Ok(UserRecord {
        extension: Extension::parse(extension).map_err(err)?,
        display_name: DisplayName::parse(&format!("Bench User {index}")).map_err(err)?,
        sip_user: SipUser::parse(extension).map_err(err)?,
        sip_password: SipPassword::generate(),
        created_at: now,
        email: None,
        pin_hash,
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
    })
}

fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}
