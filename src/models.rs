//! The model table: one row per phone or base model deskprov provisions.
//!
//! Each vendor module owns its rows (see `vendors::*::MODELS`); this module holds the row type
//! and the look-ups over all vendors. Adding a model is adding a row.

use crate::keys::effective::KeyCapacity;
use crate::vendors;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceKind {
    /// A desk phone with this many SIP accounts (lines).
    Desk { lines: u16 },
    /// A DECT base: one line per handset slot, each its own SIP account.
    DectBase { handsets: u16 },
}

/// Whether and how a hot-desk login works on a model, where its vendor's phones have hot-desk
/// screens (`Vendor::hotdesk_screens`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HotdeskSupport {
    /// No hot-desk login: users are assigned to its lines.
    None,
    /// A desk phone: a login takes line 1.
    Desk,
    /// A DECT base whose handsets log in one by one: the base names the handset that asks by
    /// the query parameter `param` of every hot-desk request.
    Handsets { param: &'static str },
}

#[derive(Debug, Clone, Copy)]
pub struct ModelRow {
    pub vendor: &'static str,
    pub model: &'static str,
    /// The vendor's own grouping: for Yealink the firmware family number that names the
    /// common file `y0000000000XX.cfg`; `None` where the vendor has none or it is not known.
    pub family: Option<&'static str>,
    pub kind: DeviceKind,
    /// The template that renders this model's own config file.
    pub template: &'static str,
    pub hotdesk: HotdeskSupport,
    /// Its programmable keys and expansion modules; none where deskprov does not program them.
    pub keys: KeyCapacity,
}

impl ModelRow {
    /// A desk phone with `lines` SIP accounts.
    pub const fn desk(
        vendor: &'static str,
        model: &'static str,
        lines: u16,
        template: &'static str,
    ) -> ModelRow {
        ModelRow::of_kind(vendor, model, DeviceKind::Desk { lines }, template)
    }

    /// A DECT base with `handsets` slots.
    pub const fn dect_base(
        vendor: &'static str,
        model: &'static str,
        handsets: u16,
        template: &'static str,
    ) -> ModelRow {
        ModelRow::of_kind(vendor, model, DeviceKind::DectBase { handsets }, template)
    }

    /// A row without a family. A desk phone's hot-desk login takes line 1; a DECT base has none
    /// until its row says how the base names the handset that asks, which is model-specific.
    const fn of_kind(
        vendor: &'static str,
        model: &'static str,
        kind: DeviceKind,
        template: &'static str,
    ) -> ModelRow {
        let hotdesk = match kind {
            DeviceKind::Desk { .. } => HotdeskSupport::Desk,
            DeviceKind::DectBase { .. } => HotdeskSupport::None,
        };
        ModelRow {
            vendor,
            model,
            family: None,
            kind,
            template,
            hotdesk,
            keys: KeyCapacity::NONE,
        }
    }

    pub const fn family(self, family: &'static str) -> ModelRow {
        ModelRow {
            family: Some(family),
            ..self
        }
    }

    pub const fn hotdesk(self, hotdesk: HotdeskSupport) -> ModelRow {
        ModelRow { hotdesk, ..self }
    }

    /// `KeyCapacity::keys(27, 3).modules(3, 20)`: 27 keys on 3 pages, up to 3 modules of 20.
    pub const fn keys(self, keys: KeyCapacity) -> ModelRow {
        ModelRow { keys, ..self }
    }

    /// How many lines an admin can assign users to.
    pub fn lines(&self) -> u16 {
        match self.kind {
            DeviceKind::Desk { lines } => lines,
            DeviceKind::DectBase { handsets } => handsets,
        }
    }

    pub fn is_dect(&self) -> bool {
        matches!(self.kind, DeviceKind::DectBase { .. })
    }
}

/// The row for `model` of `vendor`, compared case-insensitively.
pub fn find(vendor: &str, model: &str) -> Option<&'static ModelRow> {
    vendors::by_id(vendor)?
        .models()
        .iter()
        .find(|row| row.model.eq_ignore_ascii_case(model))
}

/// The row of a registered device, once its vendor and model are known.
pub fn of_device(device: &crate::model::DeviceRecord) -> Option<&'static ModelRow> {
    find(device.vendor.as_deref()?, device.model.as_ref()?.as_str())
}

/// Whether the model table has the model a device or a phone reported: `None` while no model
/// is known. A model of an identify-only vendor is never supported.
pub fn is_supported(vendor: Option<&str>, model: Option<&crate::domain::ModelId>) -> Option<bool> {
    let model = model?;
    Some(vendor.is_some_and(|vendor| find(vendor, model.as_str()).is_some()))
}

/// The row for `model` across all vendors, for an admin who names a model without its vendor.
pub fn find_any(model: &str) -> Option<&'static ModelRow> {
    all().find(|row| row.model.eq_ignore_ascii_case(model))
}

pub fn all() -> impl Iterator<Item = &'static ModelRow> {
    vendors::ALL
        .iter()
        .flat_map(|vendor| vendor.models().iter())
}

/// Lines a device of an unknown model may be given before its model is known.
pub const MAX_LINES_UNKNOWN_MODEL: u16 = 16;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_model_is_supported_when_its_vendor_lists_it() {
        let id = |m: &str| crate::domain::ModelId::parse(m).unwrap();
        assert_eq!(is_supported(Some("yealink"), Some(&id("T46S"))), Some(true));
        assert_eq!(is_supported(Some("yealink"), Some(&id("t46s"))), Some(true));
        assert_eq!(
            is_supported(Some("yealink"), Some(&id("T99X"))),
            Some(false)
        );
        assert_eq!(is_supported(Some("snom"), Some(&id("T46S"))), Some(false));
        assert_eq!(
            is_supported(Some("aastra"), Some(&id("6757I"))),
            Some(false)
        );
        assert_eq!(is_supported(None, Some(&id("T46S"))), Some(false));
        assert_eq!(is_supported(Some("yealink"), None), None);
    }

    #[test]
    fn every_row_belongs_to_the_vendor_that_lists_it() {
        for vendor in vendors::ALL {
            for row in vendor.models() {
                assert_eq!(row.vendor, vendor.id(), "{}", row.model);
            }
        }
    }

    #[test]
    fn hot_desk_support_fits_the_kind_of_device() {
        for row in all() {
            let fits = match row.hotdesk {
                HotdeskSupport::None => true,
                HotdeskSupport::Desk => !row.is_dect(),
                HotdeskSupport::Handsets { param } => row.is_dect() && !param.is_empty(),
            };
            assert!(fits, "{} {}: {:?}", row.vendor, row.model, row.hotdesk);
        }
    }

    #[test]
    fn dect_families_without_a_row_have_none() {
        for vendor in vendors::ALL {
            for family in vendor.dect_families_without_row() {
                assert!(
                    vendor.models().iter().all(|row| row.family != Some(family)),
                    "{} family {family} has a row: drop it from the list",
                    vendor.id()
                );
            }
        }
    }
}
