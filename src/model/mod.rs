//! The records deskprov keeps, and their invariants. Storage (`crate::store`) keeps them; it
//! does not define them.

mod account;
mod contact;
mod device;
mod import;
mod mail;
mod portal;
mod profile;
mod security;
mod user;

pub use account::{AccountRecord, ConsoleSession};
pub use contact::ContactRecord;
pub use device::{
    ClaimContest, Claimer, DeviceRecord, ModelMismatch, ModelSource, Session, SessionRef,
    UnregisteredLimits, UnregisteredRecord, stored_address_is,
};
pub use import::{ImportRecord, ImportRowError, ImportState, MAX_STORED_ROW_ERRORS};
pub use mail::{MailRecord, MailState};
pub use portal::{LinkPurpose, LinkRecord, PortalSession};
pub use profile::ProfileRecord;
pub use security::{ActorKind, AuditRecord, GuardRecord, SourceRecord, TokenRecord};
pub use user::UserRecord;
