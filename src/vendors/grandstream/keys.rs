//! Grandstream's programmable keys: the P-values of each key slot per model, and the key-mode
//! code of each key type on each kind of slot.
//!
//! Source for every number here: Grandstream's own config templates, stored in
//! wazo-platform/wazo-provd-plugins under `plugins/wazo-grandstream/docs/config-template/`:
//! `gxp2130_40_60_70_35_config_1.0.11.16.txt` ("Virtual Multi-Purpose Keys", "Physical
//! Multi-Purpose Keys - GXP2130/2160 only", "Extension Boards - GXP2140/GXP2170 only") and
//! `gxp16xx_config_1.0.7.3.txt` ("Programmable Keys": line keys 1-3, MPK 1-8 "GXP1628/1630
//! only"). See docs/vendors/grandstream.md, "Keys".
//!
//! deskprov numbers a phone's keys as one run: its VPKs (line keys) first, then its physical
//! MPKs; expansion-module keys are module M, position 1-40.

use serde_json::{Value, json};

use crate::keys::effective::KeyCapacity;
use crate::keys::{Key, KeyType};

/// The mode list a slot takes; the codes differ between them (see [`mode`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Scale {
    /// GXP21xx fixed VPK: "Key Mode for line VPK" (-1 None, 0 Default, 10 Speed Dial, …).
    Gxp21Fixed,
    /// GXP21xx dynamic VPK: "Key Mode for Dynamic VPK" (-1 None, 0 Speed Dial, …, 22 DND).
    Gxp21Dynamic,
    /// GXP21xx physical MPK and extension-board key: the dynamic list up to 20 ("-1 -- 20").
    Gxp21Mpk,
    /// GXP1628/1630 line key: 0 Line, 10 Speed Dial, 11 BLF, …; no None.
    Gxp16Line,
    /// GXP1620/1625 line key: BLF (11) and Call Park (19) are "for GXP1628/1630 only".
    Gxp16LineBasic,
    /// GXP1628/1630 MPK: 0 Speed dial, 1 BLF, …; no None.
    Gxp16Mpk,
    /// GRP261x fixed VPK: the dynamic list's codes plus "Default (31)", the line.
    GrpFixed,
    /// GRP261x dynamic VPK: the GXP21xx dynamic list's codes (-1 None … 22 DND).
    GrpDynamic,
}

impl Scale {
    const ALL: [Scale; 8] = [
        Scale::Gxp21Fixed,
        Scale::Gxp21Dynamic,
        Scale::Gxp21Mpk,
        Scale::Gxp16Line,
        Scale::Gxp16LineBasic,
        Scale::Gxp16Mpk,
        Scale::GrpFixed,
        Scale::GrpDynamic,
    ];

    fn name(self) -> &'static str {
        match self {
            Scale::Gxp21Fixed => "gxp21_fixed",
            Scale::Gxp21Dynamic => "gxp21_dynamic",
            Scale::Gxp21Mpk => "gxp21_mpk",
            Scale::Gxp16Line => "gxp16_line",
            Scale::Gxp16LineBasic => "gxp16_line_basic",
            Scale::Gxp16Mpk => "gxp16_mpk",
            Scale::GrpFixed => "grp_fixed",
            Scale::GrpDynamic => "grp_dynamic",
        }
    }

    /// The mode a position no key takes gets: None (-1) where the list has it, else the
    /// template's default 0 (GXP16xx: Line on a line key, an empty Speed Dial on an MPK).
    fn cleared(self) -> &'static str {
        match self {
            Scale::Gxp21Fixed
            | Scale::Gxp21Dynamic
            | Scale::Gxp21Mpk
            | Scale::GrpFixed
            | Scale::GrpDynamic => "-1",
            Scale::Gxp16Line | Scale::Gxp16LineBasic | Scale::Gxp16Mpk => "0",
        }
    }
}

/// The key mode of `kind` on a slot of `scale`, if that list has one. Not written anywhere:
/// directed and group pickup (Grandstream picks up through a BLF key and the BLF Call-pickup
/// Prefix, P1347), URL keys (no mode opens a URL; "XML Application" opens the phone's one
/// XML application server), the hot-desk key (hot desking on Grandstream goes through the
/// PBX's IVR), and Line on an MPK or dynamic VPK (no line mode there).
pub(super) fn mode(kind: KeyType, scale: Scale) -> Option<&'static str> {
    use KeyType as K;
    use Scale as S;
    let fixed = |scale: S| matches!(scale, S::Gxp21Fixed | S::Gxp16Line | S::Gxp16LineBasic);
    Some(match (kind, scale) {
        (K::Line, S::GrpFixed) => "31",
        (K::Line, s) if fixed(s) => "0",
        (K::SpeedDial, s) if fixed(s) => "10",
        (K::Blf, S::Gxp21Fixed | S::Gxp16Line) => "11",
        (K::Dtmf, s) if fixed(s) => "15",
        (K::Voicemail, s) if fixed(s) => "16",
        (K::Transfer, s) if fixed(s) => "18",
        (K::Park, S::Gxp21Fixed | S::Gxp16Line) => "19",
        (K::Intercom, s) if fixed(s) => "20",
        (K::Conference, S::Gxp21Fixed) => "22",
        (K::Forward, S::Gxp21Fixed) => "31",
        (K::Dnd, S::Gxp21Fixed) => "32",
        (K::SpeedDial, _) if !fixed(scale) => "0",
        (K::Blf, _) if !fixed(scale) => "1",
        (K::Dtmf, _) if !fixed(scale) => "5",
        (K::Voicemail, _) if !fixed(scale) => "6",
        (K::Transfer, _) if !fixed(scale) => "8",
        (K::Park, _) if !fixed(scale) => "9",
        (K::Intercom, _) if !fixed(scale) => "10",
        (K::Conference, S::Gxp21Dynamic | S::Gxp21Mpk | S::GrpFixed | S::GrpDynamic) => "12",
        (K::Forward, S::Gxp21Dynamic | S::GrpFixed | S::GrpDynamic) => "21",
        (K::Dnd, S::Gxp21Dynamic | S::GrpFixed | S::GrpDynamic) => "22",
        _ => return None,
    })
}

/// A key's codes for the template: its mode on each kind of slot that has one (the template
/// picks the slot's), its account (0-based) and its table (0 the phone, M module M). `null`
/// when no slot of any model takes the type: then the position is written cleared.
pub(super) fn key_values(key: &Key) -> Value {
    if Scale::ALL
        .iter()
        .all(|scale| mode(key.kind, *scale).is_none())
    {
        return Value::Null;
    }
    // Every scale named, `null` where it has no mode: strict templates refuse a missing name.
    let modes: serde_json::Map<String, Value> = Scale::ALL
        .iter()
        .map(|scale| (scale.name().to_string(), json!(mode(key.kind, *scale))))
        .collect();
    json!({
        "modes": modes,
        "account": key.line.saturating_sub(1),
        "table": key.at.module.unwrap_or(0),
    })
}

/// The P-values of one key slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Slot {
    pub(super) mode: u32,
    pub(super) account: u32,
    pub(super) label: u32,
    pub(super) value: u32,
    pub(super) scale: Scale,
}

/// VPK `k` (1-based): 1-6 at P1363+2(k-1) mode, P1364 account, P1465+2(k-1) description,
/// P1466 value; 7 and on at P23800+4(k-7) … +3 (GXP2170 "VPK 48" is P23964-P23967). The
/// GXP16xx line keys 1-3 are the same P-values.
fn vpk(k: u32, scale: Scale) -> Slot {
    if k <= 6 {
        let step = 2 * (k - 1);
        Slot {
            mode: 1363 + step,
            account: 1364 + step,
            label: 1465 + step,
            value: 1466 + step,
            scale,
        }
    } else {
        let base = 23800 + 4 * (k - 7);
        Slot {
            mode: base,
            account: base + 1,
            label: base + 2,
            value: base + 3,
            scale,
        }
    }
}

/// Physical MPK `n`: 1-7 mode P323+(n-1), account P301+3(n-1), name P302, user id P303; 8 at
/// P353-P356; 9-18 at P357+4(n-9) …; 19-24 at P1440+4(n-19) … (GXP2160 "MPK 24" P1460-P1463).
fn mpk(n: u32, scale: Scale) -> Slot {
    let run = |base: u32| Slot {
        mode: base,
        account: base + 1,
        label: base + 2,
        value: base + 3,
        scale,
    };
    match n {
        1..=7 => Slot {
            mode: 323 + (n - 1),
            account: 301 + 3 * (n - 1),
            label: 302 + 3 * (n - 1),
            value: 303 + 3 * (n - 1),
            scale,
        },
        8 => run(353),
        9..=18 => run(357 + 4 * (n - 9)),
        _ => run(1440 + 4 * (n - 19)),
    }
}

/// Extension-board key `k` of module `m`: "EXT MPK" g = 40(m-1)+k at P23000+5(g-1) mode, +1
/// account, +2 description, +3 value ("EXT 2" starts at EXT MPK 41, P23200; EXT MPK 160 is
/// P23795).
fn ext(m: u32, k: u32) -> Slot {
    let base = 23000 + 5 * (40 * (m - 1) + k - 1);
    Slot {
        mode: base,
        account: base + 1,
        label: base + 2,
        value: base + 3,
        scale: Scale::Gxp21Mpk,
    }
}

/// EXT 1-4 of 40 keys each (GXP2200EXT), on the GXP2140 and GXP2170 only.
const EXT_MODULES: u8 = 4;
const EXT_KEYS: u16 = 40;

/// One model's keys: VPKs (or GXP16xx line keys), of which the first `fixed` are fixed,
/// then physical MPKs, and whether it takes extension boards.
#[derive(Debug, Clone, Copy)]
pub(super) struct Layout {
    fixed: u16,
    vpks: u16,
    mpks: u16,
    extension_boards: bool,
    fixed_scale: Scale,
    dynamic_scale: Scale,
    mpk_scale: Scale,
}

const fn gxp21(fixed: u16, vpks: u16, mpks: u16, extension_boards: bool) -> Layout {
    Layout {
        fixed,
        vpks,
        mpks,
        extension_boards,
        fixed_scale: Scale::Gxp21Fixed,
        dynamic_scale: Scale::Gxp21Dynamic,
        mpk_scale: Scale::Gxp21Mpk,
    }
}

/// GRP261x: fixed and dynamic VPKs, then physical MPKs. The template's GBX20 boards (EXT MPK
/// 1-160) name no model that takes them, so no GRP gets a module.
const fn grp(fixed: u16, vpks: u16, mpks: u16) -> Layout {
    Layout {
        fixed,
        vpks,
        mpks,
        extension_boards: false,
        fixed_scale: Scale::GrpFixed,
        dynamic_scale: Scale::GrpDynamic,
        mpk_scale: Scale::GrpDynamic,
    }
}

const fn gxp16(line_keys: u16, mpks: u16, line_scale: Scale) -> Layout {
    Layout {
        fixed: line_keys,
        vpks: line_keys,
        mpks,
        extension_boards: false,
        fixed_scale: line_scale,
        dynamic_scale: line_scale,
        mpk_scale: Scale::Gxp16Mpk,
    }
}

/// Per model: the template's "For GXP21x0" VPK blocks (fixed, then dynamic VPKs), its MPK
/// blocks and extension boards; GXP16xx: line keys (GXP1620/1625/1628 two, GXP1630 three, by
/// their data sheets, within the template's line keys 1-3) and MPK 1-8 on GXP1628/1630.
pub(super) const GXP2130: Layout = gxp21(3, 12, 8, false);
pub(super) const GXP2135: Layout = gxp21(8, 32, 0, false);
pub(super) const GXP2140: Layout = gxp21(4, 16, 0, true);
pub(super) const GXP2160: Layout = gxp21(6, 24, 24, false);
pub(super) const GXP2170: Layout = gxp21(12, 48, 0, true);
pub(super) const GXP1620: Layout = gxp16(2, 0, Scale::Gxp16LineBasic);
pub(super) const GXP1628: Layout = gxp16(2, 8, Scale::Gxp16Line);
pub(super) const GXP1630: Layout = gxp16(3, 8, Scale::Gxp16Line);
/// GRP `grp261x_config_1.0.5.15.txt`, one VPK block per model ("For GRP2612" … "For
/// GRP2616": its fixed VPKs, then dynamic ones up to the block's last VPK), and "Physical
/// Multi-Purpose Keys - GRP2614/GRP2616 only" (MPK 1-24; Grandstream's GRP BLF guide names the
/// same two). The GRP2612P/W/G have no block of their own and no row here.
pub(super) const GRP2612: Layout = grp(4, 16, 0);
pub(super) const GRP2613: Layout = grp(6, 24, 0);
pub(super) const GRP2614: Layout = grp(4, 16, 24);
pub(super) const GRP2615: Layout = grp(5, 40, 0);
pub(super) const GRP2616: Layout = grp(6, 24, 24);

pub(super) const LAYOUTS: &[(&str, Layout)] = &[
    ("GXP2130", GXP2130),
    ("GXP2135", GXP2135),
    ("GXP2140", GXP2140),
    ("GXP2160", GXP2160),
    ("GXP2170", GXP2170),
    ("GXP1620", GXP1620),
    ("GXP1625", GXP1620),
    ("GXP1628", GXP1628),
    ("GXP1630", GXP1630),
    ("GRP2612", GRP2612),
    ("GRP2613", GRP2613),
    ("GRP2614", GRP2614),
    ("GRP2615", GRP2615),
    ("GRP2616", GRP2616),
];

pub(super) fn layout(model: &str) -> Option<&'static Layout> {
    LAYOUTS
        .iter()
        .find(|(name, _)| *name == model)
        .map(|(_, layout)| layout)
}

impl Layout {
    /// The model row's key capacity: VPKs and MPKs as one run, and its extension boards.
    pub(super) const fn capacity(&self) -> KeyCapacity {
        let phone = KeyCapacity::keys(self.vpks + self.mpks, 1);
        if self.extension_boards {
            phone.modules(EXT_MODULES, EXT_KEYS)
        } else {
            phone
        }
    }

    /// The slot of phone position `p` (1-based).
    fn phone_slot(&self, p: u16) -> Slot {
        if p <= self.vpks {
            let scale = if p <= self.fixed {
                self.fixed_scale
            } else {
                self.dynamic_scale
            };
            vpk(u32::from(p), scale)
        } else {
            mpk(u32::from(p - self.vpks), self.mpk_scale)
        }
    }

    /// Each slot's P-values by table (0 the phone, then each module) and position (index 0
    /// unused), for the template to look up: Handlebars has no arithmetic.
    pub(super) fn slots(&self) -> Value {
        let table = |slots: Vec<Slot>| {
            let mut entries = vec![Value::Null];
            entries.extend(slots.iter().map(slot_json));
            Value::Array(entries)
        };
        let phone = (1..=self.vpks + self.mpks).map(|p| self.phone_slot(p));
        let mut tables = vec![table(phone.collect())];
        if self.extension_boards {
            for m in 1..=u32::from(EXT_MODULES) {
                tables.push(table(
                    (1..=u32::from(EXT_KEYS)).map(|k| ext(m, k)).collect(),
                ));
            }
        }
        Value::Array(tables)
    }
}

fn slot_json(slot: &Slot) -> Value {
    let p = |value: u32| format!("P{value}");
    json!({
        "mode": p(slot.mode),
        "account": p(slot.account),
        "label": p(slot.label),
        "value": p(slot.value),
        "scale": slot.scale.name(),
        "cleared": slot.scale.cleared(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_slots(layout: &Layout) -> Vec<Slot> {
        let mut slots: Vec<Slot> = (1..=layout.vpks + layout.mpks)
            .map(|p| layout.phone_slot(p))
            .collect();
        if layout.extension_boards {
            for m in 1..=u32::from(EXT_MODULES) {
                slots.extend((1..=u32::from(EXT_KEYS)).map(|k| ext(m, k)));
            }
        }
        slots
    }

    #[test]
    fn no_p_value_serves_two_slots_of_a_model() {
        for (model, layout) in LAYOUTS {
            let mut seen = std::collections::BTreeSet::new();
            for slot in all_slots(layout) {
                for p in [slot.mode, slot.account, slot.label, slot.value] {
                    assert!(seen.insert(p), "{model}: P{p} twice");
                }
            }
        }
    }

    #[test]
    fn slots_land_where_the_templates_put_them() {
        // gxp2130_40_60_70_35_config_1.0.11.16.txt
        let gxp2170 = layout("GXP2170").unwrap();
        assert_eq!(gxp2170.phone_slot(1), vpk(1, Scale::Gxp21Fixed));
        assert_eq!(gxp2170.phone_slot(6).label, 1475);
        assert_eq!(gxp2170.phone_slot(12).mode, 23820);
        assert_eq!(gxp2170.phone_slot(12).scale, Scale::Gxp21Fixed);
        assert_eq!(gxp2170.phone_slot(13).scale, Scale::Gxp21Dynamic);
        assert_eq!(gxp2170.phone_slot(48).value, 23967);
        let gxp2160 = layout("GXP2160").unwrap();
        assert_eq!(gxp2160.phone_slot(25), mpk(1, Scale::Gxp21Mpk));
        assert_eq!(gxp2160.phone_slot(25).account, 301);
        assert_eq!(gxp2160.phone_slot(31).label, 320);
        assert_eq!(gxp2160.phone_slot(32).mode, 353);
        assert_eq!(gxp2160.phone_slot(41).mode, 389);
        assert_eq!(gxp2160.phone_slot(43).mode, 1440);
        assert_eq!(gxp2160.phone_slot(48).value, 1463);
        assert_eq!(ext(2, 1).mode, 23200);
        assert_eq!(ext(4, 40).value, 23798);
        // gxp16xx_config_1.0.7.3.txt
        let gxp1630 = layout("GXP1630").unwrap();
        assert_eq!(gxp1630.phone_slot(3).value, 1470);
        assert_eq!(gxp1630.phone_slot(4).mode, 323);
        assert_eq!(gxp1630.phone_slot(11).mode, 353);
        assert_eq!(gxp1630.capacity().line_keys, 11);
        // grp261x_config_1.0.5.15.txt, "For GRP2616": VPK 24 is the last.
        let grp2616 = layout("GRP2616").unwrap();
        assert_eq!(grp2616.phone_slot(6).scale, Scale::GrpFixed);
        assert_eq!(grp2616.phone_slot(7).scale, Scale::GrpDynamic);
        assert_eq!(grp2616.capacity().line_keys, 48);
        assert_eq!(grp2616.phone_slot(25), mpk(1, Scale::GrpDynamic));
        assert_eq!(grp2616.phone_slot(48).value, 1463);
        // The blocks "For GRP2612" … "For GRP2615": fixed VPKs, the last VPK, and MPKs on the
        // GRP2614 alone of them.
        let counts = |model: &str| {
            let l = layout(model).unwrap();
            (l.fixed, l.vpks, l.mpks)
        };
        assert_eq!(counts("GRP2612"), (4, 16, 0));
        assert_eq!(counts("GRP2613"), (6, 24, 0));
        assert_eq!(counts("GRP2614"), (4, 16, 24));
        assert_eq!(counts("GRP2615"), (5, 40, 0));
        let grp2615 = layout("GRP2615").unwrap();
        assert_eq!(grp2615.phone_slot(5).scale, Scale::GrpFixed);
        assert_eq!(grp2615.phone_slot(40).mode, 23932);
        assert_eq!(layout("GRP2614").unwrap().phone_slot(17).mode, 323);
        assert!(layout("GRP2624").is_none());
    }

    #[test]
    fn every_key_type_has_its_modes_or_none() {
        assert_eq!(mode(KeyType::Blf, Scale::Gxp21Fixed), Some("11"));
        assert_eq!(mode(KeyType::Blf, Scale::Gxp21Dynamic), Some("1"));
        assert_eq!(mode(KeyType::Blf, Scale::Gxp16LineBasic), None);
        assert_eq!(mode(KeyType::Dnd, Scale::Gxp21Mpk), None);
        assert_eq!(mode(KeyType::Line, Scale::Gxp21Dynamic), None);
        assert_eq!(mode(KeyType::Line, Scale::GrpFixed), Some("31"));
        assert_eq!(mode(KeyType::Blf, Scale::GrpFixed), Some("1"));
        assert_eq!(mode(KeyType::Dnd, Scale::GrpDynamic), Some("22"));
        for kind in [
            KeyType::Pickup,
            KeyType::GroupPickup,
            KeyType::Url,
            KeyType::Hotdesk,
            KeyType::None,
        ] {
            assert!(
                Scale::ALL.iter().all(|s| mode(kind, *s).is_none()),
                "{kind:?}"
            );
        }
    }
}
