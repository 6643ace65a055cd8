//! The records deskprov keeps, and their invariants. Storage (`crate::store`) keeps them; it
//! does not define them.

mod device;
mod profile;
mod security;
mod user;

pub use device::{
    DeviceRecord, ModelMismatch, ModelSource, Session, SessionRef, UnregisteredLimits,
    UnregisteredRecord,
};
pub use profile::ProfileRecord;
pub use security::{AuditRecord, GuardRecord, SourceRecord, TokenRecord};
pub use user::UserRecord;
