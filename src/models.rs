//! The model table: one row per phone or base model deskprov provisions.
//!
//! Each vendor module owns its rows (see `vendors::*::MODELS`); this module holds the row type
//! and the look-ups over all vendors. Adding a model is adding a row.

use serde::Serialize;

use crate::vendors;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DeviceKind {
    /// A desk phone with this many SIP accounts (lines).
    Desk { lines: u16 },
    /// A DECT base: one line per handset slot, each its own SIP account.
    DectBase { handsets: u16 },
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct ModelRow {
    pub vendor: &'static str,
    pub model: &'static str,
    /// The vendor's own grouping: for Yealink the firmware family number that names the
    /// common file `y0000000000XX.cfg`; `None` where the vendor has none or it is not known.
    pub family: Option<&'static str>,
    #[serde(flatten)]
    pub kind: DeviceKind,
    /// The template that renders this model's own config file.
    pub template: &'static str,
}

impl ModelRow {
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
