//! Integration tests: the real server on port 0, spoken to over HTTPS as phones and as an admin.

mod api;
mod helpers;
mod kv;
mod logs;

mod admin_api;
mod administration;
mod auditflood;
mod binary;
mod claims;
mod cli_admin;
mod cli_guards;
mod fanvil;
mod field;
mod fuzz_regressions;
mod gigaset;
mod golden;
mod grandstream;
mod hotdesk;
mod http_framing;
mod identification;
mod idxml;
mod limits;
mod openapi;
mod operations;
mod provisioning;
mod render_cache;
mod security;
mod sightings;
mod storage;
mod upgrade;
mod vendor_keys;
mod vendors;
mod xmlflat;
